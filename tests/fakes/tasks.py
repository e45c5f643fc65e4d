"""A fake `snowflake.core` schema resource for the real `DAGOperation`, and a task-graph run over a FakeSession.

`DAGOperation(schema)` only touches `schema.tasks.create(task, mode=...)` and `schema.tasks[name]` with
`resume/suspend/drop/fetch/execute/fetch_task_dependents`; `FakeRoot(session).databases[db].schemas[s]` hands out
that surface, so the real deploy logic (topological order, the low-level `Task` objects with the real `to_sql()`)
runs offline. `FakeTasks.execute` of a root runs one graph run: every child's SQL goes to the FakeSession in
dependency order, a failed task skips its successors, and the finalizer runs last whatever happened.

What Snowflake does that this has to invent: a synchronous `CALL SYSTEM$EXECUTE_ML_JOB` returns when the job ends
(the run completes the fake job with the outcome the test chose), and `REMOVE ... PATTERN = '<regex>'` (which the
FakeSession does not parse) removes the stage files under the prefix whose path matches the regex.
"""

from __future__ import annotations

import re
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from snowflake.core._common import CreateMode
from snowflake.core.exceptions import ConflictError, NotFoundError


@dataclass
class GraphRun:
    """What one run of a deployed graph did: task -> SUCCEEDED | FAILED | SKIPPED, in the order they ran."""

    states: dict[str, str] = field(default_factory=dict)
    job_ids: dict[str, str] = field(default_factory=dict)
    statements: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


class _TaskHandle:
    def __init__(self, tasks: FakeTasks, name: str) -> None:
        self._tasks, self.name = tasks, name

    def _get(self) -> Any:
        if self.name not in self._tasks.created:
            raise NotFoundError(f"task {self.name} does not exist")
        return self._tasks.created[self.name]

    def fetch(self) -> Any:
        return self._get()

    def resume(self) -> None:
        self._get()
        self._tasks.started.add(self.name)
        self._tasks.log.append(("resume", self.name))

    def suspend(self) -> None:
        self._get()
        self._tasks.started.discard(self.name)
        self._tasks.log.append(("suspend", self.name))

    def drop(self) -> None:
        self._get()
        del self._tasks.created[self.name]
        self._tasks.started.discard(self.name)
        self._tasks.log.append(("drop", self.name))

    def fetch_task_dependents(self) -> list[Any]:
        root = self._get()
        children = [t for n, t in self._tasks.created.items() if n.startswith(self.name + "$")]
        return [root, *children]

    def execute(self, *, retry_last: bool = False) -> None:
        self._get()
        self._tasks.log.append(("execute", self.name))
        self._tasks.executions.append((self.name, retry_last))
        if self._tasks.on_execute is not None:
            self._tasks.runs.append(self._tasks.on_execute(self.name, retry_last))


class FakeTasks:
    """`schema.tasks`: created low-level Task objects by name, started tasks, and every call in `log`."""

    def __init__(self) -> None:
        self.created: dict[str, Any] = {}
        self.started: set[str] = set()
        self.log: list[tuple[str, str]] = []
        self.executions: list[tuple[str, bool]] = []
        self.runs: list[GraphRun] = []
        self.on_execute: Callable[[str, bool], GraphRun] | None = None

    def create(self, task: Any, *, mode: CreateMode = CreateMode.error_if_exists) -> Any:
        mode = CreateMode[mode] if isinstance(mode, str) else mode
        if task.name in self.created and mode is CreateMode.error_if_exists:
            raise ConflictError(f"task {task.name} already exists")
        if task.name in self.created and mode is CreateMode.if_not_exists:
            return _TaskHandle(self, task.name)
        self.created[task.name] = task
        self.log.append(("create", task.name))
        return _TaskHandle(self, task.name)

    def __getitem__(self, name: str) -> _TaskHandle:
        return _TaskHandle(self, name)

    def children(self, root: str) -> list[Any]:
        return [t for n, t in self.created.items() if n.startswith(root + "$")]


class _Telemetry:
    """DAGOperation's telemetry wrapper reads `schema.root._telemetry_client`; events are kept, never sent."""

    def __init__(self) -> None:
        self.events: list[Any] = []

    def safe_send(self, event: Any) -> None:
        self.events.append(event)


class FakeSchema:
    def __init__(self, database: str, name: str) -> None:
        self.database, self.name = database, name
        self.tasks = FakeTasks()
        self.root = types.SimpleNamespace(_telemetry_client=_Telemetry())


class FakeRoot:
    """Stands in for `snowflake.core.Root(session)`: one FakeSchema per (database, schema), kept across calls."""

    schemas: dict[tuple[str, str], FakeSchema] = {}

    def __init__(self, session: Any) -> None:
        self.session = session

    @property
    def databases(self) -> Any:
        root = self

        class _Db:
            def __init__(self, db: str) -> None:
                self.db = db

            @property
            def schemas(self) -> Any:
                db = self.db

                class _Schemas:
                    def __getitem__(self, schema: str) -> FakeSchema:
                        key = (db, schema)
                        if key not in root.schemas:
                            root.schemas[key] = FakeSchema(db, schema)
                        return root.schemas[key]

                return _Schemas()

        class _Dbs:
            def __getitem__(self, db: str) -> _Db:
                return _Db(db)

        return _Dbs()


def remove_with_pattern(session: Any, sql: str) -> list[str]:
    """Emulate `REMOVE @stage/prefix/ PATTERN = 'regex'` on the FakeSession's stage files; return removed keys."""
    match = re.fullmatch(r"REMOVE (?P<loc>@\S+) PATTERN = '(?P<pattern>[^']*)'", sql.strip(), re.IGNORECASE)
    if not match:
        raise ValueError(f"not a REMOVE ... PATTERN statement: {sql}")
    prefix = session.canon_stage(match.group("loc"))
    regex = re.compile(match.group("pattern"))
    removed = [k for k in session.stage_files if k.startswith(prefix) and regex.fullmatch(k.lstrip("@"))]
    for key in removed:
        del session.stage_files[key]
    return removed


def graph_runner(session: Any, tasks: FakeTasks, *, outcomes: dict[str, str] | None = None,
                 failing_sql: tuple[str, ...] = ()) -> Callable[[str, bool], GraphRun]:
    """A run of the graph rooted at the executed task, against `session`.

    `outcomes`: child task short name -> final job status ("DONE" default, or "FAILED") for ML job tasks.
    `failing_sql`: substrings of other statements that fail (e.g. the predecessor's SQL).
    Other SQL that the FakeSession does not know (user procedures) is recorded as run.
    """
    outcomes = outcomes or {}

    def run(root: str, retry_last: bool) -> GraphRun:
        result = GraphRun()
        children = tasks.children(root)
        finalizer = [t for t in children if t.finalize]
        pending = [t for t in children if not t.finalize]
        done: set[str] = set()
        while pending:
            ready = [t for t in pending if all(p == root or p in done for p in (t.predecessors or [root]))]
            if not ready:
                raise AssertionError(f"cycle or missing predecessor among {[t.name for t in pending]}")
            for task in ready:
                pending.remove(task)
                done.add(task.name)
                short = task.name.split("$", 1)[1]
                if any(result.states.get(p.split("$", 1)[-1]) in ("FAILED", "SKIPPED")
                       for p in task.predecessors or []):
                    result.states[short] = "SKIPPED"
                    continue
                result.states[short] = _run_statement(session, task.definition, short, outcomes, failing_sql,
                                                      result)
        for task in finalizer:
            short = task.name.split("$", 1)[1]
            result.states[short] = _run_statement(session, task.definition, short, outcomes, failing_sql, result)
        return result

    return run


def _run_statement(session: Any, sql: str, short: str, outcomes: dict[str, str], failing_sql: tuple[str, ...],
                   result: GraphRun) -> str:
    result.statements.append(sql)
    if any(s in sql for s in failing_sql):
        return "FAILED"
    if sql.upper().startswith("REMOVE ") and " PATTERN = " in sql.upper():
        result.removed += remove_with_pattern(session, sql)
        return "SUCCEEDED"
    if sql.startswith("CALL SYSTEM$EXECUTE_ML_JOB("):
        job_id = session.sql(sql).collect()[0][0]
        result.job_ids[short] = job_id
        status = outcomes.get(short, "DONE")
        if status == "DONE":
            session.complete_job(job_id, {"task": short})
            return "SUCCEEDED"
        session.complete_job(job_id, error=("builtins.RuntimeError", "boom", "Traceback ..."))
        return "FAILED"
    try:
        session.sql(sql).collect()
    except Exception as exc:  # noqa: BLE001 - user procedures are unknown to the fake account
        if "does not understand" not in str(exc):
            return "FAILED"
    return "SUCCEEDED"
