"""Once per suite: the real `mljobs serve` process over stdio (initialize, tools/list, one analyze call), so the
console script, the stdio transport and the stdout discipline are tested as a client launches them."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from mcp import Client, StdioServerParameters

from .mcp_helpers import EXAMPLE

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

MLJOBS = Path(sys.executable).parent / "mljobs"


async def test_stdio__mljobs_serve__initialize_list_and_analyze(tmp_path: Path):
    """The console script serves the tools over stdio; a tool call returns structured output; no Snowflake login."""
    assert MLJOBS.exists(), f"{MLJOBS} missing: install mljobs into this environment (pip install -e .)"
    env = {**os.environ, "MLJOBS_STATE_DIR": str(tmp_path / "state"), "SNOWFLAKE_HOME": str(tmp_path / "sf")}
    params = StdioServerParameters(command=str(MLJOBS), args=["serve", "--backend", "local"], env=env)
    # The initialize handshake, as desktop clients speak it today.
    async with Client(params, mode="legacy") as client:
        tools = {t.name for t in (await client.list_tools()).tools}
        assert {"analyze_script", "plan_job", "submit_job", "wait_for_job"} <= tools
        result = await client.call_tool("analyze_script", {"path": str(EXAMPLE)})
    assert not result.is_error
    assert result.structured_content["compute"]["recommendation"] == "CPU"
    assert result.structured_content["entrypoint"] == "train_classifier.py"
