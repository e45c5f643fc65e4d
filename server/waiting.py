"""Waiting for a job without hammering the backend: polls back off from 1 s to 30 s.

A ten-minute wait costs about 27 status queries instead of 600. The schedule is one pure generator
shared by the blocking CLI loop and the async MCP loop; clocks and sleeps are injected for tests.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass

from .backends.base import JobStatus

INITIAL_INTERVAL = 1.0
BACKOFF_FACTOR = 1.5
MAX_INTERVAL = 30.0


def poll_intervals(
    initial: float = INITIAL_INTERVAL, factor: float = BACKOFF_FACTOR, maximum: float = MAX_INTERVAL
) -> Iterator[float]:
    """1, 1.5, 2.25, ... capped at `maximum`, forever."""
    interval = initial
    while True:
        yield interval
        interval = min(maximum, interval * factor)


@dataclass(frozen=True, slots=True)
class WaitProgress:
    status: JobStatus
    polls: int
    elapsed: float


@dataclass(frozen=True, slots=True)
class WaitOutcome:
    status: JobStatus
    polls: int
    elapsed: float
    timed_out: bool


class Waiter:
    """The decision half of a wait loop: given each observed status, say how long to pause or stop.

    Both loops (blocking and async) feed it statuses, so the timeout and backoff rules live once.
    """

    def __init__(
        self,
        timeout: float | None,
        *,
        now: Callable[[], float] = time.monotonic,
        intervals: Iterator[float] | None = None,
    ) -> None:
        self._timeout = timeout
        self._now = now
        self._start = now()
        self._schedule = intervals or poll_intervals()
        self.polls = 0
        self.progress: WaitProgress | None = None

    def observe(self, status: JobStatus) -> float | WaitOutcome:
        """Record one status read; return the pause before the next read, or the final outcome."""
        self.polls += 1
        elapsed = self._now() - self._start
        self.progress = WaitProgress(status, self.polls, elapsed)
        if status.terminal:
            return WaitOutcome(status, self.polls, elapsed, False)
        if self._timeout is not None and elapsed >= self._timeout:
            return WaitOutcome(status, self.polls, elapsed, True)
        pause = next(self._schedule)
        if self._timeout is not None:
            pause = min(pause, max(0.0, self._timeout - elapsed))
        return pause


def wait_for_job(
    get_status: Callable[[], JobStatus],
    *,
    timeout: float | None = None,
    on_progress: Callable[[WaitProgress], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], float] = time.monotonic,
    intervals: Iterator[float] | None = None,
) -> WaitOutcome:
    """Poll `get_status` with backoff until the job is terminal or `timeout` seconds pass.

    Returns the last status seen; `timed_out` is True when the deadline came first. A timeout of
    None waits as long as it takes; 0 checks once.
    """
    waiter = Waiter(timeout, now=now, intervals=intervals)
    while True:
        step = waiter.observe(get_status())
        if on_progress and waiter.progress:
            on_progress(waiter.progress)
        if isinstance(step, WaitOutcome):
            return step
        sleep(step)


async def wait_for_job_async(
    get_status: Callable[[], Awaitable[JobStatus]],
    *,
    sleep: Callable[[float], Awaitable[None]],
    timeout: float | None = None,
    on_progress: Callable[[WaitProgress], Awaitable[None]] | None = None,
    now: Callable[[], float] = time.monotonic,
    intervals: Iterator[float] | None = None,
) -> WaitOutcome:
    """The same loop for the event loop: `get_status` runs the blocking call off the loop itself."""
    waiter = Waiter(timeout, now=now, intervals=intervals)
    while True:
        step = waiter.observe(await get_status())
        if on_progress and waiter.progress:
            await on_progress(waiter.progress)
        if isinstance(step, WaitOutcome):
            return step
        await sleep(step)


def polls_for(duration: float, intervals: Iterator[float] | None = None) -> int:
    """How many status queries a wait of `duration` seconds costs under the schedule (for reports)."""
    schedule = intervals or poll_intervals()
    elapsed, polls = 0.0, 1
    while elapsed < duration:
        elapsed += next(schedule)
        polls += 1
    return polls
