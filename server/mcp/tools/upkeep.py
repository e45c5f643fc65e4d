"""add_local_eai and cleanup_payloads: the upkeep side effects, each only with the user's yes (see confirm.py).

add_local_eai lets jobs on the local pool reach more hosts (it writes the local EAI file, never a Snowflake
object); cleanup_payloads removes payload folders whose jobs no longer exist from a stage. Both preview first:
the server asks the user (elicitation) or hands out a token bound to exactly the previewed change, and a
changed change needs a new yes. `register` adds them only to a server that is not read-only.
"""

from typing import Annotated

import anyio.to_thread
from mcp.server.mcpserver import AcceptedElicitation, Context, ElicitationResult, MCPServer, Resolve
from mcp.types import CallToolResult, ToolAnnotations
from pydantic import Field

from ...checkpoints import DEFAULT_TTL_SECONDS
from ...settings import Settings
from ..common import answer, tool, tool_errors
from ..confirm import ActionConfirmation, ask_cleanup, ask_local_eai, can_elicit, local_eai_preview, outcome
from ..inputs import Host, Identifier, Stage, Token
from ..models import CleanupOut, ConfirmationOut, LocalEaiOut
from ..state import state_of
from ..views import cleanup_out

#: Adds hosts to a local file: nothing is lost, and adding the same hosts again changes nothing.
ADDITIVE_LOCAL = ToolAnnotations(destructive_hint=False, idempotent_hint=True, open_world_hint=False)
#: Removes files from a Snowflake stage.
REMOVES_REMOTE = ToolAnnotations(destructive_hint=True, idempotent_hint=True, open_world_hint=True)

Comment = Annotated[
    str | None,
    Field(description="Why the EAI exists (kept in the file).", max_length=200, pattern=r"^[^\x00-\x1f]*$"),
]


def _token(subject: str, token: str) -> ConfirmationOut:
    return ConfirmationOut(method="token", token=token, bound_to=subject, expires_in_seconds=int(DEFAULT_TTL_SECONDS))


def register(server: MCPServer, settings: Settings) -> None:
    if settings.read_only:
        return

    @tool(server, title="Allow hosts on the local pool (asks the user)", annotations=ADDITIVE_LOCAL)
    async def add_local_eai(
        ctx: Context,
        name: Annotated[Identifier, Field(description="Local EAI name, e.g. MY_API_EAI (created when missing).")],
        hosts: Annotated[list[Host], Field(description="Hosts to allow.", min_length=1, max_length=20)],
        answer_: Annotated[ElicitationResult[ActionConfirmation], Resolve(ask_local_eai)],
        comment: Comment = None,
        confirmation_token: Token = None,
    ) -> Annotated[CallToolResult, LocalEaiOut]:
        """Let jobs on the local pool reach more hosts: create the local External Access Integration `name` or add
        hosts to it (the local pool's stand-in for a Snowflake EAI; plan with eais=[name] to use it). Writes the
        local EAI file only, never a Snowflake object, and only with the user's confirmation: asked directly when
        the client supports it, otherwise the first call returns a preview and a token, and a second call with
        the token writes."""
        with tool_errors("add_local_eai"):
            state = state_of(ctx)
            svc = state.svc
            change, text = await anyio.to_thread.run_sync(local_eai_preview, state, name, list(hosts), comment)

            def out(done: bool, next_step: str, confirmation: ConfirmationOut | None = None) -> LocalEaiOut:
                return LocalEaiOut(
                    name=change.eai.name, added_hosts=list(change.added_hosts), hosts=list(change.eai.hosts),
                    created=change.created, file=str(change.path), done=done, preview=text,
                    confirmation=confirmation, next_step=next_step,
                )

            use = f"plan_job with choices={{'eais': ['{change.eai.name}']}} and backend='local'"
            if not change.added_hosts:
                return answer(out(False, use), "Nothing to add (see `preview`).")
            if confirmation_token:
                confirmation = await anyio.to_thread.run_sync(
                    lambda: svc.confirm("add_local_eai", change.subject, token=confirmation_token)
                )
            elif can_elicit(ctx):
                accepted = isinstance(answer_, AcceptedElicitation) and answer_.data.confirm
                shown = state.shown.get(("add_local_eai", change.eai.name))
                if not accepted or shown != change.subject:
                    why = f"the user {outcome(answer_)}" if not accepted else "the change differs from what was asked"
                    return answer(out(False, f"{why}; nothing was written"), f"Not done: {why}.")
                confirmation = svc.confirm("add_local_eai", change.subject, method="elicitation")
            else:
                token = svc.issue_token("add_local_eai", change.subject)
                preview = out(
                    False,
                    "show the preview to the user; only if they agree call add_local_eai again with the same "
                    "name, hosts and comment plus confirmation_token=<token>",
                    _token(change.subject, token),
                )
                return answer(preview, "Preview (nothing written yet); see `preview`.")
            await anyio.to_thread.run_sync(svc.add_local_eai, change, confirmation)
            return answer(
                out(True, use),
                f"Local EAI {change.eai.name} now allows {', '.join(change.added_hosts)} "
                f"({len(change.eai.hosts)} host(s) in all).",
            )

    @tool(server, title="Remove orphaned payloads (asks the user)", annotations=REMOVES_REMOTE)
    async def cleanup_payloads(
        ctx: Context,
        answer_: Annotated[ElicitationResult[ActionConfirmation], Resolve(ask_cleanup)],
        stage: Stage = None,
        confirmation_token: Token = None,
    ) -> Annotated[CallToolResult, CleanupOut]:
        """Remove the payload folders on a Snowflake stage whose jobs no longer exist (Snowflake drops a job
        after its TTL but leaves its uploaded payload behind). Lists first; removes only the listed folders and
        only with the user's confirmation: asked directly when the client supports it, otherwise the first call
        returns the list and a token bound to exactly that list, and a second call with the token removes.
        Folders of live jobs are always kept."""
        with tool_errors("cleanup_payloads"):
            state = state_of(ctx)
            svc = state.svc
            found = await anyio.to_thread.run_sync(svc.orphan_payloads, stage)
            if not found.orphans:
                out = cleanup_out(found, next_step="nothing to clean up")
                return answer(out, f"No orphaned payload folders on {found.stage}.")
            if confirmation_token:
                confirmation = await anyio.to_thread.run_sync(
                    lambda: svc.confirm("cleanup", found.subject, token=confirmation_token)
                )
            elif can_elicit(ctx):
                accepted = isinstance(answer_, AcceptedElicitation) and answer_.data.confirm
                if not accepted or state.shown.get(("cleanup", found.stage)) != found.subject:
                    why = f"the user {outcome(answer_)}" if not accepted else "the list changed since the user saw it"
                    out = cleanup_out(found, next_step=f"{why}; nothing was removed")
                    return answer(out, f"Not done: {why}.")
                confirmation = svc.confirm("cleanup", found.subject, method="elicitation")
            else:
                token = svc.issue_token("cleanup", found.subject)
                out = cleanup_out(
                    found, confirmation=_token(found.subject, token),
                    next_step="show the list to the user; only if they agree call cleanup_payloads again with the "
                    "same stage plus confirmation_token=<token>",
                )
                return answer(out, f"Preview (nothing removed yet): {len(found.orphans)} folder(s) in `orphans`.")
            removed = await anyio.to_thread.run_sync(svc.clean_payloads, found, confirmation)
            out = cleanup_out(found, removed=removed, done=True, next_step="nothing more to do")
            return answer(out, f"Removed {len(removed)} payload folder(s) from {found.stage}.")
