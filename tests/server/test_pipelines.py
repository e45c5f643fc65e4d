"""Deploying and running a generated task graph behind confirmations, and the `mljobs pipeline` verb."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest

from mljobs.analyzers.model import SubmitMethod
from mljobs.server.cli import pipeline_cmd
from mljobs.server.errors import NotConfirmedError, UsageError
from mljobs.server.pipelines import deploy_pipeline, load_plans, run_pipeline
from mljobs.server.service import Service
from mljobs.server.settings import Settings
from mljobs.skill.jobplan import JobPlan
from mljobs.skill.pipeline import PipelineCode, generate_pipeline
from tests.fakes.snowpark import FakeSession
from tests.fakes.tasks import FakeRoot, FakeSchema

STAGE = "@ML_DB.PUBLIC.MLJOBS_PAYLOAD"


@pytest.fixture
def fake() -> FakeSession:
    session = FakeSession(database="ML_DB", schema="PUBLIC")
    session.add_pool("CPU_POOL", max_nodes=2)
    return session


@pytest.fixture
def schemas() -> dict[tuple[str, str], FakeSchema]:
    FakeRoot.schemas = {}
    return FakeRoot.schemas


def schema_factory(session: Any, database: str, schema: str) -> FakeSchema:
    return FakeRoot(session).databases[database].schemas[schema]


@pytest.fixture
def service(tmp_path: Path) -> Service:
    return Service(Settings(backend="snowflake", state_dir=tmp_path / "state"))


def make_plan(tmp_path: Path, name: str = "TRAIN", **kw: Any) -> JobPlan:
    script = tmp_path / f"{name.lower()}.py"
    script.write_text("print('hi')\n")
    values: dict[str, Any] = dict(backend="snowflake", method=SubmitMethod.SUBMIT_FILE, source=str(script),
                                  entrypoint=script.name, compute_pool="CPU_POOL", stage_name=STAGE, name=name,
                                  database="ML_DB", schema="PUBLIC")
    values.update(kw)
    return JobPlan(**values)


def pipeline(plans: list[JobPlan], orchestrator: str = "snowflake", **kw: Any) -> PipelineCode:
    result = generate_pipeline(plans, orchestrator=orchestrator, name="NIGHTLY", schedule=kw.pop("schedule", "1d"),
                               warehouse="WH", **kw)
    assert isinstance(result, PipelineCode), result
    return result


# ------------------------------------------------------------------------------------------------ core


def test_deploy__confirmed__real_dag_operation_creates_tasks(tmp_path: Path, fake: FakeSession, schemas: Any,
                                                             service: Service) -> None:
    """A confirmation for this code's hash deploys: payload uploaded, root + children + finalizer created."""
    code = pipeline([make_plan(tmp_path), make_plan(tmp_path, "SCORE")])
    confirmation = service.confirm("deploy_pipeline", code.code_hash, method="cli_yes")
    with pytest.warns(DeprecationWarning):
        done = deploy_pipeline(code, fake, confirmation, schema_factory=schema_factory)
    assert done.tasks == ("NIGHTLY", "NIGHTLY$TRAIN", "NIGHTLY$SCORE", "NIGHTLY$CLEANUP")
    tasks = schemas[("ML_DB", "PUBLIC")].tasks
    assert set(tasks.created) == set(done.tasks)
    assert tasks.created["NIGHTLY$CLEANUP"].finalize == "NIGHTLY"
    assert tasks.created["NIGHTLY$SCORE"].predecessors == ["NIGHTLY$TRAIN"]
    assert f"{STAGE}/NIGHTLY/SCORE/app/score.py" in fake.stage_files
    assert done.confirmation.method == "cli_yes"


@pytest.mark.parametrize(("action", "subject"), [
    pytest.param("deploy_pipeline", "0" * 64, id="other_code_hash"),
    pytest.param("run_pipeline", None, id="other_action"),
    pytest.param("submit", None, id="submit_confirmation"),
])
def test_deploy__confirmation_does_not_fit__nothing_happens(tmp_path: Path, fake: FakeSession, schemas: Any,
                                                            service: Service, action: str,
                                                            subject: str | None) -> None:
    """A confirmation for another action or another version of the code deploys nothing and uploads nothing."""
    code = pipeline([make_plan(tmp_path)])
    confirmation = service.confirm(action, subject or code.code_hash, method="cli_yes")
    with pytest.raises(NotConfirmedError, match="confirm again"):
        deploy_pipeline(code, fake, confirmation, schema_factory=schema_factory)
    assert schemas == {} and fake.stage_files == {}


def test_deploy__token__single_use(tmp_path: Path, fake: FakeSession, schemas: Any, service: Service) -> None:
    """A preview token for this code deploys once; the same token cannot be spent again."""
    code = pipeline([make_plan(tmp_path)], schedule=None)
    token = service.issue_token("deploy_pipeline", code.code_hash)
    with pytest.warns(DeprecationWarning):
        deploy_pipeline(code, fake, service.confirm("deploy_pipeline", code.code_hash, token=token),
                        schema_factory=schema_factory)
    assert "NIGHTLY" not in schemas[("ML_DB", "PUBLIC")].tasks.started  # no schedule: the root stays suspended
    with pytest.raises(NotConfirmedError, match="already used"):
        service.confirm("deploy_pipeline", code.code_hash, token=token)


def test_run__not_deployed__usage_error(tmp_path: Path, fake: FakeSession, schemas: Any, service: Service) -> None:
    """Running a graph that is not deployed says to deploy it first."""
    code = pipeline([make_plan(tmp_path)])
    with pytest.raises(UsageError, match="deploy it first"):
        run_pipeline(code, fake, service.confirm("run_pipeline", code.code_hash, method="cli_yes"),
                     schema_factory=schema_factory)


def test_run__deployed__executes_root_with_retry_last(tmp_path: Path, fake: FakeSession, schemas: Any,
                                                      service: Service) -> None:
    """A confirmed run executes the root task once (retry_last passed through)."""
    code = pipeline([make_plan(tmp_path)])
    with pytest.warns(DeprecationWarning):
        deploy_pipeline(code, fake, service.confirm("deploy_pipeline", code.code_hash, method="cli_yes"),
                        schema_factory=schema_factory)
    done = run_pipeline(code, fake, service.confirm("run_pipeline", code.code_hash, method="cli_yes"),
                        retry_last=True, schema_factory=schema_factory)
    assert schemas[("ML_DB", "PUBLIC")].tasks.executions == [("NIGHTLY", True)]
    assert done.action == "run_pipeline" and done.retry_last


def test_deploy__airflow__refused(tmp_path: Path, fake: FakeSession, service: Service) -> None:
    """An Airflow DAG file is not deployed from here."""
    code = pipeline([make_plan(tmp_path)], "airflow")
    with pytest.raises(UsageError, match="Airflow"):
        deploy_pipeline(code, fake, service.confirm("deploy_pipeline", code.code_hash, method="cli_yes"))


def test_deploy__library_refuses__mapped_usage_error(tmp_path: Path, schemas: Any, service: Service) -> None:
    """min_instances above the pool's max_nodes: snowflake-ml-python refuses, mapped to a UsageError."""
    small = FakeSession(database="ML_DB", schema="PUBLIC")
    small.add_pool("CPU_POOL", max_nodes=1)
    code = pipeline([make_plan(tmp_path, target_instances=2, min_instances=2)])
    with pytest.raises(UsageError, match="max_nodes"):
        deploy_pipeline(code, small, service.confirm("deploy_pipeline", code.code_hash, method="cli_yes"),
                        schema_factory=schema_factory)
    assert schemas == {}


def test_load_plans__plan_file_forms(tmp_path: Path) -> None:
    """`mljobs plan --out` files and bare plan dicts load; redacted ones warn; junk is a UsageError."""
    plan = make_plan(tmp_path, env_vars=(("URL", "https://user:pw@example.com/x"),))
    wrapped = tmp_path / "wrapped.json"
    wrapped.write_text(json.dumps({"plan": plan.to_dict(redacted=True), "plan_hash": "x"}))
    bare = tmp_path / "bare.json"
    bare.write_text(json.dumps(make_plan(tmp_path, "SCORE").to_dict()))
    plans, warnings = load_plans([wrapped, bare])
    assert [p.name for p in plans] == ["TRAIN", "SCORE"]
    assert len(warnings) == 1 and "redacted" in warnings[0]
    junk = tmp_path / "junk.json"
    junk.write_text("[1, 2]")
    with pytest.raises(UsageError, match="holds no plan"):
        load_plans([junk])
    unknown = tmp_path / "unknown.json"
    unknown.write_text(json.dumps({**make_plan(tmp_path).to_dict(), "gpus": 2}))
    with pytest.raises(UsageError, match="unknown plan fields"):
        load_plans([unknown])


# ------------------------------------------------------------------------------------------------ CLI


def cli_args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    pipeline_cmd.register(parser.add_subparsers())
    return parser.parse_args(["pipeline", *argv])


def plan_file(tmp_path: Path, name: str = "TRAIN", **kw: Any) -> str:
    path = tmp_path / f"{name.lower()}_plan.json"
    plan = make_plan(tmp_path, name, **kw)
    path.write_text(json.dumps({"plan": plan.to_dict(redacted=True), "plan_hash": plan.plan_hash()}))
    return str(path)


def test_cli__json__code_and_steps(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`--json` prints the code, its hash, warnings and deploy steps; `--out` writes the code."""
    out = tmp_path / "pipe.py"
    args = cli_args(plan_file(tmp_path), plan_file(tmp_path, "SCORE"), "--orchestrator", "snowflake",
                    "--schedule", "0 6 * * *", "--warehouse", "WH", "--timeout-minutes", "90", "--out", str(out),
                    "--json")
    assert pipeline_cmd.execute(args) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["name"] == "TRAIN_PIPELINE" and data["code"] == out.read_text()
    assert "TASK_TIMEOUT_MS = 5400000" in data["code"] and data["actions"] == []
    assert any(step.startswith("GRANT CREATE TASK") for step in data["deploy_steps"])


def test_cli__deploy_and_run_with_yes(tmp_path: Path, fake: FakeSession, schemas: Any,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    """`--deploy --run --yes` deploys and starts the graph with confirmations bound to the code."""
    args = cli_args(plan_file(tmp_path), "--orchestrator", "snowflake", "--name", "NIGHTLY", "--deploy", "--run",
                    "--yes", "--json")
    with pytest.warns(DeprecationWarning):
        assert pipeline_cmd.execute(args, session_factory=lambda: fake, schema_factory=schema_factory) == 0
    data = json.loads(capsys.readouterr().out)
    assert [a["action"] for a in data["actions"]] == ["deploy_pipeline", "run_pipeline"]
    assert all(a["confirmed_by"] == "cli_yes" for a in data["actions"])
    assert schemas[("ML_DB", "PUBLIC")].tasks.executions == [("NIGHTLY", False)]


def test_cli__deploy_without_yes_no_terminal__not_confirmed(tmp_path: Path, fake: FakeSession, schemas: Any,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Without --yes and without a terminal to ask on, nothing is deployed (exit code 4)."""
    monkeypatch.setattr("sys.stdin", open("/dev/null"))  # noqa: SIM115 - closed with the test
    args = cli_args(plan_file(tmp_path), "--orchestrator", "snowflake", "--deploy")
    with pytest.raises(NotConfirmedError) as caught:
        pipeline_cmd.execute(args, session_factory=lambda: fake, schema_factory=schema_factory)
    assert caught.value.exit_code == 4 and schemas == {} and fake.stage_files == {}


@pytest.mark.parametrize(("extra", "message"), [
    pytest.param(["--orchestrator", "airflow", "--deploy", "--yes"], "Airflow", id="airflow_deploy"),
    pytest.param(["--orchestrator", "snowflake", "--schedule", "99 * * * *"], "out of range", id="bad_cron"),
    pytest.param(["--orchestrator", "snowflake", "--name", "X;DROP"], "identifier", id="hostile_name"),
])
def test_cli__bad_requests__usage_error(tmp_path: Path, fake: FakeSession, extra: list[str], message: str) -> None:
    """Invalid requests are UsageErrors (exit code 2) that say what is wrong."""
    with pytest.raises(UsageError, match=message) as caught:
        pipeline_cmd.execute(cli_args(plan_file(tmp_path), *extra), session_factory=lambda: fake)
    assert caught.value.exit_code == 2


def test_cli__script_without_account__account_equivalent(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`mljobs pipeline SCRIPT --orchestrator snowflake` with no account configured plans on the local pool and
    prints the task graph as the account equivalent, its placeholders named; deploying it is refused."""
    script = tmp_path / "train.py"
    script.write_text("print('hi')\n")
    args = cli_args(str(script), "--orchestrator", "snowflake", "--timeout-minutes", "30", "--json")
    assert pipeline_cmd.execute(args) == 0
    data = json.loads(capsys.readouterr().out)
    assert "YOUR_DATABASE" in data["code"] and data["placeholders"]
    compile(data["code"], "pipeline.py", "exec")
    with pytest.raises(UsageError, match="placeholders"):
        pipeline_cmd.execute(cli_args(str(script), "--orchestrator", "snowflake", "--timeout-minutes", "30",
                                      "--deploy", "--yes"), session_factory=lambda: None)


def test_cli__local_run__two_jobs_in_order(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`--backend local --run` runs the pipeline's jobs in order on the local pool: the second job starts after
    the first ended DONE, and reads what the first wrote."""
    marker = tmp_path / "first_done.txt"
    (tmp_path / "prep.py").write_text(f"open({str(marker)!r}, 'w').write('ok')\n")
    (tmp_path / "train.py").write_text(f"import os\nassert os.path.exists({str(marker)!r}), 'prep did not run'\n")
    args = cli_args(str(tmp_path / "prep.py"), str(tmp_path / "train.py"), "--orchestrator", "snowflake",
                    "--timeout-minutes", "5", "--backend", "local", "--run", "--yes", "--json")
    assert pipeline_cmd.execute(args) == 0
    data = json.loads(capsys.readouterr().out)
    steps = data["actions"][0]["steps"]
    assert [(s["name"].rsplit(".", 1)[-1], s["status"]) for s in steps] == [("PREP", "DONE"), ("TRAIN", "DONE")]
    service = Service(Settings())
    first, second = (service.store.find(s["job_id"]) for s in steps)
    assert first is not None and second is not None
    assert first.finished_at is not None and second.created_at >= first.finished_at


def test_cli__local_run__stops_at_first_failure(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A failed job stops the local run; later jobs are NOT_RUN and the exit code is 1."""
    (tmp_path / "boom.py").write_text("raise SystemExit('boom')\n")
    (tmp_path / "after.py").write_text("print('never')\n")
    args = cli_args(str(tmp_path / "boom.py"), str(tmp_path / "after.py"), "--orchestrator", "airflow",
                    "--timeout-minutes", "5", "--backend", "local", "--run", "--yes", "--json")
    assert pipeline_cmd.execute(args) == 1
    steps = json.loads(capsys.readouterr().out)["actions"][0]["steps"]
    assert [s["status"] for s in steps] == ["FAILED", "NOT_RUN"] and steps[1]["job_id"] is None
