"""Resources (a job record, the knowledge catalogs, a plan's generated code) and the guided-conversion prompt."""

import json
from collections.abc import Callable

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError
from mljobs.skill.knowledge import load_table

from ...jsonable import to_jsonable
from ..state import PlanEntry, state_of

#: URI name -> knowledge table (skill/data/<table>.yaml).
CATALOGS = {
    "gpu-patterns": "gpu_patterns",
    "network": "network_catalog",
    "runtime-packages": "runtime_packages",
    "instance-families": "instance_families",
    "errors": "error_catalog",
}


def register(server: MCPServer) -> None:
    @server.resource(
        "mljobs://jobs/{job_id}",
        name="job",
        mime_type="application/json",
        description="A job record: plan (redacted), status history, confirmation, payload location.",
    )
    def job_resource(job_id: str, ctx: Context) -> str:
        svc = state_of(ctx).svc
        record = svc.store.find(job_id)
        if record is None:
            raise ResourceError(f"no job {job_id} in the job store; list_jobs shows the known ids")
        data = {**to_jsonable(record), "history": to_jsonable(svc.store.history(job_id))}
        return json.dumps(data, indent=2)

    for uri_name, table in CATALOGS.items():
        server.resource(
            f"mljobs://catalogs/{uri_name}",
            name=f"catalog-{uri_name}",
            mime_type="application/json",
            description=f"mljobs knowledge table {table} (skill/data/{table}.yaml).",
        )(_catalog_reader(table))

    @server.resource(
        "mljobs://plans/{plan_hash}/code",
        name="plan-code",
        mime_type="text/x-python",
        description="The generated snowflake-ml-python submission code of a plan from plan_job.",
    )
    def plan_code(plan_hash: str, ctx: Context) -> str:
        entry = _plan(ctx, plan_hash)
        if entry.code is None:
            raise ResourceError(f"plan {plan_hash[:12]} has no code: {entry.output.code_note}")
        return entry.code

    @server.resource(
        "mljobs://plans/{plan_hash}/notebook-script",
        name="plan-notebook-script",
        mime_type="text/x-python",
        description="For a notebook plan from plan_job: the script the job runs, converted from the code cells.",
    )
    def plan_notebook_script(plan_hash: str, ctx: Context) -> str:
        entry = _plan(ctx, plan_hash)
        if entry.output.notebook_script is None:
            raise ResourceError(f"plan {plan_hash[:12]} is not a notebook plan")
        return entry.output.notebook_script

    @server.prompt(title="Convert a script into an ML Job")
    def convert_script(path: str) -> str:
        """Guided conversion of a local script, notebook or project into a Snowflake ML Job, with STOP points."""
        return (
            f"Convert {path} into a Snowflake ML Job with the mljobs tools, step by step.\n"
            f"1. plan_job(path='{path}'): it analyses the code, ranks the pools and checks external access. "
            "Tell me GPU/CPU, packages to install, network hosts and outputs, quoting the file:line evidence "
            "(`explanations`, `preflight`), the chosen pool and its alternatives (`ranking`), which EAIs cover "
            "which hosts (`coverage`) and any `admin_sql`. STOP: ask me about the pool, the EAIs and anything "
            "missing; plan again with my choices (analyze_script, rank_pools and check_external_access show one "
            "step in detail when I ask).\n"
            "2. Show `summary`, `needs_confirmation`, the script diff and the code. Offer a free dry run on the local "
            "pool (backend='local') before spending credits. STOP: this is the MANDATORY confirmation.\n"
            "3. submit_job(plan_hash) only after I said yes (pass the confirmation token only then).\n"
            "4. wait_for_job until the job ends (call it again while next_step says so); it brings the result, or "
            "the error and the diagnosis; job_logs pages the output. On failure propose the fix as a new plan.\n"
            "Never invent a setting, never run admin SQL, never submit without my yes."
        )


def _catalog_reader(table: str) -> Callable[[], str]:
    def read_catalog() -> str:
        return json.dumps(load_table(table), indent=2, default=str)

    read_catalog.__name__ = f"catalog_{table}"
    return read_catalog


def _plan(ctx: Context, plan_hash: str) -> PlanEntry:
    """The plan a resource URI names, or a ResourceError that says to plan again."""
    entry = state_of(ctx).plans.get(plan_hash)
    if entry is None:
        raise ResourceError(f"unknown plan {plan_hash[:12]}; call plan_job again")
    return entry
