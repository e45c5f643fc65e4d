"""The one interface every job backend implements (Snowflake and the local pool), and its value types."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from mljobs.skill.facts import AccountFacts
from mljobs.skill.jobplan import JobPlan


class JobStatus(str, enum.Enum):
    """Job states, spelled as Snowflake spells them.

    Snowflake's DESCRIBE SERVICE documents exactly PENDING, RUNNING, FAILED, DONE, SUSPENDING, SUSPENDED,
    DELETING, DELETED and INTERNAL_ERROR (research mljobs-api.md §10.7, snowflake-facts.md §5.1): a cancelled
    job service ends FAILED (or is dropped), so the Snowflake backend never reports CANCELLING/CANCELLED.
    Those two are the local pool's own states (snowflake-ml-python's JOB_STATUS literal declares them too);
    `SNOWFLAKE_STATUSES` is the set an account can report.
    """

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    DONE = "DONE"
    FAILED = "FAILED"
    SUSPENDING = "SUSPENDING"
    SUSPENDED = "SUSPENDED"
    DELETING = "DELETING"
    DELETED = "DELETED"
    INTERNAL_ERROR = "INTERNAL_ERROR"
    CANCELLING = "CANCELLING"  # local pool only
    CANCELLED = "CANCELLED"  # local pool only

    @property
    def terminal(self) -> bool:
        # CANCELLING is not terminal: the job may still be running (mljobs-api.md §1.5). SUSPENDING/SUSPENDED
        # are not either: the service resumes with its pool. DELETING is: the job never runs again.
        return self in TERMINAL_STATUSES


TERMINAL_STATUSES = frozenset({
    JobStatus.DONE, JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.INTERNAL_ERROR, JobStatus.DELETING,
    JobStatus.DELETED,
})  # fmt: skip

#: What DESCRIBE SERVICE (or job history) can report for an ML job on Snowflake (docs "DESCRIBE SERVICE").
SNOWFLAKE_STATUSES = frozenset({
    JobStatus.PENDING, JobStatus.RUNNING, JobStatus.FAILED, JobStatus.DONE, JobStatus.SUSPENDING,
    JobStatus.SUSPENDED, JobStatus.DELETING, JobStatus.DELETED, JobStatus.INTERNAL_ERROR,
})  # fmt: skip


@dataclass(frozen=True, slots=True)
class InstanceStatus:
    instance_id: int
    status: str
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class JobResult:
    """A finished job's return value (`__return__` or the @remote function's value) or its error."""

    success: bool
    value: Any = None
    error: str | None = None  # "ValueError('boom')" style, with the remote traceback in `traceback`
    traceback: str | None = None
    artifacts: tuple[str, ...] = ()  # files written under MLRS_STAGE_RESULT_PATH (local paths or stage paths)


@dataclass(frozen=True, slots=True)
class JobInfo:
    job_id: str
    backend: str
    status: JobStatus
    name: str | None = None
    compute_pool: str | None = None
    created_at: float | None = None  # epoch seconds
    finished_at: float | None = None
    message: str | None = None
    target_instances: int = 1
    extra: dict[str, Any] = field(default_factory=dict)


def listing_scope(backend: str, limit: int, days: int | None = None) -> str:
    """One sentence for answers that list jobs, naming the limits that applied (never a silent cap)."""
    if backend == "snowflake":
        return (f"Snowflake jobs of the current schema created in the last {days or 14} days (job history), newest "
                f"first, at most {limit}; older or deleted jobs are not listed: pass days/limit to widen.")
    return f"jobs known to the {backend} backend, newest first, at most {limit}."


@runtime_checkable
class Backend(Protocol):
    """submit, status, logs, result, cancel, list, delete -- the same contract on every backend.

    Methods raise `mljobs.server.errors` types (JobNotFoundError, BackendError, SnowflakeError...)
    with messages that say what to do; none of them prints to stdout.
    """

    name: str

    def facts(self) -> AccountFacts:
        """What this backend offers (pools, families, EAIs, stages, grants) for planning."""

    def submit(self, plan: JobPlan) -> str:
        """Start the job the plan describes and return its id. The caller has already confirmed."""

    def status(self, job_id: str) -> JobStatus: ...

    def instances(self, job_id: str) -> list[InstanceStatus]: ...

    def logs(self, job_id: str, *, instance_id: int | None = None, limit: int = -1, verbose: bool = False) -> str:
        """Log text; `verbose` includes the setup phase (pip install) before the user code starts."""

    def result(self, job_id: str) -> JobResult:
        """The result of a terminal job. Raises BackendError when the job is not terminal yet."""

    def cancel(self, job_id: str) -> None: ...

    def list(self, limit: int = 50) -> list[JobInfo]: ...

    def delete(self, job_id: str) -> None:
        """Remove the job and its payload (and only its payload).

        The Snowflake backend also takes `payload_location=` (recorded at submit) so the payload goes even
        when the service is already gone.
        """
