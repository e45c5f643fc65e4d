"""Pipeline code generation: schedules, the Snowflake task graph built for real, the Airflow DAG run on doubles."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import types
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from snowflake.core.task import Cron
from snowflake.core.task.dagv1 import DAG

from mljobs.analyzers.model import SubmitMethod
from mljobs.skill.codegen import NotGenerated
from mljobs.skill.jobplan import JobPlan
from mljobs.skill.pipeline import (
    MIN_INTERVAL_MINUTES,
    Orchestrator,
    PipelineCode,
    ScheduleError,
    generate_pipeline,
    parse_schedule,
)
from mljobs.skill.spec import resources_override
from tests.fakes.snowpark import FakeSession
from tests.fakes.tasks import FakeRoot, graph_runner

STAGE = "@ML_DB.PUBLIC.MLJOBS_PAYLOAD"


# ------------------------------------------------------------------------------------------------ builders


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "train.py").write_text("print('train')\n")
    (tmp_path / "score.py").write_text("print('score')\n")
    pkg = tmp_path / "proj"
    pkg.mkdir()
    (pkg / "main.py").write_text("import helpers\nhelpers.run()\n")
    (pkg / "helpers.py").write_text("def run():\n    print('ok')\n")
    return tmp_path


def plan(project: Path, name: str = "TRAIN", script: str = "train.py", **kw: Any) -> JobPlan:
    values: dict[str, Any] = dict(
        backend="snowflake", method=SubmitMethod.SUBMIT_FILE, source=str(project / script), entrypoint=script,
        compute_pool="CPU_POOL", stage_name=STAGE, name=name, database="ML_DB", schema="PUBLIC",
    )
    values.update(kw)
    return JobPlan(**values)


def gpu_plan(project: Path) -> JobPlan:
    return plan(project, "FINETUNE", compute_pool="GPU_POOL", instance_family="GPU_NV_S",
                spec_overrides=resources_override(gpus=1), env_vars=(("EPOCHS", "3"),))


def multinode_plan(project: Path) -> JobPlan:
    return plan(project, "DDP", method=SubmitMethod.SUBMIT_DIRECTORY, source=str(project / "proj"),
                entrypoint="main.py", target_instances=3, min_instances=2)


def session() -> FakeSession:
    fake = FakeSession(database="ML_DB", schema="PUBLIC", warehouse="ML_WH")
    fake.add_pool("CPU_POOL", max_nodes=4)
    fake.add_pool("GPU_POOL", family="GPU_NV_S", max_nodes=4)
    fake.add_eai("PYPI_EAI")
    return fake


def generated(plans: list[JobPlan], orchestrator: str = "snowflake", **kw: Any) -> PipelineCode:
    kw.setdefault("name", "NIGHTLY")
    kw.setdefault("schedule", "0 6 * * *")
    kw.setdefault("warehouse", "TASK_WH")
    result = generate_pipeline(plans, orchestrator=orchestrator, **kw)
    assert isinstance(result, PipelineCode), result
    ast.parse(result.code)
    return result


def load(code: str) -> dict[str, Any]:
    """Exec the generated module (not as __main__, so nothing runs) and return its namespace."""
    ns: dict[str, Any] = {"__name__": "mljobs_generated_pipeline"}
    exec(compile(code, "pipeline.py", "exec"), ns)  # noqa: S102 - our own generated code, the unit under test
    return ns


def build(code: str, fake: FakeSession) -> DAG:
    return load(code)["build_dag"](fake)


def tasks_of(dag: DAG) -> dict[str, Any]:
    return {t.name: t for t in dag.tasks}


def low(dag: DAG, name: str) -> Any:
    return tasks_of(dag)[name]._to_low_level_task()


def call_args(sql: str) -> tuple[str, str, dict[str, Any], dict[str, Any]]:
    """The 4 literal arguments of a CALL SYSTEM$EXECUTE_ML_JOB statement (as the FakeSession parses them)."""
    import re

    literals = re.findall(r"'((?:[^'\\]|\\.)*)'", sql)
    name, pool, spec, job = (lit.replace("\\\\", "\\") for lit in literals)
    return name, pool, json.loads(spec), json.loads(job)


# ------------------------------------------------------------------------------------------------ schedules


@pytest.mark.parametrize(("text", "cron", "tz", "minutes"), [
    pytest.param("0 6 * * *", "0 6 * * *", "UTC", None, id="daily_cron__utc_default"),
    pytest.param("0 6 * * 1-5 Europe/Berlin", "0 6 * * 1-5", "Europe/Berlin", None, id="weekday_range__tz"),
    pytest.param("  0  6 * *  *  ", "0 6 * * *", "UTC", None, id="extra_spaces__normalised"),
    pytest.param("*/15 * * * *", "*/15 * * * *", "UTC", None, id="every_15_min__allowed"),
    pytest.param("0 */2 * * MON-FRI", "0 */2 * * MON-FRI", "UTC", None, id="day_names__allowed"),
    pytest.param("30 2 L * *", "30 2 L * *", "UTC", None, id="last_day_of_month"),
    pytest.param("0 0 1 JAN,JUL *", "0 0 1 JAN,JUL *", "UTC", None, id="month_names_list"),
    pytest.param("0 6 * * 5L America/Los_Angeles", "0 6 * * 5L", "America/Los_Angeles", None, id="last_friday"),
    pytest.param("0,30 9-17 * * *", "0,30 9-17 * * *", "UTC", None, id="half_hourly_office_hours"),
    pytest.param("6h", None, None, 360, id="hours"),
    pytest.param("1d", None, None, 1440, id="day"),
    pytest.param("30m", None, None, 30, id="minutes"),
    pytest.param(f"{MIN_INTERVAL_MINUTES}m", None, None, MIN_INTERVAL_MINUTES, id="minimum_interval"),
    pytest.param("8d", None, None, 11520, id="maximum_interval"),
])
def test_parse_schedule__valid__parsed(text: str, cron: str | None, tz: str | None, minutes: int | None) -> None:
    """Valid cron expressions keep their fields and time zone; intervals become minutes."""
    parsed = parse_schedule(text)
    assert parsed is not None
    assert (parsed.cron, parsed.timezone, parsed.minutes) == (cron, tz, minutes)


@pytest.mark.parametrize(("text", "message"), [
    pytest.param("0 6 * *", "5 fields", id="four_fields"),
    pytest.param("0 6 * * * UTC extra", "5 fields", id="seven_tokens"),
    pytest.param("60 * * * *", "out of range 0-59", id="minute_60"),
    pytest.param("0 24 * * *", "out of range 0-23", id="hour_24"),
    pytest.param("0 0 0 * *", "out of range 1-31", id="day_0"),
    pytest.param("0 0 * 13 *", "out of range 1-12", id="month_13"),
    pytest.param("0 0 * * 7", "out of range 0-6", id="weekday_7"),
    pytest.param("0 0 * FOO *", "not a number", id="bad_month_name"),
    pytest.param("5-1 * * * *", "backwards", id="backwards_range"),
    pytest.param("*/0 * * * *", "step", id="zero_step"),
    pytest.param("0,,5 * * * *", "empty list element", id="empty_list_item"),
    pytest.param("* * * * *", "runs every 1 minute", id="every_minute__too_often"),
    pytest.param("*/5 * * * *", "runs every 5 minute", id="every_5_minutes__too_often"),
    pytest.param("0 6 * * * Not/A Zone", "5 fields", id="tz_with_space"),
    pytest.param("0 6 * * * utc;drop", "time zone", id="hostile_tz"),
    pytest.param("0m", "positive", id="zero_interval"),
    pytest.param("5m", "shorter than", id="below_minimum"),
    pytest.param("9d", "longer than", id="above_8_days"),
    pytest.param("-1h", "positive whole number", id="negative"),
    pytest.param("1.5h", "positive whole number", id="fraction"),
    pytest.param("6 hours", "positive whole number", id="words"),
    pytest.param("6w", "positive whole number", id="weeks_unit"),
    pytest.param("", "cron expression like", id="empty"),
])
def test_parse_schedule__invalid__clear_error(text: str, message: str) -> None:
    """Every malformed schedule raises ScheduleError saying what is wrong."""
    with pytest.raises(ScheduleError, match=message.replace("(", r"\(")):
        parse_schedule(text)


def test_parse_schedule__none__no_schedule() -> None:
    """No schedule means the graph runs only by hand."""
    assert parse_schedule(None) is None


# ------------------------------------------------------------------------------------------------ Snowflake


def test_snowflake__single_job__dag_built_with_real_dagv1(project: Path) -> None:
    """One job: a DAG with the job task and the finalizer, schedule, warehouse, config and timeout set for real."""
    fake = session()
    p = plan(project, args=("--epochs", "3"), pip_requirements=("xgboost==2.0.3",),
             external_access_integrations=("PYPI_EAI",))
    result = generated([p], schedule="0 6 * * * Europe/Berlin", task_timeout_minutes=180)
    dag = build(result.code, fake)

    assert isinstance(dag, DAG)
    assert dag.name == "NIGHTLY"
    assert dag.schedule == Cron("0 6 * * *", "Europe/Berlin")
    assert dag.warehouse == "TASK_WH"
    assert dag.stage_location == f"{STAGE}/NIGHTLY"
    assert dag.config["database"] == "ML_DB" and dag.config["schema"] == "PUBLIC"
    assert dag.config["compute_pools"] == {"TRAIN": "CPU_POOL"}
    assert set(tasks_of(dag)) == {"TRAIN", "CLEANUP"}
    assert dag.get_finalizer_task().name == "CLEANUP"

    train = low(dag, "TRAIN")
    assert train.user_task_timeout_ms == 180 * 60_000
    assert train.predecessors == ["NIGHTLY"]
    name, pool, spec, options = call_args(train.definition)
    assert (name, pool) == ("ML_DB.PUBLIC.TRAIN_", "CPU_POOL")
    assert spec["STAGE_PATH"] == f"{STAGE}/NIGHTLY/TRAIN"
    assert spec["ARGS"][-3:] == ["/mnt/job_stage/app/train.py", "--epochs", "3"]
    assert options["ASYNC"] is False  # the task waits for the job
    assert options["EXTERNAL_ACCESS_INTEGRATIONS"] == ["PYPI_EAI"]
    assert options["QUERY_WAREHOUSE"] == "TASK_WH"
    assert fake.stage_files[f"{STAGE}/NIGHTLY/TRAIN/app/requirements.txt"].decode().split() == ["xgboost==2.0.3"]
    assert f"{STAGE}/NIGHTLY/TRAIN/app/train.py" in fake.stage_files
    assert result.orchestrator is Orchestrator.SNOWFLAKE


def test_snowflake__default_timeout__explained(project: Path) -> None:
    """Without an estimate each job gets 4 hours, and a warning explains why 60 minutes is too short."""
    result = generated([plan(project)])
    dag = build(result.code, session())
    assert low(dag, "TRAIN").user_task_timeout_ms == 240 * 60_000
    assert any("60 minutes" in w and "task_timeout_minutes" in w for w in result.warnings)


def test_snowflake__predecessor__runs_first(project: Path) -> None:
    """A data-preparation SQL step precedes the job; the job's only predecessor is that step."""
    sql = "CALL ML_DB.PUBLIC.PREPARE_FEATURES('2024-01-01')"
    result = generated([plan(project)], predecessor_sql=sql, schedule="6h")
    dag = build(result.code, session())
    assert dag.schedule == timedelta(hours=6)
    assert low(dag, "PREPARE_DATA").definition == sql
    assert low(dag, "PREPARE_DATA").predecessors == ["NIGHTLY"]
    assert low(dag, "TRAIN").predecessors == ["NIGHTLY$PREPARE_DATA"]


def test_snowflake__gpu_job__pool_and_spec_overrides_in_sql(project: Path) -> None:
    """A GPU plan's pool, resource overrides and env vars reach the job definition's SQL."""
    result = generated([gpu_plan(project)], schedule=None)
    dag = build(result.code, session())
    assert dag.schedule is None
    _, pool, spec, _ = call_args(low(dag, "FINETUNE").definition)
    assert pool == "GPU_POOL"
    assert spec["SPEC_OVERRIDES"] == resources_override(gpus=1)
    assert spec["ENV_VARS"]["EPOCHS"] == "3"


def test_snowflake__multi_node_job__instances_in_sql(project: Path) -> None:
    """A multi-node folder job registers with target/min instances (checked against the pool's max_nodes)."""
    fake = session()
    result = generated([multinode_plan(project)])
    dag = build(result.code, fake)
    _, _, spec, options = call_args(low(dag, "DDP").definition)
    assert (options["TARGET_INSTANCES"], options["MIN_INSTANCES"]) == (3, 2)
    assert spec["ENV_VARS"]["MLRS_SUBMITTED_TARGET_INSTANCES"] == "3"
    assert f"{STAGE}/NIGHTLY/DDP/app/helpers.py" in fake.stage_files
    assert any(q.sql == "SHOW COMPUTE POOLS LIKE ?" for q in fake.queries)


def test_snowflake__multi_node_over_max_nodes__library_refuses(project: Path) -> None:
    """min_instances above the pool's max_nodes is refused by the real library at registration."""
    fake = FakeSession(database="ML_DB", schema="PUBLIC")
    fake.add_pool("CPU_POOL", max_nodes=1)
    result = generated([multinode_plan(project)])
    with pytest.raises(ValueError, match="exceeds the max_nodes"):
        build(result.code, fake)


def test_snowflake__two_jobs__chained_in_order(project: Path) -> None:
    """Two plans run in order: SCORE after TRAIN; the finalizer has no predecessors and finalizes the root."""
    result = generated([plan(project), plan(project, "SCORE", "score.py")])
    dag = build(result.code, session())
    assert low(dag, "TRAIN").predecessors == ["NIGHTLY"]
    assert low(dag, "SCORE").predecessors == ["NIGHTLY$TRAIN"]
    cleanup = low(dag, "CLEANUP")
    assert cleanup.finalize == "NIGHTLY" and cleanup.predecessors is None
    assert dag.user_task_timeout_ms == 2 * 240 * 60_000


def test_snowflake__finalizer__removes_run_outputs_keeps_payload(project: Path) -> None:
    """After a run (also a failed one) the finalizer removes exactly the jobs' run folders; payloads stay."""
    fake = session()
    fake.stage_files["@ML_DB.PUBLIC.MLJOBS_PAYLOAD/OTHER/TRAIN/TRAIN_0000AAAA/mljob_result"] = b"other pipeline"
    result = generated([plan(project), plan(project, "SCORE", "score.py")])
    ns = load(result.code)
    ns["Root"] = FakeRoot
    FakeRoot.schemas = {}
    ns["open_session"] = lambda: fake
    assert ns["main"](["--deploy"]) == 0
    tasks = FakeRoot.schemas[("ML_DB", "PUBLIC")].tasks
    tasks.on_execute = graph_runner(fake, tasks, outcomes={"TRAIN": "DONE", "SCORE": "FAILED"})
    payload_before = {k for k in fake.stage_files if "/app/" in k or "/system/" in k}

    assert ns["main"](["--run"]) == 0
    run = tasks.runs[-1]
    assert run.states == {"TRAIN": "SUCCEEDED", "SCORE": "FAILED", "CLEANUP": "SUCCEEDED"}
    results = {fake.canon_stage(fake.job(j).result_file).lstrip("@") for j in run.job_ids.values()}
    assert len(results) == 2 and results <= {k.lstrip("@") for k in run.removed}
    leftovers = {k for k in fake.stage_files if "/NIGHTLY/" in k} - payload_before
    assert leftovers == set(), leftovers
    assert payload_before <= set(fake.stage_files)
    assert "@ML_DB.PUBLIC.MLJOBS_PAYLOAD/OTHER/TRAIN/TRAIN_0000AAAA/mljob_result" in fake.stage_files


def test_snowflake__deploy_and_run__real_dag_operation(project: Path) -> None:
    """--deploy creates root then children in order and resumes them; --run --retry-last executes the root."""
    fake = session()
    result = generated([plan(project), plan(project, "SCORE", "score.py")], predecessor_sql="SELECT 1")
    ns = load(result.code)
    ns["Root"], ns["open_session"] = FakeRoot, (lambda: fake)
    FakeRoot.schemas = {}
    with pytest.warns(DeprecationWarning):  # DAGOperation.deploy(or_replace) calls drop() without drop_finalizer
        assert ns["main"](["--deploy"]) == 0
    tasks = FakeRoot.schemas[("ML_DB", "PUBLIC")].tasks
    created = [name for action, name in tasks.log if action == "create"]
    assert created[0] == "NIGHTLY"
    assert created.index("NIGHTLY$PREPARE_DATA") < created.index("NIGHTLY$TRAIN") < created.index("NIGHTLY$SCORE")
    assert tasks.created["NIGHTLY"].schedule == Cron("0 6 * * *", "UTC")
    assert tasks.created["NIGHTLY"].config["pipeline"] == "NIGHTLY"
    assert "NIGHTLY" in tasks.started  # scheduled graphs are resumed at deploy
    assert ns["main"](["--run", "--retry-last"]) == 0
    assert tasks.executions == [("NIGHTLY", True)]
    assert ns["main"](["--teardown"]) == 0
    assert not tasks.created
    assert not any("/NIGHTLY/" in k for k in fake.stage_files)


def test_snowflake__no_flags__touches_nothing(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Running the script without --deploy/--run/--teardown only prints what it would do."""
    ns = load(generated([plan(project)]).code)
    ns["open_session"] = lambda: pytest.fail("no session may be opened without a flag")
    assert ns["main"]([]) == 0
    assert "--deploy" in capsys.readouterr().out


def test_snowflake__config_extra__merged(project: Path) -> None:
    """Extra config values reach the graph config next to database, schema and pools."""
    dag = build(generated([plan(project)], config={"threshold": 0.7}).code, session())
    assert dag.config["threshold"] == 0.7 and dag.config["warehouse"] == "TASK_WH"


def test_snowflake__credential__refused(project: Path) -> None:
    """A credential in env vars would be stored in the task's SQL: no code, and the value is not echoed."""
    p = plan(project, env_vars=(("HF_TOKEN", "hf_abcdefghijklmnopqrstuvwxyz"),))
    result = generate_pipeline([p], orchestrator="snowflake", name="N", schedule=None, warehouse=None)
    assert isinstance(result, NotGenerated)
    assert "secret" in result.reason and "hf_abc" not in result.reason


# ------------------------------------------------------------------------------------------------ refusals


@pytest.mark.parametrize(("overrides", "message"), [
    pytest.param({"name": "NIGHTLY; DROP TABLE X"}, "plain Snowflake identifier", id="pipeline_name_injection"),
    pytest.param({"name": "-rf"}, "may not start with '-'", id="pipeline_name_dash"),
    pytest.param({"warehouse": 'WH"; DROP'}, "plain Snowflake identifier", id="warehouse_quote"),
    pytest.param({"stage": "@ML_DB.PUBLIC.S/../x"}, "must look like", id="stage_traversal"),
    pytest.param({"stage": "@S' PATTERN='.*"}, "must look like", id="stage_quote"),
    pytest.param({"schedule": "* * * * *"}, "minimum", id="bad_schedule"),
    pytest.param({"task_timeout_minutes": 0}, "1-1440", id="zero_timeout"),
    pytest.param({"task_timeout_minutes": 2000}, "1-1440", id="timeout_above_a_day"),
    pytest.param({"orchestrator": "cron"}, "must be 'snowflake' or 'airflow'", id="unknown_orchestrator"),
    pytest.param({"connection_name": "x' or 1=1"}, "connection name", id="connection_name"),
    pytest.param({"predecessor_sql": "  "}, "empty", id="empty_predecessor"),
    pytest.param({"predecessor_sql": "COPY INTO t FROM 's3://AKIAABC:secret@bucket/x'"}, "credential",
                 id="predecessor_credential"),
    pytest.param({"config": {"key": object()}}, "plain literals", id="config_object"),
    pytest.param({"orchestrator": "airflow", "airflow_conn_id": "a'b"}, "connection id", id="airflow_conn_quote"),
    pytest.param({"orchestrator": "airflow", "start_date": "yesterday"}, "YYYY-MM-DD", id="airflow_start_date"),
])
def test_generate_pipeline__hostile_input__not_generated(project: Path, overrides: dict[str, Any],
                                                         message: str) -> None:
    """Every hostile or invalid input gives NotGenerated with a reason, never code."""
    kw: dict[str, Any] = {"orchestrator": "snowflake", "name": "NIGHTLY", "schedule": "0 6 * * *",
                          "warehouse": "WH", **overrides}
    result = generate_pipeline([plan(project)], **kw)
    assert isinstance(result, NotGenerated), result
    assert message in result.reason


@pytest.mark.parametrize(("plans", "message"), [
    pytest.param(lambda p: [], "at least one plan", id="no_plans"),
    pytest.param(lambda p: [plan(p), plan(p)], "two plans are named TRAIN", id="duplicate_names"),
    pytest.param(lambda p: [plan(p, "CLEANUP")], "reserved", id="reserved_name"),
    pytest.param(lambda p: [plan(p, method=SubmitMethod.REMOTE, function_name="f")], "@remote", id="remote_plan"),
    pytest.param(lambda p: [plan(p, name="TRAIN'; --")], "job name", id="hostile_job_name"),
    pytest.param(lambda p: [plan(p, compute_pool="POOL X")], "compute pool", id="hostile_pool"),
    pytest.param(lambda p: [plan(p, external_access_integrations=("E;DROP",))], "external access",
                 id="hostile_eai"),
    pytest.param(lambda p: [plan(p, database=None, schema=None)], "lives in a schema", id="no_schema"),
    pytest.param(lambda p: [plan(p, target_instances=2, min_instances=3)], "instances", id="min_above_target"),
])
def test_generate_pipeline__bad_plans__not_generated(project: Path, plans: Any, message: str) -> None:
    """Plans that cannot become a pipeline step are refused with the reason."""
    result = generate_pipeline(plans(project), orchestrator="snowflake", name="N", schedule=None, warehouse=None)
    assert isinstance(result, NotGenerated), result
    assert message in result.reason


@pytest.mark.parametrize("orchestrator", ["snowflake", "airflow"])
def test_generate_pipeline__hostile_strings__only_as_literals(project: Path, orchestrator: str) -> None:
    """Quotes and newlines in args and SQL end up as repr literals: the module's only effect is assignments."""
    evil = "x'''\"\"\"\nimport os; os.system('boom')"
    p = plan(project, args=(evil,))
    result = generated([p], orchestrator, predecessor_sql=f"SELECT '{evil}'")
    tree = ast.parse(result.code)
    calls = [n for n in tree.body if isinstance(n, ast.Expr) and isinstance(n.value, ast.Call)]
    assert calls == []
    assert not any(isinstance(n, ast.Import) and any(a.name == "os" for a in n.names) for n in tree.body)


def test_generate_pipeline__mismatched_stage__warned(project: Path) -> None:
    """Plans with another stage than the pipeline's get a warning naming where their payload goes."""
    other = plan(project, "SCORE", "score.py", stage_name="@ML_DB.PUBLIC.OTHER_STAGE")
    result = generated([plan(project), other])
    assert any("OTHER_STAGE" in w and "MLJOBS_PAYLOAD/NIGHTLY/" in w for w in result.warnings)


# ------------------------------------------------------------------------------------------------ Airflow (doubles)


class _Node:
    def __init__(self, task_id: str, fn: Any, args: tuple[Any, ...], options: dict[str, Any]) -> None:
        self.task_id, self.fn, self.args, self.options = task_id, fn, args, options
        self.upstream: set[str] = {a.task_id for a in args if isinstance(a, _Node)}

    def __rshift__(self, other: _Node) -> _Node:
        other.upstream.add(self.task_id)
        return other


class _Graph:
    def __init__(self, kwargs: dict[str, Any]) -> None:
        self.kwargs = kwargs
        self.tasks: dict[str, _Node] = {}

    def order(self) -> list[_Node]:
        done: list[str] = []
        while len(done) < len(self.tasks):
            for node in self.tasks.values():
                if node.task_id not in done and node.upstream <= set(done):
                    done.append(node.task_id)
        return [self.tasks[t] for t in done]

    def run(self) -> dict[str, Any]:
        """Run like Airflow: XCom args resolved; after a failure only all_done tasks still run."""
        states: dict[str, Any] = {}
        values: dict[str, Any] = {}
        for node in self.order():
            upstream_ok = all(states[u] == "success" for u in node.upstream)
            if not upstream_ok and node.options.get("trigger_rule") != "all_done":
                states[node.task_id] = "upstream_failed"
                continue
            try:
                values[node.task_id] = node.fn(*(values[a.task_id] if isinstance(a, _Node) else a
                                                 for a in node.args))
                states[node.task_id] = "success"
            except Exception as exc:  # noqa: BLE001 - recorded like an Airflow task failure
                states[node.task_id] = exc
        return {"states": states, "values": values}


def airflow_doubles(monkeypatch: pytest.MonkeyPatch, fake: FakeSession) -> list[str]:
    """Small stand-ins for airflow.decorators/exceptions and the Snowflake hook (returns the conn ids used)."""
    stack: list[_Graph] = []
    conn_ids: list[str] = []

    def task(fn: Any = None, **options: Any) -> Any:
        def wrap(f: Any) -> Any:
            def call(*args: Any) -> _Node:
                node = _Node(f.__name__, f, args, options)
                stack[-1].tasks[f.__name__] = node
                return node
            return call
        return wrap(fn) if fn is not None else wrap

    def dag(**kwargs: Any) -> Any:
        def wrap(f: Any) -> Any:
            def build() -> _Graph:
                stack.append(_Graph(kwargs))
                f()
                return stack.pop()
            return build
        return wrap

    class AirflowException(Exception):  # noqa: N818 - Airflow's name
        pass

    class SnowflakeHook:
        def __init__(self, snowflake_conn_id: str) -> None:
            conn_ids.append(snowflake_conn_id)

        def get_snowpark_session(self) -> FakeSession:
            return fake

    modules = {
        "airflow": types.ModuleType("airflow"),
        "airflow.decorators": types.SimpleNamespace(dag=dag, task=task),
        "airflow.exceptions": types.SimpleNamespace(AirflowException=AirflowException),
        "airflow.providers": types.ModuleType("airflow.providers"),
        "airflow.providers.snowflake": types.ModuleType("airflow.providers.snowflake"),
        "airflow.providers.snowflake.hooks": types.ModuleType("airflow.providers.snowflake.hooks"),
        "airflow.providers.snowflake.hooks.snowflake": types.SimpleNamespace(SnowflakeHook=SnowflakeHook),
        "airflow.sdk": None,  # importing it fails: the Airflow 2 fallback is used
    }
    for name, module in modules.items():
        monkeypatch.setitem(sys.modules, name, module)
    return conn_ids


def _completing(fake: FakeSession, outcome: dict[str, str]) -> None:
    """Make the fake finish each job as soon as it is submitted (the Airflow wait task then sees the outcome)."""
    original = FakeSession._h_execute_ml_job

    def execute(self: FakeSession, m: Any, params: list[Any]) -> Any:
        columns, rows = original(self, m, params)
        job = self.job(rows[0][0])
        base = job.name.split("_")[0]
        self.set_logs(job.id, f"{base} log line")
        if outcome.get(base, "DONE") == "DONE":
            self.complete_job(job.id, {"rows": 3})
        else:
            self.complete_job(job.id, error=("builtins.ValueError", "bad data", "Traceback ..."))
        return columns, rows

    fake._HANDLERS = [(p, execute if h is original else h) for p, h in FakeSession._HANDLERS]


def test_airflow__two_jobs_with_predecessor__dag_shape(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Airflow DAG: prepare >> submit/wait per job in order >> cleanup(all_done), schedule and no catchup."""
    fake = session()
    airflow_doubles(monkeypatch, fake)
    result = generated([plan(project), plan(project, "SCORE", "score.py")], "airflow",
                       predecessor_sql="SELECT 1", schedule="0 6 * * * Europe/Berlin", task_timeout_minutes=90)
    ns = load(result.code)
    graph = ns["nightly_dag"]
    assert graph.kwargs["dag_id"] == "NIGHTLY"
    assert graph.kwargs["schedule"] == "0 6 * * *"
    assert graph.kwargs["catchup"] is False
    assert str(graph.kwargs["start_date"].tzinfo) == "Europe/Berlin"
    ups = {t: n.upstream for t, n in graph.tasks.items()}
    assert ups == {
        "prepare_data": set(), "submit_train": {"prepare_data"}, "wait_train": {"submit_train"},
        "submit_score": {"wait_train"}, "wait_score": {"submit_score"}, "cleanup": {"wait_score"},
    }
    assert graph.tasks["cleanup"].options == {"trigger_rule": "all_done"}
    assert graph.tasks["wait_train"].options["execution_timeout"] == timedelta(minutes=90)
    assert result.orchestrator is Orchestrator.AIRFLOW


def test_airflow__run__submits_waits_and_cleans_up(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Running the tasks drives the real snowflake-ml-python: submit, job id through XCom, wait, cleanup."""
    fake = session()
    conn_ids = airflow_doubles(monkeypatch, fake)
    _completing(fake, {})
    p = plan(project, args=("--epochs", "3"), target_instances=2, min_instances=1,
             external_access_integrations=("PYPI_EAI",), pip_requirements=("xgboost",))
    ns = load(generated([p, plan(project, "SCORE", "score.py")], "airflow", airflow_conn_id="sf_prod").code)
    outcome = ns["nightly_dag"].run()
    assert outcome["states"] == dict.fromkeys(
        ["submit_train", "wait_train", "submit_score", "wait_score", "cleanup"], "success")
    job_id = outcome["values"]["submit_train"]
    assert outcome["values"]["wait_train"] == job_id
    submitted = fake.submissions[0]
    assert submitted["job_options"]["TARGET_INSTANCES"] == 2 and submitted["job_options"]["MIN_INSTANCES"] == 1
    assert submitted["job_options"]["EXTERNAL_ACCESS_INTEGRATIONS"] == ["PYPI_EAI"]
    assert submitted["spec_options"]["ARGS"][-2:] == ["--epochs", "3"]
    assert submitted["spec_options"]["STAGE_PATH"] == f"{STAGE}/NIGHTLY/TRAIN"
    assert set(conn_ids) == {"sf_prod"}
    assert not any("/NIGHTLY/" in k for k in fake.stage_files)  # cleanup removed both payloads


def test_airflow__failed_job__task_fails_with_logs_and_cleanup_runs(project: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A FAILED job fails its wait task with AirflowException carrying the logs; later jobs skip; cleanup runs."""
    fake = session()
    airflow_doubles(monkeypatch, fake)
    _completing(fake, {"TRAIN": "FAILED"})
    ns = load(generated([plan(project), plan(project, "SCORE", "score.py")], "airflow").code)
    states = ns["nightly_dag"].run()["states"]
    error = states["wait_train"]
    assert type(error).__name__ == "AirflowException"
    assert "FAILED" in str(error) and "TRAIN log line" in str(error)
    assert states["submit_score"] == "upstream_failed"
    assert states["cleanup"] == "success"
    assert len(fake.submissions) == 1


def test_airflow__credential__read_from_worker_env(project: Path) -> None:
    """A credential in env vars is read from the worker's environment, never written into the DAG file."""
    token = "hf_abcdefghijklmnopqrstuvwxyz"
    result = generated([plan(project, env_vars=(("HF_TOKEN", token),))], "airflow")
    assert token not in result.code
    assert "_secret('HF_TOKEN')" in result.code
    assert any("HF_TOKEN" in w for w in result.warnings)


def test_airflow__interval_and_manual_schedules(project: Path) -> None:
    """An interval becomes a timedelta schedule; no schedule becomes schedule=None."""
    interval = ast.parse(generated([plan(project)], "airflow", schedule="6h").code)
    manual = ast.parse(generated([plan(project)], "airflow", schedule=None).code)

    def schedule_of(tree: ast.Module) -> str:
        fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.decorator_list)
        deco = fn.decorator_list[0]
        assert isinstance(deco, ast.Call)
        return ast.unparse(next(k.value for k in deco.keywords if k.arg == "schedule"))

    assert schedule_of(interval) == "dt.timedelta(minutes=360)"
    assert schedule_of(manual) == "None"


@pytest.mark.slow
def test_airflow__real_airflow__dag_loads(project: Path, tmp_path: Path) -> None:
    """With a Python that has apache-airflow (MLJOBS_AIRFLOW_PYTHON), the real Airflow loads the DAG file."""
    python = os.environ.get("MLJOBS_AIRFLOW_PYTHON")
    if not python:
        pytest.skip("set MLJOBS_AIRFLOW_PYTHON to a Python with apache-airflow installed (not a project dependency)")
    dag_file = tmp_path / "nightly.py"
    dag_file.write_text(generated([plan(project), plan(project, "SCORE", "score.py")], "airflow",
                                  predecessor_sql="SELECT 1").code)
    probe = (
        "import importlib.util, json, sys\n"
        "spec = importlib.util.spec_from_file_location('d', sys.argv[1]); m = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(m)\n"
        "from airflow.sdk import DAG\n"
        "d = next(v for v in vars(m).values() if isinstance(v, DAG))\n"
        "print(json.dumps({'id': d.dag_id, 'catchup': d.catchup, 'up': {t.task_id: sorted(t.upstream_task_ids)"
        " for t in d.tasks}, 'rule': str(d.get_task('cleanup').trigger_rule)}))\n"
    )
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path / "airflow_home")}
    out = subprocess.run([python, "-c", probe, str(dag_file)], capture_output=True, text=True, env=env,
                         timeout=120, check=True)
    loaded = json.loads(out.stdout.strip().splitlines()[-1])
    assert loaded["id"] == "NIGHTLY" and loaded["catchup"] is False
    assert loaded["up"]["submit_train"] == ["prepare_data"] and loaded["up"]["submit_score"] == ["wait_train"]
    assert loaded["up"]["cleanup"] == ["wait_score"] and loaded["rule"].lower().endswith("all_done")


def test_pipeline_code__hash__changes_with_code(project: Path) -> None:
    """The confirmation subject is the code hash: another schedule gives another hash."""
    a = generated([plan(project)], schedule="0 6 * * *")
    b = generated([plan(project)], schedule="0 7 * * *")
    assert a.code_hash != b.code_hash and len(a.code_hash) == 64
    assert replace(a).code_hash == a.code_hash


@pytest.mark.parametrize("orchestrator", ["snowflake", "airflow"])
def test_generate_pipeline__local_plans__account_equivalent_with_named_placeholders(project: Path,
                                                                                   orchestrator: str) -> None:
    """Local-pool plans give the account equivalent: system pool, YOUR_DATABASE/YOUR_SCHEMA, EAIs by name, and
    the CREATE statements of the local EAIs' account equivalents in the deploy steps."""
    local = plan(project, backend="local", compute_pool="LOCAL", database="LOCAL", schema="JOBS",
                 stage_name="@LOCAL.JOBS.PAYLOAD", instance_family="LOCAL_2CPU_8GIB",
                 external_access_integrations=("DATA_EAI",))
    result = generate_pipeline([local], orchestrator=orchestrator, name="N", schedule=None, warehouse=None,
                               task_timeout_minutes=30, local_eai_hosts={"DATA_EAI": ["data.example.org:80"]})
    assert isinstance(result, PipelineCode), result
    assert "'LOCAL'" not in result.code and "LOCAL.JOBS" not in result.code
    assert "YOUR_DATABASE" in result.code and "SYSTEM_COMPUTE_POOL_CPU" in result.code and "DATA_EAI" in result.code
    assert [p.split(":")[0] for p in result.placeholders] == [
        "SYSTEM_COMPUTE_POOL_CPU", "YOUR_DATABASE", "YOUR_SCHEMA", "@YOUR_DATABASE.YOUR_SCHEMA.MLJOBS_PAYLOAD"]
    assert result.deploy_steps[0].startswith("replace the placeholders")
    assert "VALUE_LIST = ('data.example.org:80')" in result.deploy_steps[1]
    assert any("account equivalent" in w for w in result.warnings)
    given = generate_pipeline([local], orchestrator=orchestrator, name="N", schedule=None, warehouse=None,
                              task_timeout_minutes=30, database="ML", schema="PROD")
    assert isinstance(given, PipelineCode) and "YOUR_" not in given.code
