"""The fake account's job service: what SYSTEM$EXECUTE_ML_JOB creates and the statements that read and steer it.

Each behaviour comes from snowflake-ml-python 2.6.0's source or a documented fact, cited where it is
implemented (see tests/fakes/snowpark.py's docstring for the overview). `JobServer` is a mixin of
`FakeSession`: it uses the session's state (`jobs`, `stage_files`, `now`, grants) and table helpers.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml

from .sqltext import _ident_parts, _unescape_literal, sql_error

LOG_START = "--------------------------------\nML job started\n--------------------------------"
LOG_END = "--------------------------------\nML job finished\n--------------------------------"
RUNTIME_IMAGE = "/snowflake/images/snowflake_images/st_plat/runtime/x86/runtime_image/snowbooks:2.10.0-py311"
#: docs "DESCRIBE SERVICE" (research snowflake-facts.md §5.1, mljobs-api.md §10.7): the only statuses the server reports.
STATUSES = frozenset({"PENDING", "RUNNING", "FAILED", "DONE", "SUSPENDING", "SUSPENDED", "DELETING", "DELETED",
                      "INTERNAL_ERROR"})  # fmt: skip
#: job.py TERMINAL_JOB_STATUSES minus the states the server never reports.
TERMINAL = {"DONE", "FAILED", "INTERNAL_ERROR", "DELETED"}
STAGE_MOUNT = "/mnt/job_stage"  # constants.STAGE_VOLUME_MOUNT_PATH
RESULT_MOUNT = "/mnt/job_result"  # invented: the server's result-volume mount is not visible
#: docs "SYSTEM$GET_SERVICE_LOGS": "Up to 100 KB of the most recent log lines".
LOG_CAP_BYTES = 100 * 1024
#: docs "GET_JOB_HISTORY": default window 14 days, RESULT_LIMIT default 100.
HISTORY_DAYS = 14
HISTORY_LIMIT = 100
INSTANCE_COLUMNS = ("database_name", "schema_name", "service_name", "instance_id", "status", "spec_digest",
                    "creation_time", "start_time")  # fmt: skip
LIST_JOBS_COLUMNS = ("name", "status", "message", "database_name", "schema_name", "owner", "compute_pool",
                     "target_instances", "created_time", "completed_time")  # fmt: skip


@dataclass
class FakeJob:
    """One ML job service. Tests change `status` directly or queue `script` statuses (one per DESCRIBE)."""

    id: str
    database: str
    schema: str
    name: str
    compute_pool: str
    spec_options: dict[str, Any]
    job_options: dict[str, Any]
    created_on: _dt.datetime
    status: str = "PENDING"
    script: list[str] = field(default_factory=list)  # statuses of the next DESCRIBE reads (documented set only)
    logs: dict[int, str] = field(default_factory=dict)
    instances: list[dict[str, Any]] | None = None
    message: str | None = None
    completed_on: _dt.datetime | None = None
    deleted_on: _dt.datetime | None = None
    cancel_steps: int = 1  # DESCRIBE reads after spcs_cancel_job before the job service ends FAILED
    cancel_requested: bool = False
    statement_params: dict[str, Any] | None = None
    result_lag: int = 0  # GET/LIST reads of the result location that still miss after DONE (visibility lag)

    @property
    def target_instances(self) -> int:
        return int(self.job_options.get("TARGET_INSTANCES") or 1)

    @property
    def min_instances(self) -> int:
        return int(self.job_options.get("MIN_INSTANCES") or self.target_instances)

    @property
    def stage_path(self) -> str:
        return str(self.spec_options["STAGE_PATH"])

    @property
    def result_stage_path(self) -> str:
        # mljob_launcher.py (module top): "@payload_stage/{job_definition_name}/{job_name}/mljob_result"
        return f"{self.stage_path}/{self.name}"

    @property
    def result_file(self) -> str:
        return f"{self.result_stage_path}/mljob_result"

    def spec(self) -> dict[str, Any]:
        """The server-built spec (shape of mljobs-api.md §2.5) that the client reads back.

        MLRS_RESULT_PATH is relative, so `MLJob._result_path` maps it onto the result volume's stage location;
        MLRS_STAGE_RESULT_PATH is the result volume's mount, where the launcher writes the result and where
        files a script writes land on `result_stage_path`.
        """
        env = dict(self.spec_options.get("ENV_VARS") or {})
        env.update({"MLRS_RESULT_PATH": "mljob_result", "MLRS_STAGE_RESULT_PATH": RESULT_MOUNT,
                    "MLRS_MIN_INSTANCES": str(self.min_instances)})  # fmt: skip
        return {
            "spec": {
                "containers": [
                    {
                        "name": "main",
                        "image": self.spec_options.get("RUNTIME"),
                        "command": ["/usr/local/bin/_entrypoint.sh"],
                        "args": list(self.spec_options.get("ARGS") or []),
                        "env": env,
                        "volumeMounts": [
                            {"name": "stage-volume", "mountPath": STAGE_MOUNT},
                            {"name": "result-volume", "mountPath": RESULT_MOUNT},
                        ],
                    }
                ],
                "volumes": [
                    {"name": "stage-volume", "source": "stage", "stageConfig": {"name": self.stage_path}},
                    {"name": "result-volume", "source": "stage", "stageConfig": {"name": self.result_stage_path}},
                ],
            }
        }

    def advance(self) -> None:
        """One status read: pop the next scripted status, or finish a pending cancel (the service ends FAILED)."""
        if self.script:
            self.status = self.script.pop(0)
            if self.status not in STATUSES:
                raise AssertionError(f"{self.status} is not a status Snowflake reports for a job service")
        elif self.cancel_requested and self.status not in TERMINAL:
            self.cancel_steps -= 1
            if self.cancel_steps <= 0:
                self.status, self.message = "FAILED", "Job was cancelled by the user."


class JobServer:
    """Job-service handlers and job helpers for tests, mixed into FakeSession."""

    # Provided by FakeSession.
    jobs: dict[str, FakeJob]
    stage_files: dict[str, bytes]
    submissions: list[dict[str, Any]]
    runtime_requests: list[tuple[str, str]]
    now: _dt.datetime
    database: str | None
    schema: str | None
    role: str
    validate_eais: bool
    enforce_privileges: bool
    eais: dict[str, dict[str, Any]]
    _job_counter: int
    _statement_params: dict[str, Any] | None
    canon_stage: Callable[[str], str]
    holds: Callable[..., bool]
    _pool: Callable[[str], dict[str, Any] | None]
    _table: Callable[..., tuple[tuple[str, ...], list[list[Any]]]]

    def job(self, job_id: str | None = None) -> FakeJob:
        """The job with that id (any case), or the most recently submitted one."""
        if job_id is None:
            return list(self.jobs.values())[-1]
        return self.jobs[".".join(_ident_parts(job_id))]

    def set_logs(self, job_id: str, user_text: str, *, instance: int = 0, setup: str = "") -> None:
        """Log text as the launcher writes it: setup output, start banner, user output, end banner."""
        self.job(job_id).logs[instance] = f"{setup}{LOG_START}\n{user_text}\n{LOG_END}\n"

    def complete_job(self, job_id: str, value: Any = None, *, error: tuple[str, str, str] | None = None,
                     status: str | None = None, artifacts: dict[str, bytes] | None = None,
                     lag: int = 0) -> None:  # fmt: skip
        """Write the ResultDTO the launcher writes and set DONE (or FAILED when `error=(type, message, tb)`).

        `artifacts`: files the script wrote under MLRS_STAGE_RESULT_PATH (relative path -> bytes); they land on
        the result volume's stage location. `lag`: reads of that location that still miss (visibility lag).
        """
        job = self.job(job_id)
        for rel, data in (artifacts or {}).items():
            self.stage_files[self.canon_stage(f"{job.result_stage_path}/{rel}")] = data
        job.result_lag = lag
        if error is None:
            dto = {"kind": "result", "success": True, "value": value, "protocol": None, "serialize_error": None,
                   "metadata": None}  # fmt: skip
        else:
            exc_type, message, tb = error
            dto = {
                "kind": "result", "success": False, "value": None, "protocol": None, "serialize_error": None,
                "metadata": {"type": exc_type, "repr": f"{exc_type.rsplit('.', 1)[-1]}({message!r})",
                             "message": message, "traceback": tb},
            }  # fmt: skip
        self.stage_files[self.canon_stage(job.result_file)] = json.dumps(dto).encode()
        job.status = status or ("DONE" if error is None else "FAILED")
        job.completed_on = self.now

    def _lagging(self, key: str) -> bool:
        """True (and one read used up) while a finished job's result location is not yet visible."""
        for job in self.jobs.values():
            if job.result_lag > 0 and key.startswith(self.canon_stage(job.result_stage_path) + "/"):
                job.result_lag -= 1
                return True
        return False

    def _lookup_job(self, job_id: str, *, include_deleted: bool = False) -> FakeJob:
        key = ".".join(_ident_parts(job_id))
        if len(key.split(".")) == 1:
            key = f"{self.database}.{self.schema}.{key}"
        job = self.jobs.get(key)
        if job is None or (job.deleted_on is not None and not include_deleted):
            raise sql_error(f"SQL compilation error:\nService '{job_id}' does not exist or not authorized.", 2003)
        return job

    def _h_runtime(self, m: re.Match[str], params: list[Any]) -> Any:
        pool, selector = m.group("pool"), m.group("sel")
        if self._pool(pool) is None:
            raise sql_error(f"Compute pool '{pool}' does not exist or not authorized.", 2003)
        self.runtime_requests.append((pool, selector))
        return ("RUNTIME",), [[RUNTIME_IMAGE]]

    def _h_execute_ml_job(self, m: re.Match[str], params: list[Any]) -> Any:
        literals = [_unescape_literal(x) for x in re.findall(r"'((?:[^'\\]|\\.)*)'", m.group("args"))]
        if len(literals) != 4:
            raise sql_error("SYSTEM$EXECUTE_ML_JOB expects 4 arguments", 1003)
        name, pool, spec_json, job_json = literals
        spec_options, job_options = json.loads(spec_json), json.loads(job_json)
        if self._pool(pool) is None:
            raise sql_error(f"Compute pool '{pool}' does not exist or not authorized.", 2003)
        if self.validate_eais:
            for eai in job_options.get("EXTERNAL_ACCESS_INTEGRATIONS") or []:
                if ".".join(_ident_parts(eai)) not in self.eais:
                    raise sql_error(f"Integration '{eai}' does not exist or not authorized.", 2003)
        db, schema, base = _ident_parts(name)
        if self.enforce_privileges:
            self._check_submit_privileges(db, schema, pool, job_options.get("EXTERNAL_ACCESS_INTEGRATIONS") or [])
        self._job_counter += 1
        if job_options.get("GENERATE_SUFFIX"):
            base += hashlib.sha256(f"{name}{self._job_counter}".encode()).hexdigest()[:8].upper()
        job_id = f"{db}.{schema}.{base}"
        self.now += _dt.timedelta(minutes=1)
        job = FakeJob(
            id=job_id, database=db, schema=schema, name=base, compute_pool=pool.upper(),
            spec_options=spec_options, job_options=job_options, created_on=self.now,
            statement_params=self._statement_params,
        )  # fmt: skip
        self.jobs[job_id] = job
        self.submissions.append({"name": name, "compute_pool": pool, "spec_options": spec_options,
                                 "job_options": job_options, "job_id": job_id})  # fmt: skip
        return ("SYSTEM$EXECUTE_ML_JOB",), [[job_id]]

    def _check_submit_privileges(self, db: str, schema: str, pool: str, eais: list[str]) -> None:
        """What the server checks when it creates the job service (docs "Access control requirements for ML
        Jobs"): USAGE on database, schema, pool and EAIs from any active role; CREATE SERVICE from the primary
        role's hierarchy only (docs "USE SECONDARY ROLES": CREATE <object> is authorized by the primary role).
        Unusable containers read as "does not exist or not authorized" (2003), missing privileges as 3001."""
        if not self.holds("USAGE", "DATABASE", db):
            raise sql_error(f"SQL compilation error:\nDatabase '{db}' does not exist or not authorized.", 2003)
        if not self.holds("USAGE", "SCHEMA", f"{db}.{schema}"):
            raise sql_error(f"SQL compilation error:\nSchema '{db}.{schema}' does not exist or not authorized.", 2003)
        if not self.holds("CREATE SERVICE", "SCHEMA", f"{db}.{schema}", primary_only=True):
            raise sql_error(f"SQL access control error:\nInsufficient privileges to operate on schema '{schema}'", 3001)
        if not self.holds("USAGE", "COMPUTE_POOL", pool):
            raise sql_error(f"SQL access control error:\nInsufficient privileges to operate on compute pool "
                            f"'{pool.upper()}'", 3001)  # fmt: skip
        for eai in eais:
            if not self.holds("USAGE", "INTEGRATION", eai):
                raise sql_error(f"SQL access control error:\nInsufficient privileges to operate on integration "
                                f"'{eai.upper()}'", 3001)  # fmt: skip

    def _h_describe_service(self, m: re.Match[str], params: list[Any]) -> Any:
        job = self._lookup_job(params[0])
        job.advance()
        row = {
            "name": job.name, "status": job.status, "database_name": job.database, "schema_name": job.schema,
            "owner": self.role, "compute_pool": job.compute_pool, "spec": yaml.safe_dump(job.spec()),
            "dns_name": f"{job.name.lower()}.fake.svc.spcs.internal", "current_instances": job.target_instances,
            "target_instances": job.target_instances, "min_ready_instances": job.min_instances,
            "min_instances": job.target_instances, "max_instances": job.target_instances, "auto_resume": "true",
            "external_access_integrations": json.dumps(job.job_options.get("EXTERNAL_ACCESS_INTEGRATIONS")),
            "created_on": job.created_on, "updated_on": job.completed_on or job.created_on,
            "comment": job.job_options.get("COMMENT"), "query_warehouse": job.job_options.get("QUERY_WAREHOUSE"),
            "is_job": "true", "is_async_job": "true",
        }  # fmt: skip
        return self._table(tuple(row), [row])

    def _history_row(self, job: FakeJob) -> dict[str, Any]:
        return {
            "QUERY_ID": None, "ID": None, "NAME": job.name, "DATABASE_NAME": job.database,
            "SCHEMA_NAME": job.schema, "CREATED_TIME": job.created_on, "COMPLETED_TIME": job.completed_on,
            "DELETED_TIME": job.deleted_on, "STATUS": job.status, "MESSAGE": job.message,
            "COMPUTE_POOL_NAME": job.compute_pool, "OWNER": self.role,
            "PARAMETERS": json.dumps({"REPLICAS": job.target_instances}),
        }  # fmt: skip

    def _h_job_history(self, m: re.Match[str], params: list[Any]) -> Any:
        """SNOWFLAKE.SPCS.GET_JOB_HISTORY: rows of the last 14 days, at most RESULT_LIMIT (100), newest first,
        taken before the WHERE clause filters them (docs "GET_JOB_HISTORY"; mljobs-api.md §10.5). Deleted jobs
        are included (DELETED_TIME set). `select *` answers in list_jobs' column names (manager.py:
        _get_job_history_spcs selects and aliases them); explicit columns answer in history column names."""
        args, cols, rest = m.group("args"), m.group("cols").strip(), m.group("rest") or ""
        start = self.now - _dt.timedelta(days=HISTORY_DAYS)
        limit = HISTORY_LIMIT
        if (days := re.search(r"created_time_start\s*=>\s*DATEADD\('day',\s*(-?\d+),\s*CURRENT_TIMESTAMP\(\)\)",
                              args, re.IGNORECASE)):  # fmt: skip
            start = self.now + _dt.timedelta(days=int(days.group(1)))
        elif (ts := re.search(r"created_time_start\s*=>\s*TO_TIMESTAMP_LTZ\('([^']*)'\)", args, re.IGNORECASE)):
            start = _dt.datetime.fromisoformat(ts.group(1))
        if (lim := re.search(r"result_limit\s*=>\s*(\d+)", args, re.IGNORECASE)):
            limit = int(lim.group(1))
            if not 1 <= limit <= 10_000:
                raise sql_error("RESULT_LIMIT must be between 1 and 10000", 1003)
        jobs = sorted((j for j in self.jobs.values() if j.created_on >= start), key=lambda j: j.created_on,
                      reverse=True)[:limit]  # fmt: skip
        rows = [self._history_row(j) for j in jobs]
        where = re.split(r"\b(?:order by|limit)\b", rest, flags=re.IGNORECASE)[0]
        values = iter(params)
        for column, value in re.findall(r"(\w+) = (\?|'[^']*')", where):
            wanted = str(next(values) if value == "?" else value.strip("'")).strip('"').upper()
            rows = [r for r in rows if str(r.get(column.upper()) or "").upper() == wanted]
        if re.search(r"DELETED_TIME IS NULL", where, re.IGNORECASE):
            rows = [r for r in rows if r["DELETED_TIME"] is None]
        if (final := re.search(r"\blimit (\d+)", rest, re.IGNORECASE)):
            rows = rows[: int(final.group(1))]
        if cols == "*":
            listed = [{
                "name": r["NAME"], "status": r["STATUS"], "message": r["MESSAGE"], "database_name": r["DATABASE_NAME"],
                "schema_name": r["SCHEMA_NAME"], "owner": r["OWNER"], "compute_pool": r["COMPUTE_POOL_NAME"],
                "target_instances": json.loads(r["PARAMETERS"])["REPLICAS"], "created_time": r["CREATED_TIME"],
                "completed_time": r["COMPLETED_TIME"],
            } for r in rows]  # fmt: skip
            return self._table(LIST_JOBS_COLUMNS, listed)
        return self._table(tuple(c.strip().upper() for c in cols.split(",")), rows)

    def _h_service_logs(self, m: re.Match[str], params: list[Any]) -> Any:
        job = self._lookup_job(params[0])
        instance = int(params[1])
        text = job.logs.get(instance)
        if text is None:
            if job.status == "PENDING":
                raise sql_error("Waiting to start, Container Status: PENDING", 395000)
            text = ""
        if len(params) > 3 and int(params[3]) > 0:
            text = "\n".join(text.splitlines()[-int(params[3]):])
        # docs "SYSTEM$GET_SERVICE_LOGS": up to 100 KB of the most recent lines (whole lines are kept).
        lines = text.splitlines(keepends=True)
        kept: list[str] = []
        size = 0
        for line in reversed(lines):
            size += len(line.encode())
            if size > LOG_CAP_BYTES:
                break
            kept.append(line)
        return ("SYSTEM$GET_SERVICE_LOGS",), [["".join(reversed(kept))]]

    def _h_spcs_get_logs(self, m: re.Match[str], params: list[Any]) -> Any:
        job = self._lookup_job(m.group("id"))
        instance = int(m.group("inst") or 0)
        return ("LOG",), [[line] for line in (job.logs.get(instance) or "").splitlines()]

    def _h_wait_for(self, m: re.Match[str], params: list[Any]) -> Any:
        job = self._lookup_job(m.group("id"))
        if job.status not in TERMINAL:
            # Real spcs_wait_for blocks up to its timeout and then fails; the client then polls status.
            raise sql_error(f"Timed out waiting for service {job.id} to reach DONE", 2010)
        return ("status",), [[job.status]]

    def _h_cancel(self, m: re.Match[str], params: list[Any]) -> Any:
        job = self._lookup_job(m.group("id"))
        if job.status not in TERMINAL:
            job.cancel_requested = True  # no CANCELLING status exists: the service ends FAILED (§10.7)
        return ("status",), [[f"Job {job.id} cancellation requested."]]

    def _h_instances(self, m: re.Match[str], params: list[Any]) -> Any:
        job = self._lookup_job(params[0])
        if job.instances is not None:
            rows = job.instances
        else:
            # docs "SHOW SERVICE INSTANCES": PENDING, READY, FAILED, TERMINATING, SUCCEEDED
            mapped = {"PENDING": "PENDING", "RUNNING": "READY", "DONE": "SUCCEEDED", "FAILED": "FAILED",
                      "SUSPENDING": "TERMINATING", "DELETING": "TERMINATING"}.get(job.status, "UNKNOWN")  # fmt: skip
            if job.cancel_requested and job.status == "RUNNING":
                mapped = "TERMINATING"
            rows = [{
                "database_name": job.database, "schema_name": job.schema, "service_name": job.name,
                "instance_id": str(i), "status": mapped, "spec_digest": "abc",
                "creation_time": job.created_on, "start_time": None if job.status == "PENDING" else job.created_on,
            } for i in range(job.target_instances)]  # fmt: skip
        return self._table(INSTANCE_COLUMNS, rows)

    def _h_drop_service(self, m: re.Match[str], params: list[Any]) -> Any:
        job = self._lookup_job(params[0])
        job.deleted_on = self.now
        return ("status",), [[f"{job.name} successfully dropped."]]

    def _h_show_job_services(self, m: re.Match[str], params: list[Any]) -> Any:
        db, schema = _ident_parts(m.group("schema"))
        pattern = params[0] if m.group("like") == "?" else m.group("like").strip("'")
        regex = re.compile("^" + re.escape(pattern).replace("%", ".*").replace("_", ".") + "$", re.IGNORECASE)
        rows = [{
            "name": j.name, "status": j.status, "database_name": j.database, "schema_name": j.schema,
            "owner": self.role, "compute_pool": j.compute_pool, "target_instances": j.target_instances,
            "created_on": j.created_on, "updated_on": j.completed_on or j.created_on,
        } for j in self.jobs.values()
            if j.deleted_on is None and (j.database, j.schema) == (db, schema) and regex.match(j.name)]  # fmt: skip
        return self._table(("name", "status", "database_name", "schema_name", "owner", "compute_pool",
                            "target_instances", "created_on", "updated_on"), rows)  # fmt: skip

    _ID = r"(?P<id>[A-Za-z0-9_$.\"]+)"
    JOB_HANDLERS: list[tuple[str, Callable[..., Any]]] = [
        (r"^CALL SYSTEM\$GET_ML_JOB_RUNTIME\('(?P<pool>[^']*)', '(?P<sel>.*)'\)$", _h_runtime),
        (r"^CALL SYSTEM\$EXECUTE_ML_JOB\((?P<args>.*)\)$", _h_execute_ml_job),
        (r"^DESCRIBE SERVICE IDENTIFIER\(\?\)$", _h_describe_service),
        (r"^select (?P<cols>\*|[A-Za-z_, ]+) from table\(snowflake\.spcs\.get_job_history\((?P<args>.*?)\)\)"
         r"(?P<rest>(?:\s*(?:where|order by|limit)\b.*)?)$", _h_job_history),
        (r"^SELECT SYSTEM\$GET_SERVICE_LOGS\(\?, \?, \?(, \?)?\)$", _h_service_logs),
        (r"^SELECT LOG FROM table\(" + _ID + r"!spcs_get_logs\(.*?\)\)(?: WHERE INSTANCE_ID = (?P<inst>\d+))?.*$",
         _h_spcs_get_logs),
        (r"^call " + _ID + r"!spcs_wait_for\('DONE', \d+\)$", _h_wait_for),
        (r"^CALL " + _ID + r"!spcs_cancel_job\(\)$", _h_cancel),
        (r"^SHOW SERVICE INSTANCES IN SERVICE IDENTIFIER\(\?\)$", _h_instances),
        (r"^DROP SERVICE IDENTIFIER\(\?\)$", _h_drop_service),
        (r"^SHOW JOB SERVICES LIKE (?P<like>\?|'[^']*') IN SCHEMA (?P<schema>\S+)$", _h_show_job_services),
    ]
