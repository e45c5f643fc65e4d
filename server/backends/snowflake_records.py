"""snowflake-ml-python's answers as mljobs values: statuses, failed results, job-history rows."""

from __future__ import annotations

import json
import logging
import traceback
from typing import Any

from mljobs.skill.redact import redact

from .base import JobInfo, JobResult, JobStatus
from .snowflake_errors import _message

log = logging.getLogger(__name__)


def _status(raw: str) -> JobStatus:
    try:
        return JobStatus(str(raw).upper())
    except ValueError:
        log.warning("unrecognised job status %r reported as INTERNAL_ERROR", raw)
        return JobStatus.INTERNAL_ERROR


def _failed_result(exc: RuntimeError, status: JobStatus) -> JobResult:
    """A RuntimeError from MLJob.result(): the remote exception (its traceback attached) or no result at all."""
    cause = exc.__cause__
    if "Failed to retrieve result" in str(exc) or cause is None:
        return JobResult(False, error=f"no result could be read for this {status.value} job ({_message(exc)}); "
                                      "read its logs with verbose=True")  # fmt: skip
    from snowflake.ml.jobs._interop import exception_utils  # private: where the remote traceback is attached

    info = exception_utils.retrieve_remote_error_info(cause)
    if info is not None:
        tb = f"Traceback (from remote execution):\n{info.exc_tb}{info.exc_type}: {info.exc_msg}"
    else:
        tb = "".join(traceback.format_exception(type(cause), cause, cause.__traceback__))
    return JobResult(False, error=repr(cause), traceback=redact(tb))


def _history_info(row: Any) -> JobInfo:
    """One GET_JOB_HISTORY row (upper-case columns) as the list_jobs-shaped record `_job_info` reads."""
    data = {str(k).lower(): v for k, v in (row.as_dict() if hasattr(row, "as_dict") else dict(row)).items()}
    try:
        replicas = json.loads(str(data.get("parameters") or "{}")).get("REPLICAS", 1)
    except (ValueError, AttributeError):
        replicas = 1
    return _job_info({**data, "compute_pool": data.get("compute_pool_name"), "target_instances": replicas})


def _job_info(rec: dict[str, Any]) -> JobInfo:
    def epoch(value: Any) -> float | None:
        if value is None:
            return None
        try:
            if value != value:  # NaN / NaT
                return None
            return float(value.timestamp())
        except (AttributeError, TypeError, ValueError):
            return None

    def text(value: Any) -> str | None:
        return None if value is None or value != value else str(value)

    try:
        target = int(rec.get("target_instances") or 1)
    except (TypeError, ValueError):
        target = 1
    return JobInfo(
        job_id=f"{rec.get('database_name')}.{rec.get('schema_name')}.{rec.get('name')}",
        backend="snowflake",
        status=_status(str(rec.get("status"))),
        name=text(rec.get("name")),
        compute_pool=text(rec.get("compute_pool")),
        created_at=epoch(rec.get("created_time")),
        finished_at=epoch(rec.get("completed_time")),
        message=text(rec.get("message")),
        target_instances=target,
        extra={"owner": text(rec.get("owner"))},
    )
