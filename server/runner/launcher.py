"""Runs one local-pool job the way the Container Runtime's launcher runs an ML Job (stdlib only).

`python <job_dir>/system/mljobs_launcher.py <job_dir>` (the backend copies this file and netguard.py into the
job's `system/` folder, like the stage's `system/` scripts) does, in order:

1. status RUNNING; environment: `MLRS_STAGE_MOUNT_PATH=<job_dir>`, `MLRS_PAYLOAD_DIR=app`,
   `MLRS_STAGE_RESULT_PATH=<job_dir>/output`, then the plan's env vars, then
   `MLRS_SUBMITTED_TARGET_INSTANCES`.
2. setup (shown only in verbose logs): when the job has pip requirements, check that its EAIs reach the
   package index -- otherwise fail like Snowflake does when pip cannot reach PyPI, naming the EAI to add --
   then create `<job_dir>/venv` (system site packages visible) and `pip install` into it under the network
   guard, then re-exec this file with the venv's interpreter (same pid).
3. the network guard, the banner "ML job started", the entrypoint via `runpy.run_path(run_name="__main__")`
   with `sys.argv = [entry, *args]` in the app dir (or, for method=remote, the named function called with
   the args), `result.json` (ResultDTO shape), the banner "ML job finished", status DONE/FAILED, exit 0/1.

SIGTERM (cancel) interrupts the user code; the job then ends CANCELLED (exit 143). The same module holds
the status-file helpers and process checks the backend uses, so both sides agree on the format.
"""

from __future__ import annotations

import configparser
import contextlib
import fcntl
import importlib.util
import json
import os
import pickle
import re
import runpy
import signal
import site
import subprocess
import sys
import time
import traceback
import types
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

try:  # inside the mljobs package
    from . import netguard
except ImportError:  # copied into <job_dir>/system/ and run by path
    import mljobs_netguard as netguard  # type: ignore[import-not-found, no-redef, unused-ignore]

_RULE = "-" * 32
LOG_START_MSG = f"{_RULE}\nML job started\n{_RULE}"
LOG_END_MSG = f"{_RULE}\nML job finished\n{_RULE}"
TERMINAL = frozenset({"DONE", "FAILED", "CANCELLED", "INTERNAL_ERROR", "DELETED"})
PYPI_HOSTS = ("pypi.org", "files.pythonhosted.org")
EXIT_CANCELLED = 143  # 128 + SIGTERM, what a shell reports for a job ended by SIGTERM

STATUS_FILE = "status.json"
LAUNCH_FILE = "launch.json"
RESULT_FILE = "result.json"
RESULT_EXTRA = "result_extra.pkl"
LOG_FILE = "instance-0.log"
LAUNCHER_NAME = "mljobs_launcher.py"
NETGUARD_NAME = "mljobs_netguard.py"

SITECUSTOMIZE = '''"""mljobs local pool: the job's network guard in each Python process (generated)."""
import importlib.util as _u
import os as _os
import sys as _sys


def _mljobs_guard():
    here = _os.path.dirname(_os.path.abspath(__file__))
    system = _os.path.dirname(here)
    _sys.path.insert(0, system)
    try:
        import mljobs_netguard
        mljobs_netguard.install_from_env()
    finally:
        _sys.path.remove(system)
    # This file shadows any other sitecustomize on sys.path: run the next one too.
    for entry in _sys.path:
        candidate = _os.path.join(entry or ".", "sitecustomize.py")
        if _os.path.abspath(entry or ".") != here and _os.path.isfile(candidate):
            spec = _u.spec_from_file_location("_mljobs_next_sitecustomize", candidate)
            if spec and spec.loader:
                spec.loader.exec_module(_u.module_from_spec(spec))
            break


_mljobs_guard()
'''


class JobTerminated(BaseException):
    """Raised in the main thread when the job process gets SIGTERM (a cancel or a shutdown)."""


# ---------------------------------------------------------------- status file (shared with the backend)


def _write_json_atomic(path: Path, data: Any) -> None:
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
        _write_json_atomic(job_dir / STATUS_FILE, updated)
        return updated


# ---------------------------------------------------------------- processes (shared with the backend)


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


def group_alive(pgid: int) -> bool:
    """Whether any live (non-zombie) process is still in process group `pgid`."""
    if os.path.isdir("/proc/self"):
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                fields = _proc_stat(int(entry))
                if fields and fields[2] == str(pgid) and fields[0] not in ("Z", "X"):
                    return True
        return False
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


# ---------------------------------------------------------------- the job


def expand_args(args: list[str], env: dict[str, str]) -> list[str]:
    """Replace `$NAME`, `${NAME}` and `$(NAME)` for the MLRS_* variables in `env`; other text stays as is."""
    pattern = re.compile(r"\$(?:\{(MLRS_\w+)\}|\((MLRS_\w+)\)|(MLRS_\w+))")

    def sub(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2) or match.group(3)
        return env.get(name, match.group(0))

    return [pattern.sub(sub, arg) for arg in args]


def job_environment(job_dir: Path, launch: dict[str, Any]) -> dict[str, str]:
    """The variables a job sees, in the Container Runtime's order: system vars, user vars, instance count."""
    env = {
        "MLRS_STAGE_MOUNT_PATH": str(job_dir),
        "MLRS_PAYLOAD_DIR": "app",
        "MLRS_STAGE_RESULT_PATH": str(job_dir / "output"),
        "MLJOBS_JOB_ID": str(launch.get("job_id", "")),
        "MLJOBS_BACKEND": "local",
        "PYTHONUNBUFFERED": "1",
    }
    env.update({str(k): str(v) for k, v in (launch.get("env_vars") or {}).items()})
    env["MLRS_SUBMITTED_TARGET_INSTANCES"] = "1"  # what actually runs here: one node
    return env


def _pip_config_index_hosts() -> list[str]:
    """Hosts of the machine's own pip index settings (env and pip.conf files): its stand-in for PyPI."""
    urls: list[str] = []
    for var in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL"):
        urls.extend(os.environ.get(var, "").split())
    files = [
        Path("/etc/pip.conf"),
        Path.home() / ".config" / "pip" / "pip.conf",
        Path.home() / ".pip" / "pip.conf",
    ]
    if os.environ.get("PIP_CONFIG_FILE"):
        files.append(Path(os.environ["PIP_CONFIG_FILE"]))
    for path in files:
        parser = configparser.ConfigParser()
        with contextlib.suppress(OSError, configparser.Error):
            parser.read(path)
        for section in parser.sections():
            for key in ("index-url", "extra-index-url"):
                urls.extend(parser.get(section, key, fallback="").split())
    hosts = []
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme in ("http", "https") and parts.hostname:
            port = parts.port or (80 if parts.scheme == "http" else 443)
            hosts.append(f"{parts.hostname}:{port}")
    return hosts


def _requirement_indexes(lines: list[str]) -> tuple[list[str], bool]:
    """(index hosts named by `--index-url`/`--extra-index-url` options, whether PyPI stays the main index)."""
    hosts, pypi_main = [], True
    for line in lines:
        parts = line.replace("=", " ", 1).split() if line.startswith("-") else []
        if len(parts) >= 2 and parts[0] in ("--index-url", "-i", "--extra-index-url"):
            url = urlsplit(parts[1])
            if url.hostname:
                hosts.append(f"{url.hostname}:{url.port or (80 if url.scheme == 'http' else 443)}")
            if parts[0] != "--extra-index-url":
                pypi_main = False
    return hosts, pypi_main


def check_index_access(launch: dict[str, Any], lines: list[str]) -> str | None:
    """None when the job's EAIs reach the package index; else the failure message naming the EAI to add."""
    policy = netguard.GuardPolicy.from_config(
        {"job_eais": launch.get("job_eais") or {}, "known_eais": launch.get("known_eais") or {}}
    )
    option_hosts, pypi_main = _requirement_indexes(lines)
    needed = [(h, 443) for h in PYPI_HOSTS] if pypi_main else []
    needed += [(h.rsplit(":", 1)[0], int(h.rsplit(":", 1)[1])) for h in option_hosts]
    if pypi_main and launch.get("artifact_repositories"):
        needed = needed[len(PYPI_HOSTS) :]  # an artifact repository stands in for PyPI (no EAI needed)
    job = ", ".join(sorted(policy.job_eais))
    for host, port in needed:
        if policy.allows(host, port):
            continue
        would = sorted(
            n for n, rules in policy.known_eais.items() if netguard.host_allowed(rules, host, port)
        )
        fix = f"add {' or '.join(would)}" if would else f"add an EAI whose network rule allows {host}"
        what = "PyPI access" if host in PYPI_HOSTS else f"access to {host}"
        return f"pip_requirements need {what}, but none of the job's EAIs [{job}] allows {host}; {fix}"
    return None


def _venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def create_venv(venv: Path) -> Path:
    """A venv that sees the system site packages *and* this interpreter's own site packages (when this
    interpreter is itself a venv), so preinstalled packages count as installed, like the runtime image's."""
    subprocess.run(
        [sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)],
        check=True,
        stdin=subprocess.DEVNULL,
    )
    python = _venv_python(venv)
    if sys.prefix != sys.base_prefix:
        site_dirs = subprocess.run(
            [str(python), "-c", "import site; print(site.getsitepackages()[0])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        parents = [p for p in site.getsitepackages() if os.path.isdir(p)]
        Path(site_dirs, "_mljobs_parent_env.pth").write_text("\n".join(parents) + "\n", encoding="utf-8")
    has_pip = (
        subprocess.run([str(python), "-c", "import pip"], capture_output=True, check=False).returncode == 0
    )
    if not has_pip:
        subprocess.run(
            [str(python), "-m", "ensurepip", "--default-pip"], check=True, stdin=subprocess.DEVNULL
        )
    return python


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
    path = job_dir / "system" / f"netguard-{name}.json"
    _write_json_atomic(path, config)
    guard_dir = job_dir / "system" / "guard"
    guard_dir.mkdir(exist_ok=True)
    (guard_dir / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    return path


def _guarded_env(job_dir: Path, config: Path) -> dict[str, str]:
    env = dict(os.environ)
    guard_dir = str(job_dir / "system" / "guard")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (guard_dir, env.get("PYTHONPATH", "")) if p)
    env[netguard.CONFIG_ENV] = str(config)
    return env


def setup_phase(job_dir: Path, launch: dict[str, Any]) -> int | None:
    """Install pip requirements into a per-job venv and re-exec there; None means "run here, no venv"."""
    lines = list(launch.get("pip_requirements") or [])
    req_file = launch.get("requirements_file")
    if not lines and not req_file:
        return None
    req_path = job_dir / "system" / "requirements.txt"
    req_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    all_lines = list(lines)
    if req_file:
        user_req = job_dir / "app" / str(req_file)
        all_lines += user_req.read_text(encoding="utf-8").splitlines() if user_req.is_file() else []
    problem = check_index_access(launch, all_lines)
    if problem:
        _say(f"ERROR: {problem}")
        _say(
            "ERROR: Could not install the job's requirements: the package index is unreachable from this job."
        )
        return _finish_failed(job_dir, "PipInstallError", problem)
    # The pip phase reaches what the job's EAIs allow. The machine's own index (pip.conf, or the PIP_*
    # settings the launcher inherited, read before the plan's env vars were applied) stands in for PyPI, so
    # it is reachable only when an EAI of the job allows PyPI.
    job_policy = netguard.GuardPolicy.from_config({"job_eais": launch.get("job_eais") or {}})
    pypi_allowed = all(job_policy.allows(host, 443) for host in PYPI_HOSTS)
    extra = list(launch.get("machine_index_hosts") or []) if pypi_allowed else []
    if launch.get("artifact_repositories"):
        extra += list(PYPI_HOSTS)
    config = _write_guard_files(job_dir, launch, extra, "pip")
    _say(f"mljobs: creating the job environment {job_dir / 'venv'}")
    started = time.monotonic()
    python = create_venv(job_dir / "venv")
    pip_cmd = [
        str(python),
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "--no-input",
        "-r",
        str(req_path),
    ]
    if req_file:
        pip_cmd += ["-r", str(job_dir / "app" / str(req_file))]
    _say("mljobs: " + " ".join(pip_cmd[1:]))
    guarded = _guarded_env(job_dir, config)
    rc = subprocess.run(pip_cmd, env=guarded, stdin=subprocess.DEVNULL, check=False).returncode
    if rc != 0:
        return _finish_failed(
            job_dir,
            "PipInstallError",
            f"pip install of the job's requirements failed (exit {rc}); see the verbose logs",
        )
    _say(f"mljobs: requirements installed in {time.monotonic() - started:.1f}s")
    sys.stdout.flush()
    sys.stderr.flush()
    os.environ["VIRTUAL_ENV"] = str(job_dir / "venv")
    os.environ["PATH"] = os.pathsep.join([str(python.parent), os.environ.get("PATH", "")])
    os.execv(str(python), [str(python), str(Path(__file__).resolve()), str(job_dir), "--phase", "run"])
    return None  # not reached


def _user_traceback(exc: BaseException) -> str:
    """The traceback without this launcher's and runpy's frames (what the user's code did)."""
    tb = exc.__traceback__
    skip = {os.path.abspath(__file__), os.path.abspath(runpy.__file__)}
    while tb is not None and os.path.abspath(tb.tb_frame.f_code.co_filename) in skip:
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb))


def _type_name(obj_type: type) -> str:
    return f"{obj_type.__module__}.{obj_type.__qualname__}"


def write_result(
    job_dir: Path, *, success: bool, value: Any = None, exc: BaseException | None = None
) -> None:
    """Write `result.json` in the ResultDTO shape; non-JSON values go to `result_extra.pkl` beside it."""
    dto: dict[str, Any] = {
        "kind": "result",
        "success": success,
        "value": None,
        "protocol": None,
        "serialize_error": None,
        "metadata": None,
    }
    if exc is not None:
        dto["metadata"] = {
            "type": _type_name(type(exc)),
            "repr": repr(exc),
            "message": str(exc),
            "traceback": _user_traceback(exc),
        }
    elif value is not None:
        try:
            inline = json.loads(json.dumps(value)) == value  # tuples, int keys, NaN would not round-trip
        except (TypeError, ValueError, RecursionError):
            inline = False
        if inline:
            dto["value"] = value
        else:
            dto["metadata"] = {"type": _type_name(type(value)), "repr": repr(value)[:2000]}
            try:
                with open(job_dir / RESULT_EXTRA, "wb") as fh:
                    pickle.dump(value, fh, protocol=pickle.DEFAULT_PROTOCOL)
                dto["protocol"] = {
                    "name": "pickle",
                    "version": str(pickle.DEFAULT_PROTOCOL),
                    "metadata": None,
                    "manifest": {"path": RESULT_EXTRA},
                }
            except Exception as err:  # noqa: BLE001 - any pickling failure is reported, not raised
                dto["serialize_error"] = repr(err)
    _write_json_atomic(job_dir / RESULT_FILE, dto)


def _finish_failed(job_dir: Path, kind: str, message: str) -> int:
    """End the job FAILED before user code ran (setup or launcher fault) with `kind: message` as error."""
    dto = {
        "kind": "result",
        "success": False,
        "value": None,
        "protocol": None,
        "serialize_error": None,
        "metadata": {"type": kind, "repr": f"{kind}({message!r})", "message": message, "traceback": None},
    }
    _write_json_atomic(job_dir / RESULT_FILE, dto)
    update_status(job_dir, "FAILED", finished_at=time.time(), exit_code=1, message=message)
    return 1


def _load_function(path: Path, name: str) -> Any:
    spec = importlib.util.spec_from_file_location("__mljob_remote__", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    func = getattr(module, name, None)
    if func is None:
        raise AttributeError(f"{path.name} defines no function {name!r}")
    # Calling a snowflake.ml.jobs @remote wrapper would submit another job: run the wrapped function.
    while getattr(func, "__module__", "").startswith("snowflake.") and hasattr(func, "__wrapped__"):
        func = func.__wrapped__
    return func


def run_user_code(job_dir: Path, launch: dict[str, Any], args: list[str]) -> Any:
    """Run the entrypoint (or the remote function) and return its value (`__return__` for scripts)."""
    app = job_dir / "app"
    entry = app / str(launch["entrypoint"])
    sys.argv = [str(entry), *args]
    if launch.get("method") == "remote":
        return _load_function(entry, str(launch["function_name"]))(*args)
    if entry.suffix != ".py":
        # Like the runtime launcher: a non-Python entrypoint runs as a program.
        program = str(entry) if entry.exists() else str(launch["entrypoint"])
        rc = subprocess.run([program, *args], check=False).returncode
        if rc != 0:
            raise RuntimeError(f"{launch['entrypoint']} exited with status {rc}")
        return None
    namespace = runpy.run_path(str(entry), run_name="__main__")
    return namespace.get("__return__")


def run_phase(job_dir: Path, launch: dict[str, Any]) -> int:
    """Guard the network, run the user code between the banners, record the result; the exit code."""
    config = _write_guard_files(job_dir, launch, [], "job")
    os.environ.update(
        {k: v for k, v in _guarded_env(job_dir, config).items() if k in ("PYTHONPATH", netguard.CONFIG_ENV)}
    )
    netguard.install(netguard.load_policy(str(config)))  # after the env: children inherit the guard
    args = expand_args([str(a) for a in launch.get("args") or []], dict(os.environ))
    app = job_dir / "app"
    os.chdir(app)
    entry_dir = (app / str(launch["entrypoint"])).parent
    # sys.path[0] is this launcher's folder: replace it by the payload, as `python entry.py` would.
    sys.path[0:1] = [str(entry_dir)] + ([str(app)] if entry_dir != app else [])
    _say(LOG_START_MSG)
    success, value = True, None
    error: BaseException | None = None
    try:
        value = run_user_code(job_dir, launch, args)
    except JobTerminated:
        raise
    except SystemExit as exc:
        if exc.code not in (None, 0):
            success, error = False, exc
    except BaseException as exc:  # noqa: BLE001 - the user's error is the job's result
        success, error = False, exc
        traceback.print_exception(type(exc), exc, exc.__traceback__)
    sys.stdout.flush()
    sys.stderr.flush()
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a cancel now would only race with the bookkeeping
    write_result(job_dir, success=success, value=value, exc=error)
    _say(LOG_END_MSG)
    message = None if success else f"{type(error).__name__}: {error}"
    update_status(
        job_dir,
        "DONE" if success else "FAILED",
        finished_at=time.time(),
        exit_code=0 if success else 1,
        message=message,
    )
    return 0 if success else 1


def _on_sigterm(signum: int, frame: types.FrameType | None) -> None:
    raise JobTerminated()


def main(argv: list[str] | None = None) -> int:
    """Entry point: `launcher.py <job_dir> [--phase run]` or `launcher.py --reap <job_dir> <pgid> <grace>`."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "--reap":
        reap(Path(argv[1]), int(argv[2]), float(argv[3]))
        return 0
    job_dir = Path(argv[0]).resolve()
    phase = argv[2] if len(argv) >= 3 and argv[1] == "--phase" else "setup"
    signal.signal(signal.SIGTERM, _on_sigterm)
    launch = json.loads((job_dir / LAUNCH_FILE).read_text(encoding="utf-8"))
    try:
        if phase == "setup":
            record = update_status(
                job_dir,
                "RUNNING",
                only_from=frozenset({"PENDING"}),
                pid=os.getpid(),
                pid_start=proc_start_ticks(os.getpid()),
                started_at=time.time(),
            )
            if record.get("status") != "RUNNING":  # cancelled before it started
                update_status(
                    job_dir, "CANCELLED", only_from=frozenset({"CANCELLING"}), finished_at=time.time()
                )
                return EXIT_CANCELLED
            _say(
                f"mljobs local pool: job {launch.get('job_id')} "
                f"(pid {os.getpid()}, python {sys.version.split()[0]})"
            )
            for warning in launch.get("warnings") or []:
                _say(f"WARNING: {warning}")
            launch = {**launch, "machine_index_hosts": _pip_config_index_hosts()}  # before the job's env
            os.environ.update(job_environment(job_dir, launch))
            rc = setup_phase(job_dir, launch)
            if rc is not None:
                return rc
        return run_phase(job_dir, launch)
    except JobTerminated:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        _say("mljobs: the job process received SIGTERM")
        current = read_status(job_dir).get("status")
        cancelled = current == "CANCELLING"
        message = "cancelled" if cancelled else "terminated by SIGTERM"
        write_result(job_dir, success=False, exc=RuntimeError(f"job {message}"))
        update_status(
            job_dir,
            "CANCELLED" if cancelled else "FAILED",
            finished_at=time.time(),
            exit_code=EXIT_CANCELLED,
            message=message,
        )
        return EXIT_CANCELLED
    except Exception as exc:  # noqa: BLE001 - a launcher fault must still end the job with a reason
        traceback.print_exc()
        return _finish_failed(job_dir, "LauncherError", f"the local launcher failed: {exc!r}")


if __name__ == "__main__":
    sys.exit(main())
