"""Preflight: each failure the account or the plan would cause is reported, with a fix."""

from __future__ import annotations

import dataclasses

import pytest
from _skill_builders import analysis, facts, need, package, pypi_eai, verdict

from mljobs.analyzers.model import Confidence, NetworkCategory, SubmitMethod
from mljobs.skill.facts import ComputePool, Grants
from mljobs.skill.jobplan import JobPlan
from mljobs.skill.preflight import Severity, preflight

PLAN = JobPlan(backend="snowflake", method=SubmitMethod.SUBMIT_FILE, source="/proj/train.py", entrypoint="train.py",
               compute_pool="CPU_POOL", stage_name="@ML.PUBLIC.MLJOBS_PAYLOAD", name="TRAIN", database="ML",
               schema="PUBLIC", instance_family="CPU_X64_S")


def codes(issues) -> dict[str, str]:
    """code -> severity of its first (most severe, since errors sort first) issue."""
    out: dict[str, str] = {}
    for i in issues:
        out.setdefault(i.code, i.severity.value)
    return out


def test_preflight__clean_plan__no_issues() -> None:
    """A CPU script on a CPU pool with all grants and no network needs passes."""
    g = Grants(role="DS", database_usage=True, schema_usage=True, create_service=True, create_stage=True,
               pool_usage=("CPU_POOL",), eai_usage=())
    assert preflight(PLAN, analysis(), facts(grants=g), None) == ()


@pytest.mark.parametrize(
    ("grants", "code", "fix"),
    [
        pytest.param(Grants(database_usage=False), "grant.database_usage", "GRANT USAGE ON DATABASE ML TO ROLE DS",
                     id="database"),
        pytest.param(Grants(schema_usage=False), "grant.schema_usage", "GRANT USAGE ON SCHEMA ML.PUBLIC TO ROLE DS",
                     id="schema"),
        pytest.param(Grants(create_service=False), "grant.create_service",
                     "GRANT CREATE SERVICE ON SCHEMA ML.PUBLIC TO ROLE DS", id="create_service"),
        pytest.param(Grants(create_stage=False), "grant.create_stage", "GRANT CREATE STAGE ON SCHEMA ML.PUBLIC",
                     id="create_stage_when_stage_missing"),
        pytest.param(Grants(pool_usage=("OTHER",)), "grant.pool_usage", "GRANT USAGE ON COMPUTE POOL CPU_POOL",
                     id="pool"),
    ],
)
def test_preflight__missing_grant__error_with_grant_sql(grants: Grants, code: str, fix: str) -> None:
    """Every missing privilege is an error whose fix is the GRANT statement."""
    issues = preflight(PLAN, analysis(), facts(grants=grants), None)
    issue = next(i for i in issues if i.code == code)
    assert issue.severity is Severity.ERROR and fix in issue.fix


def test_preflight__stage_exists__create_stage_not_needed() -> None:
    """No CREATE STAGE is needed when the payload stage exists."""
    issues = preflight(PLAN, analysis(), facts(grants=Grants(create_stage=False), stages=("ML.PUBLIC.MLJOBS_PAYLOAD",)))
    assert "grant.create_stage" not in codes(issues)


def test_preflight__eai_without_usage__error() -> None:
    """A plan EAI the role cannot use is an error."""
    plan = dataclasses.replace(PLAN, external_access_integrations=("PYPI_EAI",))
    issues = preflight(plan, analysis(), facts(eais=(pypi_eai(),), grants=Grants(eai_usage=())))
    assert codes(issues)["grant.eai_usage"] == "error"


def test_preflight__unknown_grants__not_reported() -> None:
    """Grants that could not be read are not reported as missing."""
    assert not any(i.code.startswith("grant.") for i in preflight(PLAN, analysis(), facts()))


@pytest.mark.parametrize(
    ("plan_change", "a", "code", "severity"),
    [
        pytest.param({}, analysis(gpu=True), "compute.gpu_on_cpu_pool", "error", id="certain_gpu_on_cpu"),
        pytest.param({}, analysis(compute=verdict(True, Confidence.LIKELY)), "compute.gpu_on_cpu_pool", "warning",
                     id="likely_gpu_on_cpu"),
        pytest.param({}, analysis(compute=verdict(False, evidence=True)), "compute.gpu_evidence_on_cpu_pool",
                     "warning", id="cpu_verdict_gpu_evidence"),
        pytest.param({"compute_pool": "GPU_POOL", "instance_family": "GPU_NV_S"}, analysis(), "compute.cpu_on_gpu_pool",
                     "warning", id="cpu_work_gpu_pool"),
        pytest.param({"target_instances": 5, "min_instances": 4}, analysis(compute=verdict(multi_node=5)),
                     "instances.min_gt_max_nodes", "error", id="min_gt_max_nodes"),
        pytest.param({"target_instances": 5}, analysis(compute=verdict(multi_node=5)),
                     "instances.target_gt_max_nodes", "error", id="target_gt_max_nodes"),
        pytest.param({"target_instances": 2}, analysis(), "instances.not_distributed", "warning",
                     id="multi_node_for_single_node_script"),
        pytest.param({}, analysis(local_modules=("utils",)), "method.local_imports_not_shipped", "error",
                     id="submit_file_with_local_imports"),
        pytest.param({}, analysis(data_files=("data.csv",)), "method.data_files_not_shipped", "warning",
                     id="submit_file_with_data"),
        pytest.param({"stage_name": "@PAYLOAD"}, analysis(), "stage.unqualified", "warning", id="stage_unqualified"),
        pytest.param({"spec_overrides": {"spec": {"volumes": [{"name": "stage-volume", "source": "local"}]}}},
                     analysis(), "spec_overrides", "error", id="spec_managed_volume"),
        pytest.param({"external_access_integrations": tuple(f"E{i}" for i in range(11))}, analysis(),
                     "network.too_many_eais", "error", id="too_many_eais"),
    ],
)
def test_preflight__plan_problem__reported(plan_change: dict, a, code: str, severity: str) -> None:
    """Compute, instance, method, stage, spec and EAI-count problems are reported with the right severity."""
    issues = preflight(dataclasses.replace(PLAN, **plan_change), a, facts(), None)
    assert codes(issues).get(code) == severity, issues


def test_preflight__pip_without_pypi__error() -> None:
    """pip requirements with no PyPI EAI fail at container start: an error with both fixes."""
    plan = dataclasses.replace(PLAN, pip_requirements=("lightgbm",))
    issues = preflight(plan, analysis(packages=[package("lightgbm")]), facts(), None)
    issue = next(i for i in issues if i.code == "network.pip_without_pypi")
    assert issue.severity is Severity.ERROR and "PYPI_RULE" in issue.fix and "artifact_repositories" in issue.fix


def test_preflight__pip_with_pypi_eai_or_artifact_repo__ok() -> None:
    """A PyPI EAI or the artifact repository satisfies pip requirements."""
    a = analysis(packages=[package("lightgbm")], network=[need(NetworkCategory.PYPI, "pypi.org")])
    with_eai = dataclasses.replace(PLAN, pip_requirements=("lightgbm",), external_access_integrations=("PYPI_EAI",))
    assert not any(i.code.startswith("network") for i in preflight(with_eai, a, facts(eais=(pypi_eai(),))))
    with_repo = dataclasses.replace(PLAN, pip_requirements=("lightgbm",),
                                    artifact_repositories=("snowflake.snowpark.pypi_shared_repository",))
    assert not any(i.code.startswith("network") for i in preflight(with_repo, a, facts()))


def test_preflight__uncovered_host__error_with_evidence_and_sql() -> None:
    """A needed host no EAI allows is an error citing the code location and the admin SQL."""
    issues = preflight(PLAN, analysis(network=[need(NetworkCategory.WANDB, "api.wandb.ai")]), facts())
    issue = next(i for i in issues if i.code == "network.uncovered")
    assert "api.wandb.ai" in issue.message and "train.py:1:1" in issue.message
    assert "CREATE NETWORK RULE" in issue.fix


@pytest.mark.parametrize(("method", "severity"), [(SubmitMethod.REMOTE, "error"), (SubmitMethod.SUBMIT_FILE, "warning")])
def test_preflight__client_python_unsupported(method: SubmitMethod, severity: str) -> None:
    """Python 3.13 clients: @remote cannot unpickle (error); scripts may run but result() may not (warning)."""
    plan = dataclasses.replace(PLAN, method=method, function_name="main")
    issues = preflight(plan, analysis(), facts(client_python="3.13"))
    assert codes(issues)["python.unsupported_client"] == severity


def test_preflight__errors_first() -> None:
    """Errors sort before warnings."""
    plan = dataclasses.replace(PLAN, target_instances=2, stage_name="@P")
    issues = preflight(plan, analysis(gpu=True), facts(pools=(ComputePool("CPU_POOL", "IDLE", "CPU_X64_S"),)))
    severities = [i.severity for i in issues]
    assert severities == sorted(severities, key=lambda s: s is Severity.WARNING) and Severity.ERROR in severities


def test_preflight__local_backend__no_grant_checks() -> None:
    """Local plans skip Snowflake grants and client-Python checks."""
    plan = dataclasses.replace(PLAN, backend="local")
    issues = preflight(plan, analysis(), facts(grants=Grants(create_service=False), client_python="3.13",
                                               backend="local"))
    assert not any(i.code.startswith(("grant.", "python.")) for i in issues)


@pytest.mark.parametrize(
    ("grants", "code", "severity"),
    [
        pytest.param(Grants(role="DS", pool_usage=("OTHER",), secondary_roles=None), "grant.pool_usage", "warning",
                     id="usage__secondary_roles_unknown__warning"),
        pytest.param(Grants(role="DS", schema_usage=False, complete=False), "grant.schema_usage", "warning",
                     id="usage__hierarchy_partly_read__warning"),
        pytest.param(Grants(role="DS", pool_usage=("OTHER",), secondary_roles=("TEAM",)), "grant.pool_usage",
                     "error", id="usage__every_role_read__error"),
        pytest.param(Grants(role="DS", create_service=False, secondary_roles=None), "grant.create_service", "error",
                     id="create__primary_only__error_even_with_unknown_secondary_roles"),
    ],
)
def test_preflight__grant_certainty__decides_severity(grants: Grants, code: str, severity: str) -> None:
    """USAGE may come from secondary roles: missing from partial knowledge is a warning, never a refusal.
    CREATE SERVICE comes from the primary role alone (docs "USE SECONDARY ROLES"), so it stays an error."""
    issues = preflight(PLAN, analysis(), facts(grants=grants), None)
    assert codes(issues)[code] == severity
    issue = next(i for i in issues if i.code == code)
    assert "GRANT" in issue.fix
    if severity == "warning":
        assert "may still be held" in issue.message


def test_preflight__snowpark_without_warehouse__named_not_a_privilege() -> None:
    """Snowpark code with neither a plan warehouse nor a session warehouse gets the warehouse issue."""
    from mljobs.analyzers.model import IoFinding, IoKind, Location

    from _skill_builders import io

    finding = IoFinding(IoKind.SNOWPARK_SESSION, Location("train.py", 4), "Session.builder.getOrCreate()",
                        "Session.builder", Confidence.CERTAIN)
    report = dataclasses.replace(io(), uses_snowpark=True, snowpark_evidence=(finding,))
    issues = preflight(PLAN, analysis(io_report=report), facts(warehouse=None), None)
    issue = next(i for i in issues if i.code == "warehouse.none")
    assert "train.py:4" in issue.message and "not a missing privilege" in issue.message
    assert "query_warehouse" in issue.fix
    ok = dataclasses.replace(PLAN, query_warehouse="ML_WH")
    assert "warehouse.none" not in codes(preflight(ok, analysis(io_report=report), facts(warehouse=None), None))
    assert "warehouse.none" not in codes(preflight(PLAN, analysis(io_report=report), facts(warehouse="WH"), None))
    assert "warehouse.none" not in codes(preflight(PLAN, analysis(), facts(warehouse=None), None))
