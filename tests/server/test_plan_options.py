"""One plan options model for both front ends: every field is a CLI flag and an MCP `choices` key, with the same
validation, and both build the same PlanChoices."""

from __future__ import annotations

import argparse

import anyio
import pytest
from mcp import Client
from mljobs.server.cli import common
from mljobs.server.errors import UsageError
from mljobs.server.mcp import build_server
from mljobs.server.plan_options import CLI_FLAGS, PlanOptions
from mljobs.server.settings import Settings


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    common.add_plan_options(parser)
    args, rest = parser.parse_known_args(argv)
    args.script_args = rest[1:] if rest[:1] == ["--"] else rest
    return args


def test_cli_flags__cover_every_field() -> None:
    assert set(CLI_FLAGS) == set(PlanOptions.model_fields)


def test_cli_and_mcp__same_options__same_plan_choices() -> None:
    """The CLI flags and the MCP `choices` object for the same decisions give equal PlanChoices."""
    args = _parse([
        "train.py", "--pool", "GPU_POOL", "--eai", "PYPI_EAI", "--eai", "HF_EAI", "--nodes", "2", "--min-nodes", "1",
        "--method", "submit_directory", "--name", "TRAIN", "--stage", "@DB.SC.STAGE", "--database", "DB",
        "--schema", "SC", "--warehouse", "WH", "--pip", "lightgbm==4.5.0", "--env", "MODE=fast",
        "--runtime", "2.2.0", "--comment", "nightly", "--artifact-repository", "--", "--epochs", "3",
    ])
    from_cli = common.choices_from_args(args)
    from_mcp = PlanOptions.model_validate({
        "pool": "GPU_POOL", "eais": ["PYPI_EAI", "HF_EAI"], "target_instances": 2, "min_instances": 1,
        "method": "submit_directory", "name": "TRAIN", "stage": "@DB.SC.STAGE", "database": "DB", "schema": "SC",
        "query_warehouse": "WH", "extra_pip_requirements": ["lightgbm==4.5.0"], "env_vars": {"MODE": "fast"},
        "runtime_environment": "2.2.0", "comment": "nightly", "use_artifact_repository": True,
        "args": ["--epochs", "3"],
    }).to_choices()
    assert from_cli == from_mcp
    assert from_cli.comment == "nightly" and from_cli.args == ("--epochs", "3")


def test_cli__source_stage__reaches_the_choices() -> None:
    args = _parse(["train.py", "--method", "submit_from_stage", "--source-stage", "@DB.SC.CODE/v1"])
    assert common.choices_from_args(args).source_stage == "@DB.SC.CODE/v1"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["x.py", "--pool", "bad pool; DROP"], "--pool"),
        (["x.py", "--env", "NOEQUALS"], "KEY=VALUE"),
        (["x.py", "--nodes", "0"], "--nodes"),
    ],
)
def test_cli__bad_value__usage_error_naming_the_flag(argv: list[str], message: str) -> None:
    with pytest.raises(UsageError, match=message.replace("-", r"\-")):
        common.choices_from_args(_parse(argv))


def test_mcp_plan_job__choices_schema__is_the_model() -> None:
    """plan_job's `choices` input is PlanOptions' schema, so the tool cannot offer other options."""

    async def schema() -> dict:
        async with Client(build_server(Settings(backend="local"))) as client:
            tools = {t.name: t for t in (await client.list_tools()).tools}
        return tools["plan_job"].input_schema

    input_schema = anyio.run(schema)
    ref = next(s["$ref"] for s in input_schema["properties"]["choices"]["anyOf"] if "$ref" in s)
    served = input_schema["$defs"][ref.rsplit("/", 1)[-1]]["properties"]
    assert set(served) == set(PlanOptions.model_json_schema(by_alias=True)["properties"])
