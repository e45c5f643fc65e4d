"""submit_job, cancel_job, delete_job: the side effects, each only with the user's yes (see confirm.py).

`register` adds them only to a server that is not read-only, so a read-only server never lists them.
"""

from typing import Annotated, Literal

import anyio.to_thread
from mcp.server.mcpserver import AcceptedElicitation, Context, ElicitationResult, MCPServer, Resolve
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, ToolAnnotations

from mljobs.skill.redact import redact

from ...backends.base import JobStatus
from ...checkpoints import DEFAULT_TTL_SECONDS
from ...settings import Settings
from ..common import answer, tool, tool_errors
from ..confirm import (
    ActionConfirmation,
    SubmitConfirmation,
    ask_cancel,
    ask_delete,
    ask_submit,
    can_elicit,
    outcome,
    preview,
)
from ..inputs import JobId, PlanHash, Token
from ..models import ActionOut, ConfirmationOut, SubmitOut
from ..state import AppState, state_of

SUBMIT = ToolAnnotations(destructive_hint=False, idempotent_hint=False, open_world_hint=True)
DESTRUCTIVE = ToolAnnotations(destructive_hint=True, idempotent_hint=True, open_world_hint=True)


def register(server: MCPServer, settings: Settings) -> None:
    if settings.read_only:
        return

    @tool(server, title="Submit a job (asks the user)", annotations=SUBMIT)
    async def submit_job(
        ctx: Context,
        plan_hash: PlanHash,
        answer_: Annotated[ElicitationResult[SubmitConfirmation], Resolve(ask_submit)],
        confirmation_token: Token = None,
    ) -> Annotated[CallToolResult, SubmitOut]:
        """Submit a planned job, only with the user's confirmation: the server asks the user (showing the exact
        script, pool, instance family, dependencies, EAIs, nodes, method and plan hash) when the client supports
        it; otherwise pass the confirmation_token from plan_job, after the user said yes. Declined = nothing
        submitted. Returns the job id."""
        with tool_errors("submit_job"):
            state = state_of(ctx)
            svc = state.svc
            entry = state.plan_entry(plan_hash)
            if not entry.ready:
                raise ToolError(
                    "this plan has preflight errors, so it cannot be submitted; fix them and call plan_job again"
                )
            stale = await anyio.to_thread.run_sync(state.stale, entry)
            if stale:
                raise ToolError(stale)
            if confirmation_token:
                token = confirmation_token
                confirmation = await anyio.to_thread.run_sync(
                    lambda: svc.confirm("submit", plan_hash, token=token)
                )
            elif can_elicit(ctx):
                if not (isinstance(answer_, AcceptedElicitation) and answer_.data.confirm):
                    out = SubmitOut(
                        submitted=False,
                        plan_hash=plan_hash,
                        message=f"not submitted: the user {outcome(answer_)}",
                        next_step="ask the user what to change, plan_job again, or stop here",
                    )
                    return answer(out, out.message)
                confirmation = svc.confirm("submit", plan_hash, method="elicitation")
            else:
                raise ToolError(
                    "submit_job needs the user's confirmation and this client cannot ask them; show the user "
                    "plan_job's summary and, once they agree, call submit_job again with the confirmation_token "
                    "plan_job returned"
                )
            sub = await anyio.to_thread.run_sync(svc.submit, entry.plan, confirmation)
            out = SubmitOut(
                submitted=True,
                job_id=sub.job_id,
                backend=sub.backend,
                status=sub.status,
                plan_hash=plan_hash,
                confirmed_by=confirmation.method,
                message=f"submitted {sub.job_id} on {sub.backend} ({sub.status.value})",
                warning=redact(sub.warning) if sub.warning else None,
                next_step=f"call wait_for_job(job_id='{sub.job_id}')"
                + ("; do NOT submit again (see `warning`)" if sub.warning else ""),
            )
            return answer(out, out.message + ("\nWARNING: the job exists; see `warning`" if sub.warning else ""))

    @tool(server, name="cancel_job", title="Cancel a job (asks the user)", annotations=DESTRUCTIVE)
    async def cancel_job(
        ctx: Context,
        job_id: JobId,
        answer_: Annotated[ElicitationResult[ActionConfirmation], Resolve(ask_cancel)],
        confirmation_token: Token = None,
    ) -> Annotated[CallToolResult, ActionOut]:
        """Cancel a running or pending job, only with the user's confirmation: the server asks the user when the
        client supports it; otherwise the first call (without a token) returns a preview and a token, and the
        second call with that token cancels. Declined = nothing done."""
        with tool_errors("cancel_job"):
            return await _act(state_of(ctx), ctx, "cancel", job_id, answer_, confirmation_token)

    @tool(server, name="delete_job", title="Delete a job (asks the user)", annotations=DESTRUCTIVE)
    async def delete_job(
        ctx: Context,
        job_id: JobId,
        answer_: Annotated[ElicitationResult[ActionConfirmation], Resolve(ask_delete)],
        confirmation_token: Token = None,
    ) -> Annotated[CallToolResult, ActionOut]:
        """Delete a job with its logs, result and payload (cannot be undone), only with the user's confirmation:
        asked directly when the client supports it, otherwise preview first (returns a token), then call again
        with the token."""
        with tool_errors("delete_job"):
            return await _act(state_of(ctx), ctx, "delete", job_id, answer_, confirmation_token)


async def _act(
    state: AppState,
    ctx: Context,
    action: Literal["cancel", "delete"],
    job_id: str,
    answer_: object,
    token: str | None,
) -> CallToolResult:
    """Preview, then confirm (token or elicitation), then do it; a preview without a token issues one."""
    svc = state.svc
    text, status, applies = await anyio.to_thread.run_sync(preview, state, action, job_id)
    if not applies:
        out = ActionOut(
            job_id=job_id, action=action, done=False, preview=text, status=status,
            next_step="cancel_job first" if action == "delete" else "nothing to do",
        )
        return answer(out, f"Nothing done: the job is {status.value} (see `preview`).")
    if token:
        confirmation = await anyio.to_thread.run_sync(lambda: svc.confirm(action, job_id, token=token))
    elif can_elicit(ctx):
        if not (isinstance(answer_, AcceptedElicitation) and answer_.data.confirm):
            out = ActionOut(
                job_id=job_id, action=action, done=False, preview=text, status=status,
                next_step=f"the user {outcome(answer_)}; nothing was done",
            )
            return answer(out, f"Not done: the user {outcome(answer_)}.")
        confirmation = svc.confirm(action, job_id, method="elicitation")
    else:
        out = ActionOut(
            job_id=job_id, action=action, done=False, preview=text, status=status,
            confirmation=ConfirmationOut(
                method="token", token=svc.issue_token(action, job_id), bound_to=job_id,
                expires_in_seconds=int(DEFAULT_TTL_SECONDS),
            ),
            next_step=(
                f"show the preview to the user; only if they agree call {action}_job("
                f"job_id='{job_id}', confirmation_token=<token>)"
            ),
        )
        return answer(out, f"Preview (nothing done yet): {text}.")
    if action == "cancel":
        new = await anyio.to_thread.run_sync(svc.cancel, job_id, confirmation)
        record = await anyio.to_thread.run_sync(svc.store.find, job_id)
        stopped = (
            "FAILED (a cancelled Snowflake job ends FAILED)"
            if record is not None and record.backend == "snowflake"
            else "CANCELLED"
        )
        out = ActionOut(
            job_id=job_id, action=action, done=True, preview=text, status=new,
            next_step=f"job_status(job_id='{job_id}') shows when it has stopped: {stopped}",
        )
        return answer(out, f"Cancelled {job_id} (now {new.value}).")
    await anyio.to_thread.run_sync(svc.delete, job_id, confirmation)
    out = ActionOut(
        job_id=job_id, action=action, done=True, preview=text, status=JobStatus.DELETED, next_step="nothing more to do"
    )
    return answer(out, f"Deleted {job_id}.")
