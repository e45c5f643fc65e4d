"""A duck-typed Snowpark session that the real snowflake-ml-python 2.6.0 can drive offline.

It emulates the six session surfaces the ML Jobs client uses (research mljobs-api.md §6.1): `_conn.run_query`,
`_conn._cursor.description` / `_preprocess_pyformat_query`, `sql(...).collect()`, `file.put/put_stream/get`,
`get_current_*` (quoted, like real Snowpark) and `conf.get`. Behind them sits a small in-memory account:
compute pools, instance families, EAIs and network rules, stages with files, grants (to account roles and
database roles, with secondary roles), and ML jobs whose status the test drives.

Every statement is recorded in `session.queries` (SQL text, bind params, channel). Unknown SQL raises
`SnowparkSQLException` so nothing the code under test sends passes unnoticed, and `inject()` makes chosen
statements fail (transient errors N times, permanent errors always).

The job service lives in jobservice.py (mixed in), and container.py runs a job's payload with the library's
own launcher. Server behaviour, each from the library's source or a documented fact (cited where it is
implemented):
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
from dataclasses import dataclass
from typing import Any, NamedTuple

from snowflake.connector.converter import SnowflakeConverter
from snowflake.connector.cursor import ResultMetadata
from snowflake.snowpark import Column
from snowflake.snowpark._internal.utils import result_set_to_rows

from .jobservice import FakeJob, JobServer
from .sqltext import _bool_text, _ident_parts, sql_error

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
class Statement(NamedTuple):
    """One statement the code under test sent: SQL text (or `PUT`/`GET` for file calls), params, channel."""

    sql: str
    params: tuple[Any, ...] | None
    via: str  # "run_query" | "sql" | "file"


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


class FakeSession(JobServer):
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

    def _h_region(self, m: re.Match[str], params: list[Any]) -> Any:
        return ("REGION",), [[self.region]]

    _HANDLERS: list[tuple[str, Callable[..., Any]]] = [
        (r"^describe stage identifier\(\?\)$", _h_describe_stage),
        (r"^create stage if not exists identifier\(\?\)", _h_create_stage),
        (r"^REMOVE (?P<loc>@\S+)$", _h_remove),
        (r"^LIST (?P<loc>@\S+)$", _h_list),
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
        (r"^SELECT CURRENT_REGION\(\)(?: AS \w+)?$", _h_region),
        *JobServer.JOB_HANDLERS,
    ]
