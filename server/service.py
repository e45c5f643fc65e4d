"""The core operations behind both the CLI and the MCP tools: analyze, plan, submit, follow, clean up.

Everything with a side effect takes a `Confirmation` (from a redeemed token, an accepted elicitation,
`--yes` or a prompt); the service refuses to act without one. Backends are created lazily: the
Snowflake session only opens when a Snowflake operation runs, and snowflake-ml-python (slow to
import) is imported only then.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from mljobs.analyzers import analyze as run_analysis
from mljobs.analyzers.errors import AnalysisInputError
from mljobs.analyzers.model import Analysis
from mljobs.analyzers.packages import distribution_of
from mljobs.skill.diagnosis import Diagnosis, diagnose
from mljobs.skill.facts import AccountFacts
from mljobs.skill.jobplan import JobPlan
from mljobs.skill.knowledge import load_rules
from mljobs.skill.redact import redact

from .backends.base import Backend, JobResult, JobStatus
from .checkpoints import Checkpoints, Confirmation
from .errors import BackendError, JobNotFoundError, MljobsError, NotConfirmedError, UsageError
from .notebook_payload import annotate_logs, keep_notebook_script
from .settings import Settings
from .store import JobRecord, JobStore
from .waiting import WaitOutcome, WaitProgress, wait_for_job

log = logging.getLogger(__name__)

BACKENDS = ("local", "snowflake")
LOG_TAIL_LINES = 40


@dataclass(frozen=True, slots=True)
class JobView:
    """What a person (or model) wants to know about a job at a glance."""

    job_id: str
    backend: str
    status: JobStatus
    name: str | None = None
    compute_pool: str | None = None
    created_at: float | None = None
    finished_at: float | None = None
    message: str | None = None
    log_tail: str | None = None
    result: JobResult | None = None
    history: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True, slots=True)
class Submission:
    job_id: str
    backend: str
    status: JobStatus
    plan_hash: str
    confirmation: Confirmation
    warning: str | None = None  # the job exists but something after submit failed (e.g. the store write)


@dataclass
class Service:
    """One per process (CLI run or MCP server). Thread-safe: MCP runs sync tools in worker threads."""

    settings: Settings = field(default_factory=Settings)
    backend_factory: Callable[[str, Settings], Backend] | None = None
    sleep: Callable[[float], None] | None = None
    #: Builds the dependency preflight's resolver runner; returns None to skip it (MLJOBS_DEPCHECK=off).
    dependency_checker: Callable[[Settings], Any] = field(default=lambda s: _default_dependency_checker(s))
    _backends: dict[str, Backend] = field(default_factory=dict, init=False, repr=False)
    _facts: dict[str, AccountFacts] = field(default_factory=dict, init=False, repr=False)
    _facts_stamps: dict[str, object] = field(default_factory=dict, init=False, repr=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, init=False, repr=False)
    _store: JobStore | None = field(default=None, init=False, repr=False)
    _checkpoints: Checkpoints | None = field(default=None, init=False, repr=False)
    _reconciled: bool = field(default=False, init=False, repr=False)

    # ------------------------------------------------------------------ plumbing
    @property
    def store(self) -> JobStore:
        with self._lock:
            if self._store is None:
                self.settings.ensure_state_dir()
                self._store = JobStore(self.settings.store_path)
            return self._store

    @property
    def checkpoints(self) -> Checkpoints:
        with self._lock:
            if self._checkpoints is None:
                self._checkpoints = Checkpoints(self.store)
            return self._checkpoints

    def default_backend_name(self) -> str:
        """The configured backend, else Snowflake when a connection is configured, else the local pool."""
        if self.settings.backend:
            return self._check_backend_name(self.settings.backend)
        from .connection import is_configured

        return "snowflake" if is_configured(self.settings) else "local"

    def backend(self, name: str | None = None) -> Backend:
        name = self._check_backend_name(name) if name else self.default_backend_name()
        with self._lock:
            if name not in self._backends:
                factory = self.backend_factory or _default_backend_factory
                self._backends[name] = factory(name, self.settings)
            return self._backends[name]

    @staticmethod
    def _check_backend_name(name: str) -> str:
        if name not in BACKENDS:
            raise UsageError(f"unknown backend {name!r}; use one of: {', '.join(BACKENDS)}")
        return name

    def _backend_for(self, job_id: str) -> tuple[Backend, JobRecord | None]:
        record = self.store.find(job_id)
        return self.backend(record.backend if record else None), record

    # ------------------------------------------------------------------ analysis and planning
    def analyze(self, path: str | Path, entrypoint: str | None = None, *, all_files: bool = False) -> Analysis:
        """Static analysis of a script, folder or notebook.

        Raises:
            UsageError: the path cannot be analysed (missing, no entrypoint, unreadable).
        """
        try:
            return run_analysis(path, entrypoint, rules=load_rules(), cache=self._analysis_cache(), all_files=all_files)
        except AnalysisInputError as exc:
            raise UsageError(str(exc)) from exc

    def _analysis_cache(self) -> Any:
        # One per call: the cache holds an SQLite connection, and MCP runs tools in worker threads.
        from .analysis_cache import DiskFileCache

        self.settings.ensure_state_dir()  # 0700 first: the cache folder must not create it 0755
        return DiskFileCache(self.settings.cache_dir / "analysis.sqlite3")

    def facts(self, backend: str | None = None, *, refresh: bool = False) -> AccountFacts:
        """What the backend offers for planning (discovered once per process unless `refresh`)."""
        name = self._check_backend_name(backend) if backend else self.default_backend_name()
        with self._lock:
            impl = self.backend(name)
            stamp_of = getattr(impl, "facts_stamp", None)  # the local pool: its EAI file may change
            stamp = stamp_of() if stamp_of else None
            if refresh or name not in self._facts or stamp != self._facts_stamps.get(name):
                self._facts[name] = impl.facts()
                self._facts_stamps[name] = stamp
            return self._facts[name]

    def plan(self, path: str | Path, entrypoint: str | None = None, *, choices: Any = None, backend: str | None = None,
             analysis: Analysis | None = None):
        """Analyse (unless the caller already did), discover and plan in one step; returns the skill's PlanResult."""
        from mljobs.skill.plan import PlanChoices, plan_job

        analysis = analysis or self.analyze(path, entrypoint)
        name = self._check_backend_name(backend) if backend else self.default_backend_name()
        facts = self.facts(name)
        choices = choices or PlanChoices()
        try:
            result = plan_job(analysis, facts, replace(choices, backend=name))
        except ValueError as exc:
            raise UsageError(str(exc)) from exc
        return self._preflight_extras(result, analysis)

    def local_duration(self, plan: JobPlan) -> float | None:
        """Seconds the latest successful local run of the same script (source, entrypoint, args) took."""
        for record in self.store.list(limit=200, backend="local"):
            p = record.plan or {}
            if (record.status == "DONE" and record.finished_at is not None and p.get("source") == plan.source
                    and p.get("entrypoint") == plan.entrypoint and list(p.get("args") or []) == list(plan.args)):
                return max(0.0, record.finished_at - record.created_at)
        return None

    def _preflight_extras(self, result: Any, analysis: Analysis) -> Any:
        """Add what only the server can know: the dependency preflight (runs a resolver) and a local run's
        duration as a cost hint. Conflicts become preflight issues on the Snowflake backend."""
        from mljobs.skill.preflight import PreflightIssue, Severity

        from .depcheck import preflight_dependencies

        plan = result.plan
        if plan is None:
            return result
        changes: dict[str, Any] = {}
        if result.cost is not None and plan.backend != "local":
            seconds = self.local_duration(plan)
            if seconds is not None:
                changes["cost"] = replace(result.cost, local_seconds=seconds)
        checker = self.dependency_checker(self.settings)
        if checker is not None:
            deps, issues = preflight_dependencies(checker, plan, analysis, load_rules().packages)
            changes["dependencies"] = deps
            if plan.backend == "snowflake" and issues:
                extra = tuple(PreflightIssue(Severity(sev), code, msg, fix) for sev, code, msg, fix in issues)
                changes["preflight"] = tuple(sorted(
                    result.preflight + extra, key=lambda i: 0 if i.severity is Severity.ERROR else 1))
        return replace(result, **changes) if changes else result

    def rank_pools(self, path: str | Path, entrypoint: str | None = None, *, target_instances: int | None = None,
                   backend: str | None = None, analysis: Analysis | None = None) -> tuple[Analysis, Any]:
        """Analyse and rank the backend's compute pools for the code; returns (analysis, skill PoolRanking)."""
        from mljobs.skill.pools import PoolNeeds, rank_compute_pools

        analysis = analysis or self.analyze(path, entrypoint)
        hint = analysis.compute.multi_node
        target = target_instances or (hint.suggested_instances if hint else 1)
        needs = PoolNeeds.from_verdict(analysis.compute, target_instances=target)
        return analysis, rank_compute_pools(needs, self.facts(backend))

    def check_eais(self, path: str | Path, entrypoint: str | None = None, *, chosen: Any = None,
                   backend: str | None = None, analysis: Analysis | None = None) -> tuple[Analysis, Any]:
        """Analyse and check which EAIs allow the hosts the code needs; returns (analysis, skill Coverage)."""
        from mljobs.skill.eai import check_coverage

        analysis = analysis or self.analyze(path, entrypoint)
        chosen = list(chosen) if chosen else None
        try:
            return analysis, check_coverage(analysis.network, self.facts(backend), chosen)
        except ValueError as exc:
            raise UsageError(str(exc)) from exc

    def doctor(self, path: str | Path | None = None, entrypoint: str | None = None, *, pool: str | None = None,
               target_instances: int | None = None, eais: tuple[str, ...] = ()) -> Any:
        """Read-only account checks for ML Jobs (server/doctor.py); returns a DoctorReport.

        With a script, its plan decides the pool, instances and EAIs (explicit arguments win) and its
        analysis whether a warehouse is needed.

        Raises:
            ConfigurationError / ConnectionError: no Snowflake connection (the doctor checks Snowflake only).
            UsageError: a bad name or path.
        """
        from mljobs.skill.identifiers import InvalidIdentifier, validate_identifier

        from .doctor import run_doctor

        try:
            pool = validate_identifier(pool, "compute pool") if pool else None
            eais = tuple(validate_identifier(e, "external access integration") for e in eais)
        except InvalidIdentifier as exc:
            raise UsageError(str(exc)) from exc
        if target_instances is not None and target_instances < 1:
            raise UsageError(f"target instances must be at least 1, got {target_instances}")
        uses_snowpark = None
        if path is not None:
            result = self.plan(path, entrypoint, backend="snowflake")
            analysis = self.analyze(path, entrypoint)
            uses_snowpark = analysis.io.uses_snowpark
            if result.plan is not None:
                pool = pool or result.plan.compute_pool
                target_instances = target_instances or result.plan.target_instances
                eais = eais or result.plan.external_access_integrations
        return run_doctor(self._snowflake_session(), pool=pool, target_instances=target_instances or 1, eais=eais,
                          uses_snowpark=uses_snowpark, facts=self.facts("snowflake"))

    def orphan_payloads(self, stage: str | None = None) -> Any:
        """Payload folders on the stage whose jobs no longer exist (read-only); returns a CleanupPlan.

        The stage defaults to the planner's payload stage in the session's database and schema.

        Raises:
            UsageError: the stage is not a plain stage name, or no database/schema is known.
        """
        from mljobs.skill.identifiers import InvalidIdentifier, qualify
        from mljobs.skill.plan import DEFAULT_STAGE

        from .cleanup import find_orphan_payloads

        facts = self.facts("snowflake")
        try:
            raw = (stage or "@" + DEFAULT_STAGE).lstrip("@")
            qualified = "@" + qualify(raw, facts.database, facts.schema, "payload stage")
            return find_orphan_payloads(self._snowflake_session(), qualified)
        except InvalidIdentifier as exc:
            raise UsageError(str(exc)) from exc

    def clean_payloads(self, cleanup: Any, confirmation: Confirmation) -> list[str]:
        """Remove the listed orphaned payload folders; the confirmation must be for exactly this list."""
        from .cleanup import remove_payloads

        self._check_confirmation(confirmation, "cleanup", cleanup.subject)
        return remove_payloads(self._snowflake_session(), cleanup.orphans)

    def _snowflake_session(self) -> Any:
        return self.backend("snowflake")._session()  # type: ignore[attr-defined]  # lazily opened by the backend

    # ------------------------------------------------------------------ confirmation
    def issue_token(self, action: str, subject: str) -> str:
        return self.checkpoints.issue(action, subject)

    def confirm(self, action: str, subject: str, *, token: str | None = None, method: str | None = None) -> Confirmation:
        """Turn a token (redeemed, single use) or an explicit user confirmation into a Confirmation.

        Raises:
            NotConfirmedError: no token and no method, or the token does not fit.
        """
        if token:
            return self.checkpoints.redeem(token, action, subject)
        if method in {"elicitation", "cli_yes", "cli_prompt", "auto_accept"}:
            return self.checkpoints.record(action, subject, method)
        raise NotConfirmedError(f"{action} needs the user's confirmation (a preview token or --yes)")

    # ------------------------------------------------------------------ side effects
    def submit(self, plan: JobPlan, confirmation: Confirmation) -> Submission:
        """Submit a confirmed plan and record it in the store.

        Raises:
            NotConfirmedError: the confirmation is for another action or another plan.
        """
        plan_hash = plan.plan_hash()
        if confirmation.action != "submit" or confirmation.subject != plan_hash:
            raise NotConfirmedError("the confirmation does not match this plan; preview it again")
        backend = self.backend(plan.backend)
        # SUBMITTING first: when the store cannot be written, nothing is submitted (no ghost job).
        submission_id = secrets.token_hex(8)
        self.store.begin_submission(submission_id, backend.name, name=plan.name, plan_hash=plan_hash)
        try:
            keep_notebook_script(plan, self.settings.state_dir)  # its tracebacks then name the notebook's cells
            job_id = backend.submit(plan)
        except BaseException as exc:
            with contextlib.suppress(Exception):
                self.store.end_submission(submission_id, job_id=None, outcome=f"failed: {type(exc).__name__}")
            raise
        try:
            status = backend.status(job_id)
        except Exception as exc:  # noqa: BLE001 - the job exists; a failed first read is not fatal
            log.warning("first status read of %s failed: %s", job_id, exc)
            status = JobStatus.PENDING
        try:
            self.store.add(
                job_id, backend.name, status.value, name=plan.name, plan=plan.to_dict(redacted=True),
                plan_hash=plan_hash, confirmation=confirmation.to_dict(),
                payload_location=_payload_location(backend, job_id) or plan.stage_name,
            )
            self.store.end_submission(submission_id, job_id=job_id, outcome="submitted")
        except MljobsError as exc:
            # The job exists: its id is the answer, never an error that invites a (billed) retry.
            warning = (f"job {job_id} was submitted, but recording it in the job store failed ({exc.message}); "
                       "do not submit it again: it will be adopted into the store the next time jobs are listed")
            log.warning("%s", warning)
            return Submission(job_id, backend.name, status, plan_hash, confirmation, warning=warning)
        return Submission(job_id, backend.name, status, plan_hash, confirmation)

    def reconcile(self, backend: str | None = None) -> list[str]:
        """Adopt jobs the backend knows and the store lacks (a crash or a store failure between submit and
        record); returns the adopted ids. Only the local backend is listed here: its listing is a folder
        read, while listing Snowflake costs a query and returns other people's services too."""
        name = backend or "local"
        if name != "local" or not self.settings.jobs_dir.is_dir():
            return []
        adopted = []
        for info in self.backend(name).list(limit=-1):
            if self.store.find(info.job_id) is None:
                with contextlib.suppress(MljobsError):
                    self.store.add(info.job_id, name, info.status.value, name=info.name)
                    self.store.update_status(info.job_id, info.status.value, "adopted: found running or finished "
                                             "in the backend but missing from the job store")
                    adopted.append(info.job_id)
        for sub in self.store.open_submissions():
            if sub["backend"] == name:
                with contextlib.suppress(MljobsError):
                    self.store.end_submission(sub["submission_id"], job_id=None, outcome="reconciled")
        return adopted

    def cancel(self, job_id: str, confirmation: Confirmation) -> JobStatus:
        self._check_confirmation(confirmation, "cancel", job_id)
        backend, _ = self._backend_for(job_id)
        backend.cancel(job_id)
        return self.refresh_status(job_id)

    def delete(self, job_id: str, confirmation: Confirmation) -> None:
        self._check_confirmation(confirmation, "delete", job_id)
        backend, record = self._backend_for(job_id)
        if backend.name == "snowflake":
            # The payload directory recorded at submit: removed even when the service is already gone.
            backend.delete(job_id, payload_location=record.payload_location if record else None)  # type: ignore[call-arg]
        else:
            backend.delete(job_id)
        if record:
            self.store.delete(job_id)

    @staticmethod
    def _check_confirmation(confirmation: Confirmation, action: str, subject: str) -> None:
        if confirmation.action != action or confirmation.subject != subject:
            raise NotConfirmedError(f"the confirmation is not for {action} of {subject}; confirm again")

    # ------------------------------------------------------------------ follow-up
    def refresh_status(self, job_id: str) -> JobStatus:
        backend, record = self._backend_for(job_id)
        status = backend.status(job_id)
        if record:
            self.store.update_status(job_id, status.value)
        return status

    def status(self, job_id: str, *, with_logs: bool = True) -> JobView:
        """Live status (recorded in the store), plus a log tail, and the result once the job is terminal."""
        backend, record = self._backend_for(job_id)
        status = self.refresh_status(job_id)
        tail = result = None
        if with_logs:
            tail = self._tail(backend, job_id, verbose=status in (JobStatus.FAILED, JobStatus.INTERNAL_ERROR))
        if status is JobStatus.DONE or status is JobStatus.FAILED:
            try:
                result = redact_result(backend.result(job_id))
            except BackendError as exc:
                log.info("no result for %s: %s", job_id, exc)
        record = self.store.find(job_id)
        history = tuple((h.status, h.at) for h in self.store.history(job_id)) if record else ()
        return JobView(
            job_id=job_id, backend=backend.name, status=status, name=record.name if record else None,
            compute_pool=(record.plan or {}).get("compute_pool") if record else None,
            created_at=record.created_at if record else None, finished_at=record.finished_at if record else None,
            message=record.message if record else None, log_tail=tail, result=result, history=history,
        )

    def _tail(self, backend: Backend, job_id: str, *, verbose: bool) -> str | None:
        try:
            text = backend.logs(job_id, verbose=verbose)
        except (BackendError, JobNotFoundError) as exc:
            return f"(logs unavailable: {exc})"
        return redact("\n".join(text.splitlines()[-LOG_TAIL_LINES:]))

    def wait(
        self, job_id: str, *, timeout: float | None = None, on_progress: Callable[[WaitProgress], None] | None = None
    ) -> WaitOutcome:
        kwargs: dict[str, Any] = {"timeout": timeout, "on_progress": on_progress}
        if self.sleep:
            kwargs["sleep"] = self.sleep
        return wait_for_job(lambda: self.refresh_status(job_id), **kwargs)

    def logs(self, job_id: str, *, instance_id: int | None = None, limit: int = -1, verbose: bool = False) -> str:
        backend, record = self._backend_for(job_id)
        logs = backend.logs(job_id, instance_id=instance_id, limit=limit, verbose=verbose)
        if record is not None:  # notebook jobs: name the cell and line of each traceback frame
            logs = annotate_logs(logs, record.plan, record.plan_hash, self.settings.state_dir)
        return redact(logs)

    def result(self, job_id: str) -> JobResult:
        """The job's result with credentials redacted from its value, error and traceback (a job that
        returns a URL with user:token@ must not put the token into an answer)."""
        backend, _ = self._backend_for(job_id)
        return redact_result(backend.result(job_id))

    def jobs(self, limit: int = 50, *, refresh: bool = True) -> list[JobView]:
        """Jobs from the store, newest first; non-terminal ones get their live status. The first call in a
        process adopts local jobs the store lacks (see `reconcile`)."""
        if not self._reconciled:
            self._reconciled = True
            try:
                self.reconcile()
            except MljobsError as exc:
                log.warning("could not reconcile local jobs with the store: %s", exc)
        views = []
        for record in self.store.list(limit=limit):
            status = JobStatus(record.status)
            if refresh and not status.terminal:
                try:
                    status = self.refresh_status(record.job_id)
                except Exception as exc:  # noqa: BLE001 - one unreachable backend must not hide the list
                    log.warning("could not refresh %s: %s", record.job_id, exc)
            views.append(
                JobView(
                    job_id=record.job_id, backend=record.backend, status=status, name=record.name,
                    compute_pool=(record.plan or {}).get("compute_pool"), created_at=record.created_at,
                    finished_at=record.finished_at, message=record.message,
                )
            )
        return views

    def diagnose(self, job_id: str, *, caller: str = "cli") -> Diagnosis:
        """Cause and fix for a failed job, from its status, message and verbose logs.

        `caller` ("mcp" or "cli") picks how the next step is phrased: a tool call or an `mljobs` command.
        """
        backend, record = self._backend_for(job_id)
        status = self.refresh_status(job_id)
        try:
            logs = backend.logs(job_id, verbose=True)
            if record is not None:
                logs = annotate_logs(logs, record.plan, record.plan_hash, self.settings.state_dir)
        except (BackendError, JobNotFoundError) as exc:
            logs = f"(logs unavailable: {exc})"
        plan = None
        if record and record.plan:
            try:
                plan = JobPlan.from_dict(record.plan)
            except (TypeError, ValueError) as exc:
                log.info("stored plan of %s is not usable: %s", job_id, exc)
        # The fix depends on what the job and the account have (EAIs and their hosts): read the facts (cached;
        # on Snowflake read-only discovery), and diagnose without them rather than not at all.
        try:
            facts: AccountFacts | None = self.facts(backend.name)
        except MljobsError as exc:
            log.info("diagnosing %s without account facts: %s", job_id, exc)
            facts = self._facts.get(backend.name)
        rules = load_rules().packages
        return diagnose(
            status.value, logs, plan=plan, facts=facts, message=record.message if record else None,
            distribution_of=lambda module: distribution_of(module, rules), job_id=job_id,
        ).for_caller(caller)

    # ------------------------------------------------------------------ local pool
    def preview_local_eai(self, name: str, hosts: list[str], comment: str | None = None) -> Any:
        """What adding a local EAI would write (a `LocalEaiChange`); nothing is written.

        Raises:
            ConfigurationError: bad name or host, or an unreadable local EAI file.
        """
        from .local_eais import plan_local_eai

        return plan_local_eai(self.settings, name, hosts, comment)

    def add_local_eai(self, change: Any, confirmation: Confirmation) -> None:
        """Write a previewed local EAI change; the local pool sees it on its next read (no restart).

        Raises:
            NotConfirmedError: the confirmation is for another change.
        """
        from .local_eais import write_local_eai

        self._check_confirmation(confirmation, "add_local_eai", change.subject)
        write_local_eai(change)


def _default_dependency_checker(settings: Settings) -> Any:
    import os

    if os.environ.get("MLJOBS_DEPCHECK", "").lower() in {"0", "off", "false", "no"}:
        return None
    from .depcheck import DependencyChecker

    return DependencyChecker.from_environment(settings.cache_dir)


def redact_result(result: JobResult) -> JobResult:
    """`result` with every string inside its value (JSON-like containers, bounded depth), its error and its
    traceback redacted; other objects are left as they are."""
    return replace(
        result,
        value=_redact_value(result.value, 0),
        error=redact(result.error) if result.error else result.error,
        traceback=redact(result.traceback) if result.traceback else result.traceback,
    )


def _redact_value(value: Any, depth: int) -> Any:
    if isinstance(value, str):
        return redact(value)
    if depth > 50:
        return value
    if isinstance(value, dict):
        return {_redact_value(k, depth + 1): _redact_value(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_value(v, depth + 1) for v in value]
    if isinstance(value, tuple):
        return tuple(_redact_value(v, depth + 1) for v in value)
    return value


def _default_backend_factory(name: str, settings: Settings) -> Backend:
    if name == "local":
        from .backends.local import LocalBackend

        return LocalBackend(settings)
    from .backends.snowflake import SnowflakeBackend
    from .connection import SessionFactory

    return SnowflakeBackend(SessionFactory(settings))


def _payload_location(backend: Backend, job_id: str) -> str | None:
    """The job's own payload directory when the backend knows it at submit (Snowflake), for a later delete."""
    locate = getattr(backend, "payload_location", None) if backend.name == "snowflake" else None
    return locate(job_id) if callable(locate) else None
