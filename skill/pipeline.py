"""Snowflake task-graph and Apache Airflow DAG code that runs planned ML Jobs on a schedule.

`generate_pipeline` is the one entry. It reuses the submission code generator's plan validation and credential
handling (skill/codegen.py), writes every literal with `repr`, validates every identifier with
skill/identifiers.py, and checks that the result parses. Schedules are parsed strictly by `parse_schedule`.

Snowflake (snowflake.core.task.dagv1): each plan becomes one `MLJobDefinition`, registered once (its payload is
uploaded when the graph is deployed) and run synchronously by a task through the definition's `to_sql()`. The
payload of every job lives under `<stage>/<PIPELINE>/<JOB>/`; the finalizer removes what each run leaves behind
there (`output/`), never the payload, because later scheduled runs and `retry_last` still need it. Removing the
payload itself is the generated script's `--teardown`.

Airflow: a DAG file whose tasks submit each plan with snowflake-ml-python, pass the job id through XCom, wait,
log the result and fail on a failed job; a cleanup task (`trigger_rule="all_done"`) removes the payloads.
"""

from __future__ import annotations

import ast
import enum
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mljobs.analyzers.model import SubmitMethod

from .codegen import (
    NotGenerated,
    _fmt,
    _is_literal,
    _protect,
    _Secret,
    _strings,
    _Unsafe,
    _validated,
    submit_options,
)
from .account_equivalent import account_equivalent, eai_setup_sql
from .identifiers import InvalidIdentifier, qualify, validate_identifier, validate_stage
from .jobplan import JobPlan
from .redact import has_secret, redact

#: Snowflake's default USER_TASK_TIMEOUT_MS is 60 minutes; a task that runs an ML job waits for the whole job
#: (the job runs synchronously inside the task), so training would be killed after an hour. Without an estimate
#: from the user, each job task gets four hours.
DEFAULT_TASK_TIMEOUT_MINUTES = 240
#: USER_TASK_TIMEOUT_MS accepts up to one day (86,400,000 ms).
MAX_TASK_TIMEOUT_MINUTES = 24 * 60
#: A job needs minutes just to get a node and start its container; a graph started more often than this would
#: queue runs behind each other (the graph does not overlap runs by default).
MIN_INTERVAL_MINUTES = 10
#: Snowflake's longest interval schedule is 11,520 minutes (8 days).
MAX_INTERVAL_MINUTES = 11520
PREPARE_TASK = "PREPARE_DATA"
CLEANUP_TASK = "CLEANUP"
DEFAULT_AIRFLOW_CONN_ID = "snowflake_default"
DEFAULT_START_DATE = "2025-01-01"

_CONN_RE = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")
_AIRFLOW_CONN_RE = re.compile(r"^[A-Za-z0-9_.-]{1,250}$")
_TZ_RE = re.compile(r"^(UTC|GMT|[A-Z][A-Za-z_]+(/[A-Za-z0-9_+\-]+){1,2})$")
_DATE_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


class Orchestrator(str, enum.Enum):
    """Where the schedule lives."""

    SNOWFLAKE = "snowflake"  # a Snowflake task graph (snowflake.core.task.dagv1)
    AIRFLOW = "airflow"  # an Apache Airflow DAG file


class ScheduleError(ValueError):
    """A schedule that is not a valid cron expression or interval; the message says what is allowed."""


@dataclass(frozen=True, slots=True)
class Schedule:
    """A validated schedule: either a 5-field cron expression with a time zone, or an interval in minutes."""

    text: str
    cron: str | None = None
    timezone: str | None = None
    minutes: int | None = None

    def describe(self) -> str:
        if self.cron is not None:
            return f"cron '{self.cron}' ({self.timezone})"
        assert self.minutes is not None  # noqa: S101, sanity check: one of the two is set by parse_schedule
        return f"every {_minutes_text(self.minutes)}"


@dataclass(frozen=True, slots=True)
class PipelineCode:
    """Generated orchestration code (it parses) and what the user should know before deploying it.

    `deploy_steps` are the commands and grants needed to put the pipeline into service, in order.
    `code_hash` is what a deploy/run confirmation is bound to.
    """

    code: str
    orchestrator: Orchestrator
    warnings: tuple[str, ...] = ()
    deploy_steps: tuple[str, ...] = ()
    name: str = ""
    database: str | None = None
    schema: str | None = None
    #: Values standing in for account objects (a pipeline generated from local-pool plans): "VALUE: meaning".
    #: Deploying refuses while there are any; replace them (or generate again with an account).
    placeholders: tuple[str, ...] = ()

    @property
    def code_hash(self) -> str:
        return hashlib.sha256(self.code.encode("utf-8")).hexdigest()


# ------------------------------------------------------------------------------------------------ schedules

_MONTHS = {m: i + 1 for i, m in enumerate("JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split())}
_DAYS = {d: i for i, d in enumerate("SUN MON TUE WED THU FRI SAT".split())}
# (name, low, high, names, allows L)
_CRON_FIELDS: tuple[tuple[str, int, int, Mapping[str, int], bool], ...] = (
    ("minute", 0, 59, {}, False),
    ("hour", 0, 23, {}, False),
    ("day of month", 1, 31, {}, True),
    ("month", 1, 12, _MONTHS, False),
    ("day of week", 0, 6, _DAYS, True),
)
_INTERVAL_RE = re.compile(r"^(\d{1,6})(m|h|d)$")
_UNIT_MINUTES = {"m": 1, "h": 60, "d": 1440}


def _minutes_text(minutes: int) -> str:
    if minutes % 1440 == 0:
        return f"{minutes // 1440} day(s)"
    if minutes % 60 == 0:
        return f"{minutes // 60} hour(s)"
    return f"{minutes} minute(s)"


def _cron_value(token: str, field: tuple[str, int, int, Mapping[str, int], bool]) -> int:
    name, low, high, names, _ = field
    upper = token.upper()
    if upper in names:
        return names[upper]
    if not token.isdigit():
        allowed = f"{low}-{high}" + (f" or {', '.join(names)}" if names else "")
        raise ScheduleError(f"cron {name} value {token!r} is not a number ({allowed})")
    value = int(token)
    if not low <= value <= high:
        raise ScheduleError(f"cron {name} value {value} is out of range {low}-{high}")
    return value


def _cron_field(text: str, field: tuple[str, int, int, Mapping[str, int], bool]) -> set[int]:
    """The values one cron field selects; raises ScheduleError on anything Snowflake's cron does not accept."""
    name, low, high, _, allows_last = field
    values: set[int] = set()
    for item in text.split(","):
        if not item:
            raise ScheduleError(f"cron {name} field {text!r} has an empty list element")
        if allows_last and (item.upper() == "L" or (name == "day of week" and re.fullmatch(r"[0-6]L", item, re.I))):
            values.add(high)  # "last ..." -- for spacing checks any single value will do
            continue
        base, _, step_text = item.partition("/")
        step = 1
        if step_text:
            if not step_text.isdigit() or not 1 <= int(step_text) <= high - low + 1:
                raise ScheduleError(f"cron {name} step {step_text!r} must be a number from 1 to {high - low + 1}")
            step = int(step_text)
        if base == "*":
            start, end = low, high
        elif "-" in base:
            first, _, last = base.partition("-")
            start, end = _cron_value(first, field), _cron_value(last, field)
            if start > end:
                raise ScheduleError(f"cron {name} range {base!r} runs backwards")
        else:
            start = _cron_value(base, field)
            end = high if step_text else start
        values.update(range(start, end + 1, step))
    return values


def parse_schedule(text: str | None) -> Schedule | None:
    """Parse a schedule: a cron expression (`"0 6 * * *"`, optionally followed by a time zone such as
    `"0 6 * * 1-5 Europe/Berlin"`; UTC when omitted) or an interval (`"30m"`, `"6h"`, `"1d"`).

    Returns:
        None for no schedule (the graph runs only when started by hand), else the validated `Schedule`.

    Raises:
        ScheduleError: not 5 cron fields, a value out of range (minute 0-59, hour 0-23, day 1-31 or L,
            month 1-12 or JAN-DEC, weekday 0-6 or SUN-SAT or L/nL), a backwards range, a bad step or time zone,
            runs closer than MIN_INTERVAL_MINUTES apart, or an interval that is zero, below the minimum, above
            8 days, or in another unit.
    """
    if text is None:
        return None
    if not isinstance(text, str) or not text.strip():
        raise ScheduleError("schedule must be a cron expression like '0 6 * * *' or an interval like '6h'")
    cleaned = " ".join(text.split())
    interval = _INTERVAL_RE.match(cleaned)
    if interval:
        minutes = int(interval.group(1)) * _UNIT_MINUTES[interval.group(2)]
        if minutes <= 0:
            raise ScheduleError(f"interval {cleaned!r} must be positive")
        if minutes < MIN_INTERVAL_MINUTES:
            raise ScheduleError(f"interval {cleaned!r} is shorter than {MIN_INTERVAL_MINUTES} minutes; an ML job "
                                "needs minutes just to start, so runs would pile up")
        if minutes > MAX_INTERVAL_MINUTES:
            raise ScheduleError(f"interval {cleaned!r} is longer than Snowflake's maximum of 8 days "
                                f"({MAX_INTERVAL_MINUTES} minutes); use a cron expression instead")
        return Schedule(cleaned, minutes=minutes)
    if re.fullmatch(r"-?\d+(\.\d+)?\s*[A-Za-z]*", cleaned):
        raise ScheduleError(f"interval {cleaned!r} must be a positive whole number of minutes, hours or days: "
                            "'30m', '6h', '1d'")
    parts = cleaned.split(" ")
    timezone = "UTC"
    if len(parts) == 6:
        timezone = parts.pop()
        if not _TZ_RE.match(timezone):
            raise ScheduleError(f"time zone {timezone!r} must be a tz database name such as UTC or Europe/Berlin")
    if len(parts) != 5:
        raise ScheduleError(f"cron expression {cleaned!r} must have 5 fields (minute hour day-of-month month "
                            "day-of-week), optionally followed by a time zone")
    selected = [_cron_field(part, field) for part, field in zip(parts, _CRON_FIELDS, strict=True)]
    minute_marks, hour_marks = sorted(selected[0]), sorted(selected[1])
    gaps = [b - a for a, b in zip(minute_marks, minute_marks[1:], strict=False)]
    gaps.append(60 - minute_marks[-1] + minute_marks[0])
    if len(hour_marks) > 1 or len(minute_marks) > 1:
        if min(gaps) < MIN_INTERVAL_MINUTES:
            raise ScheduleError(f"cron expression {cleaned!r} runs every {min(gaps)} minute(s); the minimum is "
                                f"{MIN_INTERVAL_MINUTES} minutes because an ML job needs minutes just to start")
    return Schedule(cleaned, cron=" ".join(parts), timezone=timezone)


# ------------------------------------------------------------------------------------------------ shared checks


@dataclass(frozen=True, slots=True)
class _Job:
    """One plan as a pipeline step: its task name, the register/submit keyword arguments and its payload path."""

    plan: JobPlan
    task: str
    kwargs: list[tuple[str, Any]]
    args: list[Any]
    payload_path: str  # <stage>/<PIPELINE>/<JOB>


def _kwargs(plan: JobPlan, reqs: list[Any], env_vars: dict[str, Any], warehouse: str | None
            ) -> list[tuple[str, Any]]:
    """Every plan field as a keyword argument of MLJobDefinition.register / submit_*, in a stable order."""
    kw: list[tuple[str, Any]] = []
    if plan.method is SubmitMethod.SUBMIT_DIRECTORY:
        kw.append(("entrypoint", plan.entrypoint))
    elif plan.method is SubmitMethod.SUBMIT_FROM_STAGE:
        # A stage source takes the entrypoint as a full stage path (as the Snowflake backend passes it).
        kw.append(("entrypoint", f"{plan.source.rstrip('/')}/{plan.entrypoint}"))
    kw += submit_options(plan, reqs, env_vars, warehouse=warehouse)
    return [(k, v) for k, v in kw if v is not None]


def _prepare_jobs(plans: Sequence[JobPlan], pipeline: str, stage: str, warehouse: str | None, *, allow_secrets: bool,
                  warnings: list[str]) -> list[_Job]:
    """Validate every plan and turn it into a step. Raises InvalidIdentifier/_Unsafe for what cannot be written."""
    jobs: list[_Job] = []
    seen: set[str] = set()
    for plan in plans:
        if plan.backend != "snowflake":
            raise _Unsafe(f"plan {plan.name} targets the {plan.backend!r} backend; pipelines run on Snowflake")
        if plan.method is SubmitMethod.REMOTE:
            raise _Unsafe(f"plan {plan.name} uses @remote; a pipeline step runs a script, so plan it with "
                          "submit_file or submit_directory")
        warnings += _validated(plan)
        task = validate_identifier(plan.name.rsplit(".", 1)[-1], "job name")
        if task in seen:
            raise _Unsafe(f"two plans are named {task}; give each job in a pipeline its own name")
        if task in (PREPARE_TASK, CLEANUP_TASK):
            raise _Unsafe(f"job name {task} is reserved for the pipeline's own task; rename the job")
        seen.add(task)
        if validate_stage(plan.stage_name).split("/", 1)[0] != stage.split("/", 1)[0]:
            warnings.append(f"plan {task} names stage {plan.stage_name}; the pipeline keeps every job's payload "
                            f"under {stage}/{pipeline}/")
        args, reqs, env_vars, secrets = _protect(plan, warnings)
        if secrets and not allow_secrets:
            raise _Unsafe(f"plan {task} holds a credential ({', '.join(secrets)}); in a task graph it would be "
                          "stored in the task's SQL, readable by anyone who can see the task. Mount a Snowflake "
                          "secret instead (mljobs.skill.spec.secret_env_override)")
        if plan.requirements_file:
            if plan.method is SubmitMethod.SUBMIT_FILE:
                raise _Unsafe(f"plan {task}: requirements_file only travels with a folder or stage source")
            if reqs:
                raise _Unsafe(f"plan {task} has both requirements_file and pip_requirements; pip_requirements "
                              "replace the file in the payload, so merge them into one")
            env_vars = {**env_vars, "MLRS_REQUIREMENTS_FILE": plan.requirements_file}
        if plan.method is SubmitMethod.SUBMIT_FROM_STAGE:
            validate_stage(plan.source, "source stage")
        jobs.append(_Job(plan, task, _kwargs(plan, reqs, env_vars, warehouse), args,
                         f"{stage}/{pipeline}/{task}"))
    return jobs


def _check_inputs(name: str, warehouse: str | None, predecessor_sql: str | None, timeout: int | None,
                  config: Mapping[str, Any] | None, warnings: list[str]) -> tuple[str, str | None, int]:
    pipeline = validate_identifier(name, "pipeline name")
    wh = validate_identifier(warehouse, "warehouse") if warehouse is not None else None
    minutes = DEFAULT_TASK_TIMEOUT_MINUTES if timeout is None else timeout
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not 1 <= minutes <= MAX_TASK_TIMEOUT_MINUTES:
        raise _Unsafe(f"task timeout must be 1-{MAX_TASK_TIMEOUT_MINUTES} minutes (Snowflake caps "
                      "USER_TASK_TIMEOUT_MS at one day)")
    if timeout is None:
        warnings.append(f"each job task may run {DEFAULT_TASK_TIMEOUT_MINUTES} minutes: Snowflake's default task "
                        "timeout (60 minutes) would kill a longer training job, because the task waits for the job; "
                        "pass the job's expected length (task_timeout_minutes, CLI --timeout-minutes) with some margin")
    if predecessor_sql is not None:
        if not predecessor_sql.strip():
            raise _Unsafe("predecessor SQL is empty")
        if has_secret(predecessor_sql):
            raise _Unsafe(f"predecessor SQL holds a credential ({redact(predecessor_sql)[:80]}); use a Snowflake "
                          "secret or storage integration instead")
        if ";" in predecessor_sql.strip().rstrip(";"):
            warnings.append("the predecessor SQL looks like several statements; a task runs one statement, so wrap "
                            "them in a stored procedure or EXECUTE IMMEDIATE $$ BEGIN ... END; $$")
    if config is not None:
        if not _is_literal(dict(config)) or any(not isinstance(k, str) for k in config):
            raise _Unsafe("config values must be plain literals (str, number, bool, list, dict) under string keys")
        if any(has_secret(s) for s in _strings(dict(config))):
            raise _Unsafe("config holds a credential; task-graph config is readable by anyone who can see the task")
    return pipeline, wh, minutes


def _pipeline_location(plans: Sequence[JobPlan], database: str | None, schema: str | None, stage: str | None
                       ) -> tuple[str, str, str]:
    """The schema the graph lives in and the fully qualified stage for the payloads."""
    db = database or plans[0].database
    sch = schema or plans[0].schema
    if not db or not sch:
        raise _Unsafe("a pipeline lives in a schema: set database and schema in the plan or pass them")
    db, sch = validate_identifier(db, "database"), validate_identifier(sch, "schema")
    raw = validate_stage(stage or plans[0].stage_name, "stage")
    name, _, path = raw.lstrip("@").partition("/")
    full = "@" + qualify(name, db, sch, "stage")
    return db, sch, full + ("/" + path.strip("/") if path.strip("/") else "")


def generate_pipeline(
    plans: Sequence[JobPlan],
    *,
    orchestrator: Orchestrator | str,
    name: str,
    schedule: str | None,
    warehouse: str | None,
    predecessor_sql: str | None = None,
    task_timeout_minutes: int | None = None,
    connection_name: str | None = None,
    database: str | None = None,
    schema: str | None = None,
    stage: str | None = None,
    config: Mapping[str, Any] | None = None,
    airflow_conn_id: str = DEFAULT_AIRFLOW_CONN_ID,
    start_date: str = DEFAULT_START_DATE,
    local_eai_hosts: Mapping[str, Sequence[str]] | None = None,
) -> PipelineCode | NotGenerated:
    """Write the code of a scheduled pipeline that runs `plans` in order.

    Args:
        plans: one or more Snowflake plans (submit_file, submit_directory or submit_from_stage), run in this order.
        orchestrator: "snowflake" (task graph) or "airflow" (DAG file).
        name: the pipeline name, a plain identifier (the task graph's root task / the Airflow dag_id).
        schedule: cron (`"0 6 * * *"`, optional time zone) or interval (`"6h"`); None = run by hand only.
        warehouse: the task graph's warehouse (None = serverless tasks); also the jobs' query warehouse when the
            plan has none.
        predecessor_sql: one SQL statement (e.g. data preparation) that runs before the first job.
        task_timeout_minutes: how long one job may run; None = DEFAULT_TASK_TIMEOUT_MINUTES (with a warning).
        connection_name: the connections.toml entry the Snowflake script opens (None = the default one).
        database, schema: where the graph lives (default: the first plan's).
        stage: where payloads live (default: the first plan's stage); payloads go under `<stage>/<name>/<job>/`.
        config: extra task-graph config values (literals) that jobs read through TaskContext.
        airflow_conn_id: the Airflow connection holding the Snowflake credentials.
        start_date: the Airflow DAG's start date (YYYY-MM-DD); with catchup=False nothing is backfilled.
        local_eai_hosts: for plans made on the local pool: local EAI name -> hosts, so the deploy steps carry
            the CREATE statements of their account equivalents.

    Plans made on the local pool are turned into their account equivalent first (skill/account_equivalent.py):
    the system pool for their compute kind and named placeholders (YOUR_DATABASE, YOUR_SCHEMA) listed in
    `placeholders`, a warning and the deploy steps.

    Returns:
        `PipelineCode` (the code parses; warnings and deploy steps explain what to know), or `NotGenerated(reason)`
        for no plans, an invalid name/identifier/schedule/timeout, duplicate job names, an @remote plan,
        or a credential that would end up in a task definition.
    """
    warnings: list[str] = []
    try:
        kind = Orchestrator(orchestrator)
    except ValueError:
        return NotGenerated(f"orchestrator {orchestrator!r} must be 'snowflake' or 'airflow'")
    if not plans:
        return NotGenerated("a pipeline needs at least one plan")
    converted = [account_equivalent(p, database=database, schema=schema) for p in plans]
    plans = [p for p, _ in converted]
    placeholders = tuple(dict.fromkeys(ph.describe() for _, phs in converted for ph in phs))
    local_eais = [e for (p, phs) in converted if phs for e in p.external_access_integrations]
    if placeholders:
        warnings.append("made from local-pool plans: this is the account equivalent; replace the placeholders "
                        "before deploying: " + "; ".join(placeholders))
    try:
        parsed = parse_schedule(schedule)
        pipeline, wh, minutes = _check_inputs(name, warehouse, predecessor_sql, task_timeout_minutes, config,
                                              warnings)
        db, sch, pipeline_stage = _pipeline_location(plans, database, schema, stage)
        jobs = _prepare_jobs(plans, pipeline, pipeline_stage, wh, allow_secrets=kind is Orchestrator.AIRFLOW,
                             warnings=warnings)
        if kind is Orchestrator.SNOWFLAKE:
            if connection_name is not None and not _CONN_RE.match(connection_name):
                raise _Unsafe(f"connection name {connection_name!r} must be letters, digits, _ . -")
            code, steps = _snowflake_code(jobs, pipeline, db, sch, pipeline_stage, wh, parsed, minutes,
                                          predecessor_sql, connection_name, dict(config or {}), warnings)
        else:
            if not _AIRFLOW_CONN_RE.match(airflow_conn_id or ""):
                raise _Unsafe(f"Airflow connection id {airflow_conn_id!r} must be letters, digits, _ . -")
            date = _DATE_RE.match(start_date or "")
            if not date:
                raise _Unsafe(f"start date {start_date!r} must be YYYY-MM-DD")
            code, steps = _airflow_code(jobs, pipeline, parsed, minutes, predecessor_sql, airflow_conn_id,
                                        tuple(int(g) for g in date.groups()), warnings)
    except (InvalidIdentifier, ScheduleError, _Unsafe) as exc:
        return NotGenerated(str(exc))
    ast.parse(code)  # a SyntaxError here is a bug in this module, never the user's input
    protected = [v for job in jobs for v in (*job.plan.args, *job.plan.pip_requirements,
                                             *(val for _, val in job.plan.env_vars)) if has_secret(v)]
    if any(v in code for v in protected):
        return NotGenerated("internal error: a credential would have been written into the code")
    if placeholders:
        setup = eai_setup_sql(local_eais, {k.upper(): v for k, v in (local_eai_hosts or {}).items()})
        steps = [f"replace the placeholders: {'; '.join(placeholders)}",
                 *([f"an admin creates the account equivalents of the local EAIs: {' '.join(setup)}"] if setup else []),
                 *steps]
    return PipelineCode(code, kind, tuple(dict.fromkeys(warnings)), tuple(steps), pipeline, db, sch, placeholders)


# ------------------------------------------------------------------------------------------------ Snowflake


def _call(func: str, positional: Sequence[str], kw: Sequence[tuple[str, Any]], indent: int) -> list[str]:
    pad = " " * indent
    lines = [f"{func}("]
    lines += [f"{pad}    {p}," for p in positional]
    lines += [f"{pad}    {k}={_fmt(v, indent + 4 + len(k) + 1)}," for k, v in kw]
    lines.append(f"{pad})")
    return lines


def _finalizer_sql(jobs: Sequence[_Job], pipeline_stage: str, pipeline: str) -> str:
    # One statement (a task runs one): REMOVE under the pipeline's folder, restricted by PATTERN to exactly the
    # jobs' per-run folders. snowflake-ml-python puts a definition's run results in <job>/<job>_<suffix>/
    # (job.py: "@payload_stage/{job_definition_name}/{job_name}/mljob_result") and older layouts in <job>/output/;
    # <job>/app/ and <job>/system/ (the payload) stay for the next run.
    runs = "|".join(f"{job.task}/({job.task}_[^/]+|output)" for job in jobs)
    return f"REMOVE {pipeline_stage}/{pipeline}/ PATTERN = '.*/{pipeline}/({runs})/.*'"


def _snowflake_code(jobs: Sequence[_Job], pipeline: str, db: str, sch: str, stage: str, wh: str | None,
                    schedule: Schedule | None, minutes: int, predecessor_sql: str | None,
                    connection_name: str | None, extra_config: dict[str, Any], warnings: list[str]
                    ) -> tuple[str, list[str]]:
    timeout_ms = minutes * 60_000
    steps_in_order = ([PREPARE_TASK] if predecessor_sql else []) + [j.task for j in jobs]
    graph_minutes = min(minutes * len(jobs) + (minutes if predecessor_sql else 0), MAX_TASK_TIMEOUT_MINUTES)
    config = {
        "pipeline": pipeline,
        "database": db,
        "schema": sch,
        "warehouse": wh,
        "stage": f"{stage}/{pipeline}",
        "compute_pools": {j.task: j.plan.compute_pool for j in jobs},
        **extra_config,
    }
    hashes = ", ".join(j.plan.plan_hash()[:12] for j in jobs)
    lines = [
        f'"""Snowflake task graph {pipeline}: {" >> ".join(steps_in_order)}, then {CLEANUP_TASK} (finalizer). '
        f"Generated by mljobs from plans {hashes}.",
        "",
        "    python THIS_FILE               print the graph; touches nothing",
        "    python THIS_FILE --deploy      upload the job payloads and create (or replace) the tasks",
        "    python THIS_FILE --run         run the deployed graph once now (--retry-last: rerun from the failed task)",
        "    python THIS_FILE --teardown    drop the tasks and remove the payloads",
        "",
        "Each job reads the graph's config inside its code with",
        "    TaskContext(Session.builder.getOrCreate()).get_task_graph_config_property('database')",
        '"""',
        "",
        "import argparse",
        "import sys",
        "from datetime import timedelta",
        "",
        "from snowflake.core import CreateMode, Root",
        "from snowflake.core.task import Cron",
        "from snowflake.core.task.dagv1 import DAG, DAGOperation, DAGTask",
        "from snowflake.ml.jobs import MLJobDefinition",
        "from snowflake.snowpark import Session",
        "",
        f"PIPELINE_NAME = {pipeline!r}",
        f"DATABASE = {db!r}",
        f"SCHEMA = {sch!r}",
        f"WAREHOUSE = {wh!r}",
        f"PIPELINE_STAGE = {stage + '/' + pipeline!r}",
    ]
    if schedule is None:
        lines.append("SCHEDULE = None  # run by hand only (--run)")
    elif schedule.cron is not None:
        lines.append(f"SCHEDULE = Cron({schedule.cron!r}, {schedule.timezone!r})")
    else:
        lines.append(f"SCHEDULE = timedelta(minutes={schedule.minutes!r})")
    lines += [
        "# The task waits for its ML job (it runs synchronously inside the task), so the task timeout must cover the",
        "# whole job; Snowflake's default of 60 minutes would cancel a longer training run.",
        f"TASK_TIMEOUT_MS = {timeout_ms!r}  # {minutes} minutes per job",
        f"GRAPH_TIMEOUT_MS = {graph_minutes * 60_000!r}  # on the root task; covers every step in sequence",
        f"CONFIG = {_fmt(config, 9)}",
    ]
    if predecessor_sql:
        lines.append(f"PREPARE_SQL = {predecessor_sql.strip()!r}")
    lines += [
        f"CLEANUP_SQL = {_finalizer_sql(jobs, stage, pipeline)!r}",
        f"TEARDOWN_SQL = {'REMOVE ' + stage + '/' + pipeline + '/'!r}",
        "",
        "",
        "def open_session():",
        '    """The Snowpark session that uploads the payloads and creates the tasks."""',
    ]
    if connection_name is not None:
        lines.append(f"    return Session.builder.config('connection_name', {connection_name!r}).create()")
    else:
        lines.append("    return Session.builder.create()  # the default connection")
    lines += [
        "",
        "",
        "def register_jobs(session):",
        '    """Register every job once: this uploads its payload to PIPELINE_STAGE/<job>/ and returns the definitions."""',
        "    jobs = {}",
    ]
    for job in jobs:
        source = repr(job.plan.source)
        call = _call("MLJobDefinition.register", [source, repr(job.plan.compute_pool), "PIPELINE_STAGE"],
                     [*job.kwargs], 4)
        call.insert(-1, "        session=session,")
        lines.append(f"    jobs[{job.task!r}] = " + call[0])
        lines += call[1:]
    lines += [
        "    return jobs",
        "",
        "",
        "def build_dag(session):",
        '    """The task graph: every step in order, each job run by its definition\'s SQL, and the finalizer."""',
        "    jobs = register_jobs(session)",
        "    with DAG(",
        "        PIPELINE_NAME,",
        "        schedule=SCHEDULE,",
        "        warehouse=WAREHOUSE,",
        "        stage_location=PIPELINE_STAGE,",
        "        config=CONFIG,",
        "        user_task_timeout_ms=GRAPH_TIMEOUT_MS,",
        f"        comment={'mljobs pipeline ' + pipeline!r},",
        "    ) as dag:",
    ]
    variables: list[str] = []
    if predecessor_sql:
        lines.append(f"        prepare = DAGTask({PREPARE_TASK!r}, definition=PREPARE_SQL, "
                     "user_task_timeout_ms=TASK_TIMEOUT_MS)")
        variables.append("prepare")
    for i, job in enumerate(jobs):
        var = f"job_{i}"
        lines += [
            "        # to_sql() is the CALL SYSTEM$EXECUTE_ML_JOB(...) that runs the job synchronously; the plan's",
            "        # arguments are passed here because the task calls it without any.",
            f"        {var} = DAGTask(",
            f"            {job.task!r},",
            f"            definition=jobs[{job.task!r}].to_sql(job_args={_fmt(job.args, 41)}),",
            "            user_task_timeout_ms=TASK_TIMEOUT_MS,",
            f"            comment={f'ML job {job.task} on {job.plan.compute_pool}' !r},",
            "        )",
        ]
        variables.append(var)
    lines += [
        "        # The finalizer runs after every graph run, also a failed one: it removes the jobs' run outputs",
        "        # and keeps their payloads, which the next scheduled run needs.",
        f"        DAGTask({CLEANUP_TASK!r}, definition=CLEANUP_SQL, is_finalizer=True)",
    ]
    if len(variables) > 1:
        lines.append("        " + " >> ".join(variables))
    lines += [
        "    return dag",
        "",
        "",
        "def operation(session):",
        "    return DAGOperation(Root(session).databases[DATABASE].schemas[SCHEMA])",
        "",
        "",
        "def main(argv=None):",
        "    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])",
        "    parser.add_argument('--deploy', action='store_true', help='upload payloads and create or replace the tasks')",
        "    parser.add_argument('--run', action='store_true', help='run the deployed graph once now')",
        "    parser.add_argument('--retry-last', action='store_true', help='with --run: rerun from the last failed task')",
        "    parser.add_argument('--teardown', action='store_true', help='drop the tasks and remove the payloads')",
        "    args = parser.parse_args(argv)",
        "    if not (args.deploy or args.run or args.teardown):",
        "        print(__doc__)",
        "        return 0",
        "    session = open_session()",
        "    try:",
        "        op = operation(session)",
        "        if args.teardown:",
        "            op.drop(PIPELINE_NAME, drop_finalizer=True)",
        "            session.sql(TEARDOWN_SQL).collect()",
        "            print('Dropped', PIPELINE_NAME, 'and removed', PIPELINE_STAGE)",
        "            return 0",
        "        if args.deploy:",
        "            op.deploy(build_dag(session), mode=CreateMode.or_replace)",
        "            print('Deployed', PIPELINE_NAME, 'in', DATABASE + '.' + SCHEMA)",
        "        if args.run:",
        "            op.run(PIPELINE_NAME, retry_last=args.retry_last)",
        "            print('Started', PIPELINE_NAME)",
        "    finally:",
        "        session.close()",
        "    return 0",
        "",
        "",
        "if __name__ == '__main__':",
        "    sys.exit(main())",
        "",
    ]
    if wh is None:
        warnings.append("no warehouse: the tasks run serverless; each job task holds that compute while it waits "
                        "for its job")
    else:
        warnings.append(f"each job task holds warehouse {wh} while it waits for its job; an X-Small warehouse is "
                        "enough (the work runs on the compute pool)")
    warnings.append("the payloads are uploaded once, at --deploy; after editing a script, deploy again")
    warnings.append(f"the {CLEANUP_TASK} finalizer removes each run's result folder, including files written under "
                    "MLRS_STAGE_RESULT_PATH: save models to the Model Registry or to a stage path of your own")
    role = "<ROLE>"
    steps = [
        f"GRANT CREATE TASK ON SCHEMA {db}.{sch} TO ROLE {role}",
        f"GRANT EXECUTE TASK ON ACCOUNT TO ROLE {role}",
        *(f"GRANT USAGE ON WAREHOUSE {wh} TO ROLE {role}" for _ in [wh] if wh),
        *(f"GRANT EXECUTE MANAGED TASK ON ACCOUNT TO ROLE {role}  -- serverless tasks" for _ in [wh] if not wh),
        "python pipeline.py --deploy   (uploads payloads, creates the tasks; resumes the schedule if there is one)",
        "python pipeline.py --run      (one run now; watch it in Snowsight > Monitoring > Task History)",
    ]
    return "\n".join(lines), steps


# ------------------------------------------------------------------------------------------------ Airflow


def _airflow_code(jobs: Sequence[_Job], pipeline: str, schedule: Schedule | None, minutes: int,
                  predecessor_sql: str | None, conn_id: str, start: tuple[int, ...], warnings: list[str]
                  ) -> tuple[str, list[str]]:
    uses_secret = any(isinstance(v, _Secret) for j in jobs for v in _values(j))
    fn = pipeline.lower()
    year, month, day = start
    tz = schedule.timezone if schedule and schedule.timezone else "UTC"
    lines = [
        f'"""Airflow DAG {pipeline}: runs the ML jobs {", ".join(j.task for j in jobs)} on Snowflake, in order. '
        "Generated by mljobs.",
        "",
        f"The Snowflake credentials come from the Airflow connection {conn_id!r} (never from this file).",
        "Needs apache-airflow-providers-snowflake and snowflake-ml-python>=1.8.2 on the workers.",
        '"""',
        "",
        "import datetime as dt",
        "import logging",
    ]
    if uses_secret:
        lines.append("import os")
    lines += [
        "from zoneinfo import ZoneInfo",
        "",
        "from airflow.exceptions import AirflowException",
        "",
        "try:  # Airflow 3",
        "    from airflow.sdk import dag, task",
        "except ImportError:  # Airflow 2",
        "    from airflow.decorators import dag, task",
        "",
        f"SNOWFLAKE_CONN_ID = {conn_id!r}",
        f"JOB_TIMEOUT = dt.timedelta(minutes={minutes!r})",
        f"PAYLOAD_PATHS = {_fmt([j.payload_path + '/' for j in jobs], 16)}",
    ]
    if predecessor_sql:
        lines.append(f"PREPARE_SQL = {predecessor_sql.strip()!r}")
    lines += ["", "log = logging.getLogger(__name__)", "", ""]
    if uses_secret:
        lines += [
            "def _secret(name):",
            '    """A credential from the worker\'s environment, so it never sits in this file."""',
            "    value = os.environ.get(name)",
            "    if not value:",
            '        raise AirflowException(f"Set the environment variable {name} on the Airflow workers.")',
            "    return value",
            "",
            "",
        ]
    lines += [
        "def _session():",
        '    """A Snowpark session from the Airflow connection."""',
        "    from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook",
        "",
        "    return SnowflakeHook(snowflake_conn_id=SNOWFLAKE_CONN_ID).get_snowpark_session()",
        "",
        "",
        "def _wait_for(job_id):",
        '    """Wait for the job; log its result and logs; fail the Airflow task when the job did not finish DONE."""',
        "    from snowflake.ml.jobs import get_job",
        "",
        "    job = get_job(job_id, session=_session())",
        "    try:",
        "        status = job.wait()",
        "    except BaseException:",
        "        # The Airflow task was stopped (timeout, marked failed): do not leave the job running and billing.",
        "        job.cancel()",
        "        raise",
        "    if status != 'DONE':",
        "        logs = job.get_logs(verbose=True)",
        "        raise AirflowException(f'ML job {job_id} ended {status}. Logs:\\n{logs}')",
        "    log.info('ML job %s finished DONE. Logs:\\n%s', job_id, job.get_logs())",
        "    log.info('Result of %s: %r', job_id, job.result())",
        "    return job_id",
        "",
        "",
    ]
    if schedule is None:
        sched = "None"
    elif schedule.cron is not None:
        sched = repr(schedule.cron)
    else:
        sched = f"dt.timedelta(minutes={schedule.minutes!r})"
    lines += [
        "@dag(",
        f"    dag_id={pipeline!r},",
        f"    schedule={sched},",
        f"    start_date=dt.datetime({year}, {month}, {day}, tzinfo=ZoneInfo({tz!r})),",
        "    catchup=False,",
        "    max_active_runs=1,  # runs share each job's payload folder",
        "    tags=['mljobs'],",
        ")",
        f"def {fn}():",
    ]
    if predecessor_sql:
        lines += [
            "    @task",
            "    def prepare_data():",
            "        _session().sql(PREPARE_SQL).collect()",
            "",
        ]
    for job in jobs:
        method = job.plan.method.value
        low = job.task.lower()
        positional = [repr(job.plan.source), repr(job.plan.compute_pool)]
        kw = [("stage_name", f"{job.payload_path.rsplit('/', 1)[0]}"), *job.kwargs]
        kw.insert(1, ("args", job.args))
        call = _call(method, positional, kw, 8)
        call.insert(-1, "            session=_session(),")
        lines += [
            "    @task",
            f"    def submit_{low}():",
            f"        from snowflake.ml.jobs import {method}",
            "",
            "        job = " + call[0],
            *call[1:],
            "        return job.id  # to the wait task through XCom",
            "",
            "    @task(execution_timeout=JOB_TIMEOUT)",
            f"    def wait_{low}(job_id):",
            "        return _wait_for(job_id)",
            "",
        ]
    lines += [
        "    @task(trigger_rule='all_done')  # also after a failure, like a Snowflake finalizer",
        "    def cleanup():",
        "        session = _session()",
        "        for path in PAYLOAD_PATHS:",
        "            session.sql(f'REMOVE {path}').collect()",
        "",
    ]
    # Each step starts after the previous one finished: prepare >> submit_a, wait_a >> submit_b, ... >> cleanup.
    previous = None
    if predecessor_sql:
        lines.append("    prepared = prepare_data()")
        previous = "prepared"
    for job in jobs:
        low = job.task.lower()
        lines += [f"    submitted_{low} = submit_{low}()", f"    finished_{low} = wait_{low}(submitted_{low})"]
        if previous:
            lines.append(f"    {previous} >> submitted_{low}")
        previous = f"finished_{low}"
    lines += [f"    {previous} >> cleanup()", "", "", f"{fn}_dag = {fn}()", ""]
    warnings.append("the Airflow workers submit the code from their own disk: the source paths in the DAG must "
                    "exist there (or plan with submit_from_stage)")
    steps = [
        "pip install apache-airflow-providers-snowflake snowflake-ml-python  (on the Airflow workers)",
        f"airflow connections add {conn_id} --conn-type snowflake ...  (credentials live in Airflow)",
        "copy the DAG file into the Airflow dags/ folder",
        f"airflow dags test {pipeline}   (one run now)",
    ]
    return "\n".join(lines), steps


def _values(job: _Job) -> list[Any]:
    out: list[Any] = list(job.args)
    for _, value in job.kwargs:
        if isinstance(value, list):
            out += value
        elif isinstance(value, dict):
            out += list(value.values())
        else:
            out.append(value)
    return out
