"""The SQLite job store: every job with its backend, plan, confirmation, status history and payload.

One connection per operation, WAL journal and `BEGIN IMMEDIATE` for writes: several server or CLI
processes can share the file, and a process killed mid-write leaves the last committed state intact
(SQLite rolls the open transaction back). Plans are stored redacted: no credential reaches the disk.
"""

from __future__ import annotations

import builtins
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mljobs.skill.redact import redact

from .errors import JobNotFoundError, JobStoreError
from .settings import create_private_file, ensure_private_dir

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS jobs (
    job_id TEXT PRIMARY KEY,
    backend TEXT NOT NULL,
    name TEXT,
    status TEXT NOT NULL,
    plan_json TEXT,
    plan_hash TEXT,
    confirmation_json TEXT,
    payload_location TEXT,
    message TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    finished_at REAL
);
CREATE INDEX IF NOT EXISTS jobs_created ON jobs (created_at DESC);
CREATE TABLE IF NOT EXISTS status_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id TEXT NOT NULL REFERENCES jobs (job_id) ON DELETE CASCADE,
    status TEXT NOT NULL,
    at REAL NOT NULL,
    detail TEXT
);
CREATE INDEX IF NOT EXISTS history_job ON status_history (job_id, id);
CREATE TABLE IF NOT EXISTS used_tokens (token_id TEXT PRIMARY KEY, used_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS submissions (
    submission_id TEXT PRIMARY KEY,
    backend TEXT NOT NULL,
    name TEXT,
    plan_hash TEXT,
    started_at REAL NOT NULL,
    job_id TEXT,
    outcome TEXT
);
"""

_TERMINAL = {"DONE", "FAILED", "CANCELLED", "INTERNAL_ERROR", "DELETING", "DELETED"}  # = backends.base.TERMINAL_STATUSES


@dataclass(frozen=True, slots=True)
class StatusChange:
    status: str
    at: float
    detail: str | None


@dataclass(frozen=True, slots=True)
class JobRecord:
    job_id: str
    backend: str
    status: str
    name: str | None = None
    plan: dict[str, Any] | None = None  # redacted plan dict
    plan_hash: str | None = None
    confirmation: dict[str, Any] | None = None
    payload_location: str | None = None
    message: str | None = None
    created_at: float = 0.0
    updated_at: float = 0.0
    finished_at: float | None = None


class JobStore:
    """Persistent, multi-process-safe record of every job mljobs submitted.

    Raises JobStoreError (with the path and what to do) when the file cannot be opened or written.
    """

    def __init__(self, path: Path | str, *, now: Callable[[], float] = time.time, timeout: float = 15.0) -> None:
        self.path = Path(path)
        self._now = now
        self._timeout = timeout
        self._init_lock = threading.Lock()
        self._initialised = False

    # ------------------------------------------------------------------ plumbing
    def _connect(self) -> sqlite3.Connection:
        try:
            ensure_private_dir(self.path.parent)
            create_private_file(self.path)
            conn = sqlite3.connect(self.path, timeout=self._timeout, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise JobStoreError(
                f"cannot open the job store at {self.path}: {exc}; check the folder's permissions "
                "or point MLJOBS_STATE_DIR elsewhere"
            ) from exc
        conn.row_factory = sqlite3.Row
        try:
            # Per connection: in WAL mode NORMAL survives a killed process (only power loss can drop the
            # last commits); the default FULL fsyncs every commit, 20 ms a write on this disk.
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute(f"PRAGMA busy_timeout = {int(self._timeout * 1000)}")
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise JobStoreError(
                f"job store {self.path} is not a readable SQLite database ({exc}); move it aside and retry"
            ) from exc
        return conn

    @contextmanager
    def _session(self, *, write: bool) -> Iterator[sqlite3.Connection]:
        self._ensure_schema()
        conn = self._connect()
        try:
            if write:
                conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                if write:
                    conn.execute("ROLLBACK")
                raise
            if write:
                conn.execute("COMMIT")
        except sqlite3.Error as exc:
            raise JobStoreError(f"job store {self.path} failed: {exc}") from exc
        finally:
            conn.close()

    def _ensure_schema(self) -> None:
        if self._initialised:
            return
        with self._init_lock:
            if self._initialised:
                return
            conn = self._connect()
            try:
                # WAL lets readers proceed while one process writes; it is a property of the file.
                conn.execute("PRAGMA journal_mode = WAL")
                conn.executescript(_SCHEMA)
                row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
                if row is None:
                    conn.execute(
                        "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
                    )
                elif int(row["value"]) > SCHEMA_VERSION:
                    raise JobStoreError(
                        f"job store {self.path} was written by a newer mljobs (schema {row['value']}); upgrade mljobs"
                    )
            except sqlite3.DatabaseError as exc:
                raise JobStoreError(
                    f"job store {self.path} is not a readable SQLite database ({exc}); move it aside and retry"
                ) from exc
            finally:
                conn.close()
            self._initialised = True

    # ------------------------------------------------------------------ writes
    def add(
        self,
        job_id: str,
        backend: str,
        status: str,
        *,
        name: str | None = None,
        plan: dict[str, Any] | None = None,
        plan_hash: str | None = None,
        confirmation: dict[str, Any] | None = None,
        payload_location: str | None = None,
    ) -> JobRecord:
        """Record a newly submitted job and its first status. The plan must already be redacted."""
        at = self._now()
        plan_json = redact(json.dumps(plan, sort_keys=True)) if plan is not None else None
        with self._session(write=True) as conn:
            conn.execute(
                "INSERT INTO jobs (job_id, backend, name, status, plan_json, plan_hash, confirmation_json,"
                " payload_location, created_at, updated_at, finished_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (
                    job_id,
                    backend,
                    name,
                    status,
                    plan_json,
                    plan_hash,
                    json.dumps(confirmation, sort_keys=True) if confirmation else None,
                    payload_location,
                    at,
                    at,
                    at if status in _TERMINAL else None,
                ),
            )
            conn.execute(
                "INSERT INTO status_history (job_id, status, at, detail) VALUES (?,?,?,?)",
                (job_id, status, at, "submitted"),
            )
        return self.get(job_id)

    def update_status(self, job_id: str, status: str, detail: str | None = None) -> bool:
        """Set the job's status; a history row is added only when the status changes.

        Returns True when the status changed. Raises JobNotFoundError for an unknown job.
        """
        at = self._now()
        detail = redact(detail) if detail else detail
        with self._session(write=True) as conn:
            row = conn.execute("SELECT status FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
            if row is None:
                raise JobNotFoundError(f"no job {job_id!r} in the job store; `mljobs jobs` lists known jobs")
            if row["status"] == status:
                conn.execute("UPDATE jobs SET updated_at = ? WHERE job_id = ?", (at, job_id))
                return False
            conn.execute(
                "UPDATE jobs SET status = ?, updated_at = ?, message = COALESCE(?, message),"
                " finished_at = CASE WHEN ? THEN ? ELSE finished_at END WHERE job_id = ?",
                (status, at, detail, status in _TERMINAL, at, job_id),
            )
            conn.execute(
                "INSERT INTO status_history (job_id, status, at, detail) VALUES (?,?,?,?)",
                (job_id, status, at, detail),
            )
            return True

    def delete(self, job_id: str) -> None:
        with self._session(write=True) as conn:
            cur = conn.execute("DELETE FROM jobs WHERE job_id = ?", (job_id,))
            if cur.rowcount == 0:
                raise JobNotFoundError(f"no job {job_id!r} in the job store; `mljobs jobs` lists known jobs")

    def begin_submission(self, submission_id: str, backend: str, *, name: str | None, plan_hash: str) -> None:
        """Record that a submission is about to start (status SUBMITTING), before the backend is called.

        If this write fails the caller must not submit: a job the store never heard of would be lost, and on
        Snowflake a retry would run (and bill) it twice.
        """
        with self._session(write=True) as conn:
            conn.execute(
                "INSERT INTO submissions (submission_id, backend, name, plan_hash, started_at) VALUES (?,?,?,?,?)",
                (submission_id, backend, name, plan_hash, self._now()),
            )

    def end_submission(self, submission_id: str, *, job_id: str | None, outcome: str) -> None:
        """Close a SUBMITTING record: the job id the backend returned, or why there is none."""
        with self._session(write=True) as conn:
            conn.execute(
                "UPDATE submissions SET job_id = ?, outcome = ? WHERE submission_id = ?",
                (job_id, redact(outcome)[:500], submission_id),
            )

    def open_submissions(self) -> list[dict[str, Any]]:
        """Submissions that started and never recorded an outcome (the process died in between)."""
        with self._session(write=False) as conn:
            rows = conn.execute(
                "SELECT submission_id, backend, name, plan_hash, started_at FROM submissions "
                "WHERE outcome IS NULL ORDER BY started_at"
            ).fetchall()
        return [dict(r) for r in rows]

    def mark_token_used(self, token_id: str) -> bool:
        """Record a confirmation token as spent. False when it was already spent (by any process)."""
        with self._session(write=True) as conn:
            try:
                conn.execute("INSERT INTO used_tokens (token_id, used_at) VALUES (?, ?)", (token_id, self._now()))
            except sqlite3.IntegrityError:
                return False
            return True

    # ------------------------------------------------------------------ reads
    def get(self, job_id: str) -> JobRecord:
        with self._session(write=False) as conn:
            row = conn.execute("SELECT * FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
        if row is None:
            raise JobNotFoundError(f"no job {job_id!r} in the job store; `mljobs jobs` lists known jobs")
        return _record(row)

    def find(self, job_id: str) -> JobRecord | None:
        try:
            return self.get(job_id)
        except JobNotFoundError:
            return None

    def list(self, limit: int = 50, backend: str | None = None) -> list[JobRecord]:
        query = "SELECT * FROM jobs"
        params: tuple[Any, ...] = ()
        if backend:
            query += " WHERE backend = ?"
            params = (backend,)
        query += " ORDER BY created_at DESC, job_id LIMIT ?"
        with self._session(write=False) as conn:
            rows = conn.execute(query, (*params, max(1, int(limit)))).fetchall()
        return [_record(r) for r in rows]

    def history(self, job_id: str) -> builtins.list[StatusChange]:
        with self._session(write=False) as conn:
            rows = conn.execute(
                "SELECT status, at, detail FROM status_history WHERE job_id = ? ORDER BY id", (job_id,)
            ).fetchall()
        return [StatusChange(r["status"], r["at"], r["detail"]) for r in rows]


def _record(row: sqlite3.Row) -> JobRecord:
    return JobRecord(
        job_id=row["job_id"],
        backend=row["backend"],
        status=row["status"],
        name=row["name"],
        plan=json.loads(row["plan_json"]) if row["plan_json"] else None,
        plan_hash=row["plan_hash"],
        confirmation=json.loads(row["confirmation_json"]) if row["confirmation_json"] else None,
        payload_location=row["payload_location"],
        message=row["message"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        finished_at=row["finished_at"],
    )
