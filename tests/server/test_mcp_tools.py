"""MCP tools through the protocol (in-memory client, local pool): schemas and annotations, each tool's output,
errors as ToolErrors with a next step, read-only mode, path roots, resources and the prompt."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from mcp import Client, MCPError
from mljobs.server.mcp import build_server
from mljobs.server.settings import Settings

from .mcp_helpers import EXAMPLE, REPO, connect, dumps, write_script

pytestmark = pytest.mark.anyio

SNAPSHOT = REPO / "tests" / "snapshots" / "tools.json"
UPDATE_FLAG = "MLJOBS_UPDATE_SNAPSHOTS"
SIDE_EFFECT_TOOLS = {"submit_job", "cancel_job", "delete_job"}
CORE_TOOLS = {
    "analyze_script",
    "rank_pools",
    "check_external_access",
    "plan_job",
    "submit_job",
    "job_status",
    "wait_for_job",
    "job_logs",
    "cancel_job",
    "list_jobs",
    "delete_job",
    "diagnose_job",
}


async def _tool_list(read_only: bool = False) -> list[dict]:
    server = build_server(Settings(backend="local", read_only=read_only))
    async with Client(server) as client:
        tools = (await client.list_tools()).tools
    return [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in tools]


async def test_tool_list__matches_snapshot__schema_changes_show_as_a_diff():
    """Names, descriptions, input/output schemas and annotations equal tests/snapshots/tools.json."""
    current = {t["name"]: {k: v for k, v in t.items() if k != "name"} for t in await _tool_list()}
    if os.environ.get(UPDATE_FLAG) == "1":
        SNAPSHOT.parent.mkdir(parents=True, exist_ok=True)
        SNAPSHOT.write_text(dumps(current), encoding="utf-8")
    expected = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    assert dumps(current) == dumps(expected), (
        f"the MCP tool list changed; review the diff and regenerate with {UPDATE_FLAG}=1 pytest {__file__}"
    )


async def test_tool_list__core_tools__have_honest_annotations_and_output_schemas():
    """Every core tool is there with an output schema; reads are read-only, side effects are marked as such."""
    tools = {t["name"]: t for t in await _tool_list()}
    assert CORE_TOOLS <= set(tools)
    for name in CORE_TOOLS:
        tool = tools[name]
        assert tool.get("outputSchema", {}).get("type") == "object", name
        assert tool["description"].strip(), name
        hints = tool["annotations"]
        if name in SIDE_EFFECT_TOOLS:
            assert not hints.get("readOnlyHint"), name
        else:
            assert hints["readOnlyHint"] is True, name
    assert tools["submit_job"]["annotations"] == {
        "destructiveHint": False,
        "idempotentHint": False,
        "openWorldHint": True,
    }
    assert tools["cancel_job"]["annotations"]["destructiveHint"] is True
    assert tools["delete_job"]["annotations"]["destructiveHint"] is True
    for name in ("analyze_script", "rank_pools", "check_external_access", "plan_job"):
        assert tools[name]["annotations"] == {
            "readOnlyHint": True,
            "idempotentHint": True,
            "openWorldHint": False,
        }
    for name in ("job_status", "wait_for_job", "job_logs", "list_jobs", "diagnose_job"):
        assert tools[name]["annotations"]["openWorldHint"] is True
    # The confirmation answer is filled by the server (elicitation), never by the model.
    assert set(tools["submit_job"]["inputSchema"]["properties"]) == {"plan_hash", "confirmation_token"}


async def test_read_only__side_effect_tools__are_not_served():
    """--read-only serves only tools whose annotations say read-only."""
    tools = await _tool_list(read_only=True)
    names = {t["name"] for t in tools}
    assert not names & SIDE_EFFECT_TOOLS
    assert {"analyze_script", "plan_job", "job_status"} <= names
    assert all(t["annotations"].get("readOnlyHint") for t in tools)


async def test_read_only__plan_job__issues_no_confirmation(tmp_path: Path):
    """A read-only server plans but hands out no token and says how to submit elsewhere."""
    async with connect(tmp_path, read_only=True) as c:
        plan = await c.ok("plan_job", {"path": str(EXAMPLE)})
    assert plan["plan_hash"] and "confirmation" not in plan
    assert "read-only" in plan["next_step"]


async def test_analyze_script__example__evidence_backed_findings(tmp_path: Path):
    """The CPU sklearn demo: CPU verdict, scikit-learn preinstalled, no network, --output-dir found, __return__ set."""
    async with connect(tmp_path) as c:
        out = await c.ok("analyze_script", {"path": str(EXAMPLE)})
    assert out["compute"]["recommendation"] == "CPU"
    sk = next(p for p in out["packages"] if p["import_name"] == "sklearn")
    assert sk["distribution"] == "scikit-learn" and sk["status"] == "preinstalled"
    assert sk["evidence"][0]["path"] == "train_classifier.py" and sk["evidence"][0]["line"] > 0
    assert out["pip_requirements"] == [] and out["network"] == []
    assert [f["detail"] for f in out["io"]["output_args"]] == ["--output-dir"] and out["io"]["sets_return"] is True
    assert out["method"]["method"] == "submit_file"


async def test_analyze_script__network_and_packages__reported_with_hosts(tmp_path: Path):
    """A script downloading from the Hub and importing an uninstalled package needs huggingface and pypi hosts."""
    script = write_script(
        tmp_path / "proj",
        "tune.py",
        """
        import emoji
        from transformers import AutoModel
        model = AutoModel.from_pretrained("bert-base-uncased")
    """,
    )
    async with connect(tmp_path / "state") as c:
        out = await c.ok("analyze_script", {"path": str(script)})
        cov = await c.ok("check_external_access", {"path": str(script)})
    categories = {n["category"] for n in out["network"]}
    assert {"huggingface", "pypi"} <= categories
    hf = next(n for n in out["network"] if n["category"] == "huggingface")
    assert "huggingface.co" in hf["hosts"] and hf["evidence"][0]["line"] == 3
    # The local pool's default EAIs prove coverage by a rule entry.
    assert cov["complete"] is True and {"HUGGINGFACE_EAI", "PYPI_EAI"} <= set(cov["suggested_eais"])
    covered = next(h for h in cov["hosts"] if "huggingface.co" in h["hosts"])
    assert covered["status"] == "covered" and covered["matches"][0]["value"] == "huggingface.co"


async def test_check_external_access__chosen_eai_missing_hosts__uncovered_with_admin_sql(tmp_path: Path):
    """Choosing only GITHUB_EAI leaves the Hub hosts uncovered and proposes SQL for an admin."""
    script = write_script(
        tmp_path / "proj",
        "hub.py",
        """
        from transformers import AutoModel
        AutoModel.from_pretrained("bert-base-uncased")
    """,
    )
    async with connect(tmp_path / "state") as c:
        cov = await c.ok("check_external_access", {"path": str(script), "eais": ["GITHUB_EAI"]})
    assert cov["complete"] is False
    assert any(h["status"] != "covered" for h in cov["hosts"])


async def test_rank_pools__local__one_usable_pool_chosen_with_reasons(tmp_path: Path):
    """The local pool is ranked, chosen and explained."""
    async with connect(tmp_path) as c:
        out = await c.ok("rank_pools", {"path": str(EXAMPLE)})
    assert out["backend"] == "local" and out["chosen"] == "LOCAL"
    pool = out["pools"][0]
    assert pool["chosen"] and pool["usable"] and pool["reasons"]


async def test_plan_job__example__settings_summary_and_redacted_env(tmp_path: Path):
    """plan_job returns the hash, the confirmation checklist, and never echoes a secret env value."""
    async with connect(tmp_path) as c:
        plan = await c.ok(
            "plan_job",
            {"path": str(EXAMPLE), "choices": {"env_vars": {"DATA_URL": "https://user:hunter2@example.com/x"}}},
        )
    assert len(plan["plan_hash"]) == 64 and plan["ready"] is True
    assert plan["settings"]["args"] == ["--output-dir", "$MLRS_STAGE_RESULT_PATH"]
    assert any(s.startswith("Compute pool: LOCAL") for s in plan["summary"])
    assert plan["needs_confirmation"][-1].startswith("Submit this exact plan?")
    assert "hunter2" not in json.dumps(plan)
    # No elicitation callback: the token path.
    assert plan["confirmation"]["method"] == "token" and plan["confirmation"]["token"]


async def test_plan_job__invalid_choice__no_plan_with_reason(tmp_path: Path):
    """min_instances above target_instances is explained, not raised."""
    async with connect(tmp_path) as c:
        plan = await c.ok("plan_job", {"path": str(EXAMPLE), "choices": {"target_instances": 1, "min_instances": 2}})
    assert "plan_hash" not in plan and plan["ready"] is False and plan["reason"].startswith("no plan")
    assert any("min_instances" in e for e in plan["errors"])
    assert plan["errors"]  # a plan that is not ready always says why


async def test_plan_job__gpu_code_on_cpu_only_local_pool__not_ready_says_why(tmp_path: Path):
    """No usable pool: no plan, and the answer says why (reason and errors), with the ranking that decided it."""
    async with connect(tmp_path) as c:
        plan = await c.ok("plan_job", {"path": str(REPO / "examples" / "finetune_gpu.py"), "backend": "local"})
    assert "plan_hash" not in plan and plan["ready"] is False
    assert plan["reason"] and any("needs a GPU" in e for e in plan["errors"])
    assert json.dumps(plan).count("needs a GPU") == 1  # said once


@pytest.mark.parametrize(
    ("tool", "args", "expected"),
    [
        pytest.param(
            "analyze_script",
            {"path": "/no/such/file.py"},
            "no such file or folder; pass",
            id="missing_path__usage",
        ),
        pytest.param("analyze_script", {"path": "-rf"}, "invalid arguments for analyze_script: `path`: string", id="leading_dash__rejected_by_schema"),
        pytest.param(
            "job_status", {"job_id": "LOCAL.JOBS.NOPE_00000000"}, "; list jobs", id="unknown_job__next_step"
        ),
        pytest.param(
            "job_status", {"job_id": "x; DROP TABLE t"}, "`job_id`: string should match pattern", id="hostile_job_id__rejected"
        ),
        pytest.param("submit_job", {"plan_hash": "0" * 64}, "call plan_job again", id="unknown_plan__replan"),
        pytest.param("submit_job", {"plan_hash": "not-a-hash"}, "`plan_hash`: string should match", id="bad_hash__rejected"),
        pytest.param(
            "wait_for_job",
            {"job_id": "LOCAL.JOBS.A_00000000", "timeout_seconds": 99999},
            "`timeout_seconds`: input should be less than or equal to 1800",
            id="wait_unbounded__rejected",
        ),
    ],
)
async def test_tool_errors__bad_input__tool_error_with_next_step(
    tmp_path: Path, tool: str, args: dict, expected: str
):
    """Expected failures come back as is_error with what is wrong and what to do; never a traceback."""
    async with connect(tmp_path) as c:
        text = await c.error(tool, args)
    assert expected.lower() in text.lower()
    assert "Traceback" not in text and "\n" not in text.strip()  # one line
    if "invalid arguments" in text:  # a rejected value is the caller's data: named by field, never repeated
        assert all(str(v) not in text for v in args.values()), text


async def test_roots__path_outside__refused(tmp_path: Path):
    """With --root, a script outside the allowed folders is refused before it is read."""
    async with connect(tmp_path / "state", roots=(tmp_path / "allowed",)) as c:
        text = await c.error("analyze_script", {"path": str(EXAMPLE)})
    assert "outside the folders" in text


async def test_job_tools__failing_job__status_logs_and_diagnosis(tmp_path: Path):
    """A job that opens a file it did not ship fails; status has the error, diagnose names local_file_missing."""
    script = write_script(
        tmp_path / "proj",
        "reader.py",
        """
        import sys
        print("starting")
        open("data/train.csv").read()
    """,
    )
    async with connect(tmp_path / "state") as c:
        plan = await c.ok("plan_job", {"path": str(script)})
        sub = await c.ok(
            "submit_job",
            {"plan_hash": plan["plan_hash"], "confirmation_token": plan["confirmation"]["token"]},
        )
        job = sub["job_id"]
        waited = await c.ok("wait_for_job", {"job_id": job, "timeout_seconds": 60})
        status = await c.ok("job_status", {"job_id": job})
        logs = await c.ok("job_logs", {"job_id": job, "tail_lines": 1})
        diagnosis = await c.ok("diagnose_job", {"job_id": job})
        jobs = await c.ok("list_jobs", {})
    # The wait alone tells what went wrong: the exception, the user's line, and the diagnosis.
    assert waited["job"]["status"] == "FAILED" and not waited["timed_out"]
    error = waited["job"]["error"]
    assert "FileNotFoundError" in error["exception"] and "data/train.csv" in error["exception"]
    assert error["user_frame"].endswith(":3 in <module>") and "reader.py" in error["user_frame"]
    assert error["code"] == 'open("data/train.csv").read()'
    assert waited["diagnosis"]["matched"] == "local_file_missing"
    assert "log_tail" not in waited["job"]  # the traceback is in `error`, once
    assert "result" not in status and "FileNotFoundError" in status["error"]["exception"]
    assert "diagnose_job" in status["next_step"]
    assert logs["lines"] == 1 and logs["first_line"] == logs["total_lines"] > 1
    assert diagnosis["matched"] == "local_file_missing" and "data/train.csv" in diagnosis["cause"]
    assert [j["job_id"] for j in jobs["jobs"]] == [job]


async def test_wait_for_job__timeout_zero__returns_at_once_job_keeps_running(tmp_path: Path):
    """A bounded wait on a long job times out without stopping it; cancel then stops it (token path)."""
    script = write_script(
        tmp_path / "proj",
        "slow.py",
        """
        import time
        time.sleep(60)
    """,
    )
    async with connect(tmp_path / "state") as c:
        plan = await c.ok("plan_job", {"path": str(script)})
        sub = await c.ok(
            "submit_job",
            {"plan_hash": plan["plan_hash"], "confirmation_token": plan["confirmation"]["token"]},
        )
        job = sub["job_id"]
        waited = await c.ok("wait_for_job", {"job_id": job, "timeout_seconds": 0})
        assert waited["timed_out"] is True and waited["job"]["terminal"] is False and waited["polls"] == 1
        assert waited["next_step"].startswith("still RUNNING") or waited["next_step"].startswith("still PENDING")
        assert f"wait_for_job(job_id='{job}')" in waited["next_step"]
        preview = await c.ok("cancel_job", {"job_id": job})
        assert preview["done"] is False and preview["confirmation"]["token"]
        assert (await c.ok("job_status", {"job_id": job}))["terminal"] is False  # a preview changes nothing
        done = await c.ok(
            "cancel_job", {"job_id": job, "confirmation_token": preview["confirmation"]["token"]}
        )
        assert done["done"] is True
        final = await c.ok("wait_for_job", {"job_id": job, "timeout_seconds": 30})
        assert final["job"]["status"] == "CANCELLED"
        again = await c.ok("cancel_job", {"job_id": job})
        assert (
            again["done"] is False
            and "confirmation" not in again
            and "nothing to cancel" in again["preview"]
        )


async def test_resources__catalogs_job_and_plan_code(tmp_path: Path):
    """Catalog resources serve the knowledge tables; a plan's generated code is served by its hash."""
    async with connect(tmp_path) as c:
        listed = {str(r.uri) for r in (await c.client.list_resources()).resources}
        assert {
            f"mljobs://catalogs/{n}"
            for n in ("gpu-patterns", "network", "runtime-packages", "instance-families", "errors")
        } <= listed
        errors = json.loads((await c.client.read_resource("mljobs://catalogs/errors")).contents[0].text)
        assert any(e["id"] == "module_not_found" for e in errors["entries"])
        plan = await c.ok("plan_job", {"path": str(EXAMPLE)})
        # A local plan still shows the Snowflake equivalent, so the dry run teaches the real call: the derived
        # --output-dir $MLRS_STAGE_RESULT_PATH goes through the payload's entry wrapper (args pass verbatim).
        assert "submit_directory(" in plan["code"] and "mljobs_entry.py" in plan["code"]
        assert "local pool" in plan["code_note"]
        assert f"from plan {plan['plan_hash'][:12]}." in plan["code"]  # the code cites the plan's own hash
        code = await c.client.read_resource(plan["code_uri"])
        assert code.contents[0].text == plan["code"]
        with pytest.raises(MCPError, match="call plan_job again"):
            await c.client.read_resource("mljobs://plans/" + "0" * 64 + "/code")
        templates = {t.uri_template for t in (await c.client.list_resource_templates()).resource_templates}
        assert {"mljobs://jobs/{job_id}", "mljobs://plans/{plan_hash}/code"} <= templates


async def test_prompt__convert_script__names_the_tools_and_stop_points(tmp_path: Path):
    """The guided prompt walks the tools in order with STOP points and the mandatory confirmation."""
    async with connect(tmp_path) as c:
        prompt = await c.client.get_prompt("convert_script", {"path": "/work/train.py"})
    text = prompt.messages[0].content.text
    for tool in ("plan_job", "analyze_script", "rank_pools", "check_external_access", "submit_job", "wait_for_job"):
        assert tool in text
    assert text.count("STOP") >= 2 and "MANDATORY" in text


def test_import__server_module__does_not_import_snowflake_ml():
    """Starting and listing tools never imports snowflake-ml-python (slow) or opens a session."""
    import subprocess
    import sys

    code = (
        "import sys\nfrom mljobs.server.mcp import build_server\nfrom mljobs.server.settings import Settings\n"
        "build_server(Settings())\nprint(sorted(m for m in sys.modules if m.startswith(('snowflake.ml', "
        "'snowflake.snowpark'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(
            ["--transport", "http", "--host", "0.0.0.0"], "not a loopback address", id="public_bind__refused"
        ),
        pytest.param(["--transport", "http", "--port", "0"], "not a TCP port", id="bad_port__refused"),
    ],
)
def test_serve_cmd__unsafe_http_options__usage_error(
    argv: list[str], message: str, capsys: pytest.CaptureFixture
):
    """`mljobs serve` refuses a non-loopback bind without --allow-remote, and impossible ports (exit 2)."""
    from mljobs.server.cli import main

    assert main(["serve", *argv]) == 2
    assert message in capsys.readouterr().err
