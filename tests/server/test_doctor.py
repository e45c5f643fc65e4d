"""Account doctor on the fake session: at least six checks, each failure with its fix split by who runs it."""

from __future__ import annotations

import pytest

from mljobs.server.doctor import CheckStatus, Who, run_doctor
from tests.fakes.doctor_rows import DoctorSession


def healthy() -> DoctorSession:
    s = DoctorSession(role="ML_ROLE", event_table="SNOWFLAKE.TELEMETRY.EVENTS")
    s.add_pool("CPU_POOL", state="IDLE", max_nodes=4, idle_nodes=2)
    s.add_eai("PYPI_EAI", ["SNOWFLAKE.EXTERNAL_ACCESS.PYPI_RULE"])
    s.add_stage("ML_DB.PUBLIC.MLJOBS_PAYLOAD")
    s.add_image_repository("ML_DB.PUBLIC.IMAGES")
    s.grant("USAGE", "DATABASE", "ML_DB", "ML_ROLE")
    s.grant("USAGE", "SCHEMA", "ML_DB.PUBLIC", "ML_ROLE")
    s.grant("CREATE SERVICE", "SCHEMA", "ML_DB.PUBLIC", "ML_ROLE")
    s.grant("USAGE", "COMPUTE POOL", "CPU_POOL", "ML_ROLE")
    s.grant("USAGE", "INTEGRATION", "PYPI_EAI", "ML_ROLE")
    return s


def by_code(report):
    return {c.code: c for c in report.checks}


def test_doctor__healthy_account__every_check_ok() -> None:
    report = run_doctor(healthy(), pool="CPU_POOL", target_instances=2, eais=["PYPI_EAI"], uses_snowpark=True)
    assert len(report.checks) >= 8
    assert {c.code: c.status for c in report.checks} == {code: CheckStatus.OK for code in (
        "role.privileged", "schema.grants", "pool.usable", "pool.max_nodes", "eai.usage", "image_repository",
        "event_table", "warehouse")}
    assert report.ok and "You can run" not in report.render()


def test_doctor__broken_account__each_finding_has_its_fix_for_the_right_party() -> None:
    s = DoctorSession(role="ACCOUNTADMIN", warehouse=None, user="ALICE")
    s.add_pool("GPU_POOL", state="SUSPENDED", family="GPU_NV_S", max_nodes=1, auto_resume="false", idle_nodes=0)
    s.add_eai("PYPI_EAI", ["SNOWFLAKE.EXTERNAL_ACCESS.PYPI_RULE"], enabled=False)
    s.add_warehouse("ML_WH")
    s.grant("USAGE", "DATABASE", "ML_DB", "ACCOUNTADMIN")
    s.grant("USAGE", "SCHEMA", "ML_DB.PUBLIC", "ACCOUNTADMIN")
    s.grant("USAGE", "INTEGRATION", "PYPI_EAI", "ACCOUNTADMIN")
    report = run_doctor(s, pool="GPU_POOL", target_instances=4, eais=["PYPI_EAI", "HF_EAI"], uses_snowpark=True)
    checks = by_code(report)
    assert not report.ok
    failing = {c.code for c in report.checks if c.status in (CheckStatus.ERROR, CheckStatus.WARNING)}
    assert failing >= {"role.privileged", "schema.grants", "pool.usable", "pool.max_nodes", "eai.usage",
                       "image_repository", "event_table", "warehouse"}

    def sql(code: str, who: Who) -> list[str]:
        return [line for f in checks[code].fixes if f.who is who for line in f.sql]

    assert "USE ROLE <ML_ROLE>" in sql("role.privileged", Who.USER)
    assert "GRANT ROLE ML_ENGINEER TO USER ALICE" in sql("role.privileged", Who.ADMIN)
    assert sql("schema.grants", Who.ADMIN) == [
        "GRANT CREATE SERVICE ON SCHEMA ML_DB.PUBLIC TO ROLE ACCOUNTADMIN",
        "GRANT CREATE STAGE ON SCHEMA ML_DB.PUBLIC TO ROLE ACCOUNTADMIN"]
    assert sql("pool.usable", Who.ADMIN) == ["ALTER COMPUTE POOL GPU_POOL SET AUTO_RESUME = TRUE",
                                            "ALTER COMPUTE POOL GPU_POOL RESUME"]
    assert sql("pool.max_nodes", Who.ADMIN) == ["ALTER COMPUTE POOL GPU_POOL SET MAX_NODES = 4"]
    assert sql("eai.usage", Who.ADMIN) == ["ALTER EXTERNAL ACCESS INTEGRATION PYPI_EAI SET ENABLED = TRUE",
                                          "GRANT USAGE ON INTEGRATION HF_EAI TO ROLE ACCOUNTADMIN"]
    assert sql("image_repository", Who.USER) == ["CREATE IMAGE REPOSITORY IF NOT EXISTS ML_DB.PUBLIC.MLJOBS_IMAGES"]
    assert sql("event_table", Who.ADMIN) == ["ALTER ACCOUNT SET EVENT_TABLE = SNOWFLAKE.TELEMETRY.EVENTS"]
    assert sql("warehouse", Who.USER) == ["USE WAREHOUSE ML_WH"]
    text = report.render()
    assert "You can run:" in text and "An admin must run (proposed, never executed):" in text
    # read-only: nothing but SHOW / DESC / SELECT reached the session
    assert all(q.sql.lstrip().upper().startswith(("SHOW", "DESC", "SELECT")) for q in s.queries), s.queries


def test_doctor__no_pool_visible_and_no_pypi_eai() -> None:
    s = DoctorSession(role="ML_ROLE")
    checks = by_code(run_doctor(s))
    assert checks["pool.usable"].status is CheckStatus.ERROR
    assert checks["eai.usage"].status is CheckStatus.WARNING
    assert any("PYPI_RULE" in line for f in checks["eai.usage"].fixes for line in f.sql)


def test_doctor__unreadable_statements__unknown_not_crash() -> None:
    s = healthy()
    from tests.fakes.snowpark import sql_error

    s.inject(r"SHOW IMAGE REPOSITORIES", sql_error("Insufficient privileges", 3001), times=None)
    s.inject(r"SHOW PARAMETERS", sql_error("Insufficient privileges", 3001), times=None)
    report = run_doctor(s, pool="CPU_POOL")
    checks = by_code(report)
    assert checks["image_repository"].status is CheckStatus.UNKNOWN
    assert checks["event_table"].status is CheckStatus.UNKNOWN
    assert any("SHOW IMAGE REPOSITORIES failed" in n for n in report.notes)


@pytest.mark.parametrize("hostile", ['X"; DROP TABLE T; --', "-rf", "a b"])
def test_doctor__hostile_pool_or_eai_name__never_in_sql(hostile: str) -> None:
    s = healthy()
    report = run_doctor(s, pool=hostile, eais=[hostile])
    text = report.render()
    assert "DROP TABLE" not in text and "<POOL>" in text and "<EAI>" in text


def test_service_doctor__script_plan_decides_pool_and_warehouse_need(tmp_path) -> None:
    """Through the Service and the real SnowflakeBackend: the script's plan picks the pool; its Snowpark use
    makes a missing warehouse an error."""
    from mljobs.server.backends.snowflake import SnowflakeBackend
    from mljobs.server.service import Service
    from mljobs.server.settings import Settings

    s = healthy()
    s.warehouse = None
    script = tmp_path / "train.py"
    script.write_text("from snowflake.snowpark import Session\nsession = Session.builder.getOrCreate()\n"
                      "df = session.table('T').to_pandas()\n")
    service = Service(Settings(state_dir=tmp_path / "state"),
                      backend_factory=lambda name, st: SnowflakeBackend(lambda: s, sleep=lambda _x: None))
    report = service.doctor(script)
    checks = by_code(report)
    assert checks["pool.usable"].title == "compute pool CPU_POOL"
    assert checks["warehouse"].status is CheckStatus.ERROR


def test_cli_doctor__no_connection__exit_3(capsys) -> None:
    from mljobs.server.cli import main

    assert main(["doctor"]) == 3
    assert "mljobs: error:" in capsys.readouterr().err


def test_cli_doctor__hostile_pool__exit_2(capsys) -> None:
    from mljobs.server.cli import main

    assert main(["doctor", "--pool", "x;drop"]) == 2
