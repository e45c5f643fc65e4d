"""Generated code, executed against the real snowflake-ml-python 2.6.0 with a fake Snowpark session.

Only the library's entry point is patched (`Session.builder` returns the fake); the generated script, the
planner and snowflake-ml-python run unmodified. The captured `CALL SYSTEM$EXECUTE_ML_JOB(...)` and the stage
files show that what is submitted is exactly what the plan says.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import pytest
from _skill_builders import analysis, facts, io, need, package, pypi_eai, verdict
from snowflake.snowpark import Session

from mljobs.analyzers.model import NetworkCategory, SubmitMethod
from mljobs.skill.codegen import Generated, generate_code
from mljobs.skill.facts import ComputePool
from mljobs.skill.jobplan import JobPlan
from mljobs.skill.plan import PlanChoices, plan_job
from tests.fakes import FakeSession

SCRIPT = """\
import argparse


def main(output_dir="./out"):
    return {"ok": True, "out": output_dir}


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--output-dir", default="./out")
    main(parser.parse_args().output_dir)
"""


class _Builder:
    """Stands in for `Session.builder`: records the config and returns the fake session on create()."""

    def __init__(self, session: FakeSession) -> None:
        self.session = session
        self.configs: list[tuple[str, Any]] = []

    def config(self, key: str, value: Any) -> _Builder:
        self.configs.append((key, value))
        return self

    def create(self) -> FakeSession:
        return self.session


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeSession:
    session = FakeSession(database="OTHER_DB", schema="OTHER")  # the script must switch to the plan's context
    session.add_pool("CPU_POOL", max_nodes=4, idle_nodes=1)
    session.add_eai("PYPI_EAI", ["SNOWFLAKE.EXTERNAL_ACCESS.PYPI_RULE"])
    monkeypatch.setattr(Session, "builder", _Builder(session))
    return session


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "01-train model.py").write_text(SCRIPT)
    (tmp_path / "helpers.py").write_text("X = 1\n")
    return tmp_path


def run(plan: JobPlan, capsys: pytest.CaptureFixture[str], connection: str | None = "dev") -> str:
    """Generate and execute the submission script; return what it printed."""
    out = generate_code(plan, connection_name=connection)
    assert isinstance(out, Generated), out
    namespace: dict[str, Any] = {"__name__": "__main__"}
    exec(compile(out.code, "submit_job.py", "exec"), namespace)  # noqa: S102 - the code under test
    return capsys.readouterr().out


def plan_for(project: Path, method: SubmitMethod, entrypoint: str = "01-train model.py", **choices: Any) -> JobPlan:
    a = analysis(
        root=str(project), entrypoint=entrypoint, method=method,
        packages=[package("lightgbm", requirement="lightgbm>=4")],
        network=[need(NetworkCategory.PYPI, "pypi.org", "files.pythonhosted.org")],
        io_report=io(output_args=["--output-dir"]),
        compute=verdict(multi_node=choices.pop("nodes", None)),
    )
    pools = (ComputePool("CPU_POOL", "IDLE", "CPU_X64_S", idle_nodes=1, max_nodes=4),)
    result = plan_job(a, facts(pools=pools, eais=(pypi_eai(),), database="ML_DB", schema="PUBLIC"),
                      PlanChoices(method=method, env_vars={"EPOCHS": "3"}, runtime_environment="2.10",
                                  query_warehouse="ML_WH", **choices))
    assert result.plan is not None, result.reason
    return result.plan


def stage_dir(fake: FakeSession, index: int = -1) -> str:
    """The payload folder of a submission: the generated code names each run uniquely."""
    return str(fake.submissions[index]["spec_options"]["STAGE_PATH"])


def check_submission(fake: FakeSession, plan: JobPlan, printed: str) -> dict[str, Any]:
    """Assert the captured SYSTEM$EXECUTE_ML_JOB carries the plan's fields; return the submission."""
    assert len(fake.submissions) == 1
    sub = fake.submissions[0]
    spec, job = sub["spec_options"], sub["job_options"]
    assert sub["compute_pool"] == plan.compute_pool
    assert re.fullmatch(rf"{plan.database}\.{plan.schema}\.{plan.name}_[0-9a-f]{{8}}_", sub["name"])
    assert re.fullmatch(rf"{re.escape(plan.stage_name)}/{plan.name}_[0-9a-f]{{8}}", spec["STAGE_PATH"])
    assert job["EXTERNAL_ACCESS_INTEGRATIONS"] == list(plan.external_access_integrations)
    assert (job["TARGET_INSTANCES"], job["MIN_INSTANCES"]) == (plan.target_instances, plan.min_instances)
    assert job["QUERY_WAREHOUSE"] == plan.query_warehouse
    for key, value in plan.env_vars:
        assert spec["ENV_VARS"][key] == value
    assert spec["SPEC_OVERRIDES"] == plan.spec_overrides
    requirements = fake.stage_files.get(f"{stage_dir(fake)}/app/requirements.txt")
    assert requirements == "\n".join(plan.pip_requirements).encode()
    # the plan's pin as sent; @remote plans carry the client's -pyXY suffix (skill/plan.py _runtime_pin)
    assert fake.runtime_requests and json.loads(fake.runtime_requests[-1][1])["runtimeEnvironment"] == (
        plan.runtime_environment)
    assert plan.runtime_environment in ("2.10", "2.10-py311")
    assert (fake.database, fake.schema) == (plan.database, plan.schema)  # use_database/use_schema ran
    assert Session.builder.configs == [("connection_name", "dev")]  # type: ignore[attr-defined]
    assert f"Job ID: {sub['job_id']}" in printed and "Status: PENDING" in printed
    return sub


def test_library__submit_file__submits_the_plan(fake: FakeSession, project: Path, capsys) -> None:
    """submit_file: the script, args, requirements, EAIs, env vars and instances all reach Snowflake."""
    plan = plan_for(project, SubmitMethod.SUBMIT_FILE)
    assert plan.args == ("--output-dir", "$MLRS_STAGE_RESULT_PATH") and plan.pip_requirements == ("lightgbm>=4",)
    sub = check_submission(fake, plan, run(plan, capsys))
    # $MLRS_* in the args: the entry wrapper runs first and gets the script, then the args verbatim.
    assert sub["spec_options"]["ARGS"][-4:] == [
        "/mnt/job_stage/app/mljobs_entry.py", f"/mnt/job_stage/app/{plan.entrypoint}", *plan.args]
    assert b"MLRS_" in fake.stage_files[f"{stage_dir(fake)}/app/mljobs_entry.py"]
    assert fake.stage_files[f"{stage_dir(fake)}/app/{plan.entrypoint}"] == SCRIPT.encode()


def test_library__submit_directory__multi_node(fake: FakeSession, project: Path, capsys) -> None:
    """submit_directory with a multi-node hint: the whole tree and 2 instances (min checked against the pool)."""
    plan = plan_for(project, SubmitMethod.SUBMIT_DIRECTORY, nodes=2)
    assert (plan.target_instances, plan.min_instances) == (2, 2)
    check_submission(fake, plan, run(plan, capsys))
    assert f"{stage_dir(fake)}/app/helpers.py" in fake.stage_files
    assert any(q.sql.startswith("SHOW COMPUTE POOLS") for q in fake.queries)  # the library's min_instances check


def test_library__submit_from_stage__copies_from_stage(fake: FakeSession, project: Path, capsys) -> None:
    """submit_from_stage: the code is copied from the source stage into the payload stage.

    (Stage entrypoints may not contain spaces: the library rejects `01-train model.py` there, so plan_job does.)
    """
    fake.stage_files["@ML_DB.PUBLIC.CODE/v1/src/train.py"] = SCRIPT.encode()
    plan = plan_for(project, SubmitMethod.SUBMIT_FROM_STAGE, "src/train.py", source_stage="@ML_DB.PUBLIC.CODE/v1")
    sub = check_submission(fake, plan, run(plan, capsys))
    assert fake.stage_files[f"{stage_dir(fake)}/app/src/train.py"] == SCRIPT.encode()
    assert sub["spec_options"]["ARGS"][-3:] == ["/mnt/job_stage/app/src/train.py", *plan.args]


def test_library__remote__pickles_function(fake: FakeSession, project: Path, capsys) -> None:
    """@remote: the function is loaded from the file, pickled by value and submitted with the plan's options."""
    plan = plan_for(project, SubmitMethod.REMOTE, function_name="main")
    sub = check_submission(fake, plan, run(plan, capsys))
    assert any("func.py" in a for a in sub["spec_options"]["ARGS"])
    assert f"{stage_dir(fake)}/app/func.py" in fake.stage_files


def test_library__credential_from_env__reaches_requirements_not_code(
        fake: FakeSession, project: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    """A private index URL with a token is read from the environment at run time and only lands on the stage."""
    plan = dataclasses.replace(plan_for(project, SubmitMethod.SUBMIT_FILE),
                               pip_requirements=("--index-url=https://u:T0KEN@pkgs.example.com/simple", "mypkg"))
    code = generate_code(plan, connection_name="dev")
    assert isinstance(code, Generated) and "T0KEN" not in code.code
    monkeypatch.setenv("MLJOBS_PIP_INDEX_URL", "https://u:T0KEN@pkgs.example.com/simple")
    run(plan, capsys)
    reqs = fake.stage_files[f"{stage_dir(fake)}/app/requirements.txt"].decode()
    assert reqs == "--index-url=https://u:T0KEN@pkgs.example.com/simple\nmypkg"


def test_library__resubmit__unique_folder_with_new_code(fake: FakeSession, project: Path, capsys) -> None:
    """Each run of the code submits under a new unique name, so an edited script is never hidden by a stale
    copy (no fixed name with overwrite=True)."""
    plan = plan_for(project, SubmitMethod.SUBMIT_FILE)
    run(plan, capsys)
    (project / "01-train model.py").write_text(SCRIPT + "# edited\n")
    run(plan, capsys)
    assert stage_dir(fake, 0) != stage_dir(fake, 1)
    assert fake.stage_files[f"{stage_dir(fake, 0)}/app/{plan.entrypoint}"] == SCRIPT.encode()
    assert fake.stage_files[f"{stage_dir(fake, 1)}/app/{plan.entrypoint}"].endswith(b"# edited\n")
