"""End to end through the MCP protocol on the local pool: the guided conversion of examples/train_classifier.py,
and every way the submit checkpoint can go (accepted, declined, unsupported -> token, stale and tampered
tokens), in both protocol eras (`auto` = 2026-07-28 input-required rounds, `legacy` = elicitation requests)."""

from __future__ import annotations

import shutil
import os
from pathlib import Path

import pytest

from .mcp_helpers import EXAMPLE, answer, connect

pytestmark = pytest.mark.anyio

MODES = [pytest.param("auto", id="modern"), pytest.param("legacy", id="legacy")]


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """A private copy of the demo script (some tests edit it)."""
    target = tmp_path / "proj" / "train_classifier.py"
    target.parent.mkdir()
    shutil.copy(EXAMPLE, target)
    return target


@pytest.mark.parametrize("mode", MODES)
async def test_conversion__train_classifier__analyze_to_delete_with_elicitation(
    tmp_path: Path, example: Path, mode: str
):
    """analyze -> rank -> EAIs -> plan -> submit (user accepts) -> wait with progress -> result -> logs -> delete."""
    ask = answer("accept")
    async with connect(tmp_path / "state", mode=mode, elicitation=ask) as c:
        analysis = await c.ok("analyze_script", {"path": str(example)})
        assert analysis["compute"]["recommendation"] == "CPU"
        ranking = await c.ok("rank_pools", {"path": str(example)})
        coverage = await c.ok("check_external_access", {"path": str(example)})
        assert coverage["hosts"] == [] and coverage["complete"] is True
        plan = await c.ok(
            "plan_job",
            {"path": str(example), "choices": {"pool": ranking["chosen"], "eais": coverage["suggested_eais"]}},
        )
        assert plan["ready"] and plan["confirmation"] == {
            "method": "elicitation",
            "bound_to": plan["plan_hash"],
        }

        submitted = await c.ok("submit_job", {"plan_hash": plan["plan_hash"]})
        assert submitted["submitted"] is True and submitted["confirmed_by"] == "elicitation"
        # The user saw the exact settings, with the plan hash.
        assert len(ask.asked) == 1
        for line in (
            "Script: ",
            "Compute pool: LOCAL",
            "Instance family: ",
            "Dependencies: ",
            "External access: ",
            "Nodes: 1",
            "Method: submit_file",
            f"Plan hash: {plan['plan_hash'][:12]}",
        ):
            assert line in ask.asked[0], line

        job = submitted["job_id"]
        progress: list[tuple[float, float | None, str | None]] = []

        async def on_progress(value: float, total: float | None, message: str | None) -> None:
            progress.append((value, total, message))

        waited = await c.ok(
            "wait_for_job", {"job_id": job, "timeout_seconds": 120}, progress_callback=on_progress
        )
        assert waited["job"]["status"] == "DONE" and not waited["timed_out"]
        assert 0.5 < waited["job"]["result"]["value"]["accuracy"] <= 1.0  # the wait brings the result
        assert progress and progress[-1][2].startswith("DONE")
        assert [p[0] for p in progress] == sorted(p[0] for p in progress) and progress[0][1] == 120

        status = await c.ok("job_status", {"job_id": job})
        assert status["status"] == "DONE" and status["result"]["success"] is True
        assert 0.5 < status["result"]["value"]["accuracy"] <= 1.0  # the script's __return__
        logs = await c.ok("job_logs", {"job_id": job})
        assert '"accuracy"' in logs["text"]
        record = await c.client.read_resource(f"mljobs://jobs/{job}")
        assert '"method": "elicitation"' in record.contents[0].text

        deleted = await c.ok("delete_job", {"job_id": job})
        assert deleted["done"] is True and len(ask.asked) == 2 and "cannot be undone" in ask.asked[1]
        assert (await c.ok("list_jobs"))["jobs"] == []


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("action", "confirm"), [("decline", True), ("cancel", True), ("accept", False)])
async def test_submit__user_declines__nothing_submitted(
    tmp_path: Path, example: Path, mode: str, action: str, confirm: bool
):
    """Decline, cancel, or an accepted form with confirm unticked: not submitted, no job exists."""
    ask = answer(action, confirm)
    async with connect(tmp_path / "state", mode=mode, elicitation=ask) as c:
        plan = await c.ok("plan_job", {"path": str(example)})
        out = await c.ok("submit_job", {"plan_hash": plan["plan_hash"]})
        jobs = await c.ok("list_jobs")
    assert out["submitted"] is False and "job_id" not in out and len(ask.asked) == 1
    assert jobs["jobs"] == []


@pytest.mark.parametrize("mode", MODES)
async def test_submit__client_cannot_elicit__token_path_single_use(tmp_path: Path, example: Path, mode: str):
    """Without elicitation: no token -> refused; plan_job's token -> submitted once; reused -> refused."""
    async with connect(tmp_path / "state", mode=mode) as c:
        plan = await c.ok("plan_job", {"path": str(example)})
        token = plan["confirmation"]["token"]
        assert plan["confirmation"]["method"] == "token" and plan["confirmation"]["expires_in_seconds"] > 0
        refused = await c.error("submit_job", {"plan_hash": plan["plan_hash"]})
        assert "confirmation_token" in refused
        assert (await c.ok("list_jobs"))["jobs"] == []

        out = await c.ok("submit_job", {"plan_hash": plan["plan_hash"], "confirmation_token": token})
        assert out["submitted"] is True and out["confirmed_by"] == "token"
        reused = await c.error("submit_job", {"plan_hash": plan["plan_hash"], "confirmation_token": token})
        assert "already used" in reused
        # Clean up through the preview -> token flows: a running job must be cancelled before it is deleted.
        job = out["job_id"]
        blocked = await c.ok("delete_job", {"job_id": job})
        if not blocked["done"] and "confirmation" not in blocked:
            assert "cancel it first" in blocked["preview"]
            cancel = await c.ok("cancel_job", {"job_id": job})
            await c.ok("cancel_job", {"job_id": job, "confirmation_token": cancel["confirmation"]["token"]})
            await c.ok("wait_for_job", {"job_id": job, "timeout_seconds": 30})
        preview = await c.ok("delete_job", {"job_id": job})
        assert preview["done"] is False and "cannot be undone" in preview["preview"]
        done = await c.ok(
            "delete_job", {"job_id": job, "confirmation_token": preview["confirmation"]["token"]}
        )
        assert done["done"] is True
        assert [j["job_id"] for j in (await c.ok("list_jobs"))["jobs"]] == []


@pytest.mark.parametrize("mode", MODES)
async def test_submit__stale_token__plan_changed__refused(tmp_path: Path, example: Path, mode: str):
    """A token for plan A does not submit plan B (other args), and stays valid for A."""
    async with connect(tmp_path / "state", mode=mode) as c:
        plan_a = await c.ok("plan_job", {"path": str(example)})
        plan_b = await c.ok(
            "plan_job",
            {
                "path": str(example),
                "choices": {"args": ["--output-dir", "$MLRS_STAGE_RESULT_PATH", "--n-estimators", "5"]},
            },
        )
        assert plan_a["plan_hash"] != plan_b["plan_hash"]
        text = await c.error(
            "submit_job",
            {"plan_hash": plan_b["plan_hash"], "confirmation_token": plan_a["confirmation"]["token"]},
        )
        assert "does not match this plan" in text
        assert (await c.ok("list_jobs"))["jobs"] == []


@pytest.mark.parametrize("mode", MODES)
async def test_submit__script_edited_after_plan__refused_before_asking(
    tmp_path: Path, example: Path, mode: str
):
    """The user confirmed other code: edit the script after planning and submit_job refuses without asking."""
    ask = answer("accept")
    async with connect(tmp_path / "state", mode=mode, elicitation=ask) as c:
        plan = await c.ok("plan_job", {"path": str(example)})
        example.write_text(example.read_text() + "\nprint('edited')\n")
        text = await c.error("submit_job", {"plan_hash": plan["plan_hash"]})
    assert "changed since it was planned" in text and ask.asked == []


@pytest.mark.parametrize("mode", MODES)
async def test_submit__helper_rewritten_same_length_mtime_restored__refused(tmp_path: Path, mode: str):
    """A project file rewritten at the same length with its mtime put back is still a change: the plan's
    fingerprint hashes the payload's content, so submit_job refuses instead of running unconfirmed code."""
    project = tmp_path / "proj"
    project.mkdir()
    (project / "train.py").write_text("import util\nprint(util.VALUE)\n")
    util = project / "util.py"
    util.write_text("VALUE = 'aaaa'\n")
    ask = answer("accept")
    async with connect(tmp_path / "state", mode=mode, elicitation=ask) as c:
        plan = await c.ok("plan_job", {"path": str(project), "entrypoint": "train.py"})
        before = util.stat()
        util.write_text("VALUE = 'bbbb'\n")
        os.utime(util, ns=(before.st_atime_ns, before.st_mtime_ns))
        assert util.stat().st_size == before.st_size and util.stat().st_mtime_ns == before.st_mtime_ns
        text = await c.error("submit_job", {"plan_hash": plan["plan_hash"]})
    assert "changed since it was planned" in text and ask.asked == []


@pytest.mark.parametrize("mode", MODES)
async def test_submit__tampered_token__refused(tmp_path: Path, example: Path, mode: str):
    """A token whose body was altered (one character) fails its signature and submits nothing."""
    async with connect(tmp_path / "state", mode=mode) as c:
        plan = await c.ok("plan_job", {"path": str(example)})
        token = plan["confirmation"]["token"]
        body, signature = token.split(".")
        flipped = body[:-1] + ("A" if body[-1] != "A" else "B")
        text = await c.error(
            "submit_job", {"plan_hash": plan["plan_hash"], "confirmation_token": f"{flipped}.{signature}"}
        )
        assert "not valid" in text or "malformed" in text
        forged = await c.error(
            "submit_job", {"plan_hash": plan["plan_hash"], "confirmation_token": "abc.def"}
        )
        assert "confirmation token" in forged
        assert (await c.ok("list_jobs"))["jobs"] == []


@pytest.mark.parametrize("mode", MODES)
async def test_cancel__elicitation_declined_then_accepted(tmp_path: Path, mode: str):
    """cancel_job asks the user; a decline leaves the job running, an accept cancels it."""
    script = tmp_path / "proj" / "slow.py"
    script.parent.mkdir()
    script.write_text("import time\ntime.sleep(60)\n")
    # Each step is a new connection (and server) on the same state dir, as when a user comes back later.
    accept = answer("accept")
    async with connect(tmp_path / "state", mode=mode, elicitation=accept) as c:
        plan = await c.ok("plan_job", {"path": str(script)})
        job = (await c.ok("submit_job", {"plan_hash": plan["plan_hash"]}))["job_id"]
    async with connect(tmp_path / "state", mode=mode, elicitation=answer("decline")) as c:
        kept = await c.ok("cancel_job", {"job_id": job})
        assert kept["done"] is False and "confirmation" not in kept
        assert (await c.ok("job_status", {"job_id": job}))["terminal"] is False
    async with connect(tmp_path / "state", mode=mode, elicitation=accept) as c:
        done = await c.ok("cancel_job", {"job_id": job})
        assert done["done"] is True and "Cancel job" in accept.asked[-1]
        final = await c.ok("wait_for_job", {"job_id": job, "timeout_seconds": 30})
    assert final["job"]["status"] == "CANCELLED"
