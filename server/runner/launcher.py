"""The local pool's job script: what `startup.sh` does in a Container Runtime container, then the REAL launcher.

`python <job_dir>/system/mljobs_launcher.py <job_dir>` (the backend copies this file, jobdir.py and
netguard.py into the job's `system/` folder, like the library uploads its scripts to the stage's `system/`):

1. status RUNNING; the container's environment (`job_environment`): `MLRS_STAGE_MOUNT_PATH=<job_dir>`,
   `MLRS_PAYLOAD_DIR=app`, `MLRS_STAGE_RESULT_PATH=<job_dir>/output`, `MLRS_RESULT_PATH=mljob_result`, the
   plan's env vars, then `MLRS_SUBMITTED_TARGET_INSTANCES`.
2. like `startup.sh`, when `app/requirements.txt` exists (the payload's own file, or pip_requirements
   written over it exactly as `payload_utils` does): check that the job's EAIs reach the package index,
   otherwise fail the way pip fails without PyPI access, naming the EAI to add; then get a job environment
   (`envs.py`: uv, one shared cache, reused while the requirement set is unchanged) and re-exec there.
3. like `startup.sh`, `cd $MLRS_STAGE_MOUNT_PATH/$MLRS_PAYLOAD_DIR`; the network guard; then
   `snowflake.ml.jobs._utils.scripts.mljob_launcher.main(entrypoint, session, payload_args)` -- the library's
   own code: banners, runpy with `run_name="__main__"`, `__return__`, `save_mljob_result`. Args reach the
   script literally, as on Snowflake (nothing expands `$MLRS_...`).

What is ours around it: statuses, SIGTERM -> CANCELLED, the network guard, the environment. The real
launcher's `__main__` block opens a Snowpark session from the container's login token; there is none here,
so `main` gets `_NoSession` (the launcher only calls `.close()` on it outside `function_args`, which only
the library's own @remote payloads use).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
import traceback
import types
from pathlib import Path
from typing import Any

try:  # inside the mljobs package
    from . import envs, jobdir, netguard
except ImportError:  # copied into <job_dir>/system/ and run by path
    import mljobs_envs as envs  # type: ignore[import-not-found, no-redef, unused-ignore]
    import mljobs_jobdir as jobdir  # type: ignore[import-not-found, no-redef, unused-ignore]
    import mljobs_netguard as netguard  # type: ignore[import-not-found, no-redef, unused-ignore]

REAL_LAUNCHER = "snowflake.ml.jobs._utils.scripts.mljob_launcher"
REMOTE_ENTRY = "mljobs_remote_entry.py"


class JobTerminated(BaseException):
    """Raised in the main thread when the job process gets SIGTERM (a cancel or a shutdown)."""


class _NoSession:
    """Stands in for the Snowpark session the container's launcher creates; the launcher only closes it."""

    def close(self) -> None:
        return None


def job_environment(job_dir: Path, launch: dict[str, Any]) -> dict[str, str]:
    """The variables a job sees, in the Container Runtime's order: system vars, user vars, instance count.

    The paths are the container's with `/mnt/job_stage` replaced by the job folder. `SNOWFLAKE_JOBS_COUNT`
    and `MLRS_MIN_INSTANCES` are what startup.sh and the server set for one node, so the real launcher's
    `wait_for_instances` returns at once.
    """
    env = {
        "MLRS_STAGE_MOUNT_PATH": str(job_dir),
        "MLRS_PAYLOAD_DIR": jobdir.APP_DIR,
        "MLRS_STAGE_RESULT_PATH": str(Path(job_dir) / jobdir.OUTPUT_DIR),
        "MLRS_RESULT_PATH": jobdir.RESULT_NAME,
        "SNOWFLAKE_JOB_INDEX": "0",
        "MLJOBS_JOB_ID": str(launch.get("job_id", "")),
        "MLJOBS_BACKEND": "local",
        "PYTHONUNBUFFERED": "1",
    }
    env.update({str(k): str(v) for k, v in (launch.get("env_vars") or {}).items()})
    # What actually runs here: one node, whatever was asked for.
    env.update({"MLRS_SUBMITTED_TARGET_INSTANCES": "1", "SNOWFLAKE_JOBS_COUNT": "1", "MLRS_MIN_INSTANCES": "1"})
    return env


def _say(text: str) -> None:
    # The job's stdout is its log file: this is the job talking, not library code.
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _write_guard_files(job_dir: Path, launch: dict[str, Any], extra_hosts: list[str], name: str) -> Path:
    config = {
        "job_eais": launch.get("job_eais") or {},
        "known_eais": launch.get("known_eais") or {},
        "extra_hosts": extra_hosts,
        "label": name,
    }
    path = job_dir / jobdir.SYSTEM_DIR / f"netguard-{name}.json"
    jobdir.write_json_atomic(path, config)
    guard_dir = job_dir / jobdir.SYSTEM_DIR / "guard"
    guard_dir.mkdir(exist_ok=True)
    (guard_dir / "sitecustomize.py").write_text(envs.SITECUSTOMIZE, encoding="utf-8")
    return path


def _guarded_env(job_dir: Path, config: Path) -> dict[str, str]:
    env = dict(os.environ)
    guard_dir = str(job_dir / jobdir.SYSTEM_DIR / "guard")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (guard_dir, env.get("PYTHONPATH", "")) if p)
    env[netguard.CONFIG_ENV] = str(config)
    return env


def _finish_failed(job_dir: Path, kind: str, message: str) -> int:
    """End the job FAILED before user code ran, with the result written by the library's own result writer."""
    _save_result(job_dir, RuntimeError(f"{kind}: {message}"), is_error=True)
    jobdir.update_status(job_dir, "FAILED", finished_at=time.time(), exit_code=1, message=message)
    return 1


def _save_result(job_dir: Path, value: Any, *, is_error: bool) -> None:
    path = jobdir.result_path(job_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    real = _real_launcher()
    real.save_mljob_result(value, is_error, str(path))


def _real_launcher() -> types.ModuleType:
    """snowflake-ml-python's container launcher. It reads MLRS_* at import, so import after the env is set."""
    import importlib

    return importlib.import_module(REAL_LAUNCHER)


class _HideRayFromLauncher:
    """A meta-path finder that refuses `import ray` when the real launcher's own code asks, nobody else."""

    def __init__(self, launcher_globals: dict[str, Any]) -> None:
        self._globals = launcher_globals

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> None:
        if fullname != "ray" and not fullname.startswith("ray."):
            return None
        frame = sys._getframe(1)
        while frame is not None and frame.f_code.co_filename.startswith("<frozen importlib"):
            frame = frame.f_back  # type: ignore[assignment]
        if frame is not None and frame.f_globals is self._globals:
            raise ModuleNotFoundError("No module named 'ray' (the local pool runs no Ray cluster)", name="ray")
        return None


def _without_ray_cluster(real: types.ModuleType) -> None:
    """Hide Ray from the launcher's own imports (not from the user's code).

    In the container startup.sh starts a Ray head first, and the launcher's `main` then calls
    `ray.init(address="auto")` whenever `import ray` works. The local pool starts no cluster, so on a machine
    with Ray installed that call would fail before the user's code runs. The launcher's `import ray` is
    refused (it then logs "Ray is not installed" and goes on); the user's script imports Ray as usual.
    """
    sys.meta_path.insert(0, _HideRayFromLauncher(real.__dict__))


def setup_phase(job_dir: Path, launch: dict[str, Any]) -> int | None:
    """startup.sh's `pip install -r requirements.txt`, into a shared job env; re-exec there. None: run here."""
    req_path = job_dir / jobdir.APP_DIR / "requirements.txt"
    if not req_path.is_file():
        return None
    lines = req_path.read_text(encoding="utf-8").splitlines()
    problem = envs.check_index_access(launch, lines)
    if problem:
        _say(f"ERROR: {problem}")
        _say("ERROR: Could not install the job's requirements: the package index is unreachable from this job.")
        return _finish_failed(job_dir, "PipInstallError", problem)
    # The pip phase reaches what the job's EAIs allow. The machine's own index (pip.conf, or the PIP_*
    # settings the launcher inherited, read before the plan's env vars were applied) stands in for PyPI, so
    # it is reachable only when an EAI of the job allows PyPI.
    job_policy = netguard.GuardPolicy.from_config({"job_eais": launch.get("job_eais") or {}})
    pypi_allowed = all(job_policy.allows(host, 443) for host in envs.PYPI_HOSTS)
    extra = list(launch.get("machine_index_hosts") or []) if pypi_allowed else []
    if launch.get("artifact_repositories"):
        extra += list(envs.PYPI_HOSTS)
    config = _write_guard_files(job_dir, launch, extra, "pip")
    _say(f"Installing packages from {req_path.name}")
    try:
        python = envs.ensure_env(
            lines,
            env_root=Path(launch.get("env_root") or job_dir / "envs"),
            cache_dir=Path(launch["uv_cache"]) if launch.get("uv_cache") else None,
            guarded_env=_guarded_env(job_dir, config),
            say=_say,
            installer=str(launch.get("installer") or "uv"),
        )
    except envs.EnvError as exc:
        return _finish_failed(job_dir, "PipInstallError", str(exc))
    sys.stdout.flush()
    sys.stderr.flush()
    os.environ["VIRTUAL_ENV"] = str(python.parent.parent)
    os.environ["PATH"] = os.pathsep.join([str(python.parent), os.environ.get("PATH", "")])
    os.execv(str(python), [str(python), str(Path(__file__).resolve()), str(job_dir), "--phase", "run"])
    return None  # not reached


def _remote_entry(job_dir: Path, launch: dict[str, Any]) -> tuple[str, str]:
    """(script, main_func) for method=remote: a small module in system/ that loads the user's file and
    exposes the plain function (a snowflake.ml.jobs @remote wrapper would submit another job when called)."""
    user = job_dir / jobdir.APP_DIR / str(launch["entrypoint"])
    func = str(launch["function_name"])
    text = (
        '"""mljobs local pool: exposes the @remote function to the real launcher (generated)."""\n'
        "import importlib.util as _u\n"
        "import sys as _s\n"
        f"_spec = _u.spec_from_file_location({user.stem!r}, {str(user)!r})\n"
        "_mod = _u.module_from_spec(_spec)\n"
        "_s.modules[_spec.name] = _mod\n"
        "_spec.loader.exec_module(_mod)\n"
        f"{func} = getattr(_mod, {func!r})\n"
        f"while getattr({func}, '__module__', '').startswith('snowflake.') and hasattr({func}, '__wrapped__'):\n"
        f"    {func} = {func}.__wrapped__\n"
    )
    path = job_dir / jobdir.SYSTEM_DIR / REMOTE_ENTRY
    path.write_text(text, encoding="utf-8")
    return str(path), func


def run_phase(job_dir: Path, launch: dict[str, Any]) -> int:
    """Guard the network, run the user code through the real launcher, set the final status; the exit code."""
    config = _write_guard_files(job_dir, launch, [], "job")
    os.environ.update(
        {k: v for k, v in _guarded_env(job_dir, config).items() if k in ("PYTHONPATH", netguard.CONFIG_ENV)}
    )
    netguard.install(netguard.load_policy(str(config)))  # after the env: children inherit the guard
    app = job_dir / jobdir.APP_DIR
    os.chdir(app)  # startup.sh: cd ${MLRS_STAGE_MOUNT_PATH}/${MLRS_PAYLOAD_DIR}
    # sys.path[0] is system/ (this file's folder); in the container it is the launcher's system/ too, and the
    # real launcher puts MLRS_PAYLOAD_DIR in front at import.
    real = _real_launcher()
    _without_ray_cluster(real)
    args = tuple(str(a) for a in launch.get("args") or [])  # literal, as the container receives them
    if launch.get("method") == "remote":
        entry, main_func = _remote_entry(job_dir, launch)
    else:
        # What payload_utils passes: /mnt/job_stage/app/<entrypoint>, here the same path under the job folder.
        entry, main_func = str(app / str(launch["entrypoint"])), None
        if launch.get("wrapper"):  # skill/entry.py: expands $MLRS_* in the args, then runs the entrypoint
            entry, args = str(app / str(launch["wrapper"])), (str(app / str(launch["entrypoint"])), *args)
    error: BaseException | None = None
    exit_code = 0
    try:
        real.main(entry, session=_NoSession(), payload_args=args, script_main_func=main_func)
    except JobTerminated:
        raise
    except SystemExit as exc:  # sys.exit() in the user's script: the container's exit status
        exit_code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if exit_code:
            error = exc
            print(exc.code if not isinstance(exc.code, int) else "", file=sys.stderr)
    except BaseException as exc:  # noqa: BLE001 - uncaught in the container: python prints it and exits 1
        error, exit_code = exc, 1
        traceback.print_exception(type(exc), exc, exc.__traceback__)
    sys.stdout.flush()
    sys.stderr.flush()
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a cancel now would only race with the bookkeeping
    message = None
    if error is not None:
        message = f"{type(error).__name__}: {error}" if not isinstance(error, SystemExit) else (
            f"the script exited with status {exit_code}")
    jobdir.update_status(
        job_dir,
        "DONE" if exit_code == 0 else "FAILED",
        finished_at=time.time(),
        exit_code=exit_code,
        message=message,
    )
    return 0 if exit_code == 0 else 1


def _on_sigterm(signum: int, frame: types.FrameType | None) -> None:
    raise JobTerminated()


def main(argv: list[str] | None = None) -> int:
    """Entry point: `launcher.py <job_dir> [--phase run]` or `launcher.py --reap <job_dir> <pgid> <grace>`."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "--reap":
        jobdir.reap(Path(argv[1]), int(argv[2]), float(argv[3]))
        return 0
    job_dir = Path(argv[0]).resolve()
    phase = argv[2] if len(argv) >= 3 and argv[1] == "--phase" else "setup"
    signal.signal(signal.SIGTERM, _on_sigterm)
    launch = json.loads((job_dir / jobdir.LAUNCH_FILE).read_text(encoding="utf-8"))
    try:
        if phase == "setup":
            record = jobdir.update_status(
                job_dir,
                "RUNNING",
                only_from=frozenset({"PENDING"}),
                pid=os.getpid(),
                pid_start=jobdir.proc_start_ticks(os.getpid()),
                started_at=time.time(),
            )
            if record.get("status") != "RUNNING":  # cancelled before it started
                jobdir.update_status(
                    job_dir, "CANCELLED", only_from=frozenset({"CANCELLING"}), finished_at=time.time()
                )
                return jobdir.EXIT_CANCELLED
            _say(
                f"mljobs local pool: job {launch.get('job_id')} "
                f"(pid {os.getpid()}, python {sys.version.split()[0]})"
            )
            for warning in launch.get("warnings") or []:
                _say(f"WARNING: {warning}")
            launch = {**launch, "machine_index_hosts": envs.pip_config_index_hosts()}  # before the job's env
            os.environ.update(job_environment(job_dir, launch))
            rc = setup_phase(job_dir, launch)
            if rc is not None:
                return rc
        return run_phase(job_dir, launch)
    except JobTerminated:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        _say("mljobs: the job process received SIGTERM")
        current = jobdir.read_status(job_dir).get("status")
        cancelled = current == "CANCELLING"
        message = "cancelled" if cancelled else "terminated by SIGTERM"
        try:
            _save_result(job_dir, RuntimeError(f"job {message}"), is_error=True)
        except Exception:  # noqa: BLE001 - the status below still records the end
            traceback.print_exc()
        # A cancelled job stays CANCELLING here: CANCELLED must mean its processes are gone, and this one
        # (like the children the cancel signalled with it) has not exited yet. The backend writes CANCELLED
        # once the group is empty: cancel() itself, a status read, or its reaper after the grace period.
        if not cancelled:
            jobdir.update_status(
                job_dir,
                "FAILED",
                finished_at=time.time(),
                exit_code=jobdir.EXIT_CANCELLED,
                message=message,
            )
        return jobdir.EXIT_CANCELLED
    except Exception as exc:  # noqa: BLE001 - a launcher fault must still end the job with a reason
        traceback.print_exc()
        return _finish_failed(job_dir, "LauncherError", f"the local launcher failed: {exc!r}")


if __name__ == "__main__":
    sys.exit(main())
