"""A duck-typed Snowpark session that the real snowflake-ml-python 2.6.0 can drive offline.

It emulates the six session surfaces the ML Jobs client uses (research mljobs-api.md §6.1): `_conn.run_query`,
`_conn._cursor.description` / `_preprocess_pyformat_query`, `sql(...).collect()`, `file.put/put_stream/get`,
`get_current_*` (quoted, like real Snowpark) and `conf.get`. Behind them sits a small in-memory account:
compute pools, instance families, EAIs and network rules, stages with files, grants (to account roles and
database roles, with secondary roles), and ML jobs whose status the test drives.

Every statement is recorded in `session.queries` (SQL text, bind params, channel). Unknown SQL raises
`SnowparkSQLException` so nothing the code under test sends passes unnoticed, and `inject()` makes chosen
statements fail (transient errors N times, permanent errors always).

Server behaviour, each from the library's source or a documented fact (cited where it is implemented):
- the spec SYSTEM$EXECUTE_ML_JOB builds, as `MLJob._stage_path/_result_stage_path/_result_path/_transform_path`
  (snowflake/ml/jobs/job.py) and `mljob_launcher.py` (module top: MLRS_STAGE_RESULT_PATH joined with
  MLRS_RESULT_PATH) read it: stage-volume at /mnt/job_stage, result-volume at its own mount, both env vars;
- only the documented DESCRIBE SERVICE statuses (no CANCELLING: a cancelled job service ends FAILED);
- result visibility lag right after DONE (`job.py:MLJob.result` retries FileNotFoundError for that reason);
- SYSTEM$GET_SERVICE_LOGS: at most ~100 KB of the newest lines, and only while the service exists;
- GET_JOB_HISTORY(): the last 14 days and 100 rows by default, applied before any WHERE filter;
- privilege errors as SQL error 3001 (`manager.py:submit_*` maps 3001 + "schema"), when `enforce_privileges`;
- CURRENT_SECONDARY_ROLES() as a JSON object; USAGE from primary or secondary roles, CREATE from the primary.

What remains invented because it is not visible (mljobs-api.md §6.3): the job-id suffix, the result-volume
mount path, the runtime image, log text, and how many reads the visibility lag lasts.
"""

from __future__ import annotations

import datetime as _dt
import glob
import hashlib
import json
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import yaml
from snowflake.connector.converter import SnowflakeConverter
from snowflake.connector.cursor import ResultMetadata
from snowflake.snowpark import Column
from snowflake.snowpark._internal.utils import result_set_to_rows
from snowflake.snowpark.exceptions import SnowparkSQLException

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

POOL_COLUMNS = (
    "name", "state", "min_nodes", "max_nodes", "instance_family", "num_services", "num_jobs",
    "auto_suspend_secs", "auto_resume", "active_nodes", "idle_nodes", "target_nodes", "created_on",
    "resumed_on", "updated_on", "owner", "comment", "is_exclusive", "application", "placement_group",
    "backup_instance_families",
)  # fmt: skip
FAMILY_COLUMNS = (
    "name", "description", "vcpu", "memory_gib", "storage_gib", "gpu", "gpu_count", "gpu_memory_gib",
    "current_node_usage", "message",
)  # fmt: skip
GRANT_COLUMNS = ("created_on", "privilege", "granted_on", "name", "granted_to", "grantee_name", "grant_option",
                 "granted_by")  # fmt: skip
INSTANCE_COLUMNS = ("database_name", "schema_name", "service_name", "instance_id", "status", "spec_digest",
                    "creation_time", "start_time")  # fmt: skip
LIST_JOBS_COLUMNS = ("name", "status", "message", "database_name", "schema_name", "owner", "compute_pool",
                     "target_instances", "created_time", "completed_time")  # fmt: skip


class Statement(NamedTuple):
    """One statement the code under test sent: SQL text (or `PUT`/`GET` for file calls), params, channel."""

    sql: str
    params: tuple[Any, ...] | None
    via: str  # "run_query" | "sql" | "file"


def sql_error(message: str, code: int | None = None) -> SnowparkSQLException:
    """A SnowparkSQLException as the Snowpark wrapper raises it (message + Snowflake error number)."""
    return SnowparkSQLException(message, sql_error_code=code)


def _ident_parts(text: str) -> list[str]:
    """`db.s."Mixed"` -> ["DB", "S", "Mixed"]: unquoted parts upper-cased, quoted kept, `""` unescaped."""
    parts: list[str] = []
    for match in re.finditer(r'"((?:[^"]|"")*)"|([^."]+)', text.strip()):
        quoted, plain = match.groups()
        parts.append(quoted.replace('""', '"') if quoted is not None else plain.strip().upper())
    return parts


def _unescape_literal(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "r": "\r"}.get(m.group(1), m.group(1)), text)


def _bool_text(value: bool) -> str:
    return "true" if value else "false"


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


@dataclass
class _Injection:
    pattern: re.Pattern[str]
    error: BaseException | Callable[[], BaseException]
    times: int | None  # None = always
    after: bool = False  # raise after the statement took effect (e.g. the job was created, then the link dropped)


class _FakeAsyncJob:
    def __init__(self, rows: list[Any], query_id: str) -> None:
        self._rows = rows
        self.query_id = query_id

    def is_done(self) -> bool:
        return True

    def is_failed(self) -> bool:
        return False

    def result(self) -> list[Any]:
        return self._rows


class FakeDataFrame:
    """What `session.sql()` returns: runs the statement on `collect()`; `select`/`order_by` keep the frame."""

    def __init__(self, session: FakeSession, query: str, params: Sequence[Any] | None) -> None:
        self._session = session
        self._query = query
        self._params = params

    def collect(self, *args: Any, **kwargs: Any) -> list[Any]:
        columns, data = self._session._execute(self._query, self._params, via="sql")
        return self._session._rows(columns, data)

    def collect_nowait(self, *args: Any, **kwargs: Any) -> _FakeAsyncJob:
        rows = self.collect()
        return _FakeAsyncJob(rows, self._session._next_query_id())

    def __getitem__(self, name: str) -> Column:
        return Column(name.strip('"'))

    def select(self, *cols: Any) -> FakeDataFrame:
        return self

    def order_by(self, *cols: Any, **kwargs: Any) -> FakeDataFrame:
        return self

    def to_pandas(self, *args: Any, **kwargs: Any) -> Any:
        import pandas as pd

        columns, data = self._session._execute(self._query, self._params, via="sql")
        return pd.DataFrame(data, columns=list(columns))


class _FakeCursor:
    def __init__(self) -> None:
        self.description: list[ResultMetadata] = []
        self._converter = SnowflakeConverter()

    def _preprocess_pyformat_query(self, command: str, params: Sequence[Any] | None = None) -> str:
        """Client-side binding exactly as the connector does it: to_snowflake -> escape -> quote."""
        if not params:
            return command
        conv = self._converter
        return command % tuple(conv.quote(conv.escape(conv.to_snowflake(p))) for p in params)


class _FakeConnection:
    def __init__(self, session: FakeSession) -> None:
        self._session = session
        self._cursor = _FakeCursor()

    def run_query(
        self,
        query: str,
        params: Sequence[Any] | None = None,
        *,
        _force_qmark_paramstyle: bool = False,
        _statement_params: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        self._session._statement_params = _statement_params
        _, data = self._session._execute(query, params, via="run_query")
        return {"data": data, "sfqid": self._session._next_query_id()}


class _FakeFileOperation:
    """`session.file`: PUT/GET against the in-memory stage (`session.stage_files`)."""

    def __init__(self, session: FakeSession) -> None:
        self._session = session

    def put(
        self,
        local_file_name: str,
        stage_location: str,
        *,
        parallel: int = 4,
        auto_compress: bool = True,
        source_compression: str = "AUTO_DETECT",
        overwrite: bool = False,
        statement_params: dict[str, Any] | None = None,
    ) -> list[Any]:
        s = self._session
        s._record(f"PUT {local_file_name} {stage_location}", None, "file")
        local = local_file_name[len("file://"):] if local_file_name.startswith("file://") else local_file_name
        target = s.canon_stage(stage_location).rstrip("/")
        results = []
        for path in sorted(glob.glob(local)):
            if os.path.isdir(path):
                continue
            key = f"{target}/{os.path.basename(path)}"
            if key in s.stage_files and not overwrite:
                s.skipped_puts.append(key)  # the connector skips an existing file unless overwrite=True
                continue
            with open(path, "rb") as handle:
                s.stage_files[key] = handle.read()
            results.append(key)
        return results

    def put_stream(
        self,
        input_stream: Any,
        stage_location: str,
        *,
        parallel: int = 4,
        auto_compress: bool = True,
        source_compression: str = "AUTO_DETECT",
        overwrite: bool = False,
    ) -> Any:
        s = self._session
        s._record(f"PUT_STREAM {stage_location}", None, "file")
        key = s.canon_stage(stage_location)
        input_stream.seek(0)  # zip streams arrive un-rewound; real Snowpark rewinds them
        data = input_stream.read()
        if key in s.stage_files and not overwrite:
            s.skipped_puts.append(key)
            return None
        s.stage_files[key] = data if isinstance(data, bytes) else data.encode()
        return key

    def get(self, stage_location: str, target_directory: str, **kwargs: Any) -> list[Any]:
        s = self._session
        s._record(f"GET {stage_location}", None, "file")
        key = s.canon_stage(stage_location)
        if key not in s.stage_files or s._lagging(key):
            return []  # nothing written: the caller's open() then fails like it does for real
        os.makedirs(target_directory, exist_ok=True)
        with open(os.path.join(target_directory, key.rsplit("/", 1)[-1]), "wb") as handle:
            handle.write(s.stage_files[key])
        return [key]


class _FakeConf:
    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)


class FakeSession:
    """The fake session plus its account state. Construct, add pools/EAIs/grants, pass as `session=`."""

    def __init__(
        self,
        *,
        database: str | None = "ML_DB",
        schema: str | None = "PUBLIC",
        warehouse: str | None = "ML_WH",
        role: str = "ML_ROLE",
        account: str = "FAKE_ACCOUNT",
        application: str | None = None,
    ) -> None:
        self.database, self.schema, self.warehouse, self.role, self.account = (
            database, schema, warehouse, role, account,
        )  # fmt: skip
        self._conn = _FakeConnection(self)
        self.file = _FakeFileOperation(self)
        self.conf = _FakeConf({"application": application} if application else {})
        self.queries: list[Statement] = []
        self.stage_files: dict[str, bytes] = {}
        self.skipped_puts: list[str] = []
        self.stages: dict[str, dict[str, Any]] = {}
        self.pools: list[dict[str, Any]] = []
        self.pool_columns: tuple[str, ...] = POOL_COLUMNS
        self.families: list[dict[str, Any]] | None = None  # None: SHOW ... INSTANCE FAMILIES is not supported
        self.eais: dict[str, dict[str, Any]] = {}
        self.network_rules: dict[str, dict[str, Any]] = {}
        self.account_usage_readable = False
        self.grants: list[dict[str, Any]] = []
        self.jobs: dict[str, FakeJob] = {}
        self.submissions: list[dict[str, Any]] = []
        self.runtime_requests: list[tuple[str, str]] = []
        self.validate_eais = True
        # Roles granted to the user. DEFAULT_SECONDARY_ROLES is ('ALL') since the 2024_08 behavior bundle
        # (mljobs-api.md §10.8): every granted role other than the primary is an active secondary role.
        self.user_roles: list[str] = [role.upper()]
        self.secondary_roles: str | list[str] = "ALL"  # "ALL", "NONE" or explicit role names
        self.secondary_roles_supported = True
        self.enforce_privileges = False  # True: EXECUTE_ML_JOB checks grants and fails with 3001 like the server
        self.region: str | None = "AWS_US_WEST_2"
        self.closed = False
        self._injections: list[_Injection] = []
        self._statement_params: dict[str, Any] | None = None
        self._query_counter = 0
        self._job_counter = 0
        self.now = _dt.datetime(2025, 1, 6, 12, 0, tzinfo=_dt.timezone.utc)

    # ----------------------------------------------------------------- session surface
    def sql(self, query: str, params: Sequence[Any] | None = None, **kwargs: Any) -> FakeDataFrame:
        return FakeDataFrame(self, query, params)

    def get_current_database(self) -> str | None:
        return f'"{self.database}"' if self.database else None

    def get_current_schema(self) -> str | None:
        return f'"{self.schema}"' if self.schema else None

    def get_current_warehouse(self) -> str | None:
        return f'"{self.warehouse}"' if self.warehouse else None

    def get_current_role(self) -> str | None:
        return f'"{self.role}"' if self.role else None

    def get_current_account(self) -> str:
        return f'"{self.account}"'

    def use_database(self, name: str) -> None:
        self.database = _ident_parts(name)[-1]

    def use_schema(self, name: str) -> None:
        parts = _ident_parts(name)
        if len(parts) == 2:
            self.database = parts[0]
        self.schema = parts[-1]

    def close(self) -> None:
        self.closed = True

    # ----------------------------------------------------------------- account state helpers
    def add_pool(self, name: str, *, state: str = "IDLE", family: str = "CPU_X64_S", **columns: Any) -> dict[str, Any]:
        row: dict[str, Any] = {
            "name": name.upper(), "state": state, "min_nodes": 1, "max_nodes": 1, "instance_family": family,
            "num_services": 0, "num_jobs": 0, "auto_suspend_secs": 3600, "auto_resume": "true",
            "active_nodes": 0, "idle_nodes": 1, "target_nodes": 1, "created_on": self.now, "resumed_on": self.now,
            "updated_on": self.now, "owner": "SYSADMIN", "comment": None, "is_exclusive": "false",
            "application": None, "placement_group": None, "backup_instance_families": None,
        }  # fmt: skip
        row.update(columns)
        self.pools.append(row)
        return row

    def add_family(self, name: str, *, vcpu: float, memory_gib: float, gpu: str | None = None,
                   gpu_count: int = 0, gpu_memory_gib: float | None = None, **columns: Any) -> None:  # fmt: skip
        """A SHOW COMPUTE POOL INSTANCE FAMILIES row; `gpu_memory_gib` is per GPU, as that command reports it."""
        if self.families is None:
            self.families = []
        row = {
            "name": name, "description": f"{name} instance", "vcpu": vcpu, "memory_gib": memory_gib,
            "storage_gib": 100, "gpu": gpu, "gpu_count": gpu_count, "gpu_memory_gib": gpu_memory_gib,
            "current_node_usage": 0, "message": None,
        }  # fmt: skip
        row.update(columns)
        self.families.append(row)

    def add_eai(self, name: str, rules: Iterable[str] = (), *, enabled: bool = True, comment: str | None = None,
                rules_text: str | None = None, describable: bool = True) -> None:  # fmt: skip
        """An EAI; `rules_text` overrides how DESC shows ALLOWED_NETWORK_RULES (for odd formats)."""
        rules = list(rules)
        self.eais[name.upper()] = {
            "enabled": enabled, "comment": comment, "describable": describable,
            "rules_text": rules_text if rules_text is not None else "[" + ", ".join(rules) + "]",
        }  # fmt: skip

    def add_network_rule(self, fq_name: str, values: Iterable[str], *, owned: bool = True, type: str = "HOST_PORT",
                         mode: str = "EGRESS", in_account_usage: bool = True) -> None:  # fmt: skip
        self.network_rules[".".join(_ident_parts(fq_name))] = {
            "values": list(values), "owned": owned, "type": type, "mode": mode, "in_account_usage": in_account_usage,
        }  # fmt: skip

    def add_stage(self, name: str, *, kind: str = "INTERNAL") -> str:
        key = self.canon_stage(name).lstrip("@")
        db, schema, stage = key.split(".")
        self.stages[key] = {
            "created_on": self.now, "name": stage, "database_name": db, "schema_name": schema, "url": "",
            "has_credentials": "N", "has_encryption_key": "N", "owner": self.role, "comment": "",
            "region": None, "type": kind, "cloud": None, "notification_channel": None,
            "storage_integration": None, "endpoint": None, "owner_role_type": "ROLE", "directory_enabled": "N",
        }  # fmt: skip
        return key

    def grant(self, privilege: str, on: str, name: str, role: str | None = None, *, granted_to: str = "ROLE") -> None:
        """Grant `privilege` on object type `on` (DATABASE, SCHEMA, COMPUTE_POOL, INTEGRATION...) to a role."""
        self.grants.append({
            "created_on": self.now, "privilege": privilege.upper(), "granted_on": on.upper().replace(" ", "_"),
            "name": ".".join(_ident_parts(name)), "granted_to": granted_to,
            "grantee_name": (role or self.role).upper(), "grant_option": "false", "granted_by": "SECURITYADMIN",
        })  # fmt: skip

    def grant_role(self, role: str, to_role: str) -> None:
        """`GRANT ROLE role TO ROLE to_role`: to_role inherits role's privileges."""
        self.grant("USAGE", "ROLE", role, to_role)

    def grant_database_role(self, db_role: str, to_role: str, *, to_database_role: bool = False) -> None:
        """`GRANT DATABASE ROLE db.r TO ROLE to_role` (or TO DATABASE ROLE): shown with granted_on DATABASE_ROLE."""
        self.grant("USAGE", "DATABASE_ROLE", db_role, to_role,
                   granted_to="DATABASE_ROLE" if to_database_role else "ROLE")

    def grant_to_user(self, role: str) -> None:
        """`GRANT ROLE role TO USER <the session user>`: with secondary roles ALL it becomes active."""
        self.user_roles.append(role.upper())

    def active_secondary_roles(self) -> list[str]:
        """Roles CURRENT_SECONDARY_ROLES() lists: granted directly to the user, other than the primary."""
        if self.secondary_roles == "NONE":
            return []
        names = self.user_roles if self.secondary_roles == "ALL" else [r.upper() for r in self.secondary_roles]
        return [r for r in dict.fromkeys(names) if r != self.role.upper()]

    def roles_in_effect(self, *, primary_only: bool = False) -> set[str]:
        """The primary (and secondary) roles with everything they inherit, database roles as DB.NAME, and PUBLIC."""
        start = [self.role.upper()] + ([] if primary_only else self.active_secondary_roles())
        seen, frontier = set(start), list(start)
        while frontier:
            current = frontier.pop()
            for g in self.grants:
                if g["grantee_name"] == current and g["granted_on"] in ("ROLE", "DATABASE_ROLE") and g["name"] not in seen:
                    seen.add(g["name"])
                    frontier.append(g["name"])
        return seen | {"PUBLIC"}

    def holds(self, privilege: str, on: str, name: str, *, primary_only: bool = False) -> bool:
        """Whether the session's roles hold `privilege` (or OWNERSHIP) on the object."""
        roles = self.roles_in_effect(primary_only=primary_only)
        key = ".".join(_ident_parts(name))
        return any(g["granted_on"] == on and g["name"] == key and g["grantee_name"] in roles
                   and g["privilege"] in (privilege, "OWNERSHIP") for g in self.grants)  # fmt: skip

    def inject(self, pattern: str, error: BaseException | Callable[[], BaseException], times: int | None = 1, *,
               after: bool = False) -> None:  # fmt: skip
        """Make statements matching `pattern` (regex, case-insensitive) raise `error`, `times` times (None: always).

        With `after`, the statement runs first (its effect stays) and then the error is raised.
        """
        self._injections.append(_Injection(re.compile(pattern, re.IGNORECASE | re.DOTALL), error, times, after))

    # ----------------------------------------------------------------- job helpers for tests
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

    # ----------------------------------------------------------------- internals
    def canon_stage(self, location: str) -> str:
        """`@stage/a//b` -> `@DB.SCHEMA.STAGE/a/b` (stage name qualified and upper-cased, path case kept)."""
        loc = location.strip()
        if len(loc) > 1 and loc[0] == loc[-1] == "'":
            loc = loc[1:-1]
        loc = loc.lstrip("@")
        match = re.match(r'^((?:"(?:[^"]|"")*"|[^/"])+)(/.*)?$', loc)
        if not match:
            raise sql_error(f"SQL compilation error: invalid stage location '{location}'", 1003)
        parts = _ident_parts(match.group(1))
        if len(parts) == 1:
            parts = [self.database or "", self.schema or "", *parts]
        elif len(parts) == 2:
            parts = [self.database or "", *parts]
        path = re.sub(r"/+", "/", match.group(2) or "")
        return "@" + ".".join(parts) + path

    def _lagging(self, key: str) -> bool:
        """True (and one read used up) while a finished job's result location is not yet visible."""
        for job in self.jobs.values():
            if job.result_lag > 0 and key.startswith(self.canon_stage(job.result_stage_path) + "/"):
                job.result_lag -= 1
                return True
        return False

    def _next_query_id(self) -> str:
        self._query_counter += 1
        return f"01b2c3d4-0000-{self._query_counter:04d}-0000-000000000000"

    def _record(self, sql: str, params: Sequence[Any] | None, via: str) -> None:
        self.queries.append(Statement(sql, tuple(params) if params is not None else None, via))
        self._maybe_fail(sql, after=False)

    def _maybe_fail(self, sql: str, *, after: bool) -> None:
        norm = " ".join(sql.split())
        for inj in self._injections:
            if inj.after == after and inj.times != 0 and inj.pattern.search(norm):
                if inj.times is not None:
                    inj.times -= 1
                raise inj.error() if callable(inj.error) and not isinstance(inj.error, BaseException) else inj.error

    def _rows(self, columns: Sequence[str], data: list[list[Any]]) -> list[Any]:
        meta = [ResultMetadata(c, 2, None, None, None, None, True) for c in columns]
        return result_set_to_rows(data, meta)

    def _table(self, columns: Sequence[str], dicts: Iterable[dict[str, Any]]) -> tuple[tuple[str, ...], list[list[Any]]]:
        cols = tuple(columns)
        return cols, [[d.get(c) for c in cols] for d in dicts]

    def _execute(self, query: str, params: Sequence[Any] | None, via: str) -> tuple[tuple[str, ...], list[list[Any]]]:
        self._record(query, params, via)
        norm = " ".join(query.split())
        for pattern, handler in self._HANDLERS:
            match = re.match(pattern, norm, re.IGNORECASE | re.DOTALL)
            if match:
                columns, data = handler(self, match, list(params or ()))
                self._maybe_fail(query, after=True)
                self._conn._cursor.description = [
                    ResultMetadata(c, 2, None, None, None, None, True) for c in columns
                ]
                return columns, data
        raise sql_error(f"FakeSession does not understand this statement: {norm[:200]}", 1003)

    def _lookup_job(self, job_id: str, *, include_deleted: bool = False) -> FakeJob:
        key = ".".join(_ident_parts(job_id))
        if len(key.split(".")) == 1:
            key = f"{self.database}.{self.schema}.{key}"
        job = self.jobs.get(key)
        if job is None or (job.deleted_on is not None and not include_deleted):
            raise sql_error(f"SQL compilation error:\nService '{job_id}' does not exist or not authorized.", 2003)
        return job

    def _pool(self, name: str) -> dict[str, Any] | None:
        upper = ".".join(_ident_parts(name))
        return next((p for p in self.pools if str(p.get("name", "")).upper() == upper), None)

    # ----------------------------------------------------------------- handlers (pattern, method)
    def _h_describe_stage(self, m: re.Match[str], params: list[Any]) -> Any:
        key = self.canon_stage(params[0]).lstrip("@")
        if key not in self.stages:
            raise sql_error(f"SQL compilation error:\nStage '{key}' does not exist or not authorized.", 2003)
        return self._table(("parent_property", "property", "property_type", "property_value", "property_default"),
                           [{"parent_property": "STAGE_LOCATION", "property": "URL", "property_value": ""}])

    def _h_create_stage(self, m: re.Match[str], params: list[Any]) -> Any:
        key = self.canon_stage(params[0]).lstrip("@")
        if key not in self.stages:
            self.add_stage(key)
        return ("status",), [["Stage area successfully created."]]

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

    def _h_remove(self, m: re.Match[str], params: list[Any]) -> Any:
        prefix = self.canon_stage(m.group("loc"))
        removed = [k for k in self.stage_files if k.startswith(prefix)]
        for key in removed:
            del self.stage_files[key]
        return ("name", "result"), [[k.lstrip("@"), "removed"] for k in removed]

    def _h_list(self, m: re.Match[str], params: list[Any]) -> Any:
        prefix = self.canon_stage(m.group("loc"))
        if self._lagging(prefix.rstrip("/") + "/"):
            return ("name", "size", "md5", "last_modified"), []
        keys = sorted(k for k in self.stage_files if k.startswith(prefix))
        # LIST names a file by the stage's own name, lower-cased, and its path (docs "LIST"), e.g. payload/a/b.
        return ("name", "size", "md5", "last_modified"), [
            [k.lstrip("@").split("/", 1)[0].rsplit(".", 1)[-1].lower() + "/" + k.split("/", 1)[1],
             len(self.stage_files[k]), hashlib.md5(self.stage_files[k]).hexdigest(), str(self.now)]
            for k in keys
        ]

    def _h_drop_service(self, m: re.Match[str], params: list[Any]) -> Any:
        job = self._lookup_job(params[0])
        job.deleted_on = self.now
        return ("status",), [[f"{job.name} successfully dropped."]]

    def _h_copy_files(self, m: re.Match[str], params: list[Any]) -> Any:
        dst, src = self.canon_stage(m.group("dst")), self.canon_stage(m.group("src"))
        copied = []
        for key in [k for k in self.stage_files if k.startswith(src)]:
            rel = key[len(src):].lstrip("/") if src.endswith("/") or key != src else key.rsplit("/", 1)[-1]
            target = dst.rstrip("/") + "/" + rel
            self.stage_files[target] = self.stage_files[key]
            copied.append(target)
        if not copied:
            raise sql_error(f"Remote file '{m.group('src')}' was not found.", 253006)
        return ("file",), [[c] for c in copied]

    def _h_show_pools(self, m: re.Match[str], params: list[Any]) -> Any:
        pools = self.pools
        if m.group("like"):
            pattern = params[0] if m.group("like") == "?" else m.group("like").strip("'")
            regex = re.compile("^" + re.escape(pattern).replace("%", ".*").replace("_", ".") + "$", re.IGNORECASE)
            pools = [p for p in pools if regex.match(str(p.get("name")))]
        extra = [k for p in self.pools for k in p if k not in self.pool_columns]
        return self._table(tuple(self.pool_columns) + tuple(dict.fromkeys(extra)), pools)

    def _h_show_families(self, m: re.Match[str], params: list[Any]) -> Any:
        if self.families is None:
            raise sql_error("SQL compilation error:\nsyntax error line 1 at position 18 unexpected 'INSTANCE'.", 1003)
        return self._table(FAMILY_COLUMNS, self.families)

    def _h_show_eais(self, m: re.Match[str], params: list[Any]) -> Any:
        rows = [{"name": n, "type": "EXTERNAL_ACCESS", "category": "SECURITY", "enabled": _bool_text(e["enabled"]),
                 "comment": e["comment"], "created_on": self.now} for n, e in self.eais.items()]  # fmt: skip
        return self._table(("name", "type", "category", "enabled", "comment", "created_on"), rows)

    def _h_desc_integration(self, m: re.Match[str], params: list[Any]) -> Any:
        name = ".".join(_ident_parts(m.group("name")))
        eai = self.eais.get(name)
        if eai is None or not eai["describable"]:
            raise sql_error(f"SQL compilation error:\nIntegration '{name}' does not exist or not authorized.", 2003)
        props = [
            ("ENABLED", "Boolean", _bool_text(eai["enabled"]), "false"),
            ("ALLOWED_NETWORK_RULES", "List", eai["rules_text"], "[]"),
            ("ALLOWED_API_AUTHENTICATION_INTEGRATIONS", "List", "[]", "[]"),
            ("ALLOWED_AUTHENTICATION_SECRETS", "List", "[]", "[]"),
            ("COMMENT", "String", eai["comment"] or "", ""),
        ]
        return ("property", "property_type", "property_value", "property_default"), [list(p) for p in props]

    def _h_desc_rule(self, m: re.Match[str], params: list[Any]) -> Any:
        name = ".".join(_ident_parts(m.group("name")))
        rule = self.network_rules.get(name)
        if name.startswith("SNOWFLAKE."):
            raise sql_error(f"SQL compilation error:\nNetwork rule '{name}' does not exist or not authorized.", 2003)
        if rule is None:
            raise sql_error(f"SQL compilation error:\nNetwork rule '{name}' does not exist or not authorized.", 2003)
        if not rule["owned"]:
            raise sql_error(f"SQL access control error:\nInsufficient privileges to operate on network rule '{name}'",
                            3001)  # fmt: skip
        db, schema, rule_name = name.split(".")
        row = {"created_on": self.now, "name": rule_name, "database_name": db, "schema_name": schema,
               "owner": self.role, "comment": "", "type": rule["type"], "mode": rule["mode"],
               "value_list": ",".join(rule["values"])}  # fmt: skip
        return self._table(tuple(row), [row])

    def _h_account_usage_rules(self, m: re.Match[str], params: list[Any]) -> Any:
        if not self.account_usage_readable:
            raise sql_error("SQL compilation error:\nObject 'SNOWFLAKE.ACCOUNT_USAGE.NETWORK_RULES' does not exist "
                            "or not authorized.", 2003)  # fmt: skip
        db, schema, name = (str(p).upper() for p in params[:3])
        rule = self.network_rules.get(f"{db}.{schema}.{name}")
        rows = []
        if rule is not None and rule["in_account_usage"]:
            rows.append({"VALUE_LIST": ",".join(rule["values"]), "TYPE": rule["type"], "MODE": rule["mode"]})
        return self._table(("VALUE_LIST", "TYPE", "MODE"), rows)

    def _h_show_stages(self, m: re.Match[str], params: list[Any]) -> Any:
        parts = _ident_parts(m.group("schema"))
        if len(parts) == 1:
            parts = [self.database or "", *parts]
        rows = [s for s in self.stages.values() if [s["database_name"], s["schema_name"]] == parts]
        cols = tuple(rows[0]) if rows else ("created_on", "name", "database_name", "schema_name", "type")
        return self._table(cols, rows)

    def _h_grants_on(self, m: re.Match[str], params: list[Any]) -> Any:
        kind = m.group("kind").upper().replace(" ", "_")
        name = ".".join(_ident_parts(m.group("name")))
        rows = [g for g in self.grants if g["granted_on"] == kind and g["name"] == name]
        return self._table(GRANT_COLUMNS, rows)

    def _h_grants_to_role(self, m: re.Match[str], params: list[Any]) -> Any:
        role = ".".join(_ident_parts(m.group("name")))
        kind = "DATABASE_ROLE" if m.group("db") else "ROLE"
        rows = [g for g in self.grants if g["granted_to"] == kind and g["grantee_name"] == role]
        return self._table(GRANT_COLUMNS, rows)

    def _h_secondary_roles(self, m: re.Match[str], params: list[Any]) -> Any:
        """docs "CURRENT_SECONDARY_ROLES": a JSON object, e.g. {"roles":"ROLE1,ROLE2","value":"ALL"}."""
        if not self.secondary_roles_supported:
            raise sql_error("SQL compilation error:\nUnknown function CURRENT_SECONDARY_ROLES", 2140)
        value = self.secondary_roles if isinstance(self.secondary_roles, str) else ",".join(self.secondary_roles)
        text = json.dumps({"roles": ",".join(self.active_secondary_roles()), "value": value}, separators=(",", ":"))
        return (m.group("alias") or "CURRENT_SECONDARY_ROLES()",), [[text]]

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

    def _h_region(self, m: re.Match[str], params: list[Any]) -> Any:
        return ("REGION",), [[self.region]]

    _ID = r"(?P<id>[A-Za-z0-9_$.\"]+)"
    _HANDLERS: list[tuple[str, Callable[..., Any]]] = [
        (r"^describe stage identifier\(\?\)$", _h_describe_stage),
        (r"^create stage if not exists identifier\(\?\)", _h_create_stage),
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
        (r"^REMOVE (?P<loc>@\S+)$", _h_remove),
        (r"^LIST (?P<loc>@\S+)$", _h_list),
        (r"^DROP SERVICE IDENTIFIER\(\?\)$", _h_drop_service),
        (r"^copy files into (?P<dst>@\S+) from (?P<src>@\S+)$", _h_copy_files),
        (r"^SHOW COMPUTE POOLS(?: LIKE (?P<like>\?|'[^']*'))?$", _h_show_pools),
        (r"^SHOW COMPUTE POOL INSTANCE FAMILIES$", _h_show_families),
        (r"^SHOW EXTERNAL ACCESS INTEGRATIONS$", _h_show_eais),
        (r"^DESC(?:RIBE)? (?:EXTERNAL ACCESS )?INTEGRATION (?P<name>\S+)$", _h_desc_integration),
        (r"^DESC(?:RIBE)? NETWORK RULE (?P<name>\S+)$", _h_desc_rule),
        (r"^SELECT VALUE_LIST, TYPE, MODE FROM SNOWFLAKE\.ACCOUNT_USAGE\.NETWORK_RULES WHERE DATABASE_NAME = \? "
         r"AND SCHEMA_NAME = \? AND NAME = \? AND DELETED IS NULL", _h_account_usage_rules),
        (r"^SHOW STAGES IN SCHEMA (?P<schema>\S+)$", _h_show_stages),
        (r"^SHOW GRANTS ON (?P<kind>DATABASE|SCHEMA|COMPUTE POOL|INTEGRATION) (?P<name>\S+)$", _h_grants_on),
        (r"^SHOW GRANTS TO (?P<db>DATABASE )?ROLE (?P<name>\S+)$", _h_grants_to_role),
        (r"^SELECT CURRENT_SECONDARY_ROLES\(\)(?: AS (?P<alias>\w+))?$", _h_secondary_roles),
        (r"^SHOW JOB SERVICES LIKE (?P<like>\?|'[^']*') IN SCHEMA (?P<schema>\S+)$", _h_show_job_services),
        (r"^SELECT CURRENT_REGION\(\)(?: AS \w+)?$", _h_region),
    ]

