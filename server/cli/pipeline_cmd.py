"""`mljobs pipeline PLAN_OR_PATH...`: scheduled pipeline code (Snowflake task graph or Airflow DAG); deploy/run it."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mljobs.skill.jobplan import JobPlan
from mljobs.skill.pipeline import DEFAULT_AIRFLOW_CONN_ID, Orchestrator, PipelineCode, generate_pipeline

from ..errors import UsageError
from ..pipelines import SchemaFactory, deploy_pipeline, load_plans, run_local_pipeline, run_pipeline
from .common import confirm, emit_json, service_from_args


def register(subparsers: Any) -> None:
    """Add the `pipeline` verb."""
    p = subparsers.add_parser(
        "pipeline",
        help="turn planned jobs into a scheduled pipeline: a Snowflake task graph or an Airflow DAG",
        description="Generate a pipeline that runs one or more planned ML jobs in order on a schedule. Each "
        "PLAN_OR_PATH is a plan JSON file (`mljobs plan SCRIPT --out plan.json`) or a script/folder planned now "
        "(on the account, or on the local pool when none is configured: then the code is the account equivalent, "
        "its placeholders named). --deploy/--run act on Snowflake after confirmation (--yes, or a prompt); "
        "--backend local --run runs the jobs in order on the local pool, stopping at the first failure.",
    )
    p.add_argument("plans", nargs="+", metavar="PLAN_OR_PATH", help="plan JSON file or script path, in run order")
    p.add_argument("--orchestrator", choices=[o.value for o in Orchestrator], required=True)
    p.add_argument("--schedule", help="cron '0 6 * * *' (optionally '... Europe/Berlin') or interval '6h', '30m'")
    p.add_argument("--warehouse", help="warehouse the tasks run on (default: serverless tasks)")
    p.add_argument("--name", help="pipeline name (default: <first job>_PIPELINE)")
    p.add_argument("--predecessor-sql", help="one SQL statement (e.g. data preparation) to run before the jobs")
    p.add_argument("--timeout-minutes", type=int, metavar="N", help="how long one job may run (default 240)")
    p.add_argument("--stage", help="stage for the payloads (default: the first plan's)")
    p.add_argument("--database", help="database the graph lives in (default: the first plan's)")
    p.add_argument("--schema", help="schema the graph lives in (default: the first plan's)")
    p.add_argument("--connection-name", help="connection in ~/.snowflake/connections.toml")
    p.add_argument("--backend", choices=("local", "snowflake"),
                   help="where scripts are planned (default: the account when one is configured, else the local "
                   "pool); with --run, where the pipeline runs")
    p.add_argument("--airflow-conn-id", default=DEFAULT_AIRFLOW_CONN_ID, help="Airflow connection for Snowflake")
    p.add_argument("--out", type=Path, help="write the code to this file instead of stdout")
    p.add_argument("--deploy", action="store_true", help="create (or replace) the task graph in Snowflake")
    p.add_argument("--run", action="store_true", help="run the deployed task graph once now")
    p.add_argument("--retry-last", action="store_true", help="with --run: rerun from the last failed task")
    p.add_argument("--yes", action="store_true", help="confirm --deploy/--run without asking")
    p.add_argument("--json", action="store_true", help="print JSON (code, warnings, deploy steps, hash)")
    p.set_defaults(func=run)


def _plans(args: argparse.Namespace, service: Any) -> tuple[list[JobPlan], list[str]]:
    plans: list[JobPlan] = []
    warnings: list[str] = []
    backend = args.backend or service.default_backend_name()
    for item in args.plans:
        if item.endswith(".json"):
            loaded, notes = load_plans([item])
            plans += loaded
            warnings += notes
            continue
        result = service.plan(item, backend=backend)
        if result.plan is None:
            raise UsageError(f"{item}: no plan: {result.reason}" + "".join(f"; {e}" for e in result.errors))
        if not result.ready:
            warnings.append(f"{item}: preflight found errors; run `mljobs plan {item}` to see and fix them")
        plans.append(result.plan)
    return plans, warnings


def run(args: argparse.Namespace) -> int:
    return execute(args)


def execute(args: argparse.Namespace, *, session_factory: Callable[[], Any] | None = None,
            schema_factory: SchemaFactory | None = None) -> int:
    """Generate, print/write, then deploy and/or run when asked and confirmed. Exit codes: see mljobs.server.cli."""
    service = service_from_args(args)
    plans, notes = _plans(args, service)
    name = args.name or f"{plans[0].name.rsplit('.', 1)[-1]}_PIPELINE"
    local = [p for p in plans if p.backend == "local"]
    result = generate_pipeline(
        plans, orchestrator=args.orchestrator, name=name, schedule=args.schedule, warehouse=args.warehouse,
        predecessor_sql=args.predecessor_sql, task_timeout_minutes=args.timeout_minutes,
        connection_name=args.connection_name, database=args.database, schema=args.schema, stage=args.stage,
        airflow_conn_id=args.airflow_conn_id, local_eai_hosts=_local_eai_hosts(service) if local else None,
    )
    if not isinstance(result, PipelineCode):
        raise UsageError(f"no pipeline code: {result.reason}")
    warnings = [*notes, *result.warnings]
    if args.out:
        args.out.write_text(result.code, encoding="utf-8")
    actions: list[dict[str, Any]] = []
    local_run = args.run and (args.backend == "local" or (args.backend is None and local and len(local) == len(plans)))
    if local_run:
        if args.deploy:
            raise UsageError("--deploy needs a Snowflake account; on the local pool use --run alone (a dry run)")
        actions.append(_run_locally(args, service, plans, warnings))
    elif args.deploy or args.run:
        if result.orchestrator is not Orchestrator.SNOWFLAKE:
            raise UsageError("--deploy/--run act on a Snowflake task graph; for Airflow copy the DAG file into the "
                             "Airflow dags/ folder")
        session = (session_factory or _session_factory(service))()
        if args.deploy:
            how = confirm(f"Deploy pipeline {result.name} into {result.database}.{result.schema} (uploads the job "
                          "payloads, creates or replaces its tasks)?", assume_yes=args.yes)
            done = deploy_pipeline(result, session, service.confirm("deploy_pipeline", result.code_hash, method=how),
                                   schema_factory=schema_factory)
            actions.append({"action": done.action, "tasks": list(done.tasks), "confirmed_by": how})
        if args.run:
            how = confirm(f"Run pipeline {result.name} once now (it starts ML jobs that use credits)?",
                          assume_yes=args.yes)
            done = run_pipeline(result, session, service.confirm("run_pipeline", result.code_hash, method=how),
                                retry_last=args.retry_last, schema_factory=schema_factory)
            actions.append({"action": done.action, "retry_last": done.retry_last, "confirmed_by": how})
    if args.json:
        emit_json({"name": result.name, "orchestrator": result.orchestrator.value, "code_hash": result.code_hash,
                   "code": result.code, "warnings": warnings, "deploy_steps": list(result.deploy_steps),
                   "placeholders": list(result.placeholders), "out": str(args.out) if args.out else None,
                   "actions": actions})
        return 1 if any(a["action"] == "run_local" and not a["ok"] for a in actions) else 0
    if not args.out:
        sys.stdout.write(result.code)
    else:
        print(f"wrote {result.orchestrator.value} pipeline {result.name} to {args.out}")
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print("next steps:\n" + "\n".join(f"  {step}" for step in result.deploy_steps), file=sys.stderr)
    for action in actions:
        if action["action"] == "run_local":
            for step in action["steps"]:
                print(f"{step['name']}: {step['status']}" + (f" ({step['job_id']})" if step["job_id"] else "")
                      + (f" - {step['message']}" if step["message"] else ""), file=sys.stderr)
            continue
        print(f"{action['action']}: done ({action['confirmed_by']})", file=sys.stderr)
    if any(a["action"] == "run_local" and not a["ok"] for a in actions):
        return 1
    return 0


def _local_eai_hosts(service: Any) -> dict[str, list[str]]:
    from ..local_eais import LocalEaiSource

    return LocalEaiSource(service.settings).current().hosts_by_name()


def _run_locally(args: argparse.Namespace, service: Any, plans: list[JobPlan], warnings: list[str]) -> dict[str, Any]:
    """Run the jobs in order on the local pool after one confirmation; stop at the first that is not DONE."""
    if args.retry_last:
        raise UsageError("--retry-last reruns a deployed graph on Snowflake; a local run starts from the first job")
    if any(p.backend != "local" for p in plans):
        raise UsageError("--backend local --run needs local-pool plans; plan the scripts with --backend local "
                         "(plan JSON files made on the account run on the account)")
    if args.predecessor_sql:
        warnings.append("the predecessor SQL does not run on the local pool (it needs an account); the jobs run "
                        "without it")
    names = " >> ".join(p.name for p in plans)
    how = confirm(f"Run the pipeline's {len(plans)} job(s) in order on the local pool ({names})?", assume_yes=args.yes)
    steps = run_local_pipeline(service, plans, how, timeout=args.timeout_minutes * 60 if args.timeout_minutes else None)
    return {"action": "run_local", "confirmed_by": how, "ok": all(s.status == "DONE" for s in steps),
            "steps": [{"name": s.name, "job_id": s.job_id, "status": s.status, "message": s.message} for s in steps]}


def _session_factory(service: Any) -> Callable[[], Any]:
    from ..connection import SessionFactory

    return SessionFactory(service.settings)
