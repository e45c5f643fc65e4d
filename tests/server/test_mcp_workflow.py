"""The workflow as a client meets it: few calls (plan_job alone carries ranking and coverage; one analysis per
unchanged source across tools), waits that fit a client's timeout with a progress notification per poll, and
logs paged tail-first under a byte cap with a repeated traceback shown once."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mljobs.server.mcp import build_server
from mljobs.server.mcp.tools.jobs import DEFAULT_WAIT_SECONDS, fold_tracebacks, log_page
from mljobs.server.service import Service
from mljobs.server.settings import Settings

from .mcp_helpers import Checked, connect, write_script

pytestmark = pytest.mark.anyio


class CountingService(Service):
    """The real service, counting analyses (the tools must reuse one per unchanged source)."""

    analyses = 0

    def analyze(self, *args: Any, **kwargs: Any) -> Any:
        type(self).analyses += 1
        return super().analyze(*args, **kwargs)


async def test_one_analysis__per_unchanged_source__across_tools(tmp_path: Path) -> None:
    script = write_script(tmp_path / "proj", "train.py", "import sklearn\nprint('hi')\n")
    settings = Settings(backend="local", state_dir=tmp_path / "state")
    CountingService.analyses = 0
    async with Client(build_server(settings, service=CountingService(settings))) as client:
        tools = {t.name: t.output_schema for t in (await client.list_tools()).tools}
        c = Checked(client, tools)
        for tool in ("analyze_script", "rank_pools", "check_external_access", "plan_job", "plan_job"):
            await c.ok(tool, {"path": str(script)})
        assert CountingService.analyses == 1
        script.write_text("import sklearn\nprint('changed')\n", encoding="utf-8")
        os.utime(script, ns=(1, 1))  # a different mtime even on coarse clocks
        await c.ok("plan_job", {"path": str(script)})
        assert CountingService.analyses == 2


async def test_plan_job__alone__carries_pool_choice_and_coverage(tmp_path: Path) -> None:
    """The common path needs no rank_pools or check_external_access call."""
    script = write_script(
        tmp_path / "proj", "hub.py", "from transformers import AutoModel\nAutoModel.from_pretrained('bert-base-uncased')\n"
    )
    async with connect(tmp_path / "state") as c:
        plan = await c.ok("plan_job", {"path": str(script)})
    assert plan["ranking"]["chosen"] == "LOCAL" and plan["ranking"]["reason"]
    hosts = [h for group in plan["coverage"]["hosts"] for h in group["hosts"]]
    assert "huggingface.co" in hosts and plan["coverage"]["suggested_eais"]


async def test_wait_for_job__default__under_45_s_with_progress_on_every_poll(tmp_path: Path) -> None:
    script = write_script(tmp_path / "proj", "slow.py", "import time\ntime.sleep(120)\n")
    async with connect(tmp_path / "state") as c:
        tools = {t.name: t for t in (await c.client.list_tools()).tools}
        default = tools["wait_for_job"].input_schema["properties"]["timeout_seconds"]["default"]
        assert default == DEFAULT_WAIT_SECONDS < 45
        plan = await c.ok("plan_job", {"path": str(script)})
        job = (await c.ok("submit_job", {"plan_hash": plan["plan_hash"],
                                         "confirmation_token": plan["confirmation"]["token"]}))["job_id"]
        progress: list[tuple[float, float | None, str | None]] = []

        async def on_progress(value: float, total: float | None, message: str | None) -> None:
            progress.append((value, total, message))

        waited = await c.ok("wait_for_job", {"job_id": job, "timeout_seconds": 4}, progress_callback=on_progress)
        assert waited["timed_out"] and len(progress) == waited["polls"] >= 2
        assert waited["next_step"] == (
            f"still {waited['job']['status']}: call wait_for_job(job_id='{job}') again to keep waiting "
            "(the job keeps running)"
        )
        preview = await c.ok("cancel_job", {"job_id": job})
        await c.ok("cancel_job", {"job_id": job, "confirmation_token": preview["confirmation"]["token"]})


def test_log_page__tail_first_byte_cap_and_lossless_paging() -> None:
    text = "\n".join(f"line {i:03d} " + "x" * 40 for i in range(1, 201))
    first = log_page("J", None, text, 50, None, 1000)
    assert first.truncated and first.text.splitlines()[-1].startswith("line 200")
    assert len(first.text.encode()) <= 1000 and first.total_lines == 200
    seen = first.text.splitlines()
    page = first
    while page.first_line > 1:
        page = log_page("J", None, text, 50, page.first_line, 1000)
        seen = page.text.splitlines() + seen
    assert seen == text.splitlines()  # paging backwards loses nothing


def test_fold_tracebacks__repeated_traceback__shown_once() -> None:
    tb = ["Traceback (most recent call last):", '  File "/p/train.py", line 3, in <module>', "    boom()",
          "ValueError: boom"]
    folded = fold_tracebacks(["start", *tb, "exit banner", *tb])
    assert folded.count("ValueError: boom") == 1 and folded[-1].startswith("[the traceback above, repeated")
