"""Reproductions 5, 6 (at rest), 7, 11 and 14 with real local job processes."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import stat
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from mljobs.server.backends.base import JobStatus
from mljobs.server.backends.local import GpuInfo, LocalBackend
from mljobs.server.errors import JobStoreError
from mljobs.server.runner import jobdir as launcher  # the job-folder protocol (STATUS_FILE, process_alive)
from mljobs.server.service import Service
from mljobs.server.settings import Settings
from mljobs.server.store import JobStore
from mljobs.skill.plan import PlanChoices

HF = "hf_SuperSecretValue123"


def wait_for(predicate: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


def make_service(state: Path, backend_cls: type[LocalBackend] = LocalBackend) -> Service:
    settings = Settings(state_dir=state, backend="local")
    return Service(settings, backend_factory=lambda name, s: backend_cls(s, cancel_grace=2.0, gpu_probe=GpuInfo))


def submit(service: Service, path: Path, **choices) -> str:
    plan = service.plan(path, choices=PlanChoices(**choices)).plan
    assert plan is not None
    confirmation = service.confirm("submit", plan.plan_hash(), method="cli_yes")
    return service.submit(plan, confirmation).job_id


def test_job_env__allow_listed_not_server_secrets(tmp_path: Path, write_tree, monkeypatch) -> None:
    monkeypatch.setenv("SNOWFLAKE_PASSWORD", "sfpass-123")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "awskey-456")
    monkeypatch.setenv("PIP_INDEX_URL", "https://user:pipsecret@index.example.com/simple")
    path = write_tree({"envdump/main.py": "import os\n__return__ = dict(os.environ)\nprint(dict(os.environ))\n"})
    service = make_service(tmp_path / "state")
    job_id = submit(service, path / "envdump" / "main.py", env_vars={"HF_TOKEN": HF})
    wait_for(lambda: service.refresh_status(job_id).terminal)
    env = service.backend("local").result(job_id).value
    assert "SNOWFLAKE_PASSWORD" not in env and "AWS_SECRET_ACCESS_KEY" not in env
    assert "PIP_INDEX_URL" not in env
    assert env["HF_TOKEN"] == HF and "PATH" in env
    assert "sfpass" not in service.logs(job_id) and "awskey" not in service.logs(job_id)


def test_secrets_at_rest_and_in_result(tmp_path: Path, write_tree) -> None:
    code = "import os\n__return__ = {'url': 'https://bob:' + os.environ['HF_TOKEN'] + '@hub.example.com/x'}\n"
    path = write_tree({"sec/main.py": code})
    state = tmp_path / "state"
    service = make_service(state)
    job_id = submit(service, path / "sec" / "main.py", env_vars={"HF_TOKEN": HF})
    wait_for(lambda: service.refresh_status(job_id).terminal)
    job_dir = Path(service.backend("local").info(job_id).extra["job_dir"])
    assert HF not in (job_dir / "plan.json").read_text()
    assert stat.S_IMODE((job_dir / "launch.json").stat().st_mode) == 0o600
    assert stat.S_IMODE(job_dir.stat().st_mode) == 0o700
    for name in os.listdir(state):
        if name.startswith("jobs.sqlite3"):
            assert HF.encode() not in (state / name).read_bytes(), name
    assert HF not in json.dumps(service.store.get(job_id).plan)
    assert HF not in repr(service.result(job_id)) and HF not in repr(service.status(job_id).result)


def test_store_unwritable__nothing_submitted(tmp_path: Path, write_tree) -> None:
    """Reproduction 7a: a corrupt store refuses before the backend runs anything (no ghost job)."""
    path = write_tree({"ghost/main.py": "print('ran')\n"})
    state = tmp_path / "state"
    service = make_service(state)
    plan = service.plan(path / "ghost" / "main.py").plan
    confirmation = service.confirm("submit", plan.plan_hash(), method="cli_yes")
    (state / "jobs.sqlite3").write_bytes(b"this is not a database" * 100)
    fresh = make_service(state)
    with pytest.raises(JobStoreError):
        fresh.submit(plan, confirmation)
    jobs_dir = state / "jobs"
    assert not jobs_dir.exists() or list(jobs_dir.iterdir()) == []


class _LockingBackend(LocalBackend):
    """Another process locks the store right after the job starts (the reproduction's locked store)."""

    holder: sqlite3.Connection | None = None

    def submit(self, plan):  # type: ignore[no-untyped-def]
        job_id = super().submit(plan)
        holder = sqlite3.connect(self._settings.store_path, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        type(self).holder = holder
        return job_id


def test_store_fails_after_submit__id_returned_with_warning_then_adopted(tmp_path: Path, write_tree) -> None:
    """Reproduction 7b: the job id comes back with a warning, and the next listing adopts the job."""
    path = write_tree({"late/main.py": "__return__ = 42\n"})
    state = tmp_path / "state"
    service = make_service(state, _LockingBackend)
    service._store = JobStore(state / "jobs.sqlite3", timeout=0.5)  # a short lock wait keeps the test quick
    plan = service.plan(path / "late" / "main.py").plan
    confirmation = service.confirm("submit", plan.plan_hash(), method="cli_yes")
    submission = service.submit(plan, confirmation)
    assert submission.warning and submission.job_id in submission.warning and "do not submit it again" in submission.warning
    assert _LockingBackend.holder is not None
    _LockingBackend.holder.execute("ROLLBACK")
    _LockingBackend.holder.close()
    later = make_service(state)
    listed = {view.job_id: view for view in later.jobs()}
    assert submission.job_id in listed
    assert later.store.open_submissions() == []


def test_corrupt_status_file__only_that_job_internal_error(tmp_path: Path, write_tree) -> None:
    """Reproduction 11: `{not json` and `[]` mark their own job INTERNAL_ERROR; planning still works."""
    path = write_tree({"ok/main.py": "__return__ = 1\n"})
    service = make_service(tmp_path / "state")
    good = submit(service, path / "ok" / "main.py")
    bad1 = submit(service, path / "ok" / "main.py")
    bad2 = submit(service, path / "ok" / "main.py")
    wait_for(lambda: all(service.refresh_status(j).terminal for j in (good, bad1, bad2)))
    backend = service.backend("local")
    for job_id, content in ((bad1, "{not json"), (bad2, "[]")):
        (Path(backend.info(job_id).extra["job_dir"]) / launcher.STATUS_FILE).write_text(content)
    fresh = make_service(tmp_path / "state")
    assert fresh.plan(path / "ok" / "main.py").plan is not None
    fresh.rank_pools(path / "ok" / "main.py")
    assert fresh.refresh_status(good) is JobStatus.DONE
    for job_id in (bad1, bad2):
        assert fresh.refresh_status(job_id) is JobStatus.INTERNAL_ERROR
        assert "status file" in (fresh.backend("local").info(job_id).message or "")


def _alive(pid: int) -> bool:
    return launcher.process_alive(pid)


@pytest.mark.parametrize("via", ["status", "cancel"])
def test_killed_launcher__children_killed(tmp_path: Path, write_tree, via: str) -> None:
    """Reproduction 14: after the launcher dies, its `sleep 300` child does not live on."""
    code = ("import subprocess, time\np = subprocess.Popen(['sleep', '300'])\n"
            "print('child', p.pid, flush=True)\ntime.sleep(300)\n")
    path = write_tree({"orphan/main.py": code})
    service = make_service(tmp_path / "state")
    job_id = submit(service, path / "orphan" / "main.py")
    backend = service.backend("local")
    wait_for(lambda: "child " in backend.logs(job_id))
    child = int(backend.logs(job_id).split("child ", 1)[1].split()[0])
    launcher_pid = backend.info(job_id).extra["pid"]
    try:
        os.kill(launcher_pid, signal.SIGKILL)
        wait_for(lambda: not _alive(launcher_pid))
        assert _alive(child)
        if via == "cancel":
            backend.cancel(job_id)
        else:
            assert service.refresh_status(job_id) is JobStatus.FAILED
        wait_for(lambda: not _alive(child), timeout=5)
    finally:
        for pid in (child, launcher_pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
