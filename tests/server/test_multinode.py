"""Multi-node jobs end to end: the analyzer's hint, planning against max_nodes, per-instance status and logs on
Snowflake (real snowflake-ml-python on the fake session), and the local pool's honest single-node answer."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import pytest

from mljobs.analyzers import analyze
from mljobs.server.backends.base import JobStatus
from mljobs.server.backends.local import LocalBackend
from mljobs.server.backends.snowflake import SnowflakeBackend
from mljobs.server.errors import JobNotFoundError
from mljobs.server.settings import Settings
from mljobs.skill.pipeline import PipelineCode, generate_pipeline
from mljobs.skill.plan import PlanChoices, PlanResult, plan_job
from tests.fakes.snowpark import FakeSession

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
DISTRIBUTED = CORPUS / "snowflake_xgb_distributor" / "script.py"  # XGBEstimator distributor: 2 nodes suggested
SINGLE_NODE = CORPUS / "sklearn_churn_pipeline"


@pytest.fixture
def fake() -> FakeSession:
    session = FakeSession(database="ML_DB", schema="PUBLIC")
    session.add_pool("CPU_POOL", max_nodes=4)
    session.validate_eais = False  # the corpus scripts' EAIs are not what this test is about
    return session


@pytest.fixture
def backend(fake: FakeSession) -> SnowflakeBackend:
    return SnowflakeBackend(lambda: fake, sleep=lambda _s: None)


def planned(script: Path, backend: object, choices: PlanChoices | None = None) -> PlanResult:
    from mljobs.skill.knowledge import load_rules

    path = script if script.is_file() else next(script.glob("*.py"))
    return plan_job(analyze(path, rules=load_rules()), backend.facts(), choices)  # type: ignore[attr-defined]


def codes(result: PlanResult) -> dict[str, str]:
    return {i.code: i.severity.value for i in result.preflight if i.code.startswith("instances")}


def test_multinode__hint_to_plan_to_per_instance_logs(fake: FakeSession, backend: SnowflakeBackend) -> None:
    """A distributor script gets 2 instances from the hint; the job runs 2 instances with their own state/logs."""
    result = planned(DISTRIBUTED, backend, PlanChoices(pool="CPU_POOL"))
    assert result.plan is not None
    assert (result.plan.target_instances, result.plan.min_instances) == (2, 2)
    assert any("snowflake_distributor" in e for e in result.explanations)
    assert "instances.not_distributed" not in codes(result)

    job_id = backend.submit(result.plan)
    assert fake.job(job_id).job_options["TARGET_INSTANCES"] == 2
    fake.job(job_id).status = "RUNNING"
    fake.job(job_id).instances = [
        {"instance_id": "0", "status": "READY", "start_time": fake.now},
        {"instance_id": "1", "status": "FAILED", "start_time": fake.now},
    ]
    fake.set_logs(job_id, "head: training round 10")
    fake.set_logs(job_id, "worker: CUDA error, exiting", instance=1, setup="Installing packages\n")
    assert [(i.instance_id, i.status) for i in backend.instances(job_id)] == [(0, "READY"), (1, "FAILED")]
    assert backend.logs(job_id, instance_id=0) == "head: training round 10"
    assert backend.logs(job_id, instance_id=1) == "worker: CUDA error, exiting"
    assert "Installing packages" in backend.logs(job_id, instance_id=1, verbose=True)
    assert backend.logs(job_id) == "head: training round 10"  # the head by default


def test_multinode__plan_into_pipeline__instances_kept(fake: FakeSession, backend: SnowflakeBackend) -> None:
    """The multi-node plan becomes a pipeline step that registers with the same instance counts."""
    result = planned(DISTRIBUTED, backend, PlanChoices(pool="CPU_POOL"))
    assert result.plan is not None
    code = generate_pipeline([result.plan], orchestrator="snowflake", name="NIGHTLY", schedule="1d", warehouse="WH")
    assert isinstance(code, PipelineCode)
    assert "target_instances=2," in code.code and "min_instances=2," in code.code


@pytest.mark.parametrize(("choices", "expected"), [
    pytest.param(PlanChoices(pool="CPU_POOL", target_instances=4), {}, id="target_equals_max_nodes__ok"),
    pytest.param(PlanChoices(pool="CPU_POOL", target_instances=6, min_instances=2),
                 {"instances.target_gt_max_nodes": "error"}, id="target_above_max_nodes"),
    pytest.param(PlanChoices(pool="CPU_POOL", target_instances=6),
                 {"instances.target_gt_max_nodes": "error", "instances.min_gt_max_nodes": "error"},
                 id="min_and_target_above_max_nodes"),
])
def test_multinode__plan_vs_max_nodes(backend: SnowflakeBackend, choices: PlanChoices,
                                      expected: dict[str, str]) -> None:
    """min/target instances are checked against the chosen pool's max_nodes (discovered from the account)."""
    result = planned(DISTRIBUTED, backend, choices)
    assert result.plan is not None
    assert codes(result) == expected


def test_multinode__min_above_target__refused(backend: SnowflakeBackend) -> None:
    """min_instances above target_instances is no plan at all."""
    result = planned(DISTRIBUTED, backend, PlanChoices(target_instances=2, min_instances=3))
    assert result.plan is None and "min_instances" in (result.reason or "")


def test_multinode__single_node_script__warned_not_wasted(backend: SnowflakeBackend) -> None:
    """A script without a multi-node framework: 1 instance by default; asking for 3 gives a warning."""
    default = planned(SINGLE_NODE, backend, PlanChoices(pool="CPU_POOL"))
    assert default.plan is not None and default.plan.target_instances == 1
    assert "instances.not_distributed" not in codes(default)
    wasted = planned(SINGLE_NODE, backend, PlanChoices(pool="CPU_POOL", target_instances=3))
    assert codes(wasted) == {"instances.not_distributed": "warning"}
    issue = next(i for i in wasted.preflight if i.code == "instances.not_distributed")
    assert "idle" in issue.message and "target_instances=1" in issue.fix


@pytest.fixture
def local(tmp_path: Path) -> LocalBackend:
    return LocalBackend(Settings(backend="local", state_dir=tmp_path / "state"))


def test_local__multi_node_script__planned_as_one_instance(local: LocalBackend) -> None:
    """On the local pool (one machine) the hint's 2 nodes become 1 instance, with a note that says so."""
    result = planned(DISTRIBUTED, local, PlanChoices(backend="local"))
    assert result.plan is not None, result.reason
    assert (result.plan.target_instances, result.plan.min_instances) == (1, 1)
    assert any("one machine" in e and "2 nodes" in e for e in result.explanations)


def test_local__min_instances_above_one__no_plan(local: LocalBackend) -> None:
    """min_instances > 1 cannot be met on one machine: no plan, and the reason says what to do."""
    result = planned(DISTRIBUTED, local, PlanChoices(backend="local", target_instances=2, min_instances=2))
    assert result.plan is None
    assert "one machine" in (result.reason or "") and "min_instances=1" in (result.reason or "")


@pytest.mark.slow
def test_local__target_two__runs_one_instance_and_says_so(local: LocalBackend, tmp_path: Path) -> None:
    """A hand-made plan with target 2 runs one instance; preflight warns; instance 1 has no logs."""
    from mljobs.skill.preflight import preflight

    script = tmp_path / "dist.py"
    script.write_text("import os\n__return__ = os.environ['MLRS_SUBMITTED_TARGET_INSTANCES']\n")
    result = planned(script, local, PlanChoices(backend="local"))
    assert result.plan is not None
    plan = dataclasses.replace(result.plan, target_instances=2)
    from mljobs.skill.knowledge import load_rules

    issues = preflight(plan, analyze(script, rules=load_rules()), local.facts())
    assert {i.code: i.severity.value for i in issues if i.code.startswith("instances")} == {
        "instances.local_single_node": "warning", "instances.not_distributed": "warning"}
    job_id = local.submit(plan)
    deadline = time.monotonic() + 30
    while not local.status(job_id).terminal and time.monotonic() < deadline:
        time.sleep(0.05)
    assert local.status(job_id) is JobStatus.DONE
    assert [i.instance_id for i in local.instances(job_id)] == [0]
    assert "running 1 instance" in local.logs(job_id, verbose=True)
    with pytest.raises(JobNotFoundError, match="one instance"):
        local.logs(job_id, instance_id=1)
