"""Service.plan adds what only the server knows: the dependency preflight (real uv, local wheel index), the
cost in the one confirmation summary, a local run's duration as a hint; and the default job comment."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from mljobs import __version__
from mljobs.server.depcheck import DependencyChecker, find_uv
from mljobs.server.service import Service
from mljobs.server.settings import Settings
from mljobs.server.store import JobStore
from mljobs.skill.facts import AccountFacts, ComputePool, ExternalAccessIntegration, Grants, NetworkRuleInfo
from mljobs.skill.plan import confirmation_summary

from .test_depcheck import make_wheel


@dataclass
class FactsOnly:
    """The one Backend member planning uses: facts() (documented row shapes live in tests/fakes)."""

    name: str
    account: AccountFacts

    def facts(self) -> AccountFacts:
        return self.account


PYPI = ExternalAccessIntegration("PYPI_EAI", True, (NetworkRuleInfo("SNOWFLAKE.EXTERNAL_ACCESS.PYPI_RULE", None,
                                                                    source="builtin"),))


def snowflake_facts(*, idle: int = 1, state: str = "IDLE") -> AccountFacts:
    pool = ComputePool("CPU_POOL", state, "CPU_X64_M", idle_nodes=idle, max_nodes=4, has_usage=True)
    return AccountFacts(backend="snowflake", database="ML", schema="PUBLIC", role="DS", pools=(pool,),
                        eais=(PYPI,), grants=Grants(role="DS", eai_usage=("PYPI_EAI",)), client_python="3.11")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "requirements.txt").write_text("torch==1.13.1\noptuna\n")
    (root / "helper.py").write_text("X = 1\n")
    (root / "train.py").write_text("import torch\nimport optuna\nimport helper\nprint(torch.__version__)\n")
    return root


@pytest.fixture
def wheels(tmp_path: Path) -> Path:
    folder = tmp_path / "wheels"
    folder.mkdir()
    make_wheel(folder, "torch", "1.13.1", padding=20000)
    make_wheel(folder, "optuna", "4.0.0", ("alembic", "colorlog"))
    make_wheel(folder, "alembic", "1.13.0")
    make_wheel(folder, "colorlog", "6.8.0")
    return folder


def service(tmp_path: Path, facts: AccountFacts, wheels: Path | None) -> Service:
    checker = (lambda s: DependencyChecker(cache_dir=s.cache_dir, find_links=(str(wheels),), offline_index=True)
               ) if wheels is not None else (lambda s: None)
    return Service(settings=Settings(state_dir=tmp_path / "state"),
                   backend_factory=lambda name, s: FactsOnly(name, facts),  # type: ignore[arg-type, return-value]
                   dependency_checker=checker)


@pytest.mark.skipif(find_uv() is None, reason="uv not installed")
def test_plan__torch_pin__conflict_with_both_versions_in_preflight_and_summary(tmp_path, project, wheels) -> None:
    result = service(tmp_path, snowflake_facts(), wheels).plan(project, "train.py", backend="snowflake")
    assert result.plan is not None and result.plan.requirements_file == "requirements.txt"
    deps = result.dependencies
    assert {i.name for i in deps.install} == {"torch", "optuna", "alembic", "colorlog"}
    (issue,) = [i for i in result.preflight if i.code == "deps.replaces_preinstalled"]
    assert "2.13.0+cpu" in issue.message and "1.13.1" in issue.message and "drop the pin" in issue.fix
    summary = "\n".join(confirmation_summary(result))
    assert "Dependency preflight (2.10-cpu-py3.11): 4 to install" in summary
    assert "conflict: torch: the image has 2.13.0+cpu" in summary
    assert "credits/hour (CPU_X64_M: 0.22/node-hour x 1 node" in summary
    assert "no cold start expected: 1 idle node(s) on CPU_POOL" in summary


def test_plan__no_checker__no_dependencies_and_still_ready(tmp_path, project) -> None:
    result = service(tmp_path, snowflake_facts(), None).plan(project, "train.py", backend="snowflake")
    assert result.dependencies is None and not any(i.code.startswith("deps.") for i in result.preflight)


def test_plan__suspended_pool__cold_start_and_local_duration_hint(tmp_path, project) -> None:
    svc = service(tmp_path, snowflake_facts(idle=0, state="SUSPENDED"), None)
    clock = [100.0]
    svc._store = JobStore(svc.settings.state_dir / "jobs.sqlite3", now=lambda: clock[0])
    svc.settings.ensure_state_dir()
    plan = {"source": str(project), "entrypoint": "train.py", "args": []}
    svc.store.add("local-1", "local", "RUNNING", plan=plan)
    clock[0] = 172.0
    svc.store.update_status("local-1", "DONE")
    result = svc.plan(project, "train.py", backend="snowflake")
    lines = result.cost.lines()
    assert "cold start likely: CPU_POOL is suspended" in lines[1]
    assert lines[2] == "Hint: a local run of this script took 72 s"


def test_plan__default_comment_names_the_tool(tmp_path, project) -> None:
    result = service(tmp_path, snowflake_facts(), None).plan(project, "train.py", backend="snowflake")
    assert result.plan.comment == f"mljobs {__version__}"


@pytest.mark.parametrize(("pin", "method", "expected", "issue"), [
    pytest.param("2.10.0", "remote", "2.10.0-py311", None, id="remote_tag_without_suffix__client_suffix_added"),
    pytest.param("2.10.0", "submit_directory", "2.10.0", None, id="script__tag_left_alone"),
    pytest.param("2.10.0-py310", "remote", "2.10.0-py310", "error", id="remote_other_python__error"),
    pytest.param("2.10.0-py310", "submit_directory", "2.10.0-py310", "warning", id="script_other_python__warning"),
    pytest.param("2.10.0-py311", "remote", "2.10.0-py311", None, id="remote_same_python__fine"),
])
def test_plan__runtime_pin_python_suffix(tmp_path, pin, method, expected, issue) -> None:
    from mljobs.analyzers.model import SubmitMethod
    from mljobs.skill.plan import PlanChoices

    root = tmp_path / "p"
    root.mkdir()
    (root / "train.py").write_text("def main():\n    return 1\n\nif __name__ == '__main__':\n    main()\n")
    (root / "util.py").write_text("X = 1\n")
    choices = PlanChoices(runtime_environment=pin, method=SubmitMethod(method), function_name="main")
    result = service(tmp_path, snowflake_facts(), None).plan(root / "train.py", choices=choices, backend="snowflake")
    assert result.plan.runtime_environment == expected
    found = [i.severity.value for i in result.preflight if i.code == "python.image_mismatch"]
    assert found == ([issue] if issue else [])


def test_plan__removed_api__not_ready_with_line_and_replacement(tmp_path) -> None:
    script = tmp_path / "boston.py"
    script.write_text("from sklearn.datasets import load_boston\nX, y = load_boston(return_X_y=True)\n")
    result = service(tmp_path, snowflake_facts(), None).plan(script, backend="snowflake")
    issues = [i for i in result.preflight if i.code == "api.removed"]
    assert not result.ready and [i.message.split(":")[1] for i in issues] == ["1", "2"]
    assert all("fetch_california_housing" in i.fix and "1.8.0" in i.message for i in issues)


@pytest.mark.skipif(find_uv() is None, reason="uv not installed")
def test_plan__local_backend__pip_requirements_not_checked_against_the_image(tmp_path, wheels) -> None:
    """A local plan installs what this machine lacks; only a travelling requirements file is checked."""
    script = tmp_path / "t.py"
    script.write_text("import optuna\n")
    local = AccountFacts(backend="local", database="LOCAL", schema="JOBS",
                         pools=(ComputePool("LOCAL", "IDLE", "LOCAL_2CPU", idle_nodes=1),),
                         installed_packages=frozenset())
    result = service(tmp_path, local, wheels).plan(script, backend="local")
    assert result.plan.pip_requirements == ("optuna",) and result.dependencies is None
