"""The confirmation flow of the side-effect tools: ask the user directly (elicitation) or go through a token.

The SDK's `Resolve(...)` runs a resolver before the tool body; a resolver returns `Elicit(...)` to have the client
ask the user (on both protocol eras), or a plain "no" answer when there is nothing to ask (a token was passed, the
client cannot elicit, or the action does not apply) and the tool body explains. Side effects then need either an
accepted elicitation or a redeemed single-use token bound to the plan hash or job id.
"""

from typing import Any, Literal

import anyio.to_thread
from mcp.server.mcpserver import Context, Elicit
from pydantic import BaseModel, Field

from ..backends.base import JobStatus
from ..errors import MljobsError
from .state import AppState, state_of


class SubmitConfirmation(BaseModel):
    """What the user answers when asked to submit (flat, so every client can render it)."""

    confirm: bool = Field(description="Submit this job now?")


class ActionConfirmation(BaseModel):
    confirm: bool = Field(description="Go ahead?")


def can_elicit(ctx: Context) -> bool:
    """The client declared form elicitation (the same test the SDK applies before it asks)."""
    caps = ctx.client_capabilities
    elicitation = caps.elicitation if caps is not None else None
    return elicitation is not None and (elicitation.form is not None or elicitation.url is None)


def outcome(answer: Any) -> str:
    """How the user answered a question that did not end in a yes."""
    kind = type(answer).__name__
    if kind.startswith("Declined"):
        return "declined"
    if kind.startswith("Cancelled"):
        return "cancelled the question"
    return "did not confirm"


async def ask_submit(
    plan_hash: str, confirmation_token: str | None, ctx: Context
) -> SubmitConfirmation | Elicit[SubmitConfirmation]:
    """Ask the user only when there is no token, the client can ask, and the plan is known, ready and fresh."""
    state = state_of(ctx)
    entry = state.plans.get(plan_hash)
    if confirmation_token or not can_elicit(ctx) or entry is None or not entry.ready:
        return SubmitConfirmation(confirm=False)
    if await anyio.to_thread.run_sync(state.stale, entry):
        return SubmitConfirmation(confirm=False)
    lines = "\n".join(entry.output.summary)  # skill.plan.confirmation_summary: settings, cost, dependencies
    return Elicit(f"Submit this ML Job?\n{lines}\nNothing runs unless you confirm.", SubmitConfirmation)


def preview(state: AppState, action: Literal["cancel", "delete"], job_id: str) -> tuple[str, JobStatus, bool]:
    """(what the action would do, current status, whether it applies at all)."""
    view = state.svc.status(job_id, with_logs=False)
    label = f"job {job_id}" + (f" ({view.name})" if view.name else "") + f" on {view.backend}"
    label += f", pool {view.compute_pool}" if view.compute_pool else ""
    status = view.status
    if action == "cancel":
        if status.terminal:
            return f"{label} is already {status.value}; there is nothing to cancel", status, False
        return (
            f"Cancel {label} (now {status.value}): its processes stop; logs stay readable; it cannot be resumed",
            status,
            True,
        )
    if not status.terminal:
        return f"{label} is still {status.value}; cancel it first (cancel_job), then delete it", status, False
    text = (
        f"Delete {label} (now {status.value}): removes the job, its logs, result and payload; this cannot be undone"
    )
    return text, status, True


async def _ask_action(
    action: Literal["cancel", "delete"], job_id: str, confirmation_token: str | None, ctx: Context
) -> ActionConfirmation | Elicit[ActionConfirmation]:
    if confirmation_token or not can_elicit(ctx):
        return ActionConfirmation(confirm=False)
    try:
        text, _status, applies = await anyio.to_thread.run_sync(preview, state_of(ctx), action, job_id)
    except MljobsError:
        return ActionConfirmation(confirm=False)  # the tool body reports the error
    if not applies:
        return ActionConfirmation(confirm=False)
    return Elicit(f"{text.rstrip('.')}.\nGo ahead?", ActionConfirmation)


async def ask_cancel(
    job_id: str, confirmation_token: str | None, ctx: Context
) -> ActionConfirmation | Elicit[ActionConfirmation]:
    return await _ask_action("cancel", job_id, confirmation_token, ctx)


async def ask_delete(
    job_id: str, confirmation_token: str | None, ctx: Context
) -> ActionConfirmation | Elicit[ActionConfirmation]:
    return await _ask_action("delete", job_id, confirmation_token, ctx)


def local_eai_preview(state: AppState, name: str, hosts: list[str], comment: str | None) -> tuple[Any, str]:
    """(the LocalEaiChange, what it does in words); nothing is written."""
    change = state.svc.preview_local_eai(name, hosts, comment)
    if not change.added_hosts:
        return change, f"local EAI {change.eai.name} already allows {', '.join(hosts)}; nothing to add"
    verb = "Create local EAI" if change.created else "Add to local EAI"
    return change, (
        f"{verb} {change.eai.name}: allow {', '.join(change.added_hosts)} for jobs on the local pool "
        f"(writes {change.path}; no Snowflake object changes)"
    )


async def ask_local_eai(
    name: str, hosts: list[str], comment: str | None, confirmation_token: str | None, ctx: Context
) -> ActionConfirmation | Elicit[ActionConfirmation]:
    if confirmation_token or not can_elicit(ctx):
        return ActionConfirmation(confirm=False)
    try:
        change, text = await anyio.to_thread.run_sync(local_eai_preview, state_of(ctx), name, hosts, comment)
    except MljobsError:
        return ActionConfirmation(confirm=False)  # the tool body reports the error
    if not change.added_hosts:
        return ActionConfirmation(confirm=False)
    state_of(ctx).shown.put(("add_local_eai", change.eai.name), change.subject)
    return Elicit(f"{text}.\nGo ahead?", ActionConfirmation)


async def ask_cleanup(
    stage: str | None, confirmation_token: str | None, ctx: Context
) -> ActionConfirmation | Elicit[ActionConfirmation]:
    """Ask with the exact folder list; the list the user saw is remembered, so the body removes only that list."""
    if confirmation_token or not can_elicit(ctx):
        return ActionConfirmation(confirm=False)
    state = state_of(ctx)
    try:
        found = await anyio.to_thread.run_sync(state.svc.orphan_payloads, stage)
    except MljobsError:
        return ActionConfirmation(confirm=False)
    if not found.orphans:
        return ActionConfirmation(confirm=False)
    state.shown.put(("cleanup", found.stage), found.subject)
    return Elicit(f"Remove these payload folders (cannot be undone)?\n{found.render()}", ActionConfirmation)
