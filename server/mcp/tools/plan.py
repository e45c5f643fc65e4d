"""plan_job: analysis, pool ranking, EAI coverage, plan, code and preflight in one call, plus how to confirm.

The real plan (with secrets) stays in the server's registry under its hash; the model sees a redacted copy.
"""

from typing import Annotated, Literal

import anyio.to_thread
from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult
from mljobs.analyzers.model import SubmitMethod
from mljobs.skill.plan import PlanChoices
from pydantic import Field

from ...checkpoints import DEFAULT_TTL_SECONDS
from ..common import LOCAL_READS, answer, tool, tool_errors
from ..confirm import can_elicit
from ..inputs import Backend, EaiList, Entrypoint, Identifier, Path_
from ..models import ConfirmationOut, PlanOut
from ..state import PlanEntry, fingerprint, state_of
from ..views import plan_out


def register(server: MCPServer) -> None:
    @tool(server, title="Plan a job", annotations=LOCAL_READS)
    async def plan_job(
        ctx: Context,
        path: Path_,
        entrypoint: Entrypoint = None,
        pool: Annotated[
            Identifier, Field(description="Compute pool chosen by the user (default: the best ranked).")
        ] = None,
        eais: EaiList = None,
        only_eais: Annotated[
            bool, Field(description="Use exactly `eais` instead of adding them to the suggestion.")
        ] = False,
        args: Annotated[
            list[Annotated[str, Field(max_length=4096)]] | None,
            Field(
                description="Script arguments (default: derived, e.g. --output-dir $MLRS_STAGE_RESULT_PATH).",
                max_length=200,
            ),
        ] = None,
        target_instances: Annotated[int | None, Field(description="Nodes.", ge=1, le=750)] = None,
        min_instances: Annotated[
            int | None, Field(description="Nodes needed to start.", ge=1, le=750)
        ] = None,
        method: Annotated[
            Literal["submit_file", "submit_directory", "submit_from_stage", "remote"] | None,
            Field(description="Submit method (default: the analysis' recommendation)."),
        ] = None,
        name: Annotated[
            str | None,
            Field(description="Job name.", max_length=255, pattern=r"^[A-Za-z_][A-Za-z0-9_$]*$"),
        ] = None,
        stage: Annotated[
            str | None,
            Field(
                description="Payload stage, e.g. @DB.SCHEMA.STAGE.",
                max_length=800,
                pattern=r"^@?[A-Za-z_][A-Za-z0-9_$.]*(/[A-Za-z0-9_.\-]+)*/?$",
            ),
        ] = None,
        database: Identifier = None,
        schema: Identifier = None,
        extra_pip_requirements: Annotated[
            list[Annotated[str, Field(max_length=300, pattern=r"^[A-Za-z0-9][^\s;]*$")]] | None,
            Field(description="Extra pip requirements, e.g. ['lightgbm==4.5.0'].", max_length=100),
        ] = None,
        env_vars: Annotated[
            dict[
                Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")],
                Annotated[str, Field(max_length=4096)],
            ]
            | None,
            Field(
                description="Environment variables for the job (values stay on the server; redacted in output)."
            ),
        ] = None,
        use_artifact_repository: Annotated[
            bool,
            Field(description="Install packages from Snowflake's PyPI artifact repository (no PyPI EAI)."),
        ] = False,
        runtime_environment: Annotated[
            str | None,
            Field(description="Runtime image tag or URL.", max_length=500, pattern=r"^[^\s\-][^\s]*$"),
        ] = None,
        query_warehouse: Identifier = None,
        function_name: Annotated[
            str | None,
            Field(
                description="For method=remote: the function to run.",
                max_length=255,
                pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
            ),
        ] = None,
        comment: Annotated[str | None, Field(description="Job comment.", max_length=1000)] = None,
        backend: Backend = None,
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
            choices = PlanChoices(
                pool=pool,
                eais=tuple(eais or ()),
                only_eais=only_eais,
                args=tuple(args) if args is not None else None,
                target_instances=target_instances,
                min_instances=min_instances,
                method=SubmitMethod(method) if method else None,
                name=name,
                stage=stage,
                database=database,
                schema=schema,
                extra_pip_requirements=tuple(extra_pip_requirements or ()),
                env_vars=dict(env_vars or {}),
                use_artifact_repository=use_artifact_repository,
                runtime_environment=runtime_environment,
                query_warehouse=query_warehouse,
                function_name=function_name,
                comment=comment,
                connection_name=settings.connection_name,
            )
            resolved = state.resolve_path(path)

            def plan() -> tuple[PlanOut, str]:
                analysis = state.analyze(resolved, entrypoint)
                result = svc.plan(resolved, entrypoint, choices=choices, backend=backend, analysis=analysis)
                facts = svc.facts(backend)
                plan_hash = result.plan.plan_hash() if result.plan is not None else None
                out, text, code = plan_out(result, facts, plan_hash)
                if result.plan is not None and plan_hash is not None:
                    state.plans.put(
                        plan_hash,
                        PlanEntry(
                            plan=result.plan, ready=result.ready, output=out, code=code,
                            fingerprint=fingerprint(result.plan.source),
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
