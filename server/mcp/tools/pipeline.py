"""MCP surface for pipelines: a read-only `generate_pipeline` tool and the `mljobs://pipelines/{name}` resource.

The tool takes plans the server already holds (hashes from `plan_job`, so secrets never travel through the model)
or script paths it plans on the spot, and returns the generated code; deploying stays with the CLI
(`mljobs pipeline ... --deploy`), which asks for confirmation.

No `from __future__ import annotations`: the SDK reads `Context` and `Field` from evaluated annotations.
"""

import threading
from typing import Annotated, Literal

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ToolError
from mcp.types import CallToolResult, ToolAnnotations
from mljobs.skill.jobplan import JobPlan
from mljobs.skill.pipeline import PipelineCode, generate_pipeline
from mljobs.skill.redact import redact
from pydantic import BaseModel, Field

from ...errors import MljobsError
from ..common import answer
from ..state import state_of


class PipelineOut(BaseModel):
    """Generated pipeline code and what to know before deploying it."""

    name: str = Field(description="Pipeline name: the task graph's root task or the Airflow dag_id.")
    orchestrator: Literal["snowflake", "airflow"] = Field(description="Where the schedule lives.")
    code_hash: str = Field(description="SHA-256 of the code; a deploy confirmation is bound to it.")
    code: str = Field(description="The Python code (Snowflake task-graph script or Airflow DAG file).")
    jobs: list[str] = Field(description="The ML jobs, in run order.")
    warnings: list[str] = Field(description="What the user should know (timeouts, cleanup, credentials).")
    deploy_steps: list[str] = Field(description="Grants and commands that put the pipeline into service.")
    placeholders: list[str] = Field(
        default_factory=list,
        description="'VALUE: meaning' for values standing in for account objects (plans made on the local pool); "
        "deploying refuses while there are any.",
    )
    resource_uri: str = Field(description="Where the last generated code of this pipeline can be read again.")
    next_step: str = Field(description="What to do next.")


class _LastCode:
    """The last generated code per pipeline name (for the resource), shared by all sessions of this server."""

    def __init__(self) -> None:
        self._code: dict[str, str] = {}
        self._lock = threading.Lock()

    def put(self, name: str, code: str) -> None:
        with self._lock:
            self._code[name] = code

    def get(self, name: str) -> str | None:
        with self._lock:
            return self._code.get(name)


def _plans(ctx: Context, plan_hashes: list[str], paths: list[str]) -> list[JobPlan]:
    state = state_of(ctx)
    if bool(plan_hashes) == bool(paths):
        raise ToolError("pass either plan_hashes (from plan_job) or paths (scripts to plan now), not both or none")
    plans: list[JobPlan] = []
    for plan_hash in plan_hashes:
        entry = state.plans.get(plan_hash)
        if entry is None:
            raise ToolError(f"unknown plan {plan_hash[:12]}; call plan_job for the script first")
        plans.append(entry.plan)
    for path in paths:
        result = state.svc.plan(state.resolve_path(path))  # the default backend, as plan_job
        if result.plan is None:
            raise ToolError(f"{path}: no plan: {result.reason}; call plan_job to see why")
        plans.append(result.plan)
    return plans


def _local_eai_hosts(ctx: Context) -> dict[str, list[str]]:
    """The local EAIs' hosts, so a pipeline made from local plans names the network rules they stand for."""
    from ...local_eais import LocalEaiSource

    return LocalEaiSource(state_of(ctx).settings).current().hosts_by_name()


def register(server: MCPServer) -> None:
    """Add the read-only `generate_pipeline` tool and the `mljobs://pipelines/{name}` resource to `server`."""
    last = _LastCode()

    @server.tool(
        name="generate_pipeline",
        title="Generate a scheduled pipeline",
        annotations=ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False),
        description=(
            "Turn one or more planned ML jobs into a scheduled pipeline, run in the given order: a Snowflake task "
            "graph (snowflake.core DAG; each job registered once and run by a task, a finalizer cleans up after "
            "every run) or an Apache Airflow DAG file (submit, wait, fail on a failed job). Nothing is deployed: "
            "show the code and warnings to the user; deploying is `mljobs pipeline ... --deploy` after their yes."
        ),
    )
    def generate_pipeline_tool(
        ctx: Context,
        orchestrator: Annotated[Literal["snowflake", "airflow"], Field(description="Where the schedule lives.")],
        name: Annotated[str, Field(description="Pipeline name, a plain identifier (e.g. NIGHTLY_TRAINING).",
                                   pattern=r"^[A-Za-z_][A-Za-z0-9_$]{0,254}$")],
        plan_hashes: Annotated[list[str], Field(description="Plan hashes from plan_job, in run order.")] = [],  # noqa: B006
        paths: Annotated[list[str], Field(description="Or: absolute script paths to plan now, in run order.")] = [],  # noqa: B006
        schedule: Annotated[str | None, Field(
            description="Cron '0 6 * * *' (optionally followed by a time zone, e.g. 'Europe/Berlin'), or an "
                        "interval '30m', '6h', '1d' (at least 10 minutes). None: run by hand only.")] = None,
        warehouse: Annotated[str | None, Field(description="Warehouse the tasks run on (None: serverless).")] = None,
        predecessor_sql: Annotated[str | None, Field(
            description="One SQL statement (e.g. data preparation) to run before the first job.")] = None,
        task_timeout_minutes: Annotated[int | None, Field(
            description="How long one job may run; default 240 (Snowflake's 60-minute task default is too short "
                        "for training).", ge=1, le=1440)] = None,
    ) -> Annotated[CallToolResult, PipelineOut]:
        try:
            plans = _plans(ctx, plan_hashes, paths)
        except MljobsError as exc:
            raise ToolError(f"{redact(exc.message)}; fix the input and call generate_pipeline again") from None
        local = any(p.backend == "local" for p in plans)
        result = generate_pipeline(plans, orchestrator=orchestrator, name=name, schedule=schedule,
                                   warehouse=warehouse, predecessor_sql=predecessor_sql,
                                   task_timeout_minutes=task_timeout_minutes,
                                   connection_name=state_of(ctx).settings.connection_name,
                                   local_eai_hosts=_local_eai_hosts(ctx) if local else None)
        if not isinstance(result, PipelineCode):
            raise ToolError(f"no pipeline code: {redact(result.reason)}; fix that and call generate_pipeline again")
        last.put(result.name, result.code)
        out = PipelineOut(
            name=result.name, orchestrator=result.orchestrator.value, code_hash=result.code_hash, code=result.code,
            jobs=[p.name for p in plans], warnings=[redact(w) for w in result.warnings],
            deploy_steps=list(result.deploy_steps), placeholders=list(result.placeholders),
            resource_uri=f"mljobs://pipelines/{result.name}",
            next_step=("show the code and warnings to the user (STOP); replace the `placeholders` with account "
                       "objects (or plan the scripts with backend='snowflake') before deploying"
                       if result.placeholders else
                       "show the code and warnings to the user (STOP); to deploy, the user runs `mljobs pipeline "
                       "... --deploy` and confirms" if result.orchestrator.value == "snowflake" else
                       "show the code to the user (STOP); they copy it into the Airflow dags/ folder"),
        )
        summary = (f"{result.orchestrator.value} pipeline {result.name}: {' >> '.join(out.jobs)}"
                   + (f"; {len(out.warnings)} warning(s) in `warnings`" if out.warnings else ""))
        return answer(out, summary)

    @server.resource("mljobs://pipelines/{name}", name="pipeline-code", mime_type="text/x-python",
                     description="The last pipeline code generated under this name by generate_pipeline.")
    def pipeline_code(name: str) -> str:
        code = last.get(name.upper())
        if code is None:
            raise ResourceError(f"no pipeline {name} generated yet; call generate_pipeline")
        return code
