"""job_status, wait_for_job, job_logs, list_jobs, diagnose_job: following a job without wasting calls or bytes.

A wait fits the client: it answers well inside the 60 s request timeout most clients use (default 30 s), sends a
progress notification on every poll, and its answer is the whole job view: on failure the error summary and the
diagnosis come with it, so no second call is needed; while running, next_step names the exact next call.
Logs come tail-first in pages under a byte cap, with a repeated traceback folded into one line.
"""

from typing import Annotated

import anyio
import anyio.to_thread
from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult
from pydantic import Field

from ...backends.base import JobStatus
from ...waiting import WaitProgress, wait_for_job_async
from ..common import JOB_READS, answer, tool, tool_errors
from ..inputs import JobId
from ..models import DiagnosisOut, JobsOut, JobStatusOut, LogsOut, WaitOut
from ..state import state_of
from ..views import diagnosis_out, job_out, job_text, status_next

DEFAULT_WAIT_SECONDS = 30  # under the 60 s request timeout many clients apply without extending on progress
MAX_WAIT_SECONDS = 1800
DEFAULT_LOG_LINES = 100
DEFAULT_LOG_BYTES = 8000
MAX_LOG_BYTES = 100_000
FAILED = (JobStatus.FAILED, JobStatus.INTERNAL_ERROR)


def register(server: MCPServer) -> None:
    @tool(server, title="Job status", annotations=JOB_READS)
    def job_status(ctx: Context, job_id: JobId) -> Annotated[CallToolResult, JobStatusOut]:
        """Live status of a job and, once it is finished, its result (the __return__ value) or its error (final
        exception, the user's frame, the traceback); the last log lines while it runs."""
        with tool_errors("job_status"):
            out = job_out(state_of(ctx).svc.status(job_id))
            return answer(out, job_text(out))

    @tool(server, title="Wait for a job", annotations=JOB_READS)
    async def wait_for_job(
        ctx: Context,
        job_id: JobId,
        timeout_seconds: Annotated[
            int,
            Field(
                description="Stop waiting after this long (the job keeps running). Keep it under your client's "
                f"request timeout (often 60 s); at most {MAX_WAIT_SECONDS}.",
                ge=0,
                le=MAX_WAIT_SECONDS,
            ),
        ] = DEFAULT_WAIT_SECONDS,
    ) -> Annotated[CallToolResult, WaitOut]:
        """Wait until a job finishes or the timeout passes (default 30 s), with a progress notification on every
        status check. Answers with the job: its result when DONE; its error and the diagnosis when it FAILED;
        while it still runs, next_step is the exact call to keep waiting."""
        with tool_errors("wait_for_job"):
            svc = state_of(ctx).svc
            last = -1.0
            total = float(timeout_seconds)

            async def get_status() -> JobStatus:
                return await anyio.to_thread.run_sync(svc.refresh_status, job_id)

            async def on_progress(p: WaitProgress) -> None:
                nonlocal last
                value = max(min(p.elapsed, total), last + 0.001)  # progress must increase
                last = value
                await ctx.report_progress(
                    value, total or None, f"{p.status.value} after {p.elapsed:.0f}s ({p.polls} checks)"
                )

            outcome = await wait_for_job_async(get_status, sleep=anyio.sleep, timeout=total, on_progress=on_progress)
            view = await anyio.to_thread.run_sync(lambda: svc.status(job_id, with_logs=outcome.status in FAILED))
            diagnosis: DiagnosisOut | None = None
            if view.status in FAILED:
                diagnosis = diagnosis_out(job_id, await anyio.to_thread.run_sync(lambda: svc.diagnose(job_id, caller="mcp")))
            if outcome.timed_out:
                next_step = (
                    f"still {view.status.value}: call wait_for_job(job_id='{job_id}') again to keep waiting "
                    "(the job keeps running)"
                )
            elif diagnosis is not None:
                next_step = "show the error and the diagnosis to the user; " + diagnosis.next_step
            else:
                next_step = None
            job = job_out(view, next_step=next_step)
            out = WaitOut(
                job=job,
                timed_out=outcome.timed_out,
                polls=outcome.polls,
                elapsed_seconds=round(outcome.elapsed, 3),
                diagnosis=diagnosis,
                next_step=job.next_step or status_next(view.status, job_id),
            )
            job.next_step = None  # said once, in the wait's own next_step
            text = job_text(out.job)
            if outcome.timed_out:
                text += f"\nstill running after {outcome.elapsed:.0f}s; {out.next_step}"
            if diagnosis is not None:
                text += f"\ncause: {diagnosis.cause}\nfix: {diagnosis.fix}"
            return answer(out, text)

    @tool(server, title="Job logs", annotations=JOB_READS)
    def job_logs(
        ctx: Context,
        job_id: JobId,
        tail_lines: Annotated[int, Field(description="Lines per page.", ge=1, le=5000)] = DEFAULT_LOG_LINES,
        before_line: Annotated[
            int | None,
            Field(description="Read the lines before this 1-based line (from a previous page's first_line); "
                  "default: the end of the log.", ge=1),
        ] = None,
        max_bytes: Annotated[
            int, Field(description="Byte cap of the page (older lines of the page are dropped).", ge=200,
                       le=MAX_LOG_BYTES)
        ] = DEFAULT_LOG_BYTES,
        instance_id: Annotated[int | None, Field(description="Node of a multi-node job (0 = head).", ge=0)] = None,
        verbose: Annotated[bool, Field(description="Include the setup phase (pip install) before the user code.")]
        = False,
    ) -> Annotated[CallToolResult, LogsOut]:
        """The job's log output (credentials redacted), tail first: the last `tail_lines` lines under a byte cap;
        `before_line` reads older lines. A traceback repeated in the log is shown once. `verbose` adds the setup
        phase, where install and network failures show up."""
        with tool_errors("job_logs"):
            text = state_of(ctx).svc.logs(job_id, instance_id=instance_id, verbose=verbose)
            out = log_page(job_id, instance_id, text, tail_lines, before_line, max_bytes)
            return answer(out, f"{out.lines} of {out.total_lines} log lines (from line {out.first_line}) in `text`"
                          + (f"; older lines: before_line={out.first_line}" if out.first_line > 1 else ""))

    @tool(server, title="List jobs", annotations=JOB_READS)
    def list_jobs(
        ctx: Context,
        limit: Annotated[int, Field(description="Most recent jobs to list.", ge=1, le=500)] = 20,
    ) -> Annotated[CallToolResult, JobsOut]:
        """Jobs submitted through mljobs, newest first, with live status for unfinished ones."""
        with tool_errors("list_jobs"):
            views = state_of(ctx).svc.jobs(limit)
            out = JobsOut(
                jobs=[job_out(v, next_step="") for v in views],
                scope=f"jobs submitted through mljobs (its job store; local-pool jobs a crash left out are adopted), "
                f"newest first, at most {limit}; jobs made outside mljobs are not listed",
                next_step="job_status(job_id) for details" if views else "no jobs yet: plan_job to start",
            )
            return answer(out, f"{len(views)} job(s) in `jobs`" if views else "no jobs")

    @tool(server, title="Diagnose a failed job", annotations=JOB_READS)
    def diagnose_job(ctx: Context, job_id: JobId) -> Annotated[CallToolResult, DiagnosisOut]:
        """Why a job failed and the exact fix: its status and verbose logs matched against the error catalog
        (missing package, no network access, out of memory, missing grants, ...), with concrete plan changes and
        admin SQL. wait_for_job already includes this for a failed job."""
        with tool_errors("diagnose_job"):
            out = diagnosis_out(job_id, state_of(ctx).svc.diagnose(job_id, caller="mcp"))
            return answer(out, f"{out.status}: {out.cause}\nFix: {out.fix}")


TRACEBACK_START = "Traceback (most recent call last):"


def fold_tracebacks(lines: list[str]) -> list[str]:
    """Replace a traceback that repeats an earlier one, line for line, by one line saying so."""
    out: list[str] = []
    seen: set[tuple[str, ...]] = set()
    i = 0
    while i < len(lines):
        if lines[i].strip() != TRACEBACK_START:
            out.append(lines[i])
            i += 1
            continue
        j = i + 1
        while j < len(lines) and (lines[j].startswith((" ", "\t")) or not lines[j].strip()):
            j += 1
        block = tuple(lines[i : min(j + 1, len(lines))])  # through the exception line
        if block in seen:
            out.append(f"[the traceback above, repeated ({len(block)} lines)]")
        else:
            seen.add(block)
            out.extend(block)
        i += len(block)
    return out


def log_page(
    job_id: str, instance_id: int | None, text: str, size: int, before_line: int | None, max_bytes: int
) -> LogsOut:
    """Up to `size` lines ending before `before_line` (default: the tail), repeated tracebacks folded, cut to
    `max_bytes` from the newest line backwards, so paging with the returned first_line loses nothing."""
    lines = fold_tracebacks(text.splitlines())
    total = len(lines)
    end = total if before_line is None else min(total, before_line - 1)
    start = max(0, end - size)
    kept: list[str] = []
    used = 0
    truncated = False
    for line in reversed(lines[start:end]):
        cost = len(line.encode()) + 1
        if used + cost > max_bytes:
            truncated = True
            break
        kept.append(line)
        used += cost
    kept.reverse()
    return LogsOut(
        job_id=job_id,
        instance_id=instance_id,
        text="\n".join(kept),
        lines=len(kept),
        total_lines=total,
        first_line=end - len(kept) + 1,
        truncated=truncated,
    )


