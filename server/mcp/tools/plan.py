"""plan_job: analysis, pool ranking, EAI coverage, plan, code and preflight in one call, plus how to confirm.

The real plan (with secrets) stays in the server's registry under its hash; the model sees a redacted copy.
"""

from typing import Annotated

import anyio.to_thread
from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult
from pydantic import Field

from ...checkpoints import DEFAULT_TTL_SECONDS
from ...plan_options import PlanOptions
from ..common import LOCAL_READS, answer, tool, tool_errors
from ..confirm import can_elicit
from ..inputs import Backend, Entrypoint, Path_
from ..models import ConfirmationOut, PlanOut
from ...payload import fingerprint_for_plan
from ..state import PlanEntry, state_of
from ..views import plan_out


def register(server: MCPServer) -> None:
    @tool(server, title="Plan a job", annotations=LOCAL_READS)
    async def plan_job(
        ctx: Context,
        path: Path_,
        entrypoint: Entrypoint = None,
        backend: Backend = None,
        choices: Annotated[
            PlanOptions | None,
            Field(description="The user's choices (pool, eais, args, nodes, method, ...); leave out what they did "
                  "not decide: it is derived from the code and the account."),
        ] = None,
    ) -> Annotated[CallToolResult, PlanOut]:
        """Plan the job in one call: analysis, pool ranking and external-access check included. Every setting
        decided and explained (pool, EAIs, args, packages, method, nodes), the generated snowflake-ml-python
        submission code, a proposed minimal script edit (diff, not applied), preflight checks (grants, fit,
        network), admin SQL for missing access, and what the user must confirm. Nothing is submitted. Returns
        `plan_hash` for submit_job, and a confirmation token when this client cannot ask the user itself."""
        with tool_errors("plan_job"):
            state = state_of(ctx)
            svc = state.svc
            settings = state.settings
            plan_choices = (choices or PlanOptions()).to_choices(connection_name=settings.connection_name)
            resolved = state.resolve_path(path)

            def plan() -> tuple[PlanOut, str]:
                analysis = state.analyze(resolved, entrypoint)
                result = svc.plan(resolved, entrypoint, choices=plan_choices, backend=backend, analysis=analysis)
                facts = svc.facts(backend)
                plan_hash = result.plan.plan_hash() if result.plan is not None else None
                out, text, code = plan_out(result, facts, plan_hash)
                if result.plan is not None and plan_hash is not None:
                    state.plans.put(
                        plan_hash,
                        PlanEntry(
                            plan=result.plan, ready=result.ready, output=out, code=code,
                            fingerprint=fingerprint_for_plan(result.plan),
                        ),
                    )
                return out, text

            out, text = await anyio.to_thread.run_sync(plan)
            if out.plan_hash and out.ready and not settings.read_only:
                if can_elicit(ctx):
                    out.confirmation = ConfirmationOut(method="elicitation", bound_to=out.plan_hash)
                else:
                    token = svc.issue_token("submit", out.plan_hash)
                    out.confirmation = ConfirmationOut(
                        method="token", token=token, expires_in_seconds=int(DEFAULT_TTL_SECONDS),
                        bound_to=out.plan_hash,
                    )
                    text += (
                        "\n\nThis client cannot ask the user directly: show the summary above, and only after "
                        "the user says yes call submit_job with plan_hash and confirmation_token."
                    )
            elif settings.read_only and out.plan_hash:
                out.next_step = (
                    "this server is read-only: the user can submit with `mljobs submit PATH` or restart "
                    "the server without --read-only"
                )
            return answer(out, text)
