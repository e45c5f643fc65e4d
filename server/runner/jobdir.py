"""The local job folder protocol: layout, status file and process checks, shared by the backend and the job.

A local job is a folder laid out like a job's payload stage as the container mounts it
(`MLRS_STAGE_MOUNT_PATH` = the folder):

    app/                   the payload (MLRS_PAYLOAD_DIR=app), the job's working directory
    system/                the job script and its helpers (copies, so a job survives an mljobs upgrade)
    output/                MLRS_STAGE_RESULT_PATH; the real launcher writes `mljob_result` (MLRS_RESULT_PATH) here
    logs/instance-0.log    stdout + stderr of the job process
    plan.json launch.json  the plan, and what the job script needs from it
    status.json            written atomically by the job and by the backend, under status.lock

Stdlib only: the job script imports this module by path from `system/` with whatever interpreter runs the job.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import time
from pathlib import Path
from typing import Any

_RULE = "-" * 32
# The real launcher's banners (snowflake.ml.jobs._utils.constants LOG_START_MSG / LOG_END_MSG).
LOG_START_MSG = f"{_RULE}\nML job started\n{_RULE}"
LOG_END_MSG = f"{_RULE}\nML job finished\n{_RULE}"
TERMINAL = frozenset({"DONE", "FAILED", "CANCELLED", "INTERNAL_ERROR", "DELETED"})
EXIT_CANCELLED = 143  # 128 + SIGTERM, what a shell reports for a job ended by SIGTERM

STATUS_FILE = "status.json"
LAUNCH_FILE = "launch.json"
LOG_FILE = "instance-0.log"
APP_DIR = "app"  # constants.APP_STAGE_SUBPATH
SYSTEM_DIR = "system"  # constants.SYSTEM_STAGE_SUBPATH
OUTPUT_DIR = "output"  # constants.OUTPUT_STAGE_SUBPATH
RESULT_NAME = "mljob_result"  # the default MLRS_RESULT_PATH under MLRS_STAGE_RESULT_PATH
LAUNCHER_NAME = "mljobs_launcher.py"
JOBDIR_NAME = "mljobs_jobdir.py"
NETGUARD_NAME = "mljobs_netguard.py"


def result_path(job_dir: Path) -> Path:
    """Where the real launcher's `save_mljob_result` writes: join(MLRS_STAGE_RESULT_PATH, MLRS_RESULT_PATH)."""
    return Path(job_dir) / OUTPUT_DIR / RESULT_NAME


def write_json_atomic(path: Path, data: Any) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=1, sort_keys=True, default=str)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def read_status(job_dir: Path) -> dict[str, Any]:
    """The job's status record (`{}` when there is none yet)."""
    try:
        with open(Path(job_dir) / STATUS_FILE, encoding="utf-8") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        return {}
    return data if isinstance(data, dict) else {}


@contextlib.contextmanager
def _status_lock(job_dir: Path):
    with open(Path(job_dir) / "status.lock", "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def update_status(
    job_dir: Path, status: str | None, *, only_from: frozenset[str] | None = None, **fields: Any
) -> dict[str, Any]:
    """Change the status record under a file lock and return what is now stored.

    A terminal status is never overwritten, and with `only_from` the change applies only when the current
    status is one of those (so a late writer cannot undo a cancel or a finish). `status=None` only merges
    `fields`.
    """
    job_dir = Path(job_dir)
    with _status_lock(job_dir):
        current = read_status(job_dir)
        now = current.get("status")
        if now in TERMINAL or (only_from is not None and now not in only_from):
            return current
        updated = {**current, **fields}
        if status is not None:
            updated["status"] = status
            updated["updated_at"] = time.time()
        write_json_atomic(job_dir / STATUS_FILE, updated)
        return updated


def proc_start_ticks(pid: int) -> int | None:
    """The process start time in clock ticks since boot (/proc/<pid>/stat field 22), None if unknown."""
    fields = _proc_stat(pid)
    return int(fields[19]) if fields else None


def _proc_stat(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            text = fh.read()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after its last ')'.
    return text[text.rfind(")") + 2 :].split()


def process_alive(pid: int | None, start_ticks: int | None = None) -> bool:
    """Whether `pid` still runs the process that had `start_ticks` (reused pid or zombie: gone)."""
    if not pid:
        return False
    if os.path.isdir("/proc/self"):
        fields = _proc_stat(pid)
        if fields is None:
            return False
        if fields[0] in ("Z", "X"):
            return False
        return start_ticks is None or int(fields[19]) == start_ticks
    try:  # no /proc (macOS): existence only
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def group_alive(pgid: int, exclude: int | None = None) -> bool:
    """Whether any live (non-zombie) process is still in process group `pgid` (other than `exclude`)."""
    if os.path.isdir("/proc/self"):
        for entry in os.listdir("/proc"):
            if entry.isdigit() and int(entry) != exclude:
                fields = _proc_stat(int(entry))
                if fields and fields[2] == str(pgid) and fields[0] not in ("Z", "X"):
                    return True
        return False
    if exclude is not None:
        return True  # without /proc the group's other members cannot be told apart: assume they live
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def reap(job_dir: Path, pgid: int, grace: float) -> None:
    """After a cancel: wait `grace` s for the job's process group to exit, SIGKILL it, mark CANCELLED."""
    deadline = time.monotonic() + grace
    while group_alive(pgid) and time.monotonic() < deadline:
        time.sleep(0.2)
    if group_alive(pgid):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)
        for _ in range(50):
            if not group_alive(pgid):
                break
            time.sleep(0.1)
    update_status(
        job_dir,
        "CANCELLED",
        only_from=frozenset({"CANCELLING"}),
        finished_at=time.time(),
        message="cancelled (killed after the grace period)",
    )
