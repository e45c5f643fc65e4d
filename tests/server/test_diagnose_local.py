"""Diagnose on the local pool, end to end: a real job blocked by the network guard, the fix (a local EAI added
through the service after confirmation, no restart), and the next failure told apart (allowed, but the name
does not resolve). Real processes, the real guard, the real local EAI file."""

from __future__ import annotations

import time
from pathlib import Path

from mljobs.analyzers.model import SubmitMethod
from mljobs.server.backends.base import JobStatus
from mljobs.server.service import Service
from mljobs.server.settings import Settings
from mljobs.skill.jobplan import JobPlan

HOST = "data.example.invalid"  # .invalid never resolves (RFC 2606), with or without a network


def _run(svc: Service, plan: JobPlan) -> str:
    submission = svc.submit(plan, svc.confirm("submit", plan.plan_hash(), method="cli_yes"))
    deadline = time.monotonic() + 60
    while not svc.refresh_status(submission.job_id).terminal:
        assert time.monotonic() < deadline, svc.logs(submission.job_id, verbose=True)
        time.sleep(0.1)
    assert svc.refresh_status(submission.job_id) is JobStatus.FAILED
    return submission.job_id


def test_local_guard_then_local_eai_then_dns__each_diagnosed_right(tmp_path: Path) -> None:
    script = tmp_path / "fetch.py"
    script.write_text(f"import urllib.request\nurllib.request.urlopen('http://{HOST}/wine.csv', timeout=5)\n")
    plan = JobPlan(backend="local", method=SubmitMethod.SUBMIT_FILE, source=str(script), entrypoint="fetch.py",
                   compute_pool="LOCAL", stage_name="@LOCAL.JOBS.PAYLOAD", name="FETCH",
                   external_access_integrations=("PYPI_EAI",))
    svc = Service(Settings(backend="local"))

    first = svc.diagnose(_run(svc, plan), caller="mcp")
    assert first.matched == "network_blocked_local"
    name = "DATA_EXAMPLE_INVALID_EAI"
    assert first.changes[0].field == "local_eais" and first.changes[0].value == {"name": name,
                                                                                  "hosts": [f"{HOST}:80"]}
    assert any(f"VALUE_LIST = ('{HOST}:80')" in sql for sql in first.admin_sql)  # the port is kept
    assert first.admin_sql[0].startswith("/* Snowflake account equivalent")
    assert first.next_step.startswith(f"add_local_eai(name='{name}', hosts=[\"{HOST}:80\"])")
    assert "mljobs" not in first.next_step  # an MCP caller never gets a shell command

    change = svc.preview_local_eai(name, [f"{HOST}:80"])
    svc.add_local_eai(change, svc.confirm("add_local_eai", change.subject, method="cli_yes"))
    fixed = JobPlan.from_dict({**plan.to_dict(), "external_access_integrations": ["PYPI_EAI", name]})
    second = svc.diagnose(_run(svc, fixed), caller="cli")  # same service: no restart
    assert second.matched == "dns_failure", second
    assert second.changes == () and second.admin_sql == ()
    assert f"already allows {HOST}:80" in second.cause
    assert second.next_step.startswith("mljobs submit ")
