"""The fake session is faithful enough for the real snowflake-ml-python 2.6.0 to run every job verb end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from snowflake.ml import jobs
from snowflake.snowpark.exceptions import SnowparkSQLException

from tests.fakes import FakeSession, sql_error

STAGE = "@ML_DB.PUBLIC.PAYLOAD"


@pytest.fixture
def session() -> FakeSession:
    s = FakeSession()
    s.add_pool("CPU_POOL")
    s.add_eai("PYPI_EAI", ["SNOWFLAKE.EXTERNAL_ACCESS.PYPI_RULE"])
    return s


@pytest.fixture
def script(tmp_path: Path) -> Path:
    path = tmp_path / "train.py"
    path.write_text("__return__ = 42\n")
    return path


def _submission(session: FakeSession) -> dict:
    return session.submissions[-1]


def test_submit_file__real_library__records_spec_and_job_options(session: FakeSession, script: Path) -> None:
    """submit_file uploads the script and calls SYSTEM$EXECUTE_ML_JOB with every option as JSON."""
    job = jobs.submit_file(
        str(script), "cpu_pool", stage_name=STAGE, session=session, name="train_a", overwrite=True,
        args=["--epochs", "3"], pip_requirements=["xgboost==2.1.0"], external_access_integrations=["PYPI_EAI"],
        env_vars={"FOO": "bar"}, target_instances=1, comment="from-test",
    )  # fmt: skip
    sub = _submission(session)
    assert job.id == sub["job_id"] and job.id.startswith("ML_DB.PUBLIC.TRAIN_A_")
    assert sub["name"] == "ML_DB.PUBLIC.train_a_" and sub["compute_pool"] == "CPU_POOL"
    assert sub["spec_options"]["STAGE_PATH"] == f"{STAGE}/train_a"
    assert sub["spec_options"]["ARGS"][-3:] == ["/mnt/job_stage/app/train.py", "--epochs", "3"]
    assert sub["spec_options"]["ENV_VARS"]["FOO"] == "bar"
    assert sub["job_options"]["EXTERNAL_ACCESS_INTEGRATIONS"] == ["PYPI_EAI"]
    assert sub["job_options"]["COMMENT"] == "from-test" and sub["job_options"]["GENERATE_SUFFIX"] is True
    assert session.stage_files[f"{STAGE}/train_a/app/train.py"] == b"__return__ = 42\n"
    assert session.stage_files[f"{STAGE}/train_a/app/requirements.txt"] == b"xgboost==2.1.0"


def test_submit_file__same_name_without_overwrite__skips_the_new_code(session: FakeSession, script: Path) -> None:
    """The stale-code trap is reproduced: a second PUT of the same name without overwrite is skipped."""
    jobs.submit_file(str(script), "CPU_POOL", stage_name=STAGE, session=session, name="train_a")
    script.write_text("__return__ = 'new'\n")
    jobs.submit_file(str(script), "CPU_POOL", stage_name=STAGE, session=session, name="train_a")
    assert session.stage_files[f"{STAGE}/train_a/app/train.py"] == b"__return__ = 42\n"
    assert f"{STAGE}/train_a/app/train.py" in session.skipped_puts


def test_submit_directory__real_library__uploads_tree_and_entrypoint(session: FakeSession, tmp_path: Path) -> None:
    """submit_directory PUTs each file of the tree and runs the entrypoint under /mnt/job_stage/app."""
    (tmp_path / "proj" / "pkg").mkdir(parents=True)
    (tmp_path / "proj" / "main.py").write_text("import pkg.util\n")
    (tmp_path / "proj" / "pkg" / "util.py").write_text("X = 1\n")
    jobs.submit_directory(str(tmp_path / "proj"), "CPU_POOL", entrypoint="main.py", stage_name=STAGE,
                          session=session, name="proj_job")  # fmt: skip
    assert f"{STAGE}/proj_job/app/pkg/util.py" in session.stage_files
    assert _submission(session)["spec_options"]["ARGS"][-1] == "/mnt/job_stage/app/main.py"


def test_submit_from_stage__real_library__copies_files_on_the_server(session: FakeSession) -> None:
    """submit_from_stage issues COPY FILES from the source stage; the fake copies the bytes."""
    session.stage_files["@ML_DB.PUBLIC.SRC/code/main.py"] = b"print(1)\n"
    jobs.submit_from_stage("@ML_DB.PUBLIC.SRC/code/", "CPU_POOL", entrypoint="@ML_DB.PUBLIC.SRC/code/main.py",
                           stage_name=STAGE, session=session, name="staged")  # fmt: skip
    assert any(q.sql.startswith("copy files into") for q in session.queries)
    assert session.stage_files[f"{STAGE}/staged/app/main.py"] == b"print(1)\n"


def test_remote__real_library__pickles_function_and_args(session: FakeSession) -> None:
    """@remote uploads func.py and passes the call's arguments inline as --function_args."""

    def add(a: int, b: int = 2) -> int:
        return a + b

    definition = jobs.remote("CPU_POOL", stage_name=STAGE, session=session)(add)
    job = definition(1, b=5)
    args = _submission(session)["spec_options"]["ARGS"]
    assert "/mnt/job_stage/app/func.py" in args
    assert json.loads(args[-1].split("=", 1)[1])["value"] == [[1], {"b": 5}]
    assert job.id.startswith("ML_DB.PUBLIC.ADD_")


def test_status_logs_result__scripted_job__round_trip(session: FakeSession, script: Path) -> None:
    """Status follows the script, logs are cut at the banners unless verbose, result reads the ResultDTO."""
    job = jobs.submit_file(str(script), "CPU_POOL", stage_name=STAGE, session=session, name="t")
    fake = session.job(job.id)
    fake.script = ["PENDING", "RUNNING"]
    assert job.status == "PENDING"
    assert job.get_logs() == ""  # container still PENDING
    assert job.status == "RUNNING"
    session.set_logs(job.id, "epoch 1", setup="Collecting xgboost\n")
    assert job.get_logs() == "epoch 1"
    assert "Collecting xgboost" in job.get_logs(verbose=True)
    with pytest.raises(TimeoutError):
        job.result(timeout=0)
    session.complete_job(job.id, {"acc": 0.5})
    assert job.status == "DONE"
    assert job.result(timeout=0) == {"acc": 0.5}


def test_result__failed_job__raises_with_remote_cause(session: FakeSession, script: Path) -> None:
    """A failed ResultDTO becomes RuntimeError('Job execution failed ...') caused by the rebuilt exception."""
    job = jobs.submit_file(str(script), "CPU_POOL", stage_name=STAGE, session=session, name="t")
    session.complete_job(job.id, error=("builtins.ValueError", "boom", "Traceback...\n"))
    with pytest.raises(RuntimeError, match="Job execution failed") as info:
        job.result(timeout=0)
    assert isinstance(info.value.__cause__, ValueError)


def test_cancel__running_job__ends_failed_without_cancelling(session: FakeSession, script: Path) -> None:
    """cancel() calls spcs_cancel_job; the service never reports CANCELLING/CANCELLED: it ends FAILED (§10.7)."""
    job = jobs.submit_file(str(script), "CPU_POOL", stage_name=STAGE, session=session, name="t")
    session.job(job.id).status = "RUNNING"
    job.cancel()
    assert session.job(job.id).status == "RUNNING"
    assert job.status == "FAILED"
    assert session.job(job.id).message == "Job was cancelled by the user."


def test_script__undocumented_status__refused(session: FakeSession, script: Path) -> None:
    """A test cannot script a status Snowflake never reports (the old CANCELLING model)."""
    job = jobs.submit_file(str(script), "CPU_POOL", stage_name=STAGE, session=session, name="t")
    session.job(job.id).script = ["CANCELLING"]
    with pytest.raises(AssertionError, match="not a status Snowflake reports"):
        _ = job.status


def test_list_and_delete__two_jobs__delete_removes_only_its_stage_dir(session: FakeSession, script: Path) -> None:
    """list_jobs returns the history frame; delete_job removes its own payload dir and drops the service."""
    first = jobs.submit_file(str(script), "CPU_POOL", stage_name=STAGE, session=session, name="job_a")
    second = jobs.submit_file(str(script), "CPU_POOL", stage_name=STAGE, session=session, name="job_ab")
    frame = jobs.list_jobs(session=session)
    assert sorted(frame["name"]) == sorted([first.name, second.name])  # GET_JOB_HISTORY has no defined order
    jobs.delete_job(first.id, session=session)
    assert not any(k.startswith(f"{STAGE}/job_a/") for k in session.stage_files)
    assert any(k.startswith(f"{STAGE}/job_ab/") for k in session.stage_files)
    assert list(jobs.list_jobs(session=session)["name"]) == [second.name]
    assert jobs.get_job(first.id, session=session).status == "PENDING"  # from job history after the drop


def test_unknown_sql__any_statement__raises(session: FakeSession) -> None:
    """Statements the fake does not model fail loudly instead of returning nothing."""
    with pytest.raises(SnowparkSQLException, match="does not understand"):
        session.sql("CREATE TABLE x (a INT)").collect()


def test_inject__transient_twice__fails_then_recovers(session: FakeSession) -> None:
    """An injected error fires the given number of times and every attempt is recorded."""
    session.inject(r"^SHOW COMPUTE POOLS", sql_error("throttled", 0), times=2)
    for _ in range(2):
        with pytest.raises(SnowparkSQLException):
            session.sql("SHOW COMPUTE POOLS").collect()
    assert session.sql("SHOW COMPUTE POOLS").collect()[0]["name"] == "CPU_POOL"
    assert len(session.queries) == 3
