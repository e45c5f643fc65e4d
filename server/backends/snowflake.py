"""The Snowflake backend: every job verb through `snowflake.ml.jobs` (2.6.0) with an explicit session.

Choices, each tied to a library behaviour (research mljobs-api.md):
- Submission passes a fully qualified stage, explicit database/schema and an explicit job name
  `<plan.name>_<8 hex>` that is unique per submission, plus `overwrite=True`. The name sets the payload
  directory `@stage/<name>/`; a fixed name would share it between submissions, so a later submission would
  overwrite (or, without overwrite, silently keep, §8 "stale code") the code of a job still pending, and
  `delete_job` would REMOVE every sibling's payload. The server appends its own suffix to the job id.
- Blocking calls stay synchronous here; the server layer runs them off the event loop. `result()` is only
  called as `result(timeout=0)` once the status is terminal (it would otherwise block and poll).
- The library prints only from `show_logs` (never used); anything else that might print is redirected to
  stderr, because stdout is the MCP stdio channel. Its import-time `sys.excepthook` replacement is undone.
- Transient failures (connection drops, HTTP 429/5xx, connector retryable codes) are retried with
  exponential backoff through the injected `sleep`; permanent ones become `SnowflakeError(message, code)`.
  A retried submission first looks for the job its failed attempt may already have created.
- Right after DONE the result file may not be visible on the stage yet; `result(timeout=0)` does not retry
  then (`job.py:MLJob.result` retries only unbounded calls), so we retry FileNotFoundError for about 30 s
  ourselves. `artifacts` are the files under the job's result location (the result volume behind
  MLRS_STAGE_RESULT_PATH), listed with LIST.
- The payload directory is known at submit time (`payload_location`); the service layer records it, so
  delete removes it even after the service expired (7-day TTL) and DESCRIBE can no longer show it.
- Listing reads GET_JOB_HISTORY with an explicit window (`days`) and row cap (`limit`): the function's own
  defaults (14 days, 100 rows, applied before the schema filter) would silently drop jobs.
"""

from __future__ import annotations

import builtins
import contextlib
import importlib.util
import logging
import re
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from mljobs.analyzers.model import SubmitMethod
from mljobs.skill.facts import AccountFacts
from mljobs.skill.identifiers import (
    InvalidIdentifier,
    qualify,
    quote,
    validate_env_name,
    validate_identifier,
    validate_qualified,
    validate_stage,
)
from mljobs.skill.jobplan import JobPlan

from ..account import discover
from ..errors import BackendError, JobNotFoundError, MljobsError, SnowflakeError, UsageError
from ..payload import payload_for_plan, staged_copy
from .base import InstanceStatus, JobInfo, JobResult, JobStatus
from .snowflake_errors import _error_code, _message, is_transient, map_error
from .snowflake_records import _failed_result, _history_info, _job_info, _status

log = logging.getLogger(__name__)

T = TypeVar("T")

_RUNTIME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-/:@]*$")
_REL_PATH_RE = re.compile(r"^[A-Za-z0-9_\-.][A-Za-z0-9_\-./]*$")
_PAYLOAD_DIR_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*_[0-9A-Fa-f]{8}$")
#: job.py `_INSTANCE_RECORD_TIMEOUT_SECONDS` / poll interval: how long the library itself waits out the lag.
RESULT_LAG_SECONDS = 30.0
RESULT_LAG_POLL_SECONDS = 2.0
#: docs "GET_JOB_HISTORY": RESULT_LIMIT is at most 10000; the default window is 14 days.
HISTORY_MAX_ROWS = 10_000
DEFAULT_LIST_DAYS = 14
#: A verbose log this large has probably hit SYSTEM$GET_SERVICE_LOGS' ~100 KB cap (docs: "Up to 100 KB").
LOG_CAP_NEAR_BYTES = 95 * 1024
#: Files mljob_launcher.save_mljob_result writes beside the result (not the user's artifacts).
_RESULT_FILES = re.compile(r"^(mljob_result(\.json)?|mljob_extra(_\d+)?\.(pkl|parquet|npy))$")


@contextlib.contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    with contextlib.redirect_stdout(sys.stderr):
        yield


def _ml_jobs() -> Any:
    """`snowflake.ml.jobs`, imported on first use, with its process-wide excepthook change undone."""
    with _stdout_to_stderr():
        from snowflake.ml import jobs
    original = getattr(sys, "_original_excepthook", None)
    if original is not None and sys.excepthook is not original:
        # The library swaps sys.excepthook to print remote tracebacks of uncaught exceptions; a server
        # process keeps the standard hook (the attribute stays, so the library does not install it again).
        sys.excepthook = original
    return jobs


def _load_function(path: Path, function_name: str) -> Callable[..., Any]:
    """The function `function_name` defined in the file `path`, for @remote.

    The module runs under a private name (so `if __name__ == "__main__":` blocks do not run) with stdout sent
    to stderr, and is removed from sys.modules afterwards so cloudpickle ships the function by value.
    Top-level code outside such a guard does run in this process; the planner only proposes @remote for
    files whose entry is a function.

    Raises:
        UsageError: the file cannot be imported or has no such function.
    """
    module_name = f"_mljobs_remote_{uuid.uuid4().hex[:12]}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise UsageError(f"{path} cannot be loaded as a Python module for @remote")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses and typing look the module up while it executes
    sys.path.insert(0, str(path.parent))
    try:
        with _stdout_to_stderr():
            spec.loader.exec_module(module)
    except Exception as exc:
        raise UsageError(f"importing {path.name} for @remote failed: {type(exc).__name__}: {_message(exc)}") from exc
    finally:
        sys.modules.pop(module_name, None)
        with contextlib.suppress(ValueError):
            sys.path.remove(str(path.parent))
    obj = getattr(module, function_name, None)
    if isinstance(obj, _ml_jobs().MLJobDefinition):
        obj = obj.source  # already decorated with snowflake.ml.jobs.remote: use the wrapped function
    if obj is None or not callable(obj) or isinstance(obj, type):
        raise UsageError(f"{path.name} defines no function {function_name!r} to run with @remote")
    return obj


class SnowflakeBackend:
    """Backend protocol on Snowflake ML Jobs. `session_factory()` returns the (lazily opened) Snowpark session."""

    name = "snowflake"

    def __init__(
        self,
        session_factory: Callable[[], Any],
        *,
        sleep: Callable[[float], None] = time.sleep,
        max_attempts: int = 4,
        base_delay: float = 1.0,
        max_delay: float = 20.0,
        token: Callable[[], str] = lambda: uuid.uuid4().hex[:8],
    ) -> None:
        self._session_factory = session_factory
        self._sleep = sleep
        self._max_attempts = max(1, max_attempts)
        self._base_delay = base_delay
        self._max_delay = max_delay
        self._token = token
        self._payloads: dict[str, str] = {}  # job id -> payload directory, for jobs submitted by this process

    # ------------------------------------------------------------------------------------------ plumbing
    def _session(self) -> Any:
        return self._session_factory()

    def _call(
        self,
        what: str,
        fn: Callable[[], T],
        *,
        job: str | None = None,
        before_retry: Callable[[], T | None] | None = None,
    ) -> T:
        """Run `fn` with stdout redirected, retrying transient failures with exponential backoff.

        `job`: the job id `fn` is about; "does not exist" (2003) then becomes JobNotFoundError.
        `before_retry` may return a value that makes the retry unnecessary (e.g. a job the failed attempt
        created after all).

        Raises:
            JobNotFoundError: `job` is unknown to Snowflake (neither a service nor in job history).
            MljobsError: the mapped permanent failure, or the transient one after the last attempt.
        """
        delay = self._base_delay
        for attempt in range(1, self._max_attempts + 1):
            try:
                with _stdout_to_stderr():
                    return fn()
            except MljobsError:
                raise
            except Exception as exc:  # every driver/library failure is classified and mapped here
                if not is_transient(exc) or attempt == self._max_attempts:
                    error = map_error(what, exc)
                    if is_transient(exc):
                        error = SnowflakeError(
                            f"{what} failed {attempt} times with a transient error ({_message(exc)}); "
                            "Snowflake may be unreachable or throttling: try again later.", _error_code(exc),
                        )  # fmt: skip
                    if job is not None and isinstance(error, SnowflakeError) and error.code == 2003:
                        error = JobNotFoundError(
                            f"No Snowflake job {job}: it does not exist, was deleted more than 14 days ago, or "
                            "belongs to a role this session cannot see. Check the id with list_jobs."
                        )
                    raise error from exc
                log.warning("%s: transient failure (attempt %d/%d), retrying in %.1fs: %s",
                            what, attempt, self._max_attempts, delay, _message(exc))  # fmt: skip
                self._sleep(delay)
                delay = min(delay * 2, self._max_delay)
                if before_retry is not None:
                    try:
                        with _stdout_to_stderr():
                            found = before_retry()
                    except Exception as check_exc:  # the check is best effort; the retry decides
                        log.info("%s: could not check for an earlier attempt: %s", what, _message(check_exc))
                        found = None
                    if found is not None:
                        return found
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    def _job_id(self, job_id: str) -> str:
        """A validated, fully qualified job id (`DB.SCHEMA.NAME`), qualified with the session's context."""
        try:
            parts = validate_qualified(job_id, "job id").split(".")
            if len(parts) == 3:
                return ".".join(parts)
            session = self._session()
            db = _unquote(session.get_current_database())
            schema = _unquote(session.get_current_schema())
            return qualify(job_id, db, schema, "job id")
        except InvalidIdentifier as exc:
            raise UsageError(str(exc)) from exc

    def _mljob(self, job_id: str) -> Any:
        return _ml_jobs().MLJob(job_id, session=self._session())

    # ------------------------------------------------------------------------------------------ protocol
    def facts(self) -> AccountFacts:
        """Read-only discovery (server/account.py) with this backend's retry around each statement."""
        session = self._session()
        return discover(session, retry=lambda call: self._call("account discovery", call))

    def submit(self, plan: JobPlan) -> str:
        """Submit the plan's job and return the fully qualified job id.

        Raises:
            UsageError: the plan has an unsafe or inconsistent value (nothing was sent).
            SnowflakeError / BackendError: Snowflake or the library refused the submission.
        """
        kwargs, payload_name = self._submit_kwargs(plan)
        jobs = _ml_jobs()
        session = self._session()
        kwargs["session"] = session
        method = SubmitMethod(plan.method)

        # The plan's payload (skill/payload.py), listed once and shipped through the one guarded copy, exactly
        # as the local pool ships it; submit_from_stage uploads nothing local and @remote pickles a function.
        payload = None
        if method in (SubmitMethod.SUBMIT_FILE, SubmitMethod.SUBMIT_DIRECTORY):
            payload = payload_for_plan(plan)
            if payload is None:
                raise UsageError(f"{method.value} uploads a local file or folder, not {plan.source!r}; "
                                 "use submit_from_stage for code on a stage")

        def run() -> str:
            if payload is not None:
                entry = payload.entrypoint.rsplit("/app/", 1)[1]
                # With the entry wrapper the launcher runs the wrapper with the user's script as first arg.
                args = [payload.args[0], *(kwargs.get("args") or [])] if payload.wrapper else kwargs.get("args")
                with staged_copy(payload) as folder:
                    if method is SubmitMethod.SUBMIT_FILE and not payload.wrapper:
                        job = jobs.submit_file(str(folder / entry), plan.compute_pool, **{**kwargs, "args": args})
                    else:
                        job = jobs.submit_directory(str(folder), plan.compute_pool, entrypoint=entry,
                                                    **{**kwargs, "args": args})
            elif method is SubmitMethod.SUBMIT_FROM_STAGE:
                entry = f"{plan.source.rstrip('/')}/{plan.entrypoint}"
                job = jobs.submit_from_stage(plan.source, plan.compute_pool, entrypoint=entry, **kwargs)
            elif method is SubmitMethod.REMOTE:
                func = _load_function(Path(plan.source), plan.function_name or "")
                remote_kwargs = {k: v for k, v in kwargs.items() if k != "args"}
                definition = jobs.remote(plan.compute_pool, **remote_kwargs)(func)
                job = definition(*plan.args)
            else:  # pragma: no cover - SubmitMethod is closed
                raise UsageError(f"unknown submit method {plan.method!r}")
            return str(job.id)

        database, schema = kwargs["database"], kwargs["schema"]
        job_id = self._call(
            f"submitting {plan.name}", run,
            before_retry=lambda: self._find_submitted(session, database, schema, payload_name),
        )  # fmt: skip
        log.info("submitted %s as %s", plan.name, job_id)
        self._payloads[job_id] = f"{kwargs['stage_name'].rstrip('/')}/{payload_name}"
        return job_id

    def payload_location(self, job_id: str) -> str | None:
        """The payload directory `@DB.SCHEMA.STAGE[/path]/<name>` of a job this backend submitted, else None.

        Recorded at submit, because once the service is gone (deleted, or dropped after the 7-day TTL)
        nothing on Snowflake tells where its payload was; the job store keeps it for `delete`.
        """
        return self._payloads.get(job_id)

    def status(self, job_id: str) -> JobStatus:
        fq = self._job_id(job_id)
        raw = self._call(f"reading the status of {fq}", lambda: str(self._mljob(fq).status), job=fq)
        return _status(raw)

    def instances(self, job_id: str) -> list[InstanceStatus]:
        """Per-instance state from SHOW SERVICE INSTANCES; [] once the service is gone (deleted or expired)."""
        fq = self._job_id(job_id)

        def run() -> list[Any]:
            return self._session().sql("SHOW SERVICE INSTANCES IN SERVICE IDENTIFIER(?)", params=[fq]).collect()

        try:
            rows = self._call(f"listing the instances of {fq}", run)
        except SnowflakeError as exc:
            if exc.code == 2003:
                return []
            raise
        out = []
        for row in rows:
            data = {str(k).lower(): v for k, v in row.as_dict().items()}
            try:
                instance_id = int(data["instance_id"])
            except (KeyError, TypeError, ValueError):
                continue
            start = data.get("start_time")
            out.append(InstanceStatus(instance_id, str(data.get("status") or "UNKNOWN").upper(),
                                      f"started {start}" if start else None))  # fmt: skip
        return sorted(out, key=lambda i: i.instance_id)

    def logs(self, job_id: str, *, instance_id: int | None = None, limit: int = -1, verbose: bool = False) -> str:
        """Log text of one instance (the head when None); `verbose` keeps the pip/setup output before the banner."""
        fq = self._job_id(job_id)
        if instance_id is not None and instance_id < 0:
            raise UsageError("instance_id must be 0 or more")

        def run() -> str:
            return str(self._mljob(fq).get_logs(limit=limit, instance_id=instance_id, verbose=verbose))

        try:
            text = self._call(f"reading the logs of {fq}", run, job=fq)
        except JobNotFoundError:
            # SYSTEM$GET_SERVICE_LOGS only answers while the service exists (mljobs-api.md §10.6); a job that
            # job history still knows has been dropped, and its logs went with it.
            status = self.status(fq)
            raise BackendError(
                f"The logs of {fq} ({status.value}) are gone: its service was dropped (deleted, or expired after "
                "the 7-day TTL), and Snowflake keeps logs only in an event table, if the account has one."
            ) from None
        if verbose and limit <= 0 and len(text.encode()) >= LOG_CAP_NEAR_BYTES:
            # docs "SYSTEM$GET_SERVICE_LOGS": at most ~100 KB of the most recent lines; say that the start is cut.
            text = ("[mljobs] Snowflake returns only the newest ~100 KB of a job's log; earlier lines are not shown "
                    "(an event table, if configured, keeps them).\n" + text)
        return text

    def result(self, job_id: str) -> JobResult:
        """The return value or the remote error of a finished job.

        Raises:
            BackendError: the job is not terminal yet (poll status first).
        """
        fq = self._job_id(job_id)
        status = self.status(fq)
        if not status.terminal:
            raise BackendError(f"Job {fq} is {status.value}; its result exists once it finishes. Poll its status.")

        def run() -> JobResult:
            job = self._mljob(fq)
            try:
                value = self._result_value(job, wait_for_lag=status is JobStatus.DONE)
            except RuntimeError as exc:
                return _failed_result(exc, status)
            except ValueError as exc:
                if "result retrieval failed" not in str(exc):
                    raise
                return JobResult(False, error=f"the job succeeded but its value could not be loaded here: "
                                 f"{_message(exc.__cause__ or exc)}")  # fmt: skip
            except TimeoutError as exc:
                raise BackendError(f"Job {fq} is not finished yet; poll its status.") from exc
            return JobResult(success=True, value=value, artifacts=self._artifacts(job))

        return self._call(f"reading the result of {fq}", run, job=fq)

    def _result_value(self, job: Any, *, wait_for_lag: bool) -> Any:
        """`job.result(timeout=0)`, retried while the result file is not visible yet right after DONE.

        The library retries FileNotFoundError/JSONDecodeError only for unbounded calls (`job.py:MLJob.result`:
        "Retrying would push the call past the caller's timeout"); `timeout=0` never blocks here, so the lag
        is waited out with the injected sleep, for as long as the library would wait (30 s, every 2 s). Only a
        DONE job is waited for: the launcher always wrote its result, whereas a FAILED job may have none (it
        failed before the launcher ran, e.g. in pip install).
        """
        waited = 0.0
        while True:
            try:
                return job.result(timeout=0)
            except RuntimeError as exc:
                lagging = isinstance(exc.__cause__, (OSError, ValueError)) and "Failed to retrieve result" in str(exc)
                if not wait_for_lag or not lagging or waited >= RESULT_LAG_SECONDS:
                    raise
                log.info("result of %s not visible yet (%s); retrying in %.0fs", job.id, _message(exc.__cause__ or exc),
                         RESULT_LAG_POLL_SECONDS)  # fmt: skip
                self._sleep(RESULT_LAG_POLL_SECONDS)
                waited += RESULT_LAG_POLL_SECONDS

    def _artifacts(self, job: Any) -> tuple[str, ...]:
        """Stage paths of the files the job wrote under MLRS_STAGE_RESULT_PATH (its result volume).

        The location is the result volume's stage path from the spec (`MLJob._result_stage_path`, private:
        the library has no public accessor); files the launcher writes for the result itself are left out.
        Empty when the spec or the listing cannot be read (a note in the log says why).
        """
        try:
            location = job._result_stage_path
            if not location:
                return ()
            base = validate_stage(str(location), "result location").rstrip("/")
            rows = self._session().sql(f"LIST {base}/").collect()
        except Exception as exc:  # artifacts are a convenience; the result itself was read
            log.info("artifacts of %s could not be listed: %s", job.id, _message(exc))
            return ()
        path = base[1:].partition("/")[2]
        out = []
        for row in rows:
            data = {str(k).lower(): v for k, v in row.as_dict().items()}
            name = str(data.get("name") or "")
            # LIST names files `<stage name>/<path>`; keep what follows the result location's path.
            marker = f"/{path}/" if path else "/"
            index = name.find(marker)
            if index < 0:
                continue
            rel = name[index + len(marker):]
            if rel and not _RESULT_FILES.match(rel.rsplit("/", 1)[-1]) and not rel.startswith("instances/"):
                out.append(f"{base}/{rel}")
        return tuple(sorted(out))

    def cancel(self, job_id: str) -> None:
        """Ask Snowflake to cancel the job; a job that already finished is left alone."""
        fq = self._job_id(job_id)
        if self.status(fq).terminal:
            log.info("cancel %s: already finished", fq)
            return
        self._call(f"cancelling {fq}", lambda: self._mljob(fq).cancel(), job=fq)

    def list(self, limit: int = 50, *, days: int = DEFAULT_LIST_DAYS) -> list[JobInfo]:
        """Jobs of the current schema created in the last `days` days, newest first, at most `limit`.

        GET_JOB_HISTORY is called with an explicit window and the largest RESULT_LIMIT: its defaults (14 days,
        100 rows) are applied before the schema filter, so the library's `list_jobs` silently misses jobs
        (mljobs-api.md §10.5). Answers should name the scope (`base.listing_scope`). When job history is not
        enabled (2143) the library's fallback (SHOW JOB SERVICES) is used, which only sees `MLJOB_*` names.

        Raises:
            UsageError: `days` or `limit` is not a positive whole number.
        """
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 3650:
            raise UsageError("days must be a whole number of days between 1 and 3650")
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise UsageError("limit must be a positive whole number")
        session = self._session()
        db = _unquote(session.get_current_database())
        schema = _unquote(session.get_current_schema())
        if not db or not schema:
            raise UsageError("no current database/schema on the connection: jobs are listed per schema")
        sql = (
            "select NAME, STATUS, MESSAGE, DATABASE_NAME, SCHEMA_NAME, OWNER, COMPUTE_POOL_NAME, PARAMETERS, "
            "CREATED_TIME, COMPLETED_TIME from table(snowflake.spcs.get_job_history("
            f"created_time_start => DATEADD('day', {-days}, CURRENT_TIMESTAMP()), result_limit => {HISTORY_MAX_ROWS}))"
            f" where DATABASE_NAME = ? and SCHEMA_NAME = ? and DELETED_TIME IS NULL order by CREATED_TIME desc limit {limit}"
        )  # days, limit and the cap are validated ints; names are bound
        try:
            rows = self._call("listing jobs", lambda: session.sql(sql, params=[db, schema]).collect())
        except SnowflakeError as exc:
            if exc.code != 2143:
                raise
            jobs = _ml_jobs()
            frame = self._call("listing jobs", lambda: jobs.list_jobs(limit=-1, session=session))
            infos = [_job_info(rec) for rec in frame.to_dict("records")]
            infos.sort(key=lambda i: i.created_at or 0.0, reverse=True)
            return infos[:limit]
        return [_history_info(row) for row in rows]

    def delete(self, job_id: str, *, payload_location: str | None = None) -> None:
        """Drop the job service and REMOVE its payload directory -- only when that directory is its own.

        Args:
            job_id: the job.
            payload_location: the payload directory recorded at submit (`payload_location()`); it is what lets
                the payload be removed when the service is already gone (deleted, or dropped after the TTL).

        Raises:
            JobNotFoundError: no such job.
            BackendError: the payload could not be removed.
        """
        fq = self._job_id(job_id)
        jobs = _ml_jobs()
        session = self._session()
        job = self._call(f"looking up {fq}", lambda: jobs.get_job(fq, session=session), job=fq)
        recorded = _own_payload_dir(payload_location, fq) if payload_location else None
        if payload_location and recorded is None:
            log.warning("delete %s: the recorded payload %s is not this job's own directory; it is not removed",
                        fq, payload_location)  # fmt: skip
        try:
            stage_path = self._call(f"reading the spec of {fq}", lambda: job._stage_path)
        except SnowflakeError as exc:
            if exc.code != 2003:
                raise
            if recorded is None:
                log.warning("delete %s: the service is already gone and its payload location was not recorded; "
                            "nothing on the stage was removed", fq)  # fmt: skip
                return
            log.info("delete %s: the service is already gone; removing the recorded payload %s", fq, recorded)
            self._remove_payload(session, fq, recorded)
            return
        payload_dir = _own_payload_dir(stage_path, fq)
        if payload_dir is None:
            log.warning("delete %s: payload %s is not a per-job directory; it is kept, only the service is dropped",
                        fq, stage_path)  # fmt: skip
            self._call(f"dropping {fq}", lambda: session.sql("DROP SERVICE IDENTIFIER(?)", params=[fq]).collect())
            return
        self._call(f"deleting {fq}", lambda: jobs.delete_job(job, session=session))
        # delete_job only logs a failed REMOVE; check and remove again so the payload is really gone.
        self._remove_payload(session, fq, payload_dir)

    def _remove_payload(self, session: Any, fq: str, payload_dir: str) -> None:
        """REMOVE `payload_dir/` unless LIST shows it empty already, then check that it is gone.

        Raises:
            BackendError: files remain after REMOVE.
        """
        remaining = self._call(f"checking the payload of {fq}", lambda: session.sql(f"LIST {payload_dir}/").collect())
        if remaining:
            self._call(f"removing the payload of {fq}", lambda: session.sql(f"REMOVE {payload_dir}/").collect())
            if self._call(f"checking the payload of {fq}", lambda: session.sql(f"LIST {payload_dir}/").collect()):
                raise BackendError(f"Job {fq} was dropped but its payload {payload_dir}/ could not be removed; "
                                   f"run REMOVE {payload_dir}/ with a role that has WRITE on the stage.")  # fmt: skip

    # ------------------------------------------------------------------------------------------ helpers
    def _submit_kwargs(self, plan: JobPlan) -> tuple[dict[str, Any], str]:
        """Validated keyword arguments for submit_* / remote, and the per-submission payload name.

        Raises:
            UsageError: any identifier, path or option that is unsafe or inconsistent.
        """
        try:
            if plan.backend != "snowflake":
                raise UsageError(f"plan is for the {plan.backend!r} backend, not Snowflake")
            validate_identifier(plan.compute_pool, "compute pool")
            name = validate_identifier(plan.name, "job name")
            database = validate_identifier(plan.database, "database") if plan.database else None
            schema = validate_identifier(plan.schema, "schema") if plan.schema else None
            if not database or not schema:
                session = self._session()
                database = database or _unquote(session.get_current_database())
                schema = schema or _unquote(session.get_current_schema())
                if not database or not schema:
                    raise UsageError("no database/schema: set them in the plan or on the connection")
                database = validate_identifier(database, "database")
                schema = validate_identifier(schema, "schema")
            stage = _qualified_stage(plan.stage_name, database, schema)
            eais = [validate_qualified(e, "external access integration") for e in plan.external_access_integrations]
            repos = [validate_qualified(r, "artifact repository") for r in plan.artifact_repositories]
            env = {validate_env_name(k): str(v) for k, v in plan.env_vars}
            warehouse = validate_identifier(plan.query_warehouse, "query warehouse") if plan.query_warehouse else None
        except InvalidIdentifier as exc:
            raise UsageError(str(exc)) from exc
        if plan.runtime_environment and not _RUNTIME_RE.match(plan.runtime_environment):
            raise UsageError(f"runtime_environment {plan.runtime_environment!r} must be an image tag or URL "
                             "(letters, digits and _ . - / : @)")  # fmt: skip
        if not 1 <= plan.min_instances <= plan.target_instances:
            raise UsageError("min_instances must be between 1 and target_instances")
        for arg in plan.args:
            if not isinstance(arg, str):
                raise UsageError("job arguments must be strings")
        method = SubmitMethod(plan.method)
        pip = list(plan.pip_requirements)
        if method is SubmitMethod.SUBMIT_FROM_STAGE:
            try:
                validate_stage(plan.source, "source stage")
            except InvalidIdentifier as exc:
                raise UsageError(str(exc)) from exc
        if method in (SubmitMethod.SUBMIT_DIRECTORY, SubmitMethod.SUBMIT_FROM_STAGE):
            if not _REL_PATH_RE.match(plan.entrypoint) or ".." in plan.entrypoint.split("/"):
                raise UsageError(f"entrypoint {plan.entrypoint!r} must be a relative path inside the source")
        if method is SubmitMethod.REMOTE and not plan.function_name:
            raise UsageError("a @remote plan needs function_name")
        pip, env = self._requirements_file(plan, method, pip, env)

        base = name[:200]
        payload_name = f"{base}_{self._token()}"
        kwargs: dict[str, Any] = {
            "stage_name": stage,
            "args": list(plan.args),
            "target_instances": plan.target_instances,
            "min_instances": plan.min_instances,
            "pip_requirements": pip or None,
            "external_access_integrations": eais or None,
            "env_vars": env or None,
            "database": database,
            "schema": schema,
            "name": payload_name,
            "overwrite": True,
        }
        optional = {
            "spec_overrides": plan.spec_overrides,
            "runtime_environment": plan.runtime_environment,
            "query_warehouse": warehouse,
            "artifact_repositories": repos or None,
            "comment": plan.comment,
        }
        kwargs.update({k: v for k, v in optional.items() if v})
        return kwargs, payload_name

    @staticmethod
    def _requirements_file(
        plan: JobPlan, method: SubmitMethod, pip: builtins.list[str], env: dict[str, str]
    ) -> tuple[builtins.list[str], dict[str, str]]:
        """Make a requirements file that travels with the folder get installed.

        The container's startup.sh installs `$MLRS_REQUIREMENTS_FILE` (default `requirements.txt` in the payload
        dir), and the library overwrites `app/requirements.txt` when pip_requirements are given. So: without
        pip_requirements, point MLRS_REQUIREMENTS_FILE at the file; with both (local folder), merge the file's
        lines into pip_requirements; with both on a stage source, refuse (the file cannot be read here).
        """
        rel = plan.requirements_file
        if not rel:
            return pip, env
        if method not in (SubmitMethod.SUBMIT_DIRECTORY, SubmitMethod.SUBMIT_FROM_STAGE):
            raise UsageError("requirements_file only travels with submit_directory or submit_from_stage")
        if not _REL_PATH_RE.match(rel) or ".." in rel.split("/"):
            raise UsageError(f"requirements_file {rel!r} must be a relative path inside the source")
        if not pip:
            return pip, {**env, "MLRS_REQUIREMENTS_FILE": rel}
        if method is SubmitMethod.SUBMIT_FROM_STAGE:
            raise UsageError("a stage source cannot combine requirements_file with pip_requirements; use one")
        path = Path(plan.source) / rel
        try:
            lines = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines()]
        except OSError as exc:
            raise UsageError(f"requirements_file {rel} cannot be read: {exc.strerror}") from exc
        merged = [ln for ln in lines if ln and not ln.startswith("#")]
        return merged + [p for p in pip if p not in merged], env

    def _find_submitted(self, session: Any, database: str, schema: str, payload_name: str) -> str | None:
        """The job a failed submission attempt created after all, found by its unique payload name."""
        rows = session.sql(f"SHOW JOB SERVICES LIKE ? IN SCHEMA {quote(f'{database}.{schema}')}",
                           params=[f"{payload_name.upper()}%"]).collect()  # fmt: skip
        for row in rows:
            data = {str(k).lower(): v for k, v in row.as_dict().items()}
            name = str(data.get("name") or "")
            if name.upper().startswith(payload_name.upper() + "_"):
                log.info("a failed submit attempt had created %s; not submitting again", name)
                return f"{database}.{schema}.{name}"
        return None


def _unquote(value: str | None) -> str | None:
    if not value:
        return None
    text = value.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1]
    return text or None


def _qualified_stage(stage_name: str, database: str, schema: str) -> str:
    """`@STAGE[/path]` -> `@DB.SCHEMA.STAGE[/path]`: unqualified stages resolve in the session, not the kwargs."""
    normalised = validate_stage(stage_name, "stage")
    name, sep, path = normalised[1:].partition("/")
    return "@" + qualify(name, database, schema, "stage") + (sep + path if sep else "")


def _own_payload_dir(stage_path: str | None, job_id: str) -> str | None:
    """The job's payload directory if it belongs to this job alone (`.../<NAME>_<8 hex>` of this job), else None."""
    if not stage_path:
        return None
    try:
        normalised = validate_stage(stage_path, "payload stage path").rstrip("/")
    except InvalidIdentifier:
        return None
    name, _, path = normalised[1:].partition("/")
    if len(name.split(".")) != 3 or not path:
        return None
    leaf = path.rsplit("/", 1)[-1]
    job_name = job_id.rsplit(".", 1)[-1].upper()
    if not _PAYLOAD_DIR_RE.match(leaf) or not job_name.startswith(leaf.upper() + "_"):
        return None
    return normalised
