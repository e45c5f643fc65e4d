"""Run a fake job's payload the way the ML Jobs container does, with snowflake-ml-python's own launcher.

The fake session stores what the real client uploaded (`app/`, `system/`) and the spec the server would build
(`FakeJob.spec()`). `run_job` plays the container for one instance:

- the stage volume and the result volume become two local folders, filled from / written back to the fake
  stage (a stage mount persists what the job writes there);
- the command is the spec's `args` as the client sent them: `bash /mnt/job_stage/system/startup.sh <entrypoint>
  <args...>`. startup.sh ends in `python mljob_launcher.py "$@"` (quoted: nothing is expanded), so the user's
  args reach the launcher verbatim; only the mount prefixes of the entrypoint and of the env values are
  mapped onto the local folders;
- the launcher is the `system/mljob_launcher.py` the library uploaded, loaded and driven through its `main()`
  (research mljobs-api.md §10.2): its `__main__` block differs only in opening a Snowpark session, which
  `main` merely closes at the end, so a stand-in with `close()` is passed;
- stdout and stderr (with the launcher's banners) become the job's log; exit 0 -> DONE, else FAILED.

Not emulated: startup.sh itself (pip install, Ray start), several instances. Invented (not visible offline):
the working directory, taken as the payload directory `app/`.
"""

from __future__ import annotations

import datetime as _dt
import os
import subprocess
import sys
from pathlib import Path

from .jobservice import RESULT_MOUNT, STAGE_MOUNT
from .snowpark import FakeSession

STARTUP = f"{STAGE_MOUNT}/system/startup.sh"

_DRIVER = """
import importlib.util, sys

class _Session:  # mljob_launcher.main only closes the session it is given
    def close(self):
        pass

spec = importlib.util.spec_from_file_location("mljob_launcher", sys.argv[1])
launcher = importlib.util.module_from_spec(spec)
spec.loader.exec_module(launcher)
launcher.main(sys.argv[2], session=_Session(), payload_args=tuple(sys.argv[3:]))
"""


def _snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def run_job(session: FakeSession, job_id: str, workdir: Path, *, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run the job's payload once, as its container would, and record logs, status and written files.

    Returns:
        The finished launcher process (its output is also the job's log).
    """
    job = session.job(job_id)
    container = job.spec()["spec"]["containers"][0]
    args = [str(a) for a in container["args"]]
    if args[:2] != ["bash", STARTUP]:
        raise AssertionError(f"unexpected container command {args[:2]}")
    stage_dir, result_dir = workdir / "job_stage", workdir / "job_result"
    result_dir.mkdir(parents=True, exist_ok=True)
    stage_prefix = session.canon_stage(job.stage_path) + "/"
    result_prefix = session.canon_stage(job.result_stage_path) + "/"
    for key, data in list(session.stage_files.items()):
        if key.startswith(stage_prefix) and not key.startswith(result_prefix):
            target = stage_dir / key[len(stage_prefix):]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
    before = _snapshot(stage_dir)

    def local(value: str) -> str:
        for mount, folder in ((RESULT_MOUNT, result_dir), (STAGE_MOUNT, stage_dir)):
            if value == mount or value.startswith(mount + "/"):
                return str(folder) + value[len(mount):]
        return value

    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR", "SYSTEMROOT")}
    env.update({str(k): local(str(v)) for k, v in (container.get("env") or {}).items()})
    env["PYTHONUNBUFFERED"] = "1"
    launcher = stage_dir / "system" / "mljob_launcher.py"
    cwd = stage_dir / str(env.get("MLRS_PAYLOAD_DIR", "app"))
    proc = subprocess.run(
        [sys.executable, "-c", _DRIVER, str(launcher), local(args[2]), *args[3:]],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False,
    )
    job.logs[0] = f"Running command: python {STAGE_MOUNT}/system/mljob_launcher.py {' '.join(args[2:])}\n" + (
        proc.stdout + proc.stderr)
    for rel, data in _snapshot(stage_dir).items():
        if before.get(rel) != data:
            session.stage_files[stage_prefix + rel] = data
    for rel, data in _snapshot(result_dir).items():
        session.stage_files[result_prefix + rel] = data
    job.status = "DONE" if proc.returncode == 0 else "FAILED"
    job.completed_on = session.now + _dt.timedelta(seconds=1)
    return proc
