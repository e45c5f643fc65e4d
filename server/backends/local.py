"""The local pool: ML Jobs run on this machine, with the Container Runtime's contract (stage-like layout,
statuses, banners, `__return__` results, EAI-limited network), when no Snowflake account is configured.

Each job is a folder `<jobs_dir>/<NAME>_<8hex>/` (job id `LOCAL.JOBS.<NAME>_<8hex>`) laid out like the
payload stage as the container mounts it (server/runner/jobdir.py): `app/` holds exactly the plan's payload
(skill/payload.py: the same filtered files the Snowflake backend uploads, plus requirements.txt from
pip_requirements and the entry wrapper when args name `$MLRS_*`), `system/` the job script, `output/` is
MLRS_STAGE_RESULT_PATH where snowflake-ml-python's real launcher writes `mljob_result`, read back here with
the library's own result loading. Jobs with requirements run in a shared environment under
`<state_dir>/envs` (server/runner/envs.py: uv, one package cache, reused while the requirement set is unchanged).

The job process is detached (own session and process group), so it outlives the CLI or server that
started it; `status()` turns a job whose process vanished without a final status into FAILED.

Multi-node: the machine is one node. `target_instances > 1` runs a single instance and says so (a WARNING
line in the log and `JobInfo.extra["warning"]`); `min_instances > 1` is refused at submit, the way
Snowflake refuses a min_instances above the pool's max_nodes.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mljobs.analyzers.model import SubmitMethod
from packaging.utils import canonicalize_name

from mljobs.skill.facts import (
    AccountFacts,
    ComputePool,
    FamilyKind,
    Grants,
    InstanceFamily,
    Stage,
)
from mljobs.skill.jobplan import JobPlan
from mljobs.skill.payload import Payload
from mljobs.skill.redact import has_secret
from mljobs.skill.runner_inputs import requirement_problem, runner_input_errors

from ..errors import BackendError, JobNotFoundError, UsageError
from ..local_eais import LocalEaiConfig, LocalEaiSource
from ..payload import export_payload, payload_for_plan
from ..runner import jobdir, launcher
from ..settings import Settings
from .base import InstanceStatus, JobInfo, JobResult, JobStatus

log = logging.getLogger(__name__)

POOL_NAME = "LOCAL"
DATABASE, SCHEMA = "LOCAL", "JOBS"
STAGE_NAME = f"{DATABASE}.{SCHEMA}.PAYLOAD"
ID_PREFIX = f"{DATABASE}.{SCHEMA}."
_DIR_RE = re.compile(r"^([A-Z_][A-Z0-9_]*)_([0-9a-f]{8})$")
ENVS_NAME = "mljobs_envs.py"
_STARTUP_GRACE = 60.0  # a PENDING job with no process recorded after this long never started
_INSTANCE_STATES = {  # job status -> SHOW SERVICE INSTANCES-style instance status
    JobStatus.PENDING: "PENDING",
    JobStatus.RUNNING: "READY",
    JobStatus.DONE: "SUCCEEDED",
    JobStatus.FAILED: "FAILED",
    JobStatus.CANCELLING: "TERMINATING",
    JobStatus.CANCELLED: "FAILED",
}
_LIBRARY_FILES = ("mljob_result", "mljob_extra")  # the launcher's result files, not artifacts
VANISHED = "the job process vanished (killed or machine restarted)"


@dataclass(frozen=True, slots=True)
class GpuInfo:
    count: int = 0
    type: str | None = None
    memory_gib: float | None = None


def probe_gpus() -> GpuInfo:
    """GPUs from `nvidia-smi -L` (and total memory from its query mode); none when it is missing or fails."""
    exe = shutil.which("nvidia-smi")
    if not exe:
        return GpuInfo()
    try:
        listing = subprocess.run([exe, "-L"], capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return GpuInfo()
    names = [m.group(1) for m in re.finditer(r"^GPU \d+: (.+?)(?: \(UUID.*)?$", listing.stdout, re.M)]
    if listing.returncode != 0 or not names:
        return GpuInfo()
    memory = None
    try:
        query = subprocess.run(
            [exe, "--query-gpu=memory.total", "--format=csv,noheader,nounits"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        mib = [float(x) for x in query.stdout.split() if x.replace(".", "", 1).isdigit()]
        memory = round(sum(mib) / 1024, 1) if mib else None
    except (OSError, subprocess.TimeoutExpired):
        pass
    return GpuInfo(len(names), names[0], memory)


def machine_vcpus() -> int:
    """CPUs this process may use (affinity-aware where the OS tells)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def machine_memory_gib() -> float:
    """Physical memory from /proc/meminfo (MemTotal), else sysconf pages x page size."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) / (1024 * 1024)
    except OSError:
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    except (ValueError, OSError, AttributeError):
        return 0.0


#: How long delete waits for a finished job's processes to exit before it ends them and removes the folder.
DELETE_WAIT_S = 5.0

class LocalBackend:
    """The `Backend` protocol on this machine: one pool `LOCAL` with one node.

    Args:
        settings: where the jobs folder lives (`settings.jobs_dir`).
        eai_config: the local EAIs; read from `<state_dir>/local_eais.yaml` (or defaults) when None.
        python: the interpreter that runs jobs (the "runtime image").
        cancel_grace: seconds between SIGTERM and SIGKILL on cancel.
        gpu_probe: how GPUs are found (default `nvidia-smi`); injected in tests.
        installer: "uv" (default; pip when uv is missing) or "pip", for the job environments.
    """

    name = "local"

    def __init__(
        self,
        settings: Settings,
        *,
        eai_config: LocalEaiConfig | None = None,
        python: str = sys.executable,
        cancel_grace: float = 10.0,
        installer: str = "uv",
        gpu_probe: Callable[[], GpuInfo] = probe_gpus,
    ) -> None:
        self._settings = settings
        self._eai_config = eai_config
        self._eai_source = LocalEaiSource(settings)
        self._python = python
        self._installer = installer
        self._installed: frozenset[str] | None = None
        self._grace = cancel_grace
        self._gpu_probe = gpu_probe
        self._gpus: GpuInfo | None = None
        self._python_version: str | None = None
        self._children: dict[str, subprocess.Popen[bytes]] = {}

    # ------------------------------------------------------------------ facts

    @property
    def eais(self) -> LocalEaiConfig:
        # An injected config is fixed; the file is re-read whenever it changes (no restart needed).
        return self._eai_config if self._eai_config is not None else self._eai_source.current()

    def facts_stamp(self) -> object:
        """Changes whenever `facts()` would change for reasons other than running jobs (the local EAI file)."""
        return None if self._eai_config is not None else self._eai_source.stamp()

    def family(self) -> InstanceFamily:
        """This machine as an instance family `LOCAL_<n>CPU_<m>GIB[_GPU]`."""
        if self._gpus is None:
            self._gpus = self._gpu_probe()
        vcpu, memory = machine_vcpus(), machine_memory_gib()
        gpu = self._gpus.count > 0
        name = f"LOCAL_{vcpu}CPU_{round(memory)}GIB" + ("_GPU" if gpu else "")
        return InstanceFamily(
            name=name,
            vcpu=float(vcpu),
            memory_gib=round(memory, 1),
            gpu_count=self._gpus.count,
            gpu_type=self._gpus.type,
            gpu_memory_gib=self._gpus.memory_gib,
            credits_per_hour=0.0,
            kind=FamilyKind.GPU if gpu else FamilyKind.CPU,
            source="machine",
        )

    def facts(self) -> AccountFacts:
        """The machine as one pool LOCAL (ACTIVE while jobs run), the local EAIs, a stage, full grants."""
        family = self.family()
        running = sum(1 for info in self.list(limit=10_000) if not info.status.terminal)
        eais = self.eais.to_facts()
        pool = ComputePool(
            name=POOL_NAME,
            state="ACTIVE" if running else "IDLE",
            instance_family=family.name,
            min_nodes=1,
            max_nodes=1,
            active_nodes=1 if running else 0,
            idle_nodes=0 if running else 1,
            target_nodes=1,
            num_jobs=running,
            owner=_user(),
            comment="this machine (mljobs local pool)",
            has_usage=True,
        )
        notes = ["local pool: jobs run on this machine as one node; EAIs come from the local EAI config"]
        if family.gpu_count == 0:
            notes.append("no GPU found (nvidia-smi missing or reports none)")
        return AccountFacts(
            backend="local",
            database=DATABASE,
            schema=SCHEMA,
            role="LOCAL_USER",
            pools=(pool,),
            families=(family,),
            eais=eais,
            stages=(Stage(STAGE_NAME),),
            grants=Grants(
                role="LOCAL_USER",
                database_usage=True,
                schema_usage=True,
                create_service=True,
                create_stage=True,
                pool_usage=(POOL_NAME,),
                eai_usage=tuple(e.name for e in eais),
            ),
            client_python=self._client_python(),
            installed_packages=self._installed_packages(),
            notes=tuple(notes),
        )

    def _installed_packages(self) -> frozenset[str]:
        """Canonical names of the distributions the job interpreter has: the local pool's "runtime image"."""
        if self._installed is None:
            script = (
                "import importlib.metadata as m, json, re; "
                "print(json.dumps(sorted({re.sub(r'[-_.]+', '-', d.metadata['Name'] or '').lower() "
                "for d in m.distributions()} - {''})))"
            )
            if os.path.realpath(self._python) == os.path.realpath(sys.executable):
                import importlib.metadata

                names = {d.metadata["Name"] or "" for d in importlib.metadata.distributions()}
                self._installed = frozenset(canonicalize_name(n) for n in names if n)
            else:
                out = subprocess.run([self._python, "-c", script], capture_output=True, text=True, check=False)
                try:
                    self._installed = frozenset(json.loads(out.stdout or "[]"))
                except ValueError:
                    self._installed = frozenset()
        return self._installed

    def _client_python(self) -> str:
        if self._python_version is None:
            if os.path.realpath(self._python) == os.path.realpath(sys.executable):
                self._python_version = f"{sys.version_info.major}.{sys.version_info.minor}"
            else:
                out = subprocess.run(
                    [self._python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                    capture_output=True,
                    text=True,
                    check=False,
                )
                self._python_version = out.stdout.strip() or "unknown"
        return self._python_version

    # ------------------------------------------------------------------ submit

    def submit(self, plan: JobPlan) -> str:
        """Copy the payload into a new job folder and start the detached job process; return the job id.

        Raises:
            UsageError: min_instances > 1, another pool than LOCAL, an EAI the local config does not
                define, a missing source or entrypoint, method=remote without a function name, or a
                stage source.
            BackendError: the job folder could not be written or the process could not start.
        """
        self._validate(plan)
        name = _job_name(plan.name)
        job_dir = self._settings.jobs_dir / f"{name}_{secrets.token_hex(4)}"
        while job_dir.exists():
            job_dir = self._settings.jobs_dir / f"{name}_{secrets.token_hex(4)}"
        job_id = ID_PREFIX + job_dir.name
        warnings = []
        if plan.target_instances > 1:
            warnings.append(
                f"target_instances={plan.target_instances} was requested, but the local pool is one machine: "
                "running 1 instance (instance 0); multi-node code sees a single node"
            )
        try:
            self._settings.ensure_state_dir()
            self._settings.jobs_dir.mkdir(mode=0o700, exist_ok=True)
            job_dir.mkdir(mode=0o700)
            for sub in ("app", "output", "logs", "system"):
                (job_dir / sub).mkdir()
            payload = self._write_payload(plan, job_dir / jobdir.APP_DIR)
            runner_dir = Path(launcher.__file__).parent
            for src, dst in (("launcher.py", jobdir.LAUNCHER_NAME), ("jobdir.py", jobdir.JOBDIR_NAME),
                             ("envs.py", ENVS_NAME), ("netguard.py", jobdir.NETGUARD_NAME)):
                shutil.copy2(runner_dir / src, job_dir / jobdir.SYSTEM_DIR / dst)
            created = time.time()
            # plan.json is for people: redacted. launch.json is what the job needs (its env var values
            # included), so it alone keeps them, readable by the owner only.
            jobdir.write_json_atomic(job_dir / "plan.json", plan.to_dict(redacted=True))
            _write_private_json(job_dir / jobdir.LAUNCH_FILE, self._launch_config(plan, payload, job_id, warnings))
            jobdir.write_json_atomic(
                job_dir / jobdir.STATUS_FILE,
                {
                    "status": JobStatus.PENDING.value,
                    "job_id": job_id,
                    "name": plan.name,
                    "created_at": created,
                    "target_instances": plan.target_instances,
                    "warnings": warnings,
                },
            )
            log_file = open(job_dir / "logs" / jobdir.LOG_FILE, "ab")  # noqa: SIM115 - handed to the child
        except UsageError:  # the payload cannot be built or copied: leave no half-written job folder
            shutil.rmtree(job_dir, ignore_errors=True)
            raise
        except OSError as exc:
            shutil.rmtree(job_dir, ignore_errors=True)
            raise BackendError(f"could not prepare the local job folder {job_dir}: {exc}") from exc
        env = job_base_environment(os.environ)
        try:
            prefix = isolation_prefix(plan, os.environ.get(ISOLATION_ENV, ""))
        except UsageError:
            shutil.rmtree(job_dir, ignore_errors=True)
            raise
        try:
            with log_file:
                proc = subprocess.Popen(
                    [*prefix, self._python, "-u", str(job_dir / jobdir.SYSTEM_DIR / jobdir.LAUNCHER_NAME), str(job_dir)],
                    cwd=job_dir,
                    stdin=subprocess.DEVNULL,
                    stdout=log_file,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    close_fds=True,
                    env=env,
                )
        except OSError as exc:
            jobdir.update_status(
                job_dir, "FAILED", finished_at=time.time(), message=f"could not start: {exc}"
            )
            raise BackendError(f"could not start the local job process with {self._python}: {exc}") from exc
        self._children[job_id] = proc
        jobdir.update_status(job_dir, None, pid=proc.pid, pid_start=jobdir.proc_start_ticks(proc.pid))
        log.info("local job %s started (pid %d)", job_id, proc.pid)
        return job_id

    def _validate(self, plan: JobPlan) -> None:
        if plan.min_instances > 1:
            raise UsageError(
                f"min_instances={plan.min_instances} cannot be met: the local pool is one machine "
                "(max_nodes=1). Set min_instances to 1 (the job then runs one instance) "
                "or submit to a Snowflake compute pool."
            )
        if plan.compute_pool.strip('"').upper() != POOL_NAME:
            raise UsageError(
                f"the local backend has one compute pool, {POOL_NAME}; the plan names {plan.compute_pool!r}"
            )
        unknown = [e for e in plan.external_access_integrations if self.eais.get(e) is None]
        if unknown:
            where = self.eais.path or "the built-in defaults"
            known = ", ".join(sorted(self.eais.eais)) or "none"
            raise UsageError(
                f"external access integration(s) {', '.join(unknown)} do not exist locally (known: {known}; "
                f"from {where}); add them to the local EAI config (docs/local-pool.md) or pick a known one"
            )
        if plan.method is SubmitMethod.REMOTE and not plan.function_name:
            raise UsageError("method=remote needs the plan's function_name (the function to run)")
        # A plan may come from a JSON file: options, control characters and runner-changing env names are
        # refused here too (direct references were allowed or refused when the plan was made).
        refused = runner_input_errors(
            [r for r in plan.pip_requirements if requirement_problem(r, allow_direct=True)],
            [k for k, _ in plan.env_vars],
            allow_direct=True,
        )
        if refused:
            raise UsageError("; ".join(refused))
        source = Path(plan.source)
        if plan.source.startswith("@") or not source.exists():
            raise UsageError(
                f"the payload {plan.source!r} is not a local file or folder; "
                "the local pool runs local code only "
                "(for a stage payload, submit to Snowflake)"
            )

    def _write_payload(self, plan: JobPlan, app: Path) -> Payload:
        """Write the plan's payload (the same files a Snowflake submission uploads) into the job's app/."""
        payload = payload_for_plan(plan)
        if payload is None:  # submit_from_stage: refused in _validate already
            raise UsageError("the local pool runs local code only")
        entry = plan.entrypoint
        if not any(f.path == entry for f in payload.files):
            raise UsageError(f"the entrypoint {entry!r} is not in the payload {plan.source} (or it is filtered out)")
        export_payload(payload, app, allow_existing=True)  # the one guarded copy: no symlink survives
        for path, why in payload.excluded:
            log.info("payload of %s: %s not shipped (%s)", plan.name, path, why)
        return payload

    def _launch_config(self, plan: JobPlan, payload: Payload, job_id: str, warnings: list[str]) -> dict[str, Any]:
        env_vars = dict(plan.env_vars)
        if plan.requirements_file and not plan.pip_requirements:
            # What the Snowflake backend does for a requirements file that travels below the root.
            env_vars.setdefault("MLRS_REQUIREMENTS_FILE", plan.requirements_file)
        return {
            "job_id": job_id,
            "method": plan.method.value,
            "entrypoint": plan.entrypoint,
            "function_name": plan.function_name,
            # With the entry wrapper the launcher runs app/<wrapper> with the user's script as first argument.
            "wrapper": payload.entrypoint.rsplit("/", 1)[1] if payload.wrapper else None,
            "args": list(plan.args),  # verbatim, as Snowflake passes them
            "env_vars": env_vars,
            "artifact_repositories": list(plan.artifact_repositories),
            "job_eais": self.eais.hosts_by_name(plan.external_access_integrations),
            "known_eais": self.eais.hosts_by_name(),
            "target_instances": plan.target_instances,
            "warnings": warnings,
            "env_root": str(self._settings.state_dir / "envs"),
            "uv_cache": str(self._settings.state_dir / "uv-cache"),
            "installer": self._installer,
        }

    # ------------------------------------------------------------------ follow-up

    def _job_dir(self, job_id: str) -> Path:
        text = job_id.strip().strip('"')
        if text.upper().startswith(ID_PREFIX):
            text = text[len(ID_PREFIX) :]
        name, _, suffix = text.rpartition("_")
        folder = f"{name.upper()}_{suffix.lower()}"
        if not _DIR_RE.match(folder):
            raise JobNotFoundError(
                f"{job_id!r} is not a local job id (they look like {ID_PREFIX}TRAIN_1a2b3c4d)"
            )
        job_dir = self._settings.jobs_dir / folder
        if not (job_dir / jobdir.STATUS_FILE).is_file():
            raise JobNotFoundError(
                f"no local job {job_id!r} in {self._settings.jobs_dir}; list jobs to see the ids"
            )
        return job_dir

    def _reap_children(self) -> None:
        for job_id, proc in list(self._children.items()):
            if proc.poll() is not None:
                del self._children[job_id]

    def _record(self, job_dir: Path) -> dict[str, Any]:
        """The status record after reconciling it with the job's process (see `status`)."""
        self._reap_children()
        record = _read_record_or_mark(job_dir)
        status = record.get("status")
        pid, start = record.get("pid"), record.get("pid_start")
        now = time.time()
        if status in ("PENDING", "RUNNING"):
            if pid is None:
                if now - float(record.get("created_at") or now) > _STARTUP_GRACE:
                    record = jobdir.update_status(
                        job_dir,
                        "FAILED",
                        only_from=frozenset({"PENDING"}),
                        finished_at=now,
                        message="the job process never started (the submitting process died)",
                    )
            elif not jobdir.process_alive(pid, start):
                record = jobdir.update_status(
                    job_dir,
                    "FAILED",
                    only_from=frozenset({"PENDING", "RUNNING"}),
                    finished_at=now,
                    message=VANISHED,
                )
                # a job whose launcher is gone must not keep processes running
                kill_leftover_group(pid, str(record.get("job_id") or ID_PREFIX + job_dir.name))
        elif status == "CANCELLING":
            requested = float(record.get("cancel_requested_at") or now)
            if pid and jobdir.group_alive(pid):
                if now - requested >= self._grace:
                    _kill_group(pid, signal.SIGKILL)
                    deadline = time.monotonic() + 2.0  # SIGKILL is not instant: CANCELLED means gone
                    while jobdir.group_alive(pid) and time.monotonic() < deadline:
                        time.sleep(0.02)
                    record = jobdir.update_status(
                        job_dir,
                        "CANCELLED",
                        only_from=frozenset({"CANCELLING"}),
                        finished_at=now,
                        message="cancelled (killed after the grace period)",
                    )
            else:
                record = jobdir.update_status(
                    job_dir,
                    "CANCELLED",
                    only_from=frozenset({"CANCELLING"}),
                    finished_at=now,
                    message="cancelled",
                )
        return record

    def status(self, job_id: str) -> JobStatus:
        """The job's status; a PENDING/RUNNING job whose process is gone becomes FAILED (never RUNNING
        forever)."""
        return JobStatus(self._record(self._job_dir(job_id)).get("status", "PENDING"))

    def instances(self, job_id: str) -> list[InstanceStatus]:
        record = self._record(self._job_dir(job_id))
        status = JobStatus(record.get("status", "PENDING"))
        return [InstanceStatus(0, _INSTANCE_STATES.get(status, status.value), record.get("message"))]

    def logs(
        self, job_id: str, *, instance_id: int | None = None, limit: int = -1, verbose: bool = False
    ) -> str:
        """The job's output. Without `verbose`, only the text between the "ML job started" and "ML job
        finished" banners (all of it while the start banner has not appeared, so a setup failure is still
        visible); `limit > 0` keeps the last `limit` lines.

        Raises:
            JobNotFoundError: unknown job, or an instance other than 0 (the local pool runs one).
        """
        job_dir = self._job_dir(job_id)
        if instance_id not in (None, 0):
            raise JobNotFoundError(f"local jobs run one instance (0); there is no instance {instance_id}")
        try:
            text = (job_dir / "logs" / jobdir.LOG_FILE).read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""
        if not verbose:
            text = filter_banners(text)
        if limit > 0:
            text = "\n".join(text.splitlines()[-limit:])
        return text

    def result(self, job_id: str) -> JobResult:
        """The return value (or error) of a terminal job, and the files under its output folder.

        Raises:
            BackendError: the job is not terminal yet, its result file is unreadable, or the value could
                not be serialised or loaded back.
        """
        job_dir = self._job_dir(job_id)
        record = self._record(job_dir)
        status = JobStatus(record.get("status", "PENDING"))
        if not status.terminal:
            raise BackendError(
                f"job {job_id} is {status.value}; its result exists once it is DONE or FAILED: wait for it"
            )
        output = job_dir / jobdir.OUTPUT_DIR
        artifacts = tuple(sorted(
            str(p) for p in output.rglob("*")
            if p.is_file() and not (p.parent == output and p.name.startswith(_LIBRARY_FILES))
        ))
        path = jobdir.result_path(job_dir)
        if not path.is_file():
            reason = record.get("message") or f"the job ended {status.value} without writing a result"
            return JobResult(success=False, error=reason, artifacts=artifacts)
        loaded = load_result(path)
        if isinstance(loaded, str):
            raise BackendError(f"could not read the result of {job_id} ({path}): {loaded}")
        if not loaded.success:
            meta = _result_metadata(path)
            exc = loaded.value
            return JobResult(
                success=False,
                error=meta.get("repr") or (repr(exc) if exc is not None else None) or record.get("message"),
                traceback=meta.get("traceback"),
                artifacts=artifacts,
            )
        if status is not JobStatus.DONE:
            # sys.exit(<non-zero>) leaves the launcher's "success" result behind while the container fails.
            return JobResult(success=False, error=record.get("message") or f"the job ended {status.value}",
                             artifacts=artifacts)
        if loaded.load_error is not None:
            meta = _result_metadata(path)
            raise BackendError(
                f"job {job_id} succeeded but its return value ({meta.get('type')}) could not be "
                f"{'saved' if 'serialization failed' in str(loaded.load_error) else 'loaded here'}: "
                f"{loaded.load_error}; return JSON or picklable values, or write files to MLRS_STAGE_RESULT_PATH"
            )
        return JobResult(success=True, value=loaded.value, artifacts=artifacts)

    def cancel(self, job_id: str) -> None:
        """SIGTERM the job's process group (status CANCELLING), then CANCELLED once it exits; a process that
        outlives the grace period is SIGKILLed by a small detached reaper (or the next status read).
        Cancelling a finished job does nothing."""
        job_dir = self._job_dir(job_id)
        record = self._record(job_dir)
        if record.get("status") in jobdir.TERMINAL:
            if kill_leftover_group(record.get("pid"), str(record.get("job_id") or job_id)):
                log.warning("job %s was already %s; killed processes it left running", job_id, record.get("status"))
            else:
                log.info("job %s is already %s; nothing to cancel", job_id, record.get("status"))
            return
        record = jobdir.update_status(
            job_dir,
            "CANCELLING",
            only_from=frozenset({"PENDING", "RUNNING"}),
            cancel_requested_at=time.time(),
        )
        pid, start = record.get("pid"), record.get("pid_start")
        if record.get("status") != "CANCELLING":
            return
        if pid and jobdir.process_alive(pid, start):
            _kill_group(pid, signal.SIGTERM)
        deadline = time.monotonic() + min(1.0, self._grace)
        while pid and jobdir.group_alive(pid) and time.monotonic() < deadline:
            self._reap_children()
            time.sleep(0.05)
        self._reap_children()
        if pid and jobdir.group_alive(pid):
            subprocess.Popen(  # noqa: S603 - our own launcher file, fixed arguments
                [
                    self._python,
                    str(job_dir / jobdir.SYSTEM_DIR / jobdir.LAUNCHER_NAME),
                    "--reap",
                    str(job_dir),
                    str(pid),
                    str(self._grace),
                ],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
                close_fds=True,
            )
        else:
            jobdir.update_status(
                job_dir,
                "CANCELLED",
                only_from=frozenset({"CANCELLING"}),
                finished_at=time.time(),
                message="cancelled",
            )

    def list(self, limit: int = 50) -> list[JobInfo]:
        """Jobs in the jobs folder, newest first."""
        root = self._settings.jobs_dir
        infos = []
        if root.is_dir():
            for job_dir in root.iterdir():
                if _DIR_RE.match(job_dir.name) and (job_dir / jobdir.STATUS_FILE).is_file():
                    infos.append(self._info(job_dir))
        infos.sort(key=lambda i: i.created_at or 0.0, reverse=True)
        return infos[:limit] if limit >= 0 else infos

    def info(self, job_id: str) -> JobInfo:
        return self._info(self._job_dir(job_id))

    def _info(self, job_dir: Path) -> JobInfo:
        record = self._record(job_dir)
        extra: dict[str, Any] = {"job_dir": str(job_dir), "pid": record.get("pid"), "instances_running": 1}
        if record.get("warnings"):
            extra["warning"] = "; ".join(record["warnings"])
        return JobInfo(
            job_id=record.get("job_id") or ID_PREFIX + job_dir.name,
            backend=self.name,
            status=JobStatus(record.get("status", "PENDING")),
            name=record.get("name"),
            compute_pool=POOL_NAME,
            created_at=record.get("created_at"),
            finished_at=record.get("finished_at"),
            message=record.get("message"),
            target_instances=int(record.get("target_instances") or 1),
            extra=extra,
        )

    def delete(self, job_id: str) -> None:
        """Remove the job's folder (payload, logs, output, result).

        Raises:
            BackendError: the job is still PENDING/RUNNING/CANCELLING (cancel it first), or the folder
                could not be removed.
        """
        job_dir = self._job_dir(job_id)
        record = self._record(job_dir)
        status = JobStatus(record.get("status", "PENDING"))
        if not status.terminal:
            raise BackendError(f"job {job_id} is {status.value}; cancel it first, then delete it")
        # A terminal status is written just before the launcher exits (it still flushes logs and closes
        # files): give its process group a moment, then end what is left, so nothing writes into the folder
        # while it is being removed.
        pgid = record.get("pid")
        deadline = time.monotonic() + DELETE_WAIT_S
        while isinstance(pgid, int) and jobdir.group_alive(pgid) and time.monotonic() < deadline:
            time.sleep(0.05)
        kill_leftover_group(pgid, str(record.get("job_id") or job_id))
        try:
            shutil.rmtree(job_dir)
        except OSError as exc:
            raise BackendError(f"could not delete {job_dir}: {exc}") from exc


def load_result(path: Path) -> Any:
    """The job's result through snowflake-ml-python's own loader (what `MLJob.result()` calls on Snowflake), or
    the reason it could not be read as text."""
    from snowflake.ml.jobs._interop import utils as interop_utils

    try:
        return interop_utils.load(str(path), session=None)
    except (OSError, ValueError) as exc:
        return str(exc)


def _result_metadata(path: Path) -> dict[str, Any]:
    """The ResultDTO's metadata (type, repr, traceback) for the messages; {} when there is none."""
    try:
        meta = json.loads(path.read_text(encoding="utf-8")).get("metadata")
    except (OSError, ValueError, AttributeError):
        return {}
    return meta if isinstance(meta, dict) else {}


def filter_banners(text: str) -> str:
    """The text between the first start banner and the last end banner (all of it without a start banner)."""
    start = text.find(jobdir.LOG_START_MSG)
    if start == -1:
        return text
    body = text[start + len(jobdir.LOG_START_MSG) :]
    end = body.rfind(jobdir.LOG_END_MSG)
    if end != -1:
        body = body[:end]
    return body.strip("\n") + ("\n" if body.strip("\n") else "")


def _job_name(name: str) -> str:
    cleaned = re.sub(r"[^A-Z0-9_]", "_", name.upper()).strip("_") or "JOB"
    return cleaned if not cleaned[0].isdigit() else f"JOB_{cleaned}"


def _kill_group(pgid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass
    except PermissionError as exc:
        raise BackendError(f"not allowed to signal the job's processes (group {pgid}): {exc}") from exc


def _user() -> str | None:
    try:
        import getpass

        return getpass.getuser()
    except (OSError, KeyError):
        return None


# ---------------------------------------------------------------------------------------- trust boundaries

#: Variables a local job inherits from the server: what locates tools, locale, temp space, certificates,
#: GPUs and the machine's own pip configuration (the local pool's "image"). Everything else, such as
#: SNOWFLAKE_PASSWORD or AWS_SECRET_ACCESS_KEY, stays with the server; a job that needs a value gets it
#: through the plan's env_vars, which the user confirms.
INHERITED_ENV = frozenset({
    "PATH", "HOME", "USER", "LOGNAME", "SHELL", "TERM", "LANG", "LANGUAGE", "TZ", "TMPDIR", "TEMP", "TMP",
    "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "LD_LIBRARY_PATH", "CUDA_HOME",
    "CUDA_PATH", "CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
    "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "SYSTEMROOT",
    "PYTHONDONTWRITEBYTECODE", "PYTHONIOENCODING", "PYTHONUTF8", "PYTHONHASHSEED",  # output/hashing only
})
INHERITED_ENV_PREFIXES = ("LC_", "PIP_")
#: Machine pip settings that may carry a credential (`https://user:token@index/`) are not inherited.
_PIP_SECRET_ENV = frozenset({"PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL"})


def job_base_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The environment a local job process starts from: the allow-listed part of `environ`."""
    env = {
        k: v for k, v in environ.items()
        if k in INHERITED_ENV or (k.startswith(INHERITED_ENV_PREFIXES) and not (k in _PIP_SECRET_ENV and has_secret(v)))
    }
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _write_private_json(path: Path, data: Any) -> None:
    """JSON written atomically with mode 0600 (it holds the job's env var values)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=1, sort_keys=True, default=str)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def kill_leftover_group(pgid: object, job_id: str) -> bool:
    """SIGKILL what is left of a finished job's process group (children of a launcher that died).

    The group id is the launcher's pid, and pids are reused, so a group is killed only when one of its
    live members carries `MLJOBS_JOB_ID=<job_id>` in its environment (every process the job starts
    inherits it from the launcher). Needs /proc (Linux); elsewhere nothing is killed. True when
    processes were signalled.
    """
    if not isinstance(pgid, int) or pgid <= 1 or pgid == os.getpgrp():
        return False
    members = _group_members(pgid)
    marker = f"MLJOBS_JOB_ID={job_id}".encode()
    if not any(marker in _environ_entries(pid) for pid in members):
        return False
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        return False
    deadline = time.monotonic() + 2.0
    while jobdir.group_alive(pgid) and time.monotonic() < deadline:
        time.sleep(0.02)
    return True


def _group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes of group `pgid`, from /proc; [] without /proc."""
    if not os.path.isdir("/proc/self"):
        return []
    members = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = jobdir._proc_stat(int(entry))
            if fields and fields[2] == str(pgid) and fields[0] not in ("Z", "X"):
                members.append(int(entry))
    return members


def _environ_entries(pid: int) -> set[bytes]:
    try:
        with open(f"/proc/{pid}/environ", "rb") as fh:
            return set(fh.read().split(b"\0"))
    except OSError:
        return set()


def _read_record_or_mark(job_dir: Path) -> dict[str, Any]:
    """The job's status record; a corrupt one marks this job INTERNAL_ERROR (with the reason) and no other.

    The bad file is kept beside it as `status.json.bad` for whoever wants to look.
    """
    path = job_dir / jobdir.STATUS_FILE
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        return {"status": "INTERNAL_ERROR", "message": f"status file unreadable ({exc.strerror})"}
    reason = None
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        reason = "status file is not valid JSON"
        data = None
    if reason is None and not isinstance(data, dict):
        reason = "status file does not hold a JSON object"
    elif reason is None and data.get("status") not in {s.value for s in JobStatus}:
        reason = "status file names no known status"
    if reason is None:
        return data
    record = {
        "status": "INTERNAL_ERROR",
        "job_id": ID_PREFIX + job_dir.name,
        "message": f"{reason}; the job's state is unknown (kept as status.json.bad)",
        "finished_at": time.time(),
        "created_at": _safe_mtime(path),
    }
    with contextlib.suppress(OSError):
        with jobdir._status_lock(job_dir):
            if path.read_bytes() == raw:  # nobody fixed it meanwhile
                os.replace(path, job_dir / "status.json.bad")
                jobdir.write_json_atomic(path, record)
    log.warning("local job %s: %s", job_dir.name, reason)
    return record


def _safe_mtime(path: Path) -> float | None:
    try:
        return path.stat().st_mtime
    except OSError:
        return None


#: `MLJOBS_LOCAL_ISOLATION=netns` runs local jobs in their own network namespace (Linux, `unshare`): no
#: interface but a down loopback, so nothing the job does (ctypes, curl, a child that drops the guard)
#: reaches any network, the machine's own loopback services included.
ISOLATION_ENV = "MLJOBS_LOCAL_ISOLATION"


def isolation_prefix(plan: JobPlan, mode: str) -> list[str]:
    """The command prefix of the OS-level isolation mode `mode` ("" or "none": the Python-level guard only).

    Raises:
        UsageError: an unknown mode, `unshare` missing, or a job that needs network (EAIs or pip
            requirements) under `netns`, which allows none.
    """
    mode = mode.strip().lower()
    if mode in ("", "none"):
        return []
    if mode != "netns":
        raise UsageError(f"{ISOLATION_ENV} must be 'netns' or 'none'")
    unshare = shutil.which("unshare")
    if unshare is None or not sys.platform.startswith("linux"):
        raise UsageError(f"{ISOLATION_ENV}=netns needs Linux and the unshare tool (util-linux)")
    if plan.external_access_integrations or plan.pip_requirements or plan.requirements_file:
        raise UsageError(f"{ISOLATION_ENV}=netns gives the job no network at all, and this job needs some "
                         "(EAIs or pip requirements); unset it for this job or drop the network needs")
    return [unshare, "--net", "--map-root-user"]
