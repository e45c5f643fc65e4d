"""plan_job: every JobPlan field decided from analysis + facts + choices, with reasons and clear failures."""

from __future__ import annotations

import dataclasses

import ast
from pathlib import Path

import pytest
from _skill_builders import analysis, facts, io, need, package, pypi_eai, verdict

from mljobs.analyzers.model import NetworkCategory, PackageStatus, SubmitMethod
from mljobs.skill.codegen import Generated
from mljobs.skill.facts import ComputePool, Grants
from mljobs.skill.plan import PlanChoices, plan_job


def test_plan__simple_cpu_script__full_plan() -> None:
    """A CPU script gets the CPU pool, a qualified default stage, a valid name, code and reasons."""
    result = plan_job(analysis(root="/proj", entrypoint="01-train model.py"), facts())
    plan = result.plan
    assert plan is not None, result.reason
    assert plan.compute_pool == "CPU_POOL" and plan.instance_family == "CPU_X64_S"
    assert plan.stage_name == "@ML.PUBLIC.MLJOBS_PAYLOAD" and plan.name == "JOB_01_TRAIN_MODEL"
    assert plan.source == "/proj/01-train model.py" and plan.entrypoint == "01-train model.py"
    assert plan.method is SubmitMethod.SUBMIT_FILE and plan.target_instances == plan.min_instances == 1
    assert isinstance(result.code, Generated) and result.ready
    assert any("pool CPU_POOL" in e for e in result.explanations)
    assert any("will be created" in e for e in result.explanations)


def test_plan__gpu_script__gpu_pool() -> None:
    """GPU evidence selects the GPU pool."""
    result = plan_job(analysis(gpu=True), facts())
    assert result.plan is not None and result.plan.compute_pool == "GPU_POOL"


def test_plan__output_option__passed_as_arg_instead_of_edit(tmp_path: Path) -> None:
    """An existing --output-dir option receives $MLRS_STAGE_RESULT_PATH, and the explanation says why."""
    (tmp_path / "train.py").write_text("OUT='./out'\ndef main():\n    return 1\nif __name__ == '__main__':\n"
                                       "    main()\n")
    a = analysis(root=str(tmp_path), io_report=io(output_args=["--output-dir"], hardcoded=["out"]))
    result = plan_job(a, facts())
    assert result.plan is not None and result.plan.args == ("--output-dir", "$MLRS_STAGE_RESULT_PATH")
    assert any("needs no edit" in e for e in result.explanations)
    # the output is handled by the option, so only __return__ capture is proposed
    assert result.script_edit is not None and "os.environ" not in result.script_edit.code
    assert "__return__ = main()" in result.script_edit.code


def test_plan__hardcoded_output_no_option__edit_proposed(tmp_path: Path) -> None:
    """Without an option, a codemod that routes the output is proposed (diff), not applied."""
    src = "import joblib\nif __name__ == '__main__':\n    joblib.dump(1, './out/model.pkl')\n"
    (tmp_path / "train.py").write_text(src)
    a = analysis(root=str(tmp_path), io_report=io(hardcoded=["out/model.pkl"], entry_call=None))
    result = plan_job(a, facts())
    assert result.plan is not None and result.plan.args == ()
    edit = result.script_edit
    assert edit is not None and edit.changed and "MLRS_STAGE_RESULT_PATH" in edit.diff
    assert (tmp_path / "train.py").read_text() == src  # never written


def test_plan__packages__only_required_to_install_and_pypi_eai() -> None:
    """pip_requirements holds only non-optional to_install packages; the PyPI EAI is suggested."""
    pkgs = [package("lightgbm", requirement="lightgbm>=4"), package("numpy", PackageStatus.PREINSTALLED),
            package("rich", optional=True)]
    a = analysis(packages=pkgs, network=[need(NetworkCategory.PYPI, "pypi.org", "files.pythonhosted.org")])
    result = plan_job(a, facts(eais=(pypi_eai(),)))
    assert result.plan is not None
    assert result.plan.pip_requirements == ("lightgbm>=4",)
    assert result.plan.external_access_integrations == ("PYPI_EAI",)
    assert result.ready, result.preflight


def test_plan__requirements_txt_travels_and_covers__pip_requirements_omitted() -> None:
    """A root requirements.txt that declares everything the code needs travels alone (startup.sh installs it)."""
    a = analysis(method=SubmitMethod.SUBMIT_DIRECTORY, requirements_file="requirements.txt",
                 packages=[package("lightgbm")], declared=["lightgbm>=4"],
                 network=[need(NetworkCategory.PYPI, "pypi.org")])
    result = plan_job(a, facts(eais=(pypi_eai(),)))
    plan = result.plan
    assert plan is not None and plan.pip_requirements == () and plan.requirements_file == "requirements.txt"
    assert plan.source == "/proj" and plan.entrypoint == "train.py" and result.ready


def test_plan__requirements_txt_lacks_import__file_plus_missing_installed() -> None:
    """An import the travelling file lacks, and the user's extras, are never dropped: pip_requirements (which the
    library writes over the file) carries the file's lines plus them."""
    a = analysis(method=SubmitMethod.SUBMIT_DIRECTORY, requirements_file="requirements.txt",
                 packages=[package("lightgbm"), package("catboost")], declared=["lightgbm"],
                 network=[need(NetworkCategory.PYPI, "pypi.org")])
    result = plan_job(a, facts(eais=(pypi_eai(),)), PlanChoices(extra_pip_requirements=("rich",)))
    plan = result.plan
    assert plan is not None and plan.pip_requirements == ("lightgbm", "catboost", "rich")
    assert plan.requirements_file == "requirements.txt" and result.ready
    assert any("catboost" in e and "nothing is dropped" in e for e in result.explanations)


@pytest.mark.parametrize(("declared", "extra", "ready"), [
    pytest.param("lightgbm==3.3.5", "lightgbm==4.1.0", False, id="two_pins__conflict"),
    pytest.param("lightgbm<4", "lightgbm==4.1.0", False, id="range_excludes_pin__conflict"),
    pytest.param("lightgbm>=4", "lightgbm==4.1.0", True, id="range_allows_pin__ok"),
])
def test_plan__requirements_txt_version_conflict__not_ready(declared: str, extra: str, ready: bool) -> None:
    """A pin in the travelling file that excludes what the job asks for makes the plan not ready, with the reason."""
    a = analysis(method=SubmitMethod.SUBMIT_DIRECTORY, requirements_file="requirements.txt",
                 packages=[package("lightgbm")], declared=[declared], network=[need(NetworkCategory.PYPI, "pypi.org")])
    result = plan_job(a, facts(eais=(pypi_eai(),)), PlanChoices(extra_pip_requirements=(extra,)))
    assert result.ready is ready
    clash = [i for i in result.preflight if i.code == "requirements.conflict"]
    assert bool(clash) is not ready and all(declared in i.message and extra in i.message for i in clash)


def test_plan__local_machine_lacks_xgboost__snowflake_code_does_not_install_it() -> None:
    """Plan per target: the local run installs what this machine lacks; the Snowflake code is planned against
    the runtime image, which has xgboost, so it never pip-installs it."""
    a = analysis(packages=[package("xgboost", PackageStatus.PREINSTALLED)])
    local = facts(backend="local", installed_packages=frozenset({"numpy"}))
    result = plan_job(a, local)
    assert result.plan is not None and result.plan.pip_requirements == ("xgboost",)
    assert result.code is not None and "xgboost" not in result.code.code  # type: ignore[union-attr]
    assert "pip_requirements=None" in result.code.code  # type: ignore[union-attr]


def test_plan__artifact_repository__no_pypi_eai_needed() -> None:
    """Using Snowflake's PyPI mirror drops the PyPI EAI need."""
    a = analysis(packages=[package("lightgbm")], network=[need(NetworkCategory.PYPI, "pypi.org")])
    result = plan_job(a, facts(), PlanChoices(use_artifact_repository=True))
    assert result.plan is not None and result.plan.external_access_integrations == ()
    assert result.plan.artifact_repositories == ("snowflake.snowpark.pypi_shared_repository",)
    assert not any(i.code.startswith("network") for i in result.preflight)


def test_plan__uncovered_host__not_ready_with_admin_sql() -> None:
    """A host no EAI allows makes the plan not ready, with admin SQL in the coverage."""
    result = plan_job(analysis(network=[need(NetworkCategory.WANDB, "api.wandb.ai")]), facts())
    assert result.plan is not None and not result.ready
    assert result.coverage is not None and any("CREATE NETWORK RULE" in s for s in result.coverage.admin_sql)


def test_plan__multi_node_hint__instances_and_pool_capacity() -> None:
    """A multi-node script proposes its instance count; a pool with too few nodes is not chosen."""
    pools = (ComputePool("SMALL", "IDLE", "CPU_X64_S", idle_nodes=2, max_nodes=2),
             ComputePool("BIG", "IDLE", "CPU_X64_S", max_nodes=8))
    result = plan_job(analysis(compute=verdict(multi_node=4)), facts(pools=pools))
    assert result.plan is not None and result.plan.target_instances == 4 and result.plan.compute_pool == "BIG"


def test_plan__choices__override_everything() -> None:
    """User choices win and are explained."""
    choices = PlanChoices(pool="gpu_pool", stage="@other_stage/sub", name="my_job", args=("--epochs", "3"),
                          env_vars={"B": "2", "A": "1"}, target_instances=2, min_instances=1,
                          runtime_environment="2.10", query_warehouse="wh", eais=("EXTRA_EAI",),
                          database="db2", schema="s2", comment="hello")
    result = plan_job(analysis(compute=verdict(multi_node=2)), facts(), choices)
    plan = result.plan
    assert plan is not None
    assert (plan.compute_pool, plan.stage_name, plan.name) == ("GPU_POOL", "@DB2.S2.OTHER_STAGE/sub", "MY_JOB")
    assert plan.args == ("--epochs", "3") and plan.env_vars == (("A", "1"), ("B", "2"))
    assert (plan.target_instances, plan.min_instances, plan.query_warehouse) == (2, 1, "WH")
    assert plan.external_access_integrations == ("EXTRA_EAI",) and plan.database == "DB2"
    assert any("chosen by you" in e for e in result.explanations)


def test_plan__private_index_secret__spec_override() -> None:
    """A private index secret becomes a PIP_INDEX_URL secret mount, never a literal."""
    result = plan_job(analysis(), facts(), PlanChoices(pip_index_secret="ml.public.feed", shm_size="4Gi"))
    plan = result.plan
    assert plan is not None and plan.spec_overrides is not None
    container = plan.spec_overrides["spec"]["containers"][0]
    assert container["secrets"][0]["envVarName"] == "PIP_INDEX_URL"
    assert plan.spec_overrides["spec"]["volumes"][0]["size"] == "4Gi"


@pytest.mark.parametrize(
    ("choices", "needle"),
    [
        pytest.param(PlanChoices(pool="bad-pool"), "compute pool", id="pool"),
        pytest.param(PlanChoices(stage="@x'y"), "stage", id="stage"),
        pytest.param(PlanChoices(eais=("a;b",)), "external access integration", id="eai"),
        pytest.param(PlanChoices(name="my job"), "job name", id="name"),
        pytest.param(PlanChoices(env_vars={"1X": "v"}), "environment variable", id="env"),
        pytest.param(PlanChoices(target_instances=0), "target_instances", id="target_zero"),
        pytest.param(PlanChoices(target_instances=2, min_instances=3), "min_instances", id="min_gt_target"),
        pytest.param(PlanChoices(backend="cloud"), "backend", id="backend"),
        pytest.param(PlanChoices(gpus=0), "gpus", id="gpus"),
        pytest.param(PlanChoices(database="-rf"), "database", id="dash"),
    ],
)
def test_plan__invalid_choice__no_plan_with_error(choices: PlanChoices, needle: str) -> None:
    """Invalid choices give no plan and an error naming the field."""
    result = plan_job(analysis(), facts(), choices)
    assert result.plan is None and result.errors and needle in result.reason


@pytest.mark.parametrize(
    ("a", "f", "choices", "needle"),
    [
        pytest.param(analysis(gpu=True), facts(pools=(), backend="local"), None, "no compute pool fits",
                     id="no_pool"),
        pytest.param(analysis(), facts(database=None, schema=None), None, "database/schema", id="no_db"),
        pytest.param(analysis(entrypoint="nb.ipynb"), facts(), None, "cannot read nb.ipynb", id="notebook_unreadable"),
        pytest.param(analysis(entrypoint="nb.ipynb"), facts(), PlanChoices(method=SubmitMethod.REMOTE, function_name="f"),
                     "submit_file or submit_directory", id="notebook_remote"),
        pytest.param(analysis(io_report=io(entry_call=None)), facts(), PlanChoices(method=SubmitMethod.REMOTE),
                     "function_name", id="remote_without_function"),
        pytest.param(analysis(), facts(), PlanChoices(method=SubmitMethod.SUBMIT_FROM_STAGE), "source_stage",
                     id="from_stage_without_source"),
        pytest.param(analysis(entrypoint="my train.py"), facts(),
                     PlanChoices(method=SubmitMethod.SUBMIT_FROM_STAGE, source_stage="@S/code"), "rename it",
                     id="from_stage_entrypoint_with_space"),
    ],
)
def test_plan__impossible__reason(a, f, choices, needle: str) -> None:
    """When no plan is possible, the reason says why."""
    result = plan_job(a, f, choices)
    assert result.plan is None and needle in (result.reason or "")


def test_plan__chosen_pool_unusable__plan_with_error() -> None:
    """An explicitly chosen but unusable pool is kept, with a preflight error pointing at the best pool."""
    pools = (ComputePool("CPU_POOL", "IDLE", "CPU_X64_S", idle_nodes=1),
             ComputePool("DEAD", "SUSPENDED", "CPU_X64_S", auto_resume=False))
    result = plan_job(analysis(), facts(pools=pools), PlanChoices(pool="DEAD"))
    assert result.plan is not None and not result.ready
    issue = next(i for i in result.preflight if i.code == "pool.unusable")
    assert "RESUME" in issue.message and "CPU_POOL" in issue.fix


def test_plan__remote__function_and_code() -> None:
    """@remote takes the entry-point function and generates decorator code."""
    result = plan_job(analysis(), facts(), PlanChoices(method=SubmitMethod.REMOTE))
    assert result.plan is not None and result.plan.function_name == "main" and result.plan.name == "MAIN"
    assert isinstance(result.code, Generated) and "remote(" in result.code.code
    ast.parse(result.code.code)


def test_plan__from_stage__source_is_stage() -> None:
    """submit_from_stage uses the stage as source and keeps the entrypoint relative."""
    result = plan_job(analysis(entrypoint="src/train.py"), facts(),
                      PlanChoices(method=SubmitMethod.SUBMIT_FROM_STAGE, source_stage="@ml.public.code/v1"))
    assert result.plan is not None and result.plan.source == "@ML.PUBLIC.CODE/v1"
    assert result.plan.entrypoint == "src/train.py" and result.script_edit is None


def test_plan__local_backend__code_is_the_snowflake_equivalent() -> None:
    """Local plans need no Snowflake database; their code is the Snowflake equivalent on the system pool."""
    local = facts(pools=(ComputePool("LOCAL", "IDLE", "CPU_X64_S", idle_nodes=1),), backend="local",
                  database=None, schema=None)
    result = plan_job(analysis(), local)
    assert result.plan is not None and result.plan.backend == "local"
    assert isinstance(result.code, Generated) and "local pool" in result.code.warnings[0]
    assert "SYSTEM_COMPUTE_POOL_CPU" in result.code.code and "'LOCAL'" not in result.code.code


def test_plan__installed_packages__decide_what_the_local_pool_installs() -> None:
    """On the local pool, a package the runtime image has but this machine lacks is installed; and vice versa."""
    local = facts(pools=(ComputePool("LOCAL", "IDLE", "CPU_X64_S", idle_nodes=1),), backend="local",
                  database=None, schema=None)
    local = dataclasses.replace(local, installed_packages=frozenset({"catboost"}))
    result = plan_job(analysis(packages=[package("scikit-learn", PackageStatus.PREINSTALLED), package("catboost")]), local)
    assert result.plan is not None and result.plan.pip_requirements == ("scikit-learn",)
    assert any("local pool's environment" in n for n in result.explanations)


def test_plan__deterministic_hash() -> None:
    """Planning twice gives the same plan hash."""
    a, f = analysis(gpu=True, packages=[package("lightgbm")]), facts(eais=(pypi_eai(),), grants=Grants(role="R"))
    assert plan_job(a, f).plan.plan_hash() == plan_job(a, f).plan.plan_hash()  # type: ignore[union-attr]
