"""The SQLite job store: round trips, history, redaction, concurrency and crash safety."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mljobs.server.errors import JobNotFoundError, JobStoreError
from mljobs.server.store import JobStore


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        self.t += 1.0
        return self.t


@pytest.fixture
def store(tmp_path: Path) -> JobStore:
    return JobStore(tmp_path / "jobs.sqlite3", now=FakeClock())


def test_store__add_and_get__round_trips_every_field(store: JobStore) -> None:
    """A job's plan, hash, confirmation and payload location come back as stored."""
    rec = store.add(
        "LOCAL.JOBS.TRAIN_1", "local", "PENDING", name="TRAIN", plan={"compute_pool": "LOCAL"},
        plan_hash="abc", confirmation={"method": "cli_yes"}, payload_location="/tmp/x",
    )
    assert rec.status == "PENDING"
    got = store.get("LOCAL.JOBS.TRAIN_1")
    assert (got.name, got.plan, got.plan_hash, got.confirmation, got.payload_location) == (
        "TRAIN", {"compute_pool": "LOCAL"}, "abc", {"method": "cli_yes"}, "/tmp/x",
    )
    assert got.finished_at is None


def test_store__update_status__records_history_only_on_change(store: JobStore) -> None:
    """Repeated reads of the same status do not grow the history; terminal states set finished_at."""
    store.add("J", "local", "PENDING")
    assert store.update_status("J", "RUNNING") is True
    assert store.update_status("J", "RUNNING") is False
    assert store.update_status("J", "DONE", "exit 0") is True
    assert [h.status for h in store.history("J")] == ["PENDING", "RUNNING", "DONE"]
    rec = store.get("J")
    assert rec.finished_at is not None and rec.message == "exit 0"


def test_store__plan_with_credentials__is_redacted_on_disk(store: JobStore) -> None:
    """A token inside a private index URL never reaches the database file."""
    store.add("J", "local", "PENDING", plan={"pip_requirements": ["--index-url=https://bob:s3cr3tT0k@pkgs.example.com/simple"]})
    raw = store.path.read_bytes() + b"".join(p.read_bytes() for p in store.path.parent.glob("*-wal"))
    assert b"s3cr3tT0k" not in raw
    assert "***@pkgs.example.com" in store.get("J").plan["pip_requirements"][0]


def test_store__unknown_job__raises_not_found(store: JobStore) -> None:
    """Unknown ids are a clear error that says how to list jobs."""
    with pytest.raises(JobNotFoundError, match="mljobs jobs"):
        store.get("NOPE")
    with pytest.raises(JobNotFoundError):
        store.update_status("NOPE", "DONE")
    with pytest.raises(JobNotFoundError):
        store.delete("NOPE")
    assert store.find("NOPE") is None


def test_store__list__newest_first_with_limit_and_backend_filter(store: JobStore) -> None:
    """Listing is ordered by creation time, newest first."""
    for i in range(5):
        store.add(f"J{i}", "local" if i % 2 else "snowflake", "PENDING")
    assert [r.job_id for r in store.list(limit=3)] == ["J4", "J3", "J2"]
    assert [r.job_id for r in store.list(backend="local")] == ["J3", "J1"]


def test_store__delete__removes_job_and_history(store: JobStore) -> None:
    """Deleting a job cascades to its status history."""
    store.add("J", "local", "PENDING")
    store.update_status("J", "DONE")
    store.delete("J")
    assert store.find("J") is None and store.history("J") == []


def test_store__tokens__are_single_use(store: JobStore) -> None:
    """The spent-token table refuses a second use."""
    assert store.mark_token_used("t1") is True
    assert store.mark_token_used("t1") is False


def test_store__corrupt_file__raises_store_error_with_advice(tmp_path: Path) -> None:
    """A file that is not SQLite gives a message that says what to do, not a traceback."""
    path = tmp_path / "jobs.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(JobStoreError, match="move it aside"):
        JobStore(path).list()


def _writer(path: str, prefix: str, count: int) -> None:
    store = JobStore(path)
    for i in range(count):
        store.add(f"{prefix}-{i}", "local", "PENDING")
        store.update_status(f"{prefix}-{i}", "RUNNING")


def test_store__several_writer_processes__lose_nothing(tmp_path: Path) -> None:
    """Four processes writing at once all land every job and every history row."""
    path = str(tmp_path / "jobs.sqlite3")
    JobStore(path).list()
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(path, f"w{n}", 25)) for n in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    store = JobStore(path)
    jobs = store.list(limit=1000)
    assert len(jobs) == 100
    assert all(len(store.history(j.job_id)) == 2 for j in jobs)


_KILLED_WRITER = """
import sys
from mljobs.server.store import JobStore
store = JobStore(sys.argv[1])
i = 0
while True:
    store.add(f"k-{i}", "local", "PENDING", plan={"blob": "x" * 5000})
    store.update_status(f"k-{i}", "RUNNING")
    i += 1
"""


def test_store__writer_killed_mid_write__leaves_consistent_store(tmp_path: Path) -> None:
    """SIGKILL during a stream of writes loses at most the open transaction; the file stays readable."""
    path = tmp_path / "jobs.sqlite3"
    proc = subprocess.Popen([sys.executable, "-c", _KILLED_WRITER, str(path)])
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if path.exists() and len(JobStore(path).list(limit=5)) >= 5:
            break
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    store = JobStore(path)
    jobs = store.list(limit=100000)
    assert len(jobs) >= 5
    assert all(store.history(j.job_id) for j in jobs)
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
