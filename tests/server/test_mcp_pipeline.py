"""The generate_pipeline MCP tool and the mljobs://pipelines/{name} resource, through the in-memory client."""

from __future__ import annotations

import ast
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from mcp import Client

from mljobs.server.backends.snowflake import SnowflakeBackend
from mljobs.server.mcp import build_server
from mljobs.server.service import Service
from mljobs.server.settings import Settings
from tests.fakes.snowpark import FakeSession

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def scripts(tmp_path: Path) -> tuple[Path, Path]:
    train = tmp_path / "train.py"
    train.write_text("import json\nprint(json.dumps({'ok': 1}))\n")
    score = tmp_path / "score.py"
    score.write_text("print('score')\n")
    return train, score


@asynccontextmanager
async def connect(tmp_path: Path) -> AsyncIterator[tuple[Client, dict[str, Any]]]:
    """A server whose Snowflake backend is the real snowflake-ml-python client on a FakeSession."""
    fake = FakeSession(database="ML_DB", schema="PUBLIC")
    fake.add_pool("CPU_POOL", max_nodes=2)
    settings = Settings(backend="snowflake", state_dir=tmp_path / "state")
    service = Service(settings, backend_factory=lambda name, s: SnowflakeBackend(lambda: fake))
    async with Client(build_server(settings, service=service)) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        yield client, tools


async def test_generate_pipeline__listed__read_only_annotations(tmp_path: Path) -> None:
    """The tool is listed with honest annotations and an output schema."""
    async with connect(tmp_path) as (_client, tools):
        tool = tools["generate_pipeline"]
        assert tool.annotations.read_only_hint is True
        assert tool.annotations.idempotent_hint is True
        assert tool.annotations.open_world_hint is False
        assert set(tool.output_schema["properties"]) >= {"code", "code_hash", "warnings", "deploy_steps"}


@pytest.mark.parametrize("orchestrator", ["snowflake", "airflow"])
async def test_generate_pipeline__paths__code_and_resource(tmp_path: Path, scripts: tuple[Path, Path],
                                                           orchestrator: str) -> None:
    """Scripts planned on the spot become a pipeline; the resource returns the same code."""
    async with connect(tmp_path) as (client, tools):
        result = await client.call_tool("generate_pipeline", {
            "orchestrator": orchestrator, "name": "NIGHTLY", "paths": [str(p) for p in scripts],
            "schedule": "0 6 * * *", "task_timeout_minutes": 120,
        })
        assert not result.is_error, result.content
        out = result.structured_content
        jsonschema.validate(out, tools["generate_pipeline"].output_schema)
        assert out["orchestrator"] == orchestrator and out["jobs"] == ["TRAIN", "SCORE"]
        ast.parse(out["code"])
        assert out["resource_uri"] == "mljobs://pipelines/NIGHTLY"
        resource = await client.read_resource("mljobs://pipelines/NIGHTLY")
        assert resource.contents[0].text == out["code"]


async def test_generate_pipeline__plan_hashes_from_plan_job(tmp_path: Path, scripts: tuple[Path, Path]) -> None:
    """Plans made by plan_job are used by hash, so the real plan never passes through the model."""
    async with connect(tmp_path) as (client, _tools):
        hashes = []
        for script in scripts:
            planned = await client.call_tool("plan_job", {"path": str(script)})
            assert not planned.is_error, planned.content
            hashes.append(planned.structured_content["plan_hash"])
        result = await client.call_tool("generate_pipeline", {
            "orchestrator": "snowflake", "name": "NIGHTLY", "plan_hashes": hashes, "schedule": "6h",
        })
        assert not result.is_error, result.content
        code = result.structured_content["code"]
        assert "SCHEDULE = timedelta(minutes=360)" in code and "is_finalizer=True" in code


@pytest.mark.parametrize(("args", "message"), [
    pytest.param({"plan_hashes": ["0" * 64]}, "unknown plan", id="unknown_hash"),
    pytest.param({}, "either plan_hashes", id="no_plans"),
    pytest.param({"schedule": "* * * * *"}, "minimum", id="too_frequent"),
    pytest.param({"schedule": "0 6 * *"}, "5 fields", id="bad_cron"),
])
async def test_generate_pipeline__bad_input__tool_error(tmp_path: Path, scripts: tuple[Path, Path],
                                                        args: dict[str, Any], message: str) -> None:
    """Expected failures come back as is_error results whose text says what is wrong."""
    async with connect(tmp_path) as (client, _tools):
        call = {"orchestrator": "snowflake", "name": "NIGHTLY", **args}
        if "plan_hashes" not in args and args:
            call["paths"] = [str(scripts[0])]
        result = await client.call_tool("generate_pipeline", call)
        assert result.is_error
        assert message in " ".join(getattr(c, "text", "") for c in result.content)


async def test_generate_pipeline__hostile_name__rejected_by_schema(tmp_path: Path, scripts: tuple[Path, Path]
                                                                   ) -> None:
    """A name that is not a plain identifier never reaches the generator."""
    async with connect(tmp_path) as (client, _tools):
        result = await client.call_tool("generate_pipeline", {
            "orchestrator": "snowflake", "name": "N'; DROP TASK X; --", "paths": [str(scripts[0])],
        })
        assert result.is_error


async def test_pipeline_resource__unknown_name__error(tmp_path: Path) -> None:
    """Reading a pipeline that was never generated is an error that says to generate it."""
    async with connect(tmp_path) as (client, _tools):
        with pytest.raises(Exception, match="generate_pipeline"):
            await client.read_resource("mljobs://pipelines/NOPE")
