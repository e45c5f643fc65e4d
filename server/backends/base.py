"""The one interface every job backend implements (Snowflake and the local pool), and its value types."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from mljobs.skill.facts import AccountFacts
from mljobs.skill.jobplan import JobPlan


class JobStatus(str, enum.Enum):
    """Job states exactly as Snowflake spells them (snowflake-ml-python JOB_STATUS)."""

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    DONE = "DONE"
    FAILED = "FAILED"
    CANCELLING = "CANCELLING"
    CANCELLED = "CANCELLED"
    INTERNAL_ERROR = "INTERNAL_ERROR"
    DELETED = "DELETED"

    @property
    def terminal(self) -> bool:
        # CANCELLING is not terminal: the job may still be running (mljobs-api.md §1.5).
        return self in TERMINAL_STATUSES


TERMINAL_STATUSES = frozenset(
    {JobStatus.DONE, JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.INTERNAL_ERROR, JobStatus.DELETED}
)


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
        """Remove the job and its payload (and only its payload)."""
