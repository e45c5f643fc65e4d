"""A real MCP client end to end: the MCP Inspector CLI (npm @modelcontextprotocol/inspector) drives
`mljobs serve --transport http` through a whole conversion on the token path (the Inspector declares no
elicitation), with a job that outlasts the client's 60 s request timeout: the default wait answers in time and
says to call again, so the conversion finishes; a single wait longer than the timeout is cut off by the client.

Opt-in (marker `inspector`, excluded by default; it takes about three minutes):

    npm install --prefix /tmp/mcp-tools @modelcontextprotocol/inspector
    MLJOBS_INSPECTOR=/tmp/mcp-tools/node_modules/.bin/mcp-inspector \\
        .venv/bin/python -m pytest -m inspector tests/server/test_mcp_inspector.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.serving import free_port, http_server

from .mcp_helpers import write_script

pytestmark = pytest.mark.inspector

INSPECTOR = os.environ.get("MLJOBS_INSPECTOR", "")
MLJOBS = Path(sys.executable).parent / "mljobs"
CLIENT_TIMEOUT = 60  # the Inspector's (TypeScript SDK's) default request timeout, not extended on progress
JOB_SECONDS = 75  # longer than one client request may last

SLOW_JOB = f"""
import time

if __name__ == "__main__":
    for step in range({JOB_SECONDS // 5}):
        print(f"step {{step}}", flush=True)
        time.sleep(5)
    __return__ = {{"steps": {JOB_SECONDS // 5}}}
"""


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """`mljobs serve --transport http` on a free loopback port, stopped after the test."""
    if not INSPECTOR or not Path(INSPECTOR).exists():
        pytest.skip("set MLJOBS_INSPECTOR to the mcp-inspector binary (see the module docstring)")
    port = free_port()
    env = {**os.environ, "MLJOBS_STATE_DIR": str(tmp_path / "state"), "SNOWFLAKE_HOME": str(tmp_path / "sf")}
    argv = [str(MLJOBS), "serve", "--transport", "http", "--port", str(port), "--backend", "local"]
    with http_server(argv, port, env, startup_seconds=60):
        yield f"http://127.0.0.1:{port}/mcp"


def inspect(url: str, method: str, tool: str | None = None, **args: Any) -> tuple[dict[str, Any], float]:
    """One Inspector CLI call (a new MCP session each time); returns its JSON output and how long it took."""
    cmd = [INSPECTOR, "--cli", url, "--transport", "http", "--method", method]
    if tool:
        cmd += ["--tool-name", tool]
    for key, value in args.items():
        cmd += ["--tool-arg", f"{key}={json.dumps(value) if not isinstance(value, str) else value}"]
    start = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=CLIENT_TIMEOUT + 60)
    took = time.monotonic() - start
    if proc.returncode != 0:
        return {"cli_error": (proc.stderr + proc.stdout).strip()}, took
    return json.loads(proc.stdout), took


def call(url: str, tool: str, **args: Any) -> tuple[dict[str, Any], float]:
    out, took = inspect(url, "tools/call", tool, **args)
    assert "cli_error" not in out and not out.get("isError"), f"{tool}: {out}"
    return out["structuredContent"], took


def test_inspector__conversion_on_token_path__waits_fit_the_client_timeout(server: str, tmp_path: Path) -> None:
    url = server
    listed, _ = inspect(url, "tools/list")
    names = {t["name"] for t in listed["tools"]}
    assert {"plan_job", "submit_job", "wait_for_job", "job_logs", "delete_job"} <= names

    script = write_script(tmp_path / "proj", "slow_train.py", SLOW_JOB)
    plan, _ = call(url, "plan_job", path=str(script), backend="local", choices={"name": "INSPECTED"})
    assert plan["ready"] and plan["confirmation"]["method"] == "token"  # the Inspector cannot elicit
    token = plan["confirmation"]["token"]

    submitted, _ = call(url, "submit_job", plan_hash=plan["plan_hash"], confirmation_token=token)
    job = submitted["job_id"]
    refused, _ = inspect(url, "tools/call", "submit_job", plan_hash=plan["plan_hash"], confirmation_token=token)
    assert refused.get("isError") or "cli_error" in refused  # the token was single use

    waits: list[float] = []
    while True:
        waited, took = call(url, "wait_for_job", job_id=job)
        waits.append(took)
        assert took < 45, f"a default wait took {took:.0f}s"
        if not waited["timed_out"]:
            break
        assert waited["next_step"].startswith("still ") and f"wait_for_job(job_id='{job}')" in waited["next_step"]
        assert len(waits) < 10
    print(f"default waits through the Inspector: {', '.join(f'{w:.1f}s' for w in waits)}")
    assert len(waits) >= 2 and sum(waits) > CLIENT_TIMEOUT  # the job outlasted one client request
    assert waited["job"]["status"] == "DONE" and waited["job"]["result"]["value"] == {"steps": JOB_SECONDS // 5}

    logs, _ = call(url, "job_logs", job_id=job, tail_lines=3)
    assert logs["lines"] == 3 and logs["text"].splitlines()[-1] == f"step {JOB_SECONDS // 5 - 1}"
    preview, _ = call(url, "delete_job", job_id=job)
    assert preview["done"] is False and preview["confirmation"]["token"]
    deleted, _ = call(url, "delete_job", job_id=job, confirmation_token=preview["confirmation"]["token"])
    assert deleted["done"] is True
    assert call(url, "list_jobs")[0]["jobs"] == []


def test_inspector__one_wait_longer_than_the_client_timeout__is_cut_off(server: str, tmp_path: Path) -> None:
    """Why the default is 30 s: an explicit 90 s wait on a long job dies at the client's 60 s timeout."""
    url = server
    script = write_script(tmp_path / "proj", "slow_train.py", SLOW_JOB)
    plan, _ = call(url, "plan_job", path=str(script), backend="local")
    job = call(url, "submit_job", plan_hash=plan["plan_hash"], confirmation_token=plan["confirmation"]["token"])[0]
    out, took = inspect(url, "tools/call", "wait_for_job", job_id=job["job_id"], timeout_seconds=90)
    assert "cli_error" in out and "timed out" in out["cli_error"].lower(), out
    assert CLIENT_TIMEOUT - 1 <= took < 90
