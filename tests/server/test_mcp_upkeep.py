"""The capabilities other branches built behind the service, through the MCP protocol (in-memory client):
add_local_eai and cleanup_payloads with their confirmation (token and elicitation), doctor on a fake account,
plan_job's cost/payload/notebook fields, submit_job's warning after a store failure, diagnose phrased for MCP,
one-line errors (validation without the input, path faults), the start-up reconcile and list_jobs' scope.

Snowflake is played by tests/fakes (built from the library's source and Snowflake's docs); the local pool, the
store, the checkpoints and the service are the real ones."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from mcp import Client
from mljobs.server.backends.local import LocalBackend
from mljobs.server.backends.snowflake import SnowflakeBackend
from mljobs.server.mcp import build_server
from mljobs.server.service import Service
from mljobs.server.settings import Settings
from mljobs.server.store import JobStore

from tests.fakes import FakeSession
from tests.fakes.doctor_rows import DoctorSession
from tests.server.test_snowflake_backend import make_plan

from .mcp_helpers import REPO, Checked, answer, connect, write_script

pytestmark = pytest.mark.anyio

STAGE = "@ML_DB.PUBLIC.PAYLOAD"


@asynccontextmanager
async def serve(service: Service, *, elicitation: Any = None) -> AsyncIterator[Checked]:
    async with Client(build_server(service.settings, service=service), elicitation_callback=elicitation) as client:
        tools = await client.list_tools()
        yield Checked(client, {t.name: t.output_schema for t in tools.tools})


# ------------------------------------------------------------------------------------------------ add_local_eai


async def test_add_local_eai__token__preview_then_written_then_planned_with(tmp_path: Path) -> None:
    """No elicitation: a preview with a token bound to the change; the token writes; plan_job then uses the EAI."""
    state = tmp_path / "state"
    script = write_script(tmp_path / "proj", "call.py", "import requests\nrequests.get('https://api.example.com/x')\n")
    async with connect(state) as c:
        args = {"name": "my_api", "hosts": ["api.example.com"], "comment": "our API"}
        preview = await c.ok("add_local_eai", args)
        assert preview["done"] is False and preview["created"] is True and preview["name"] == "MY_API"
        assert preview["added_hosts"] == ["api.example.com"] and preview["confirmation"]["method"] == "token"
        assert not (state / "local_eais.yaml").exists()  # a preview writes nothing
        token = preview["confirmation"]["token"]

        other = await c.error("add_local_eai", {**args, "hosts": ["evil.example.com"], "confirmation_token": token})
        assert "does not match" in other and "\n" not in other  # the token is bound to exactly the change

        preview = await c.ok("add_local_eai", args)
        done = await c.ok("add_local_eai", {**args, "confirmation_token": preview["confirmation"]["token"]})
        assert done["done"] is True and "confirmation" not in done
        saved = yaml.safe_load((state / "local_eais.yaml").read_text())
        assert "api.example.com" in json.dumps(saved)

        again = await c.ok("add_local_eai", args)  # idempotent: the same hosts add nothing, ask nothing
        assert again["done"] is False and again["added_hosts"] == [] and "confirmation" not in again

        plan = await c.ok("plan_job", {"path": str(script), "choices": {"eais": ["MY_API"]}})
    hosts = {h: g["status"] for g in plan["coverage"]["hosts"] for h in g["hosts"]}
    assert hosts["api.example.com"] == "covered"


@pytest.mark.parametrize(("action", "written"), [("accept", True), ("decline", False)])
async def test_add_local_eai__elicitation__asks_with_the_change(tmp_path: Path, action: str, written: bool) -> None:
    ask = answer(action)
    async with connect(tmp_path / "state", elicitation=ask) as c:
        out = await c.ok("add_local_eai", {"name": "HF_MIRROR", "hosts": ["hf-mirror.example.com:443"]})
    assert len(ask.asked) == 1 and "HF_MIRROR" in ask.asked[0] and "hf-mirror.example.com:443" in ask.asked[0]
    assert out["done"] is written and "confirmation" not in out
    assert (tmp_path / "state" / "local_eais.yaml").exists() is written


async def test_add_local_eai__bad_host__one_line_naming_the_entry(tmp_path: Path) -> None:
    async with connect(tmp_path / "state") as c:
        text = await c.error("add_local_eai", {"name": "X", "hosts": ["api.example.com:99999"]})
        schema = await c.error("add_local_eai", {"name": "1bad", "hosts": ["a.example.com"]})
    assert "X" in text and "\n" not in text.strip()
    assert "`name`" in schema and "1bad" not in schema


async def test_read_only__upkeep_tools__not_served(tmp_path: Path) -> None:
    async with connect(tmp_path / "state", read_only=True) as c:
        names = set(c.schemas)
    assert "doctor" in names and not names & {"add_local_eai", "cleanup_payloads"}


# ------------------------------------------------------------------------------------------------ cleanup


@pytest.fixture
def account(tmp_path: Path) -> tuple[FakeSession, Service]:
    """A fake account where one job's service is gone (TTL) and its payload folder stayed behind."""
    session = FakeSession()
    session.add_pool("CPU_POOL", max_nodes=4)
    session.add_eai("PYPI_EAI", ["SNOWFLAKE.EXTERNAL_ACCESS.PYPI_RULE"])
    tokens = iter(f"{i:08x}" for i in range(0xAB12CD34, 0xAB12CD34 + 100))
    backend = SnowflakeBackend(lambda: session, sleep=lambda _s: None, token=lambda: next(tokens))
    service = Service(Settings(state_dir=tmp_path / "state", backend="snowflake"), backend_factory=lambda n, s: backend)
    script = tmp_path / "train.py"
    script.write_text("__return__ = 1\n")
    backend.submit(make_plan(script, name="KEEP"))
    gone = backend.submit(make_plan(script, name="GONE"))
    session.sql("DROP SERVICE IDENTIFIER(?)", params=[gone]).collect()
    return session, service


def _folders(session: FakeSession) -> set[str]:
    return {k.split("/")[1] for k in session.stage_files if k.startswith(STAGE + "/")}


async def test_cleanup_payloads__token__lists_then_removes_only_the_orphan(account) -> None:
    session, service = account
    async with serve(service) as c:
        preview = await c.ok("cleanup_payloads", {"stage": STAGE})
        assert [o["folder"].rsplit("/", 1)[1].split("_")[0] for o in preview["orphans"]] == ["GONE"]
        assert preview["done"] is False and preview["live_folders"] == 1
        assert not any(q.sql.upper().startswith("REMOVE") for q in session.queries)
        forged = await c.error("cleanup_payloads", {"stage": STAGE, "confirmation_token": "x.y"})
        assert "not valid" in forged or "malformed" in forged
        done = await c.ok("cleanup_payloads", {"stage": STAGE, "confirmation_token": preview["confirmation"]["token"]})
        assert done["done"] is True and done["removed"] == [preview["orphans"][0]["folder"]]
        assert {f.split("_")[0] for f in _folders(session)} == {"KEEP"}
        after = await c.ok("cleanup_payloads", {"stage": STAGE})
    assert after["orphans"] == [] and after["done"] is False and "confirmation" not in after


async def test_cleanup_payloads__elicitation__declined_removes_nothing(account) -> None:
    session, service = account
    ask = answer("decline")
    async with serve(service, elicitation=ask) as c:
        out = await c.ok("cleanup_payloads", {"stage": STAGE})
    assert out["done"] is False and "declined" in out["next_step"]
    assert len(ask.asked) == 1 and "GONE_" in ask.asked[0]
    assert not any(q.sql.upper().startswith("REMOVE") for q in session.queries)


async def test_cleanup_payloads__hostile_stage__rejected_without_echo(account) -> None:
    _, service = account
    async with serve(service) as c:
        text = await c.error("cleanup_payloads", {"stage": '@ML_DB.PUBLIC."X"; DROP TABLE T'})
    assert "`stage`" in text and "DROP" not in text


# ------------------------------------------------------------------------------------------------ doctor


def _doctor_service(tmp_path: Path, session: DoctorSession) -> Service:
    backend = SnowflakeBackend(lambda: session, sleep=lambda _s: None)
    return Service(Settings(state_dir=tmp_path / "state", backend="snowflake"), backend_factory=lambda n, s: backend)


async def test_doctor__broken_account__failing_checks_with_fixes_by_who(tmp_path: Path) -> None:
    s = DoctorSession(role="ACCOUNTADMIN", user="ALICE")
    s.add_pool("GPU_POOL", state="SUSPENDED", family="GPU_NV_S", max_nodes=1, auto_resume="false", idle_nodes=0)
    s.grant("USAGE", "DATABASE", "ML_DB", "ACCOUNTADMIN")
    async with serve(_doctor_service(tmp_path, s)) as c:
        out = await c.ok("doctor", {"pool": "GPU_POOL", "target_instances": 4})
    checks = {ch["code"]: ch for ch in out["checks"]}
    assert out["ok"] is False and out["role"] == "ACCOUNTADMIN"
    assert checks["pool.max_nodes"]["status"] == "error"
    assert {"who": "admin", "sql": ["ALTER COMPUTE POOL GPU_POOL SET MAX_NODES = 4"]} in checks["pool.max_nodes"]["fixes"]
    assert all(not ch["fixes"] for ch in out["checks"] if ch["status"] == "ok")
    # read-only: nothing but SHOW / DESC / SELECT reached the account
    assert all(q.sql.lstrip().upper().startswith(("SHOW", "DESC", "SELECT")) for q in s.queries)


async def test_doctor__no_account__one_line(tmp_path: Path) -> None:
    """The local settings have no Snowflake connection: a clear one-line error, not a traceback."""
    async with connect(tmp_path / "state") as c:
        text = await c.error("doctor", {})
    assert "\n" not in text.strip() and "Traceback" not in text and "connection" in text.lower()


# ------------------------------------------------------------------------------------------------ plan, submit, follow


async def test_plan_job__cost_payload_and_confirmation_summary(tmp_path: Path) -> None:
    async with connect(tmp_path / "state") as c:
        plan = await c.ok("plan_job", {"path": str(REPO / "examples" / "train_classifier.py")})
        nb = await c.ok("plan_job", {"path": str(REPO / "examples" / "iris_quickstart.ipynb")})
        script = await c.client.read_resource(f"mljobs://plans/{nb['plan_hash']}/notebook-script")
    assert plan["cost"]["backend"] == "local" and plan["cost"]["credits_per_hour"] == 0
    assert any(line.startswith("Cost: ") for line in plan["summary"])  # confirmation_summary, not only settings
    payload = plan["payload"]
    assert payload["file_count"] == len(payload["files"]) and payload["total_size"] > 0
    assert "train_classifier.py" in {f["path"] for f in payload["files"]}
    assert payload["args"][-2:] == ["--output-dir", "$MLRS_STAGE_RESULT_PATH"] and payload["wrapper"]
    assert nb["notebook_script"] and nb["notebook_notes"] and "notebook_script" not in plan
    assert script.contents[0].text == nb["notebook_script"]


class _LockingBackend(LocalBackend):
    """Another process locks the job store right after the job starts, so recording it fails."""

    holder: sqlite3.Connection | None = None

    def submit(self, plan):  # type: ignore[no-untyped-def]
        job_id = super().submit(plan)
        holder = sqlite3.connect(self._settings.store_path, isolation_level=None, check_same_thread=False)
        holder.execute("BEGIN EXCLUSIVE")
        type(self).holder = holder
        return job_id


async def test_submit_job__store_fails_after_submit__id_and_warning_not_an_error(tmp_path: Path) -> None:
    script = write_script(tmp_path / "proj", "late.py", "__return__ = 42\n")
    settings = Settings(backend="local", state_dir=tmp_path / "state")
    service = Service(settings, backend_factory=lambda n, s: _LockingBackend(s))
    service._store = JobStore(settings.store_path, timeout=0.5)  # a short lock wait keeps the test quick
    try:
        async with serve(service) as c:
            plan = await c.ok("plan_job", {"path": str(script)})
            out = await c.ok("submit_job", {"plan_hash": plan["plan_hash"],
                                            "confirmation_token": plan["confirmation"]["token"]})
    finally:
        if _LockingBackend.holder is not None:
            _LockingBackend.holder.execute("ROLLBACK")
            _LockingBackend.holder.close()
            _LockingBackend.holder = None
    assert out["submitted"] is True and out["job_id"] in out["warning"]
    assert "do not submit it again" in out["warning"] and "NOT submit again" in out["next_step"]


@pytest.mark.slow
async def test_server_start__adopts_a_job_missing_from_the_store__listed_with_scope(tmp_path: Path) -> None:
    """A job that ran while the store had no record is adopted when the server starts; list_jobs names its scope."""
    script = write_script(tmp_path / "proj", "ok.py", "__return__ = 1\n")
    state = tmp_path / "state"
    async with connect(state) as c:
        plan = await c.ok("plan_job", {"path": str(script)})
        job = (await c.ok("submit_job", {"plan_hash": plan["plan_hash"],
                                         "confirmation_token": plan["confirmation"]["token"]}))["job_id"]
        await c.ok("wait_for_job", {"job_id": job, "timeout_seconds": 60})
    with sqlite3.connect(state / "jobs.sqlite3") as db:  # a crash between submit and record
        db.execute("DELETE FROM jobs WHERE job_id = ?", (job,))
    assert JobStore(state / "jobs.sqlite3").find(job) is None
    async with connect(state) as c:
        assert JobStore(state / "jobs.sqlite3").find(job) is not None  # adopted at start, before any listing
        listed = await c.ok("list_jobs", {})
    assert job in [j["job_id"] for j in listed["jobs"]] and "at most 20" in listed["scope"]


@pytest.mark.slow
async def test_failed_job__diagnosis_next_step_is_a_tool_call(tmp_path: Path) -> None:
    script = write_script(tmp_path / "proj", "boom.py", "import json\njson.loads('{nope')\n")
    async with connect(tmp_path / "state") as c:
        plan = await c.ok("plan_job", {"path": str(script)})
        job = (await c.ok("submit_job", {"plan_hash": plan["plan_hash"],
                                         "confirmation_token": plan["confirmation"]["token"]}))["job_id"]
        waited = await c.ok("wait_for_job", {"job_id": job, "timeout_seconds": 60})
        diagnosed = await c.ok("diagnose_job", {"job_id": job})
    assert waited["job"]["status"] == "FAILED"
    for step in (waited["diagnosis"]["next_step"], diagnosed["next_step"]):
        assert "mljobs " not in step and "(" in step, step  # a tool call such as plan_job(...), never a command


# ------------------------------------------------------------------------------------------------ errors


async def test_path_fault__symlink_loop__one_line(tmp_path: Path) -> None:
    loop = tmp_path / "loop"
    os.symlink(loop, loop)
    async with connect(tmp_path / "state") as c:
        text = await c.error("analyze_script", {"path": str(loop / "train.py")})
    assert "\n" not in text.strip() and "Traceback" not in text


async def test_validation__list_items__field_path_named_value_never_echoed(tmp_path: Path) -> None:
    async with connect(tmp_path / "state") as c:
        text = await c.error("check_external_access", {"path": str(REPO / "examples" / "train_classifier.py"),
                                                        "eais": ["OK_EAI", "bad name; DROP"]})
    assert "`eais.1`" in text and "DROP" not in text and "\n" not in text.strip()
