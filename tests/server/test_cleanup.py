"""Payload cleanup on the fake session, driving the real snowflake-ml-python submission: a job whose service is
gone (TTL, DROP SERVICE) leaves its payload folder; only that folder is listed and, once confirmed, removed."""

from __future__ import annotations

from pathlib import Path

import pytest

from mljobs.server.backends.snowflake import SnowflakeBackend
from mljobs.server.errors import NotConfirmedError, UsageError
from mljobs.server.service import Service
from mljobs.server.settings import Settings
from tests.fakes import FakeSession
from tests.server.test_snowflake_backend import make_plan

STAGE = "@ML_DB.PUBLIC.PAYLOAD"


@pytest.fixture
def setup(tmp_path: Path):
    session = FakeSession()
    session.add_pool("CPU_POOL", max_nodes=4)
    session.add_eai("PYPI_EAI", ["SNOWFLAKE.EXTERNAL_ACCESS.PYPI_RULE"])
    tokens = iter(f"{i:08x}" for i in range(0xAB12CD34, 0xAB12CD34 + 100))
    backend = SnowflakeBackend(lambda: session, sleep=lambda _s: None, token=lambda: next(tokens))
    service = Service(Settings(state_dir=tmp_path / "state"), backend_factory=lambda name, s: backend)
    script = tmp_path / "train.py"
    script.write_text("__return__ = 1\n")
    backend.submit(make_plan(script, name="KEEP"))
    gone = backend.submit(make_plan(script, name="GONE"))
    session.sql("DROP SERVICE IDENTIFIER(?)", params=[gone]).collect()  # what the 7-day TTL does
    return session, service


def _folders(session: FakeSession) -> set[str]:
    return {k.split("/")[1] for k in session.stage_files if k.startswith(STAGE + "/")}


def test_cleanup__lists_only_the_folder_of_the_dropped_job(setup) -> None:
    session, service = setup
    found = service.orphan_payloads(STAGE)
    assert [o.folder.rsplit("/", 1)[1].split("_")[0] for o in found.orphans] == ["GONE"]
    assert found.live_folders == 1 and found.orphans[0].files > 0
    assert not any(q.sql.upper().startswith("REMOVE") for q in session.queries)


def test_cleanup__confirmed__removes_only_orphans(setup) -> None:
    session, service = setup
    found = service.orphan_payloads(STAGE)
    before = _folders(session)
    removed = service.clean_payloads(found, service.confirm("cleanup", found.subject, method="cli_yes"))
    assert removed == [found.orphans[0].folder]
    assert _folders(session) == before - {found.orphans[0].folder.rsplit("/", 1)[1]}
    assert any(f.startswith("KEEP_") for f in _folders(session))


def test_cleanup__confirmation_for_another_list__refused(setup) -> None:
    session, service = setup
    found = service.orphan_payloads(STAGE)
    with pytest.raises(NotConfirmedError):
        service.clean_payloads(found, service.confirm("cleanup", "@OTHER#0", method="cli_yes"))
    assert not any(q.sql.upper().startswith("REMOVE") for q in session.queries)


def test_cleanup__hostile_stage__usage_error(setup) -> None:
    _, service = setup
    with pytest.raises(UsageError):
        service.orphan_payloads('@ML_DB.PUBLIC."X"; DROP TABLE T')
