"""Waiting backs off instead of polling every second, honours timeouts, and reports progress."""

from __future__ import annotations

import anyio
import pytest

from mljobs.server.backends.base import JobStatus
from mljobs.server.waiting import poll_intervals, polls_for, wait_for_job, wait_for_job_async


class FakeTime:
    def __init__(self) -> None:
        self.t = 0.0
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds


def _statuses(*seq: JobStatus):
    it = iter(seq)
    last = [seq[-1]]

    def get() -> JobStatus:
        try:
            last[0] = next(it)
        except StopIteration:
            pass
        return last[0]

    return get


def test_poll_intervals__grow_then_cap() -> None:
    """The schedule starts at 1 s, grows by 1.5x and never exceeds 30 s."""
    it = poll_intervals()
    first = [next(it) for _ in range(12)]
    assert first[:3] == [1.0, 1.5, 2.25]
    assert max(first) == 30.0 and first[-1] == 30.0


def test_wait__ten_minutes__costs_under_thirty_queries() -> None:
    """A 10-minute wait is ~28 status queries, not 600."""
    assert polls_for(600) <= 30


def test_wait__until_done__returns_terminal_status() -> None:
    """Polling stops at the first terminal status and counts the reads."""
    ft = FakeTime()
    seen = []
    out = wait_for_job(
        _statuses(JobStatus.PENDING, JobStatus.RUNNING, JobStatus.RUNNING, JobStatus.DONE),
        sleep=ft.sleep, now=ft.now, on_progress=seen.append,
    )
    assert (out.status, out.polls, out.timed_out) == (JobStatus.DONE, 4, False)
    assert ft.sleeps == [1.0, 1.5, 2.25]
    assert [p.status for p in seen][-1] == JobStatus.DONE


def test_wait__cancelling__is_not_terminal() -> None:
    """CANCELLING keeps the wait going until CANCELLED."""
    ft = FakeTime()
    out = wait_for_job(_statuses(JobStatus.CANCELLING, JobStatus.CANCELLED), sleep=ft.sleep, now=ft.now)
    assert out.status == JobStatus.CANCELLED and out.polls == 2


def test_wait__timeout__stops_on_time_without_overshoot() -> None:
    """The last pause is trimmed to the deadline and the outcome says it timed out."""
    ft = FakeTime()
    out = wait_for_job(_statuses(JobStatus.RUNNING), timeout=10, sleep=ft.sleep, now=ft.now)
    assert out.timed_out and out.status == JobStatus.RUNNING
    assert ft.t == pytest.approx(10.0)


def test_wait__zero_timeout__checks_once() -> None:
    """timeout=0 is a single non-blocking read."""
    ft = FakeTime()
    out = wait_for_job(_statuses(JobStatus.RUNNING), timeout=0, sleep=ft.sleep, now=ft.now)
    assert out.polls == 1 and out.timed_out and ft.sleeps == []


@pytest.mark.anyio
async def test_wait_async__same_schedule_as_blocking() -> None:
    """The async loop follows the same backoff and reports progress through an awaitable."""
    ft = FakeTime()
    get = _statuses(JobStatus.PENDING, JobStatus.RUNNING, JobStatus.FAILED)
    progress = []

    async def status() -> JobStatus:
        await anyio.sleep(0)
        return get()

    async def sleep(seconds: float) -> None:
        ft.sleep(seconds)

    async def on_progress(p) -> None:
        progress.append(p.polls)

    out = await wait_for_job_async(status, sleep=sleep, now=ft.now, on_progress=on_progress)
    assert out.status == JobStatus.FAILED and progress == [1, 2, 3] and ft.sleeps == [1.0, 1.5]
