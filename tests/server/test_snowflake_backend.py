"""SnowflakeBackend driving the real snowflake-ml-python 2.6.0 through the fake session (no Snowflake needed)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
from snowflake.connector.errors import OperationalError

from mljobs.analyzers.model import SubmitMethod
from mljobs.server.backends.base import Backend, JobStatus
from mljobs.server.backends.snowflake import SnowflakeBackend, is_transient
from mljobs.server.errors import BackendError, JobNotFoundError, SnowflakeError, UsageError
from mljobs.skill.jobplan import JobPlan
from tests.fakes import FakeSession, sql_error

STAGE = "@ML_DB.PUBLIC.PAYLOAD"
HOSTILE = 'x"; DROP TABLE y; --'


@pytest.fixture
def session() -> FakeSession:
    s = FakeSession()
    s.add_pool("CPU_POOL", max_nodes=4)
    s.add_eai("PYPI_EAI", ["SNOWFLAKE.EXTERNAL_ACCESS.PYPI_RULE"])
    return s


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def backend(session: FakeSession, sleeps: list[float]) -> SnowflakeBackend:
    tokens = iter(f"{i:08x}" for i in range(0xAB12CD34, 0xAB12CD34 + 100))
    return SnowflakeBackend(lambda: session, sleep=sleeps.append, token=lambda: next(tokens))


@pytest.fixture
def script(tmp_path: Path) -> Path:
    path = tmp_path / "train.py"
    path.write_text("__return__ = {'acc': 0.9}\n")
    return path


def make_plan(source: Path | str, **overrides: Any) -> JobPlan:
    values: dict[str, Any] = {
        "backend": "snowflake", "method": SubmitMethod.SUBMIT_FILE, "source": str(source), "entrypoint": "train.py",
        "compute_pool": "CPU_POOL", "stage_name": STAGE, "name": "TRAIN", "database": "ML_DB", "schema": "PUBLIC",
        "args": ("--epochs", "3"), "pip_requirements": ("xgboost==2.1.0",),
        "external_access_integrations": ("PYPI_EAI",), "env_vars": (("FOO", "bar"),), "query_warehouse": "ML_WH",
        "comment": "submitted by mljobs",
    }  # fmt: skip
    values.update(overrides)
    return JobPlan(**values)


def _submitted(session: FakeSession) -> dict[str, Any]:
    return session.submissions[-1]


def test_backend__protocol__is_satisfied(backend: SnowflakeBackend) -> None:
    """SnowflakeBackend implements the Backend protocol."""
    assert isinstance(backend, Backend) and backend.name == "snowflake"


def test_submit__submit_file__options_match_the_plan(backend: SnowflakeBackend, session: FakeSession,
                                                      script: Path) -> None:  # fmt: skip
    """Every plan field reaches SYSTEM$EXECUTE_ML_JOB; the payload name is unique and overwrite is on."""
    job_id = backend.submit(make_plan(script, target_instances=2, min_instances=1, runtime_environment="2.10.0"))
    sub = _submitted(session)
    assert job_id == sub["job_id"] and job_id.startswith("ML_DB.PUBLIC.TRAIN_AB12CD34_")
    assert sub["name"] == "ML_DB.PUBLIC.TRAIN_ab12cd34_" and sub["compute_pool"] == "CPU_POOL"
    spec, opts = sub["spec_options"], sub["job_options"]
    assert spec["STAGE_PATH"] == f"{STAGE}/TRAIN_ab12cd34"
    assert spec["ARGS"][-3:] == ["/mnt/job_stage/app/train.py", "--epochs", "3"]
    assert spec["ENV_VARS"]["FOO"] == "bar" and spec["ENV_VARS"]["MLRS_SUBMITTED_TARGET_INSTANCES"] == "2"
    assert opts["EXTERNAL_ACCESS_INTEGRATIONS"] == ["PYPI_EAI"]
    assert (opts["TARGET_INSTANCES"], opts["MIN_INSTANCES"]) == (2, 1)
    assert opts["QUERY_WAREHOUSE"] == "ML_WH" and opts["COMMENT"] == "submitted by mljobs"
    assert json.loads(session.runtime_requests[-1][1])["runtimeEnvironment"] == "2.10.0"
    assert session.stage_files[f"{STAGE}/TRAIN_ab12cd34/app/requirements.txt"] == b"xgboost==2.1.0"


def test_submit__same_plan_twice__fresh_payload_each_time(backend: SnowflakeBackend, session: FakeSession,
                                                           script: Path) -> None:  # fmt: skip
    """A resubmission after editing the script ships the new code in its own directory (no stale code)."""
    backend.submit(make_plan(script))
    script.write_text("__return__ = 'v2'\n")
    backend.submit(make_plan(script))
    assert session.stage_files[f"{STAGE}/TRAIN_ab12cd35/app/train.py"] == b"__return__ = 'v2'\n"
    assert session.stage_files[f"{STAGE}/TRAIN_ab12cd34/app/train.py"] == b"__return__ = {'acc': 0.9}\n"
    assert session.skipped_puts == []


def test_submit__unqualified_stage__qualified_with_plan_context(backend: SnowflakeBackend, session: FakeSession,
                                                                 script: Path) -> None:  # fmt: skip
    """`@PAYLOAD` becomes `@ML_DB.PUBLIC.PAYLOAD` (the library would resolve it in the session context)."""
    session.database, session.schema = "OTHER_DB", "OTHER"
    backend.submit(make_plan(script, stage_name="@payload/sub"))
    assert _submitted(session)["spec_options"]["STAGE_PATH"] == f"{STAGE}/sub/TRAIN_ab12cd34"
    assert _submitted(session)["name"].startswith("ML_DB.PUBLIC.")


def test_submit__submit_directory__tree_entrypoint_and_requirements_file(
    backend: SnowflakeBackend, session: FakeSession, write_tree
) -> None:
    """A folder travels whole; its requirements file is merged with pip_requirements into requirements.txt."""
    root = write_tree({"proj/main.py": "import util\n", "proj/util.py": "X = 1\n",
                       "proj/reqs/prod.txt": "# pinned\nlightgbm==4.5.0\n"})  # fmt: skip
    plan = make_plan(root / "proj", method=SubmitMethod.SUBMIT_DIRECTORY, entrypoint="main.py",
                     requirements_file="reqs/prod.txt")  # fmt: skip
    backend.submit(plan)
    payload = f"{STAGE}/TRAIN_ab12cd34/app"
    assert f"{payload}/util.py" in session.stage_files
    assert _submitted(session)["spec_options"]["ARGS"][-3] == "/mnt/job_stage/app/main.py"
    assert session.stage_files[f"{payload}/requirements.txt"] == b"lightgbm==4.5.0\nxgboost==2.1.0"


def test_submit__requirements_file_alone__points_startup_at_it(backend: SnowflakeBackend, session: FakeSession,
                                                                write_tree) -> None:  # fmt: skip
    """Without pip_requirements, MLRS_REQUIREMENTS_FILE tells startup.sh which file to install."""
    root = write_tree({"proj/main.py": "pass\n", "proj/reqs/prod.txt": "lightgbm\n"})
    backend.submit(make_plan(root / "proj", method=SubmitMethod.SUBMIT_DIRECTORY, entrypoint="main.py",
                             pip_requirements=(), requirements_file="reqs/prod.txt"))  # fmt: skip
    assert _submitted(session)["spec_options"]["ENV_VARS"]["MLRS_REQUIREMENTS_FILE"] == "reqs/prod.txt"


def test_submit__submit_from_stage__copies_and_runs_entrypoint(backend: SnowflakeBackend, session: FakeSession) -> None:
    """A stage source is copied server-side into the job's own payload directory."""
    session.stage_files["@ML_DB.PUBLIC.SRC/code/main.py"] = b"print(1)\n"
    backend.submit(make_plan("@ML_DB.PUBLIC.SRC/code", method=SubmitMethod.SUBMIT_FROM_STAGE, entrypoint="main.py"))
    assert session.stage_files[f"{STAGE}/TRAIN_ab12cd34/app/main.py"] == b"print(1)\n"
    assert _submitted(session)["spec_options"]["ARGS"][-3] == "/mnt/job_stage/app/main.py"


def test_submit__remote__function_loaded_by_name_and_pickled(backend: SnowflakeBackend, session: FakeSession,
                                                              tmp_path: Path, capsys) -> None:  # fmt: skip
    """@remote loads the named function without running the main block, and passes plan args to it."""
    path = tmp_path / "fit.py"
    path.write_text(textwrap.dedent("""
        print("module top level")

        def fit(epochs, lr="0.1"):
            return {"epochs": epochs, "lr": lr}

        if __name__ == "__main__":
            raise SystemExit("main block must not run")
    """))
    job_id = backend.submit(make_plan(path, method=SubmitMethod.REMOTE, entrypoint="fit.py", function_name="fit",
                                      args=("5",)))  # fmt: skip
    args = _submitted(session)["spec_options"]["ARGS"]
    assert "/mnt/job_stage/app/func.py" in args
    assert json.loads(args[-1].split("=", 1)[1])["value"] == [["5"], {}]
    assert job_id.startswith("ML_DB.PUBLIC.TRAIN_AB12CD34_")
    out = capsys.readouterr()
    assert out.out == "" and "module top level" in out.err


def test_submit__remote_missing_function__usage_error(backend: SnowflakeBackend, session: FakeSession,
                                                       script: Path) -> None:  # fmt: skip
    """A function_name the file does not define is refused before anything is submitted."""
    with pytest.raises(UsageError, match="no function 'nope'"):
        backend.submit(make_plan(script, method=SubmitMethod.REMOTE, function_name="nope"))
    assert session.submissions == []


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"compute_pool": HOSTILE}, id="pool"),
        pytest.param({"stage_name": f"@{HOSTILE}"}, id="stage"),
        pytest.param({"external_access_integrations": (HOSTILE,)}, id="eai"),
        pytest.param({"runtime_environment": "2.10'); DROP TABLE y; --"}, id="runtime"),
        pytest.param({"env_vars": (("BAD NAME", "v"),)}, id="env_name"),
        pytest.param({"name": HOSTILE}, id="name"),
        pytest.param({"database": HOSTILE}, id="database"),
        pytest.param({"query_warehouse": HOSTILE}, id="warehouse"),
    ],
)
def test_submit__hostile_value__usage_error_and_nothing_sent(backend: SnowflakeBackend, session: FakeSession,
                                                              script: Path, overrides: dict) -> None:  # fmt: skip
    """A value that is not a plain identifier (or safe tag) is refused and no statement runs."""
    with pytest.raises(UsageError):
        backend.submit(make_plan(script, **overrides))
    assert session.queries == []


def test_status__transitions__follow_the_job(backend: SnowflakeBackend, session: FakeSession, script: Path) -> None:
    """Each status read reflects Snowflake's current state, PENDING -> RUNNING -> DONE."""
    job_id = backend.submit(make_plan(script))
    session.job(job_id).script = ["PENDING", "RUNNING", "DONE"]
    assert [backend.status(job_id) for _ in range(3)] == [JobStatus.PENDING, JobStatus.RUNNING, JobStatus.DONE]


def test_status__unknown_job__job_not_found(backend: SnowflakeBackend) -> None:
    """An id neither DESCRIBE SERVICE nor job history knows is JobNotFoundError."""
    with pytest.raises(JobNotFoundError, match="ML_DB.PUBLIC.NOPE"):
        backend.status("NOPE")


def test_status__hostile_job_id__usage_error(backend: SnowflakeBackend, session: FakeSession) -> None:
    """A job id with quotes or semicolons never reaches SQL."""
    with pytest.raises(UsageError):
        backend.status(HOSTILE)
    assert session.queries == []


def test_instances__multi_node__per_instance_states(backend: SnowflakeBackend, session: FakeSession,
                                                     script: Path) -> None:  # fmt: skip
    """SHOW SERVICE INSTANCES rows become sorted InstanceStatus values; a dropped service has none."""
    job_id = backend.submit(make_plan(script, target_instances=2))
    session.job(job_id).status = "RUNNING"
    states = backend.instances(job_id)
    assert [(i.instance_id, i.status) for i in states] == [(0, "READY"), (1, "READY")]
    session.job(job_id).deleted_on = session.now
    assert backend.instances(job_id) == []


def test_logs__per_instance_and_verbose(backend: SnowflakeBackend, session: FakeSession, script: Path) -> None:
    """Logs come per instance; verbose keeps the pip phase before the start banner."""
    job_id = backend.submit(make_plan(script, target_instances=2))
    session.job(job_id).status = "RUNNING"
    session.set_logs(job_id, "head says hi", setup="Collecting xgboost==2.1.0\n")
    session.set_logs(job_id, "worker says hi", instance=1)
    assert backend.logs(job_id, instance_id=0) == "head says hi"
    assert backend.logs(job_id, instance_id=1) == "worker says hi"
    assert "Collecting xgboost" in backend.logs(job_id, instance_id=0, verbose=True)
    assert backend.logs(job_id) == "head says hi"  # the head instance by default


def test_result__done__round_trip(backend: SnowflakeBackend, session: FakeSession, script: Path) -> None:
    """A DONE job's ResultDTO value comes back as JobResult.value."""
    job_id = backend.submit(make_plan(script))
    session.complete_job(job_id, {"acc": 0.9})
    result = backend.result(job_id)
    assert (result.success, result.value, result.error) == (True, {"acc": 0.9}, None)


def test_result__failed__error_and_remote_traceback(backend: SnowflakeBackend, session: FakeSession,
                                                     script: Path) -> None:  # fmt: skip
    """A failed job's exception and the traceback from inside the container are reported, not raised."""
    job_id = backend.submit(make_plan(script))
    tb = 'Traceback (most recent call last):\n  File "/mnt/job_stage/app/train.py", line 3, in <module>\n'
    session.complete_job(job_id, error=("builtins.ValueError", "boom", tb))
    result = backend.result(job_id)
    assert result.success is False and result.error == "ValueError('boom')"
    assert "train.py" in result.traceback and "ValueError: boom" in result.traceback


def test_result__cancelled_without_result_file__explains(backend: SnowflakeBackend, session: FakeSession,
                                                          script: Path) -> None:  # fmt: skip
    """A job that wrote no result (cancelled -- it ends FAILED on Snowflake --, pip failure) gives a failed
    JobResult pointing at the logs, without waiting for a result that will never appear."""
    sleeps: list[float] = []
    backend._sleep = sleeps.append
    job_id = backend.submit(make_plan(script))
    session.job(job_id).status = "RUNNING"
    backend.cancel(job_id)
    assert backend.status(job_id) is JobStatus.FAILED
    result = backend.result(job_id)
    assert result.success is False and "FAILED" in result.error and "verbose=True" in result.error
    assert sleeps == []


def test_result__running__backend_error(backend: SnowflakeBackend, session: FakeSession, script: Path) -> None:
    """Asking for the result of a running job is a fault that says to poll the status."""
    job_id = backend.submit(make_plan(script))
    session.job(job_id).status = "RUNNING"
    with pytest.raises(BackendError, match="RUNNING"):
        backend.result(job_id)
    assert not any("spcs_wait_for" in q.sql for q in session.queries)


def test_cancel__running_then_terminal(backend: SnowflakeBackend, session: FakeSession, script: Path) -> None:
    """cancel() asks Snowflake to cancel; the job service then ends FAILED (Snowflake has no CANCELLING or
    CANCELLED status, §10.7); on a finished job it sends nothing."""
    job_id = backend.submit(make_plan(script))
    session.job(job_id).status = "RUNNING"
    backend.cancel(job_id)
    assert session.job(job_id).cancel_requested
    assert backend.status(job_id) is JobStatus.FAILED
    backend.cancel(job_id)
    assert sum("spcs_cancel_job" in q.sql for q in session.queries) == 1


def test_list__jobs__newest_first_as_job_info(backend: SnowflakeBackend, session: FakeSession, script: Path) -> None:
    """list() returns JobInfo values newest first, cut to the limit after sorting."""
    first = backend.submit(make_plan(script))
    second = backend.submit(make_plan(script, target_instances=2))
    session.complete_job(first, 1)
    infos = backend.list(limit=1)
    assert [i.job_id for i in infos] == [second]
    info = backend.list()[1]
    assert (info.job_id, info.status, info.compute_pool, info.backend) == (first, JobStatus.DONE, "CPU_POOL",
                                                                           "snowflake")  # fmt: skip
    assert info.created_at is not None and info.finished_at is not None
    assert backend.list()[0].target_instances == 2


def test_delete__removes_only_that_jobs_payload(backend: SnowflakeBackend, session: FakeSession,
                                                script: Path) -> None:  # fmt: skip
    """delete drops the service and removes its own payload directory; a sibling with a common prefix stays."""
    victim = backend.submit(make_plan(script))
    sibling_dir = f"{STAGE}/TRAIN_ab12cd34X/app/train.py"  # shares the prefix "TRAIN_ab12cd34"
    session.stage_files[sibling_dir] = b"keep me"
    other = backend.submit(make_plan(script))
    backend.delete(victim)
    assert not any(k.startswith(f"{STAGE}/TRAIN_ab12cd34/") for k in session.stage_files)
    assert sibling_dir in session.stage_files
    assert any(k.startswith(f"{STAGE}/TRAIN_ab12cd35/") for k in session.stage_files)
    assert session.job(victim).deleted_on is not None and session.job(other).deleted_on is None
    assert f"REMOVE {STAGE}/TRAIN_ab12cd34/" in [q.sql for q in session.queries]


def test_delete__remove_fails_inside_library__removed_again(backend: SnowflakeBackend, session: FakeSession,
                                                             script: Path) -> None:  # fmt: skip
    """delete_job swallows a failed REMOVE; the backend notices the leftover payload and removes it."""
    job_id = backend.submit(make_plan(script))
    session.inject(r"^REMOVE ", sql_error("stage busy", 1), times=1)
    backend.delete(job_id)
    assert not any(k.startswith(f"{STAGE}/TRAIN_ab12cd34/") for k in session.stage_files)
    assert sum(q.sql.startswith("REMOVE") for q in session.queries) == 2


def test_delete__shared_payload_dir__kept_and_service_dropped(backend: SnowflakeBackend, session: FakeSession,
                                                               script: Path) -> None:  # fmt: skip
    """A job submitted elsewhere with a fixed name shares its payload dir; it is not removed."""
    from snowflake.ml import jobs

    job = jobs.submit_file(str(script), "CPU_POOL", stage_name=STAGE, session=session, name="shared")
    jobs.submit_file(str(script), "CPU_POOL", stage_name=STAGE, session=session, name="shared")
    backend.delete(job.id)
    assert f"{STAGE}/shared/app/train.py" in session.stage_files
    assert session.job(job.id).deleted_on is not None
    assert not any(q.sql.startswith("REMOVE") for q in session.queries)


def test_delete__unknown_job__job_not_found(backend: SnowflakeBackend) -> None:
    """Deleting an id Snowflake does not know is JobNotFoundError."""
    with pytest.raises(JobNotFoundError):
        backend.delete("ML_DB.PUBLIC.GHOST_1")


def test_retry__transient_twice__backoff_then_success(backend: SnowflakeBackend, session: FakeSession,
                                                       script: Path, sleeps: list[float]) -> None:  # fmt: skip
    """Connection drops are retried with exponential backoff through the injected sleep."""
    job_id = backend.submit(make_plan(script))
    session.inject(r"^DESCRIBE SERVICE", OperationalError(msg="Connection reset by peer", errno=250003), times=2)
    assert backend.status(job_id) is JobStatus.PENDING
    assert sleeps == [1.0, 2.0]


def test_retry__always_throttled__gives_up_with_transient_message(backend: SnowflakeBackend, session: FakeSession,
                                                                   sleeps: list[float]) -> None:  # fmt: skip
    """After the last attempt a transient failure surfaces as SnowflakeError saying to try later."""
    session.inject(r"^SHOW COMPUTE POOLS", sql_error("HTTP 429: Too Many Requests", None), times=None)
    facts = backend.facts()  # discovery turns the final failure into a note
    assert facts.pools == () and any("try again later" in n for n in facts.notes)
    assert sleeps == [1.0, 2.0, 4.0]


def test_retry__submit_created_job_then_link_dropped__no_duplicate(backend: SnowflakeBackend, session: FakeSession,
                                                                    script: Path, sleeps: list[float]) -> None:  # fmt: skip
    """If the connection drops after the job was created, the retry finds it instead of submitting twice."""
    session.inject(r"SYSTEM\$EXECUTE_ML_JOB", OperationalError(msg="connection aborted", errno=250002), after=True)
    job_id = backend.submit(make_plan(script))
    assert len(session.jobs) == 1 and job_id == session.job().id
    assert sleeps == [1.0]


@pytest.mark.parametrize(
    ("code", "message", "needle"),
    [
        (3001, "Insufficient privileges to operate on schema 'PUBLIC'", "CREATE SERVICE"),
        (2003, "Integration 'PYPI_EAI' does not exist or not authorized.", "does not exist"),
        (90106, "Cannot perform PUT. This session does not have a current schema.", "no current schema"),
    ],
)
def test_submit__permanent_error__mapped_without_retry(backend: SnowflakeBackend, session: FakeSession, script: Path,
                                                       sleeps: list[float], code: int, message: str,
                                                       needle: str) -> None:  # fmt: skip
    """Permanent Snowflake errors become SnowflakeError with the code and a plain explanation, no retry."""
    session.inject(r"SYSTEM\$EXECUTE_ML_JOB", sql_error(message, code), times=None)
    with pytest.raises(SnowflakeError) as info:
        backend.submit(make_plan(script))
    assert info.value.code == code and needle in info.value.message
    assert sleeps == []


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (OperationalError(msg="x", errno=250001), True),
        (sql_error("HTTP 503 Service Unavailable", None), True),
        (ConnectionResetError("reset"), True),
        (TimeoutError("Job did not complete"), False),
        (sql_error("SQL compilation error", 1003), False),
        (sql_error("Insufficient privileges", 3001), False),
    ],
)
def test_is_transient__cases(exc: BaseException, expected: bool) -> None:
    """Network, throttling and connector-retryable failures are transient; rejected statements are not."""
    assert is_transient(exc) is expected


def test_facts__delegates_to_account_discovery(backend: SnowflakeBackend) -> None:
    """facts() returns AccountFacts read from the account."""
    facts = backend.facts()
    assert facts.backend == "snowflake" and [p.name for p in facts.pools] == ["CPU_POOL"]
    assert [e.name for e in facts.eais] == ["PYPI_EAI"]


def test_every_verb__nothing_on_stdout(backend: SnowflakeBackend, session: FakeSession, script: Path, capsys) -> None:
    """stdout is the MCP channel: no verb writes to it."""
    job_id = backend.submit(make_plan(script))
    session.set_logs(job_id, "training")
    session.complete_job(job_id, 3)
    backend.status(job_id), backend.logs(job_id, verbose=True), backend.result(job_id), backend.list()
    backend.instances(job_id), backend.facts(), backend.delete(job_id)
    assert capsys.readouterr().out == ""


def test_delete__twice__second_is_a_no_op(backend: SnowflakeBackend, session: FakeSession, script: Path) -> None:
    """After the service is dropped only job history remains; deleting again does not fail (delete_job would)."""
    job_id = backend.submit(make_plan(script))
    backend.delete(job_id)
    drops = sum(q.sql.startswith("DROP SERVICE") for q in session.queries)
    backend.delete(job_id)
    assert sum(q.sql.startswith("DROP SERVICE") for q in session.queries) == drops == 1
