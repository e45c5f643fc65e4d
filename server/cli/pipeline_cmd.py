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
from ..pipelines import SchemaFactory, deploy_pipeline, load_plans, run_pipeline
from .common import confirm, emit_json, service_from_args


def register(subparsers: Any) -> None:
    """Add the `pipeline` verb."""
    p = subparsers.add_parser(
        "pipeline",
        help="turn planned jobs into a scheduled pipeline: a Snowflake task graph or an Airflow DAG",
        description="Generate a pipeline that runs one or more planned ML jobs in order on a schedule. Each "
        "PLAN_OR_PATH is a plan JSON file (`mljobs plan SCRIPT --out plan.json`) or a script/folder planned now. "
        "--deploy/--run act on Snowflake after confirmation (--yes, or a prompt).",
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
    for item in args.plans:
        if item.endswith(".json"):
            loaded, notes = load_plans([item])
            plans += loaded
            warnings += notes
            continue
        result = service.plan(item, backend="snowflake")  # a pipeline runs on Snowflake
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
    result = generate_pipeline(
        plans, orchestrator=args.orchestrator, name=name, schedule=args.schedule, warehouse=args.warehouse,
        predecessor_sql=args.predecessor_sql, task_timeout_minutes=args.timeout_minutes,
        connection_name=args.connection_name, database=args.database, schema=args.schema, stage=args.stage,
        airflow_conn_id=args.airflow_conn_id,
    )
    if not isinstance(result, PipelineCode):
        raise UsageError(f"no pipeline code: {result.reason}")
    warnings = [*notes, *result.warnings]
    if args.out:
        args.out.write_text(result.code, encoding="utf-8")
    actions: list[dict[str, Any]] = []
    if args.deploy or args.run:
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
                   "out": str(args.out) if args.out else None, "actions": actions})
        return 0
    if not args.out:
        sys.stdout.write(result.code)
    else:
        print(f"wrote {result.orchestrator.value} pipeline {result.name} to {args.out}")
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print("next steps:\n" + "\n".join(f"  {step}" for step in result.deploy_steps), file=sys.stderr)
    for action in actions:
        print(f"{action['action']}: done ({action['confirmed_by']})", file=sys.stderr)
    return 0


def _session_factory(service: Any) -> Callable[[], Any]:
    from ..connection import SessionFactory

    return SessionFactory(service.settings)
