"""A diagnosis' fix as the next step: once as MCP tool calls, once as `mljobs` commands.

The same plan changes read differently to an assistant (which calls `plan_job(...)`, then `submit_job` after
the user confirmed) and to a person at a terminal (`mljobs submit PATH --eai NAME`). Both are built here
from the changes; `Diagnosis.for_caller` picks one, so an MCP client never sees a shell command.
"""

from __future__ import annotations

import json
import shlex
from typing import Any

from .diagnosis_model import Diagnosis, PlanChange
from .jobplan import JobPlan

_SETUP_FIELDS = {"local_eais"}


def phrase(diagnosis: Diagnosis, plan: JobPlan | None, job_id: str | None) -> tuple[str, str]:
    """(next MCP tool call, next CLI command) for `diagnosis`; "" where nothing fits."""
    job = job_id or "JOB"
    if diagnosis.matched is None and not diagnosis.changes:
        if diagnosis.status in {"PENDING", "RUNNING"}:
            return f"wait_for_job(job_id={job!r})", f"mljobs wait {shlex.quote(job)}"
        return (f"job_logs(job_id={job!r}, verbose=True)",
                f"mljobs logs {shlex.quote(job)} --verbose")
    path = plan.source if plan else "PATH"
    tool_args: dict[str, Any] = {}
    cli: list[str] = []
    setup_tool: list[str] = []
    setup_cli: list[str] = []
    for change in diagnosis.changes:
        _one(change, plan, tool_args, cli, setup_tool, setup_cli)
    local = any(c.field == "local_eais" for c in diagnosis.changes)
    admin = " after an admin ran the SQL shown" if diagnosis.admin_sql and not local else ""
    # plan_job takes path and backend, and the plan options in one `choices` object (server/plan_options.py).
    backend = tool_args.pop("backend", None)
    call_args = [f"path={path!r}", *([f"backend={_py(backend)}"] if backend else [])]
    if tool_args:
        call_args.append(f"choices={json.dumps(tool_args)}")
    plan_call = "plan_job(" + ", ".join(call_args) + ")"
    tool = "; ".join([*setup_tool, f"{plan_call}, then submit_job with the user's confirmation{admin}"])
    submit = " ".join(["mljobs submit", shlex.quote(path), *cli])
    command = " && ".join([*setup_cli, submit])
    if admin:
        command = f"{command}   # after an admin ran the SQL shown"
    if not diagnosis.changes and not diagnosis.admin_sql:
        tool = f"after the fix above (tell the user what to change): {plan_call}, then submit_job with the user's " \
               "confirmation"
        command = f"{submit}   # after the fix above"
    return tool, command


def _one(change: PlanChange, plan: JobPlan | None, tool_args: dict[str, Any], cli: list[str],
         setup_tool: list[str], setup_cli: list[str]) -> None:
    value = change.value
    match (change.field, change.op):
        case ("local_eais", "add"):
            hosts = list(value.get("hosts", ())) if isinstance(value, dict) else []
            name = value.get("name", "") if isinstance(value, dict) else str(value)
            setup_tool.append(f"add_local_eai(name={name!r}, hosts={_py(hosts)}) with the user's confirmation")
            setup_cli.append(" ".join(["mljobs local-eais add", shlex.quote(name),
                                       *(f"--host {shlex.quote(h)}" for h in hosts)]))
        case ("external_access_integrations", "add"):
            tool_args.setdefault("eais", []).append(value)
            cli.append(f"--eai {shlex.quote(str(value))}")
        case ("pip_requirements", "add"):
            tool_args.setdefault("extra_pip_requirements", []).append(value)
            cli.append(f"--pip {shlex.quote(str(value))}")
        case ("artifact_repositories", "add"):
            tool_args["use_artifact_repository"] = True
            cli.append("--artifact-repository")
        case ("compute_pool", "set"):
            tool_args["pool"] = value
            cli.append(f"--pool {shlex.quote(str(value))}")
        case ("method", "set"):
            tool_args["method"] = value
            cli.append(f"--method {shlex.quote(str(value))}")
        case ("target_instances", "set"):
            tool_args["target_instances"] = value
            cli.append(f"--nodes {int(value)}")
        case ("backend", "set"):
            tool_args["backend"] = value
            cli.append(f"--backend {shlex.quote(str(value))}")
        case ("env_vars", "set"):
            env = dict(value) if isinstance(value, dict) else {}
            tool_args["env_vars"] = env
            cli.extend(f"--env {shlex.quote(f'{k}={v}')}" for k, v in sorted(env.items()))
        case ("args", "remove"):
            drop = list(value) if isinstance(value, list) else [value]
            kept = _without(list(plan.args) if plan else [], drop)
            tool_args["args"] = kept
            cli.append(" ".join(["--", *(shlex.quote(a) for a in kept)]))
        case _:
            pass  # instance family, client Python, payload: said in the fix; no flag of their own


def _without(args: list[str], drop: list[str]) -> list[str]:
    for i in range(len(args) - len(drop) + 1):
        if args[i:i + len(drop)] == drop:
            return args[:i] + args[i + len(drop):]
    return args


def _py(value: Any) -> str:
    return json.dumps(value) if not isinstance(value, bool) else repr(value)
