"""A notebook through the MCP server (in-memory client): plan_job is ready and submit_job runs it to DONE."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from .mcp_helpers import REPO, connect

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


async def test_mcp__notebook__planned_submitted_done(tmp_path: Path) -> None:
    notebook = tmp_path / "nb" / "iris_quickstart.ipynb"
    notebook.parent.mkdir()
    shutil.copy(REPO / "examples" / "iris_quickstart.ipynb", notebook)
    async with connect(tmp_path / "state") as c:
        plan = await c.ok("plan_job", {"path": str(notebook)})
        assert plan["ready"], plan["preflight"]
        assert plan["settings"]["notebook"] == "iris_quickstart.ipynb"
        assert any("converted script iris_quickstart.py" in line for line in plan["summary"])
        out = await c.ok("submit_job", {"plan_hash": plan["plan_hash"],
                                        "confirmation_token": plan["confirmation"]["token"]})
        done = await c.ok("wait_for_job", {"job_id": out["job_id"], "timeout_seconds": 150})
    assert done["job"]["status"] == "DONE", done
