"""The Snowflake backend against the server behaviour the fake takes from the library source and Snowflake's docs.

Each test names the fact it checks (research mljobs-api.md §10): the documented status set, the result
visibility lag, artifacts on the result location, logs that go with the service, the job-history window, and
payload removal after the service is gone. The real snowflake-ml-python 2.6.0 client runs in every test.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from mljobs.analyzers.model import SubmitMethod
from mljobs.server.backends.base import SNOWFLAKE_STATUSES, JobStatus, listing_scope
from mljobs.server.backends.snowflake import RESULT_LAG_POLL_SECONDS, RESULT_LAG_SECONDS, SnowflakeBackend
from mljobs.server.checkpoints import Confirmation
from mljobs.server.errors import BackendError, SnowflakeError, UsageError
from mljobs.server.service import Service
from mljobs.server.settings import Settings
from mljobs.skill.jobplan import JobPlan
from tests.fakes import FakeSession

STAGE = "@ML_DB.PUBLIC.PAYLOAD"


@pytest.fixture
def session() -> FakeSession:
    s = FakeSession()
    s.add_pool("CPU_POOL", max_nodes=2)
    return s


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def backend(session: FakeSession, sleeps: list[float]) -> SnowflakeBackend:
    tokens = iter(f"{i:08x}" for i in range(0xC0FFEE00, 0xC0FFEE00 + 100))
    return SnowflakeBackend(lambda: session, sleep=sleeps.append, token=lambda: next(tokens))


@pytest.fixture
def script(tmp_path: Path) -> Path:
    path = tmp_path / "train.py"
    path.write_text("__return__ = 1\n")
    return path


def plan(source: Path, **overrides: Any) -> JobPlan:
    values: dict[str, Any] = {
        "backend": "snowflake", "method": SubmitMethod.SUBMIT_FILE, "source": str(source), "entrypoint": "train.py",
        "compute_pool": "CPU_POOL", "stage_name": STAGE, "name": "TRAIN", "database": "ML_DB", "schema": "PUBLIC",
    }  # fmt: skip
    values.update(overrides)
    return JobPlan(**values)


# ------------------------------------------------------------------------------------------------ statuses


@pytest.mark.parametrize("raw", sorted(s.value for s in SNOWFLAKE_STATUSES))
def test_status__every_documented_status__mapped_not_internal_error(backend: SnowflakeBackend, session: FakeSession,
                                                                    script: Path, raw: str) -> None:  # fmt: skip
    """DESCRIBE SERVICE's documented statuses (incl. SUSPENDING, SUSPENDED, DELETING) map to themselves."""
    job_id = backend.submit(plan(script))
    session.job(job_id).script = [raw]
    assert backend.status(job_id) is JobStatus(raw)


def test_status__sets__no_cancelling_on_snowflake() -> None:
    """CANCELLING/CANCELLED are the local pool's; DELETING is terminal, SUSPENDED is not (the pool resumes)."""
    assert JobStatus.CANCELLING not in SNOWFLAKE_STATUSES and JobStatus.CANCELLED not in SNOWFLAKE_STATUSES
    assert JobStatus.DELETING.terminal and not JobStatus.SUSPENDED.terminal and not JobStatus.SUSPENDING.terminal


# ------------------------------------------------------------------------------------------------ result


def test_result__visibility_lag_after_done__retried_until_visible(backend: SnowflakeBackend, session: FakeSession,
                                                                  script: Path, sleeps: list[float]) -> None:  # fmt: skip
    """The result file is not visible for the first reads after DONE; result() waits it out with sleeps."""
    job_id = backend.submit(plan(script))
    session.complete_job(job_id, {"acc": 0.9}, lag=3)
    result = backend.result(job_id)
    assert (result.success, result.value) == (True, {"acc": 0.9})
    assert sleeps == [RESULT_LAG_POLL_SECONDS] * 3


def test_result__lag_longer_than_the_library_waits__failed_result(backend: SnowflakeBackend, session: FakeSession,
                                                                  script: Path, sleeps: list[float]) -> None:  # fmt: skip
    """A result that stays invisible is reported as unreadable after about 30 s, never an endless wait."""
    job_id = backend.submit(plan(script))
    session.complete_job(job_id, 1, lag=1000)
    result = backend.result(job_id)
    assert result.success is False and "no result could be read" in (result.error or "")
    assert sum(sleeps) == pytest.approx(RESULT_LAG_SECONDS)


def test_result__artifacts__listed_from_result_location(backend: SnowflakeBackend, session: FakeSession,
                                                        script: Path) -> None:  # fmt: skip
    """Files written under MLRS_STAGE_RESULT_PATH are artifacts (stage paths); the launcher's result is not."""
    job_id = backend.submit(plan(script))
    session.complete_job(job_id, 1, artifacts={"model.pkl": b"m", "plots/loss.png": b"p"})
    result = backend.result(job_id)
    base = f"{STAGE}/TRAIN_c0ffee00/{job_id.rsplit('.', 1)[-1]}"
    assert result.artifacts == (f"{base}/model.pkl", f"{base}/plots/loss.png")
    spec_env = session.job(job_id).spec()["spec"]["containers"][0]["env"]
    assert spec_env["MLRS_STAGE_RESULT_PATH"] and spec_env["MLRS_RESULT_PATH"] == "mljob_result"


# ------------------------------------------------------------------------------------------------ logs


def test_logs__over_100_kb__newest_lines_only(backend: SnowflakeBackend, session: FakeSession, script: Path) -> None:
    """SYSTEM$GET_SERVICE_LOGS returns at most ~100 KB of the most recent lines; the answer says the start is cut."""
    job_id = backend.submit(plan(script))
    session.job(job_id).status = "RUNNING"
    lines = [f"line {i:06d} " + "x" * 90 for i in range(3000)]  # ~300 KB
    session.set_logs(job_id, "\n".join(lines))
    text = backend.logs(job_id, verbose=True)
    first, _, rest = text.partition("\n")
    assert first.startswith("[mljobs] Snowflake returns only the newest ~100 KB")
    assert len(rest.encode()) <= 100 * 1024
    assert "line 002999" in rest and "line 000000" not in rest
    session.set_logs(job_id, "short")
    assert not backend.logs(job_id, verbose=True).startswith("[mljobs]")


def test_logs__service_dropped__gone_with_reason(backend: SnowflakeBackend, session: FakeSession, script: Path) -> None:
    """After the service is dropped the logs are gone; the error says so instead of 'no such job'."""
    job_id = backend.submit(plan(script))
    session.set_logs(job_id, "hello")
    session.complete_job(job_id, 1)
    session.job(job_id).deleted_on = session.now
    with pytest.raises(BackendError, match="logs of .* are gone: its service was dropped"):
        backend.logs(job_id)


# ------------------------------------------------------------------------------------------------ listing


def test_list__old_and_crowded_history__explicit_window_finds_them(backend: SnowflakeBackend, session: FakeSession,
                                                                   script: Path) -> None:  # fmt: skip
    """GET_JOB_HISTORY's defaults (14 days, 100 rows before the schema filter) hide jobs list_jobs would miss."""
    from snowflake.ml import jobs

    ours = backend.submit(plan(script))
    old = backend.submit(plan(script))
    session.job(old).created_on = session.now - dt.timedelta(days=20)
    session.use_schema("ML_DB.OTHER")
    session.add_pool("OTHER_POOL")
    for _ in range(120):  # newer jobs in another schema fill the default 100 rows
        jobs.submit_file(str(script), "OTHER_POOL", stage_name="@ML_DB.PUBLIC.PAYLOAD", session=session, name="n")
    session.use_schema("ML_DB.PUBLIC")
    assert jobs.list_jobs(session=session, limit=-1).empty  # the library's own listing misses ours
    assert [i.job_id for i in backend.list()] == [ours]
    assert [i.job_id for i in backend.list(days=30)] == [ours, old]
    assert [i.job_id for i in backend.list(limit=1, days=30)] == [ours]
    assert "14 days" in listing_scope("snowflake", 50) and "30 days" in listing_scope("snowflake", 5, 30)


@pytest.mark.parametrize("kwargs", [{"days": 0}, {"days": "7"}, {"limit": 0}, {"limit": True}])
def test_list__bad_window__usage_error(backend: SnowflakeBackend, kwargs: dict[str, Any]) -> None:
    """The window and the cap are whole positive numbers; anything else is refused before any SQL."""
    with pytest.raises(UsageError):
        backend.list(**kwargs)


# ------------------------------------------------------------------------------------------------ delete


def test_delete__service_expired__recorded_payload_removed(backend: SnowflakeBackend, session: FakeSession,
                                                           script: Path) -> None:  # fmt: skip
    """The payload directory recorded at submit is removed even when only job history knows the job."""
    job_id = backend.submit(plan(script))
    location = backend.payload_location(job_id)
    assert location == f"{STAGE}/TRAIN_c0ffee00"
    session.job(job_id).deleted_on = session.now  # dropped after the TTL; the stage keeps the payload
    assert any(k.startswith(f"{location}/") for k in session.stage_files)
    backend.delete(job_id, payload_location=location)
    assert not any(k.startswith(f"{location}/") for k in session.stage_files)


def test_delete__recorded_location_of_another_job__not_removed(backend: SnowflakeBackend, session: FakeSession,
                                                               script: Path) -> None:  # fmt: skip
    """A recorded location that is not this job's own directory is never removed."""
    victim = backend.submit(plan(script))
    other = backend.submit(plan(script))
    session.job(victim).deleted_on = session.now
    backend.delete(victim, payload_location=backend.payload_location(other))
    assert any(k.startswith(f"{backend.payload_location(other)}/") for k in session.stage_files)


def test_service_delete__after_expiry__uses_the_store_record(tmp_path: Path, session: FakeSession,
                                                             script: Path) -> None:  # fmt: skip
    """Submit records the payload directory in the job store; a later delete removes it after the TTL drop."""
    settings = Settings(backend="snowflake", state_dir=tmp_path / "state")
    service = Service(settings, backend_factory=lambda name, s: SnowflakeBackend(lambda: session))
    job_plan = plan(script)
    submission = service.submit(job_plan, Confirmation("submit", job_plan.plan_hash(), "cli_yes", 0.0))
    record = service.store.find(submission.job_id)
    assert record is not None and record.payload_location and record.payload_location.startswith(f"{STAGE}/TRAIN_")
    session.job(submission.job_id).deleted_on = session.now
    service.delete(submission.job_id, Confirmation("delete", submission.job_id, "cli_yes", 0.0))
    assert not any(k.startswith(f"{record.payload_location}/") for k in session.stage_files)


# ------------------------------------------------------------------------------------------------ privileges


def test_submit__privilege_missing__3001_explained(backend: SnowflakeBackend, session: FakeSession,
                                                   script: Path) -> None:  # fmt: skip
    """The server's 3001 (via the library's own mapping for schemas) becomes a SnowflakeError with the grants."""
    session.enforce_privileges = True
    session.grant("USAGE", "DATABASE", "ML_DB")
    session.grant("USAGE", "SCHEMA", "ML_DB.PUBLIC")
    session.add_stage("ML_DB.PUBLIC.PAYLOAD")
    with pytest.raises(SnowflakeError) as info:
        backend.submit(plan(script))
    assert info.value.code == 3001 and "CREATE SERVICE" in str(info.value)


def test_submit__usage_through_secondary_role__accepted(backend: SnowflakeBackend, session: FakeSession,
                                                        script: Path) -> None:  # fmt: skip
    """USAGE on the pool held only by a secondary role (DEFAULT_SECONDARY_ROLES = ALL) is enough to submit."""
    session.enforce_privileges = True
    session.grant("USAGE", "DATABASE", "ML_DB")
    session.grant("USAGE", "SCHEMA", "ML_DB.PUBLIC")
    session.grant("CREATE SERVICE", "SCHEMA", "ML_DB.PUBLIC")
    session.grant("USAGE", "COMPUTE POOL", "CPU_POOL", "POOL_USERS")
    session.grant_to_user("POOL_USERS")
    assert backend.submit(plan(script)).startswith("ML_DB.PUBLIC.TRAIN_")
    session.secondary_roles = "NONE"
    with pytest.raises(SnowflakeError, match="compute pool"):
        backend.submit(plan(script))


# ------------------------------------------------------------------------------------------------ the container


OUTPUT_SCRIPT = """\
import argparse, os, pathlib
parser = argparse.ArgumentParser()
parser.add_argument("--output-dir", default=".")
args = parser.parse_args()
for folder, name in ((args.output_dir, "model.txt"), (os.environ["MLRS_STAGE_RESULT_PATH"], "metrics.json")):
    out = pathlib.Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    (out / name).write_text(name)
print("output dir:", args.output_dir)
__return__ = {"output_dir": args.output_dir}
"""


@pytest.mark.slow
def test_container__variable_in_args__literal_folder_not_result_location(backend: SnowflakeBackend,
                                                                          session: FakeSession,
                                                                          tmp_path: Path) -> None:  # fmt: skip
    """`--output-dir $MLRS_STAGE_RESULT_PATH` reaches the script literally (client JSON verbatim, startup.sh
    `"$@"`, the real launcher's run_script): that file lands in a folder of that name in the payload while the
    job is DONE -- the bug issue 9 describes, reproduced on the fake. What the script writes to
    os.environ["MLRS_STAGE_RESULT_PATH"] is the one artifact on the result location."""
    from tests.fakes.container import run_job

    source = tmp_path / "train.py"
    source.write_text(OUTPUT_SCRIPT)
    job_id = backend.submit(plan(source, args=("--output-dir", "$MLRS_STAGE_RESULT_PATH")))
    proc = run_job(session, job_id, tmp_path / "container")
    assert proc.returncode == 0, proc.stderr
    result = backend.result(job_id)
    assert result.success and result.value == {"output_dir": "$MLRS_STAGE_RESULT_PATH"}
    assert len(result.artifacts) == 1 and result.artifacts[0].endswith("/metrics.json")
    assert session.stage_files[result.artifacts[0]] == b"metrics.json"
    payload = backend.payload_location(job_id)
    assert session.stage_files[f"{payload}/app/$MLRS_STAGE_RESULT_PATH/model.txt"] == b"model.txt"
    assert "ML job started" in backend.logs(job_id, verbose=True)
    assert backend.logs(job_id).strip() == "output dir: $MLRS_STAGE_RESULT_PATH"


@pytest.mark.slow
def test_container__script_raises__failed_with_remote_traceback(backend: SnowflakeBackend, session: FakeSession,
                                                                tmp_path: Path) -> None:  # fmt: skip
    """An exception in the script: the launcher writes the error result, the job is FAILED, and the backend
    returns the remote exception and traceback read back by the library's own result loading."""
    from tests.fakes.container import run_job

    source = tmp_path / "train.py"
    source.write_text("def fit():\n    raise ValueError('boom')\n\nfit()\n")
    job_id = backend.submit(plan(source))
    assert run_job(session, job_id, tmp_path / "container").returncode != 0
    assert backend.status(job_id) is JobStatus.FAILED
    result = backend.result(job_id)
    assert result.success is False and result.error == "ValueError('boom')"
    assert "train.py" in (result.traceback or "") and "fit" in (result.traceback or "")
