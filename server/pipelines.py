"""Deploy and run a generated Snowflake task graph: side effects behind the same confirmations as a submit.

A deploy or run needs a `Confirmation` for the action (`deploy_pipeline` / `run_pipeline`) whose subject is the
pipeline code's hash, so a token or `--yes` given for one version of the code does not deploy another. The code is
the generated module itself: it is loaded (not run as a script), its `build_dag(session)` registers the job
definitions (uploading their payloads) and builds the graph, and the real `DAGOperation` creates the tasks.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mljobs.skill.jobplan import JobPlan
from mljobs.skill.pipeline import Orchestrator, PipelineCode

from .checkpoints import Confirmation
from .errors import MljobsError, NotConfirmedError, UsageError

log = logging.getLogger(__name__)

#: (session, database, schema) -> the snowflake.core SchemaResource the graph is deployed into.
SchemaFactory = Callable[[Any, str, str], Any]


@dataclass(frozen=True, slots=True)
class PipelineAction:
    """What was done to a pipeline: which tasks exist now, and under which confirmation."""

    name: str
    database: str
    schema: str
    code_hash: str
    action: str  # deploy_pipeline | run_pipeline
    confirmation: Confirmation
    tasks: tuple[str, ...] = ()
    retry_last: bool = False


def default_schema_factory(session: Any, database: str, schema: str) -> Any:
    from snowflake.core import Root

    return Root(session).databases[database].schemas[schema]


def _check(pipeline: PipelineCode, confirmation: Confirmation, action: str) -> tuple[str, str]:
    if pipeline.orchestrator is not Orchestrator.SNOWFLAKE:
        raise UsageError("only a Snowflake task graph can be deployed from here; copy an Airflow DAG file into the "
                         "Airflow dags/ folder instead")
    if pipeline.placeholders:
        raise UsageError("the pipeline holds placeholders for account objects (it was made from local-pool plans): "
                         + "; ".join(pipeline.placeholders) + ". Plan on your account (--backend snowflake) or "
                         "pass --database/--schema, then deploy")
    if confirmation.action != action or confirmation.subject != pipeline.code_hash:
        raise NotConfirmedError(f"the confirmation is not for {action} of this pipeline code (it changed since the "
                                "preview); confirm again")
    if not pipeline.database or not pipeline.schema:
        raise UsageError("the pipeline has no database/schema to deploy into; generate it again with them")
    return pipeline.database, pipeline.schema


def load_pipeline_module(code: str) -> dict[str, Any]:
    """Load generated pipeline code as a module namespace without running its command line."""
    namespace: dict[str, Any] = {"__name__": "mljobs_pipeline"}
    exec(compile(code, "<mljobs pipeline>", "exec"), namespace)  # noqa: S102 - mljobs' own generated, confirmed code
    return namespace


def _operation(session: Any, database: str, schema: str, schema_factory: SchemaFactory | None) -> Any:
    from snowflake.core.task.dagv1 import DAGOperation

    return DAGOperation((schema_factory or default_schema_factory)(session, database, schema))


def _mapped(what: str, exc: Exception) -> MljobsError:
    from .backends.snowflake import map_error

    return map_error(what, exc)


def deploy_pipeline(pipeline: PipelineCode, session: Any, confirmation: Confirmation, *,
                    schema_factory: SchemaFactory | None = None) -> PipelineAction:
    """Register the jobs (uploading payloads) and create or replace the task graph.

    Raises:
        NotConfirmedError: the confirmation is for another action or another version of the code.
        UsageError: an Airflow pipeline, or one without database/schema.
        MljobsError: Snowflake or the libraries refused (mapped with the reason and what to do).
    """
    database, schema = _check(pipeline, confirmation, "deploy_pipeline")
    from snowflake.core import CreateMode

    try:
        dag = load_pipeline_module(pipeline.code)["build_dag"](session)
        _operation(session, database, schema, schema_factory).deploy(dag, mode=CreateMode.or_replace)
    except MljobsError:
        raise
    except Exception as exc:  # every library/driver failure is mapped to a message that says what to do
        raise _mapped(f"deploying pipeline {pipeline.name}", exc) from exc
    tasks = (dag.name, *(t.full_name for t in dag.tasks))
    log.info("deployed pipeline %s (%d tasks) in %s.%s", pipeline.name, len(tasks), database, schema)
    return PipelineAction(pipeline.name, database, schema, pipeline.code_hash, "deploy_pipeline", confirmation,
                          tasks)


def run_pipeline(pipeline: PipelineCode, session: Any, confirmation: Confirmation, *, retry_last: bool = False,
                 schema_factory: SchemaFactory | None = None) -> PipelineAction:
    """Run the deployed graph once now (`retry_last`: rerun from the last failed task).

    Raises:
        NotConfirmedError: the confirmation is for another action or another version of the code.
        MljobsError: the graph is not deployed, or Snowflake refused.
    """
    database, schema = _check(pipeline, confirmation, "run_pipeline")
    try:
        _operation(session, database, schema, schema_factory).run(pipeline.name, retry_last=retry_last)
    except MljobsError:
        raise
    except Exception as exc:  # noqa: BLE001 - mapped below
        if type(exc).__name__ == "NotFoundError":
            raise UsageError(f"pipeline {pipeline.name} is not deployed in {database}.{schema}; deploy it first") \
                from exc
        raise _mapped(f"running pipeline {pipeline.name}", exc) from exc
    return PipelineAction(pipeline.name, database, schema, pipeline.code_hash, "run_pipeline", confirmation,
                          retry_last=retry_last)


@dataclass(frozen=True, slots=True)
class LocalStep:
    """One job of a local pipeline run: its plan's name, the job it became and how it ended."""

    name: str
    job_id: str | None
    status: str  # DONE | FAILED | ... | NOT_RUN (an earlier job failed)
    message: str | None = None


def run_local_pipeline(service: Any, plans: Sequence[JobPlan], how: str, *, timeout: float | None = None,
                       on_step: Callable[[LocalStep], None] | None = None) -> list[LocalStep]:
    """Run the pipeline's jobs in their order on the local pool, each after the previous one ended DONE.

    The first job that does not end DONE stops the run (the rest are NOT_RUN), the way a task graph stops at a
    failed task. `how` is how the user confirmed the run (one confirmation for the whole pipeline, recorded per
    job so each submit is bound to its own plan hash).

    Raises:
        UsageError: a plan is not a local-pool plan.
    """
    for plan in plans:
        if plan.backend != "local":
            raise UsageError(f"plan {plan.name} targets {plan.backend}; a local run needs local-pool plans "
                             "(plan the scripts with --backend local)")
    steps: list[LocalStep] = []
    failed = False
    for plan in plans:
        if failed:
            step = LocalStep(plan.name, None, "NOT_RUN", "an earlier job did not finish DONE")
        else:
            submission = service.submit(plan, service.confirm("submit", plan.plan_hash(), method=how))
            outcome = service.wait(submission.job_id, timeout=timeout)
            status = outcome.status.value
            failed = status != "DONE"
            message = None
            if failed:
                message = "timed out waiting; the job still runs" if outcome.timed_out else \
                    f"diagnose it: mljobs diagnose {submission.job_id}"
            step = LocalStep(plan.name, submission.job_id, status, message)
        steps.append(step)
        if on_step:
            on_step(step)
    return steps


def load_plans(paths: Sequence[str | Path]) -> tuple[list[JobPlan], list[str]]:
    """Plans from JSON files written by `mljobs plan --json/--out` (or a bare plan dict); plus warnings.

    Raises:
        UsageError: unreadable file, not JSON, no plan in it, or unknown plan fields.
    """
    plans: list[JobPlan] = []
    warnings: list[str] = []
    for path in paths:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise UsageError(f"{path}: not a readable plan JSON file ({exc})") from exc
        body = data.get("plan") if isinstance(data, dict) and "plan" in data else data
        if not isinstance(body, dict):
            raise UsageError(f"{path}: holds no plan (write one with `mljobs plan SCRIPT --out plan.json`)")
        try:
            plans.append(JobPlan.from_dict(body))
        except (TypeError, ValueError) as exc:
            raise UsageError(f"{path}: not a valid plan: {exc}") from exc
        if "***" in json.dumps(body):
            warnings.append(f"{path} is a redacted plan: credentials in it were replaced by ***; plan the script "
                            "again (PATH instead of the JSON file) to keep them out of files")
    return plans, warnings
