"""`mljobs submit`, `status`, `wait`, `logs`, `result`, `cancel`, `jobs`, `delete`, `diagnose`, `demo`."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from mljobs.analyzers.report import render_text
from mljobs.skill.plan import confirmation_summary

from ..backends.base import JobStatus
from ..errors import NotConfirmedError, UsageError
from ..jsonable import to_jsonable
from ..service import Service
from ..waiting import WaitProgress, poll_intervals
from .common import add_backend_options, add_plan_options, choices_from_args, confirm, emit_json, service_from_args
from .plan_cmd import render_coverage, render_plan

EXIT_FOR_STATUS = {JobStatus.DONE: 0}
EXIT_TIMEOUT = 5


def register(sub: argparse._SubParsersAction) -> None:
    submit = sub.add_parser("submit", help="plan and submit a job (after confirmation)")
    add_plan_options(submit)
    submit.add_argument("--yes", action="store_true", help="confirm without asking")
    submit.add_argument("--json", action="store_true", help="print JSON")
    submit.set_defaults(func=run_submit)

    def job_parser(name: str, help_text: str, func: Any) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text)
        p.add_argument("job_id", metavar="JOB", help="job id, as printed by `mljobs submit` or `mljobs jobs`")
        add_backend_options(p)
        p.set_defaults(func=func)
        return p

    status = job_parser("status", "a job's status, log tail and (when finished) result", run_status)
    status.add_argument("--json", action="store_true", help="print JSON")

    wait = job_parser("wait", "wait for a job to finish; the exit code is the outcome", run_wait)
    wait.add_argument("--timeout", type=float, metavar="S", help="give up after S seconds (exit 5)")
    wait.add_argument("--json", action="store_true", help="print JSON")

    logs = job_parser("logs", "a job's logs", run_logs)
    logs.add_argument("--instance", type=int, metavar="N", help="instance (node) of a multi-node job")
    logs.add_argument("--limit", type=int, default=-1, metavar="LINES", help="last LINES lines only")
    logs.add_argument("--verbose", action="store_true", help="include setup output (pip install) before the job starts")
    logs.add_argument("--follow", action="store_true", help="keep printing new lines until the job finishes")

    result = job_parser("result", "a finished job's return value", run_result)
    result.add_argument("--json", action="store_true", help="print JSON")

    cancel = job_parser("cancel", "cancel a running job (after confirmation)", run_cancel)
    cancel.add_argument("--yes", action="store_true", help="confirm without asking")

    delete = job_parser("delete", "delete a job and its payload (after confirmation)", run_delete)
    delete.add_argument("--yes", action="store_true", help="confirm without asking")

    diagnose = job_parser("diagnose", "explain a failed job and propose the fix", run_diagnose)
    diagnose.add_argument("--json", action="store_true", help="print JSON")

    jobs = sub.add_parser("jobs", help="list the jobs mljobs submitted, with live status")
    jobs.add_argument("--limit", type=int, default=50)
    jobs.add_argument("--json", action="store_true", help="print JSON")
    add_backend_options(jobs)
    jobs.set_defaults(func=run_jobs)

    demo = sub.add_parser("demo", help="the guided conversion of a script, end to end, narrated")
    add_plan_options(demo)
    demo.add_argument("--accept", action="store_true",
                      help="auto-accept the confirmation checkpoint (you are saying yes in advance)")
    demo.add_argument("--timeout", type=float, default=600, metavar="S", help="how long to follow the job")
    demo.set_defaults(func=run_demo)


# ------------------------------------------------------------------------------------------ submit


def _summary(result: Any) -> str:
    return "\n".join("  " + line for line in confirmation_summary(result))


def _planned(service: Service, args: argparse.Namespace) -> Any:
    result = service.plan(args.path, args.entrypoint, choices=choices_from_args(args))
    if result.plan is None:
        raise UsageError(f"no plan: {result.reason}" + "".join(f"; {e}" for e in result.errors))
    if not result.ready:
        errors = [i for i in result.preflight if i.severity.value == "error"]
        detail = "; ".join(f"{i.message} (fix: {i.fix})" for i in errors)
        raise UsageError(f"the plan would fail: {detail}")
    return result


def run_submit(args: argparse.Namespace) -> int:
    service = service_from_args(args)
    result = _planned(service, args)
    plan = result.plan
    if not args.json:
        print("Submitting with these settings:\n" + _summary(result), file=sys.stderr)
    method = confirm("Submit this job?", assume_yes=args.yes)
    submission = service.submit(plan, service.confirm("submit", plan.plan_hash(), method=method))
    if args.json:
        emit_json({"job_id": submission.job_id, "status": submission.status, "backend": submission.backend,
                   "plan_hash": submission.plan_hash})
    else:
        print(submission.job_id)
    return 0


# ------------------------------------------------------------------------------------------ follow


def run_status(args: argparse.Namespace) -> int:
    view = service_from_args(args).status(args.job_id)
    if args.json:
        emit_json(view)
        return 0
    print(f"{view.job_id}  {view.status.value}  ({view.backend}{', ' + view.compute_pool if view.compute_pool else ''})")
    if view.message:
        print(f"message: {view.message}")
    if view.log_tail:
        print("--- log tail ---\n" + view.log_tail)
    if view.result is not None:
        print("--- result ---\n" + _render_result(view.result))
    return 0


def _render_result(result: Any) -> str:
    if not result.success:
        return f"failed: {result.error}" + (f"\n{result.traceback}" if result.traceback else "")
    text = json.dumps(to_jsonable(result.value), indent=2, sort_keys=True)
    if result.artifacts:
        text += "\nartifacts:\n" + "\n".join(f"  {a}" for a in result.artifacts)
    return text


def _progress_printer() -> Any:
    last: list[str] = [""]

    def show(progress: WaitProgress) -> None:
        line = f"[{progress.elapsed:6.1f}s] {progress.status.value} (check {progress.polls})"
        if progress.status.value != last[0] or sys.stderr.isatty():
            print(line, file=sys.stderr)
            last[0] = progress.status.value

    return show


def _exit_code(status: JobStatus) -> int:
    return EXIT_FOR_STATUS.get(status, 1)


def run_wait(args: argparse.Namespace) -> int:
    outcome = service_from_args(args).wait(args.job_id, timeout=args.timeout, on_progress=_progress_printer())
    if args.json:
        emit_json(outcome)
    else:
        print(outcome.status.value + (" (timed out waiting)" if outcome.timed_out else ""))
    return EXIT_TIMEOUT if outcome.timed_out else _exit_code(outcome.status)


def run_logs(args: argparse.Namespace) -> int:
    service = service_from_args(args)
    if not args.follow:
        sys.stdout.write(service.logs(args.job_id, instance_id=args.instance, limit=args.limit, verbose=args.verbose))
        return 0
    shown = 0
    for pause in poll_intervals(maximum=5.0):
        text = service.logs(args.job_id, instance_id=args.instance, verbose=args.verbose)
        if len(text) > shown:
            sys.stdout.write(text[shown:])
            sys.stdout.flush()
            shown = len(text)
        if service.refresh_status(args.job_id).terminal:
            return 0
        time.sleep(pause)
    return 0


def run_result(args: argparse.Namespace) -> int:
    result = service_from_args(args).result(args.job_id)
    if args.json:
        emit_json(result)
    else:
        print(_render_result(result))
    return 0 if result.success else 1


def run_jobs(args: argparse.Namespace) -> int:
    views = service_from_args(args).jobs(limit=args.limit)
    if args.json:
        emit_json(views)
        return 0
    if not views:
        print("No jobs yet. `mljobs submit PATH` starts one.")
        return 0
    for v in views:
        created = time.strftime("%Y-%m-%d %H:%M", time.localtime(v.created_at)) if v.created_at else "?"
        print(f"{v.job_id:<48} {v.status.value:<11} {v.backend:<9} {created}")
    return 0


def run_cancel(args: argparse.Namespace) -> int:
    service = service_from_args(args)
    method = confirm(f"Cancel {args.job_id}?", assume_yes=args.yes)
    status = service.cancel(args.job_id, service.confirm("cancel", args.job_id, method=method))
    print(status.value)
    return 0


def run_delete(args: argparse.Namespace) -> int:
    service = service_from_args(args)
    method = confirm(f"Delete {args.job_id} and its payload?", assume_yes=args.yes)
    service.delete(args.job_id, service.confirm("delete", args.job_id, method=method))
    print(f"deleted {args.job_id}")
    return 0


def run_diagnose(args: argparse.Namespace) -> int:
    diagnosis = service_from_args(args).diagnose(args.job_id, caller="cli")
    if args.json:
        emit_json(diagnosis)
        return 0
    print(f"Status: {diagnosis.status}")
    print(f"Cause:  {diagnosis.cause}")
    print(f"Fix:    {diagnosis.fix}")
    for change in diagnosis.changes:
        print(f"  plan change: {change.op} {change.field} = {change.value!r}  ({change.reason})")
    if diagnosis.admin_sql:
        print("  for an admin:")
        for sql in diagnosis.admin_sql:
            print(f"    {sql}")
    for line in diagnosis.evidence:
        print(f"  evidence: {line}")
    if diagnosis.next_step:
        print(f"Next:   {diagnosis.next_step}")
    return 0


# ------------------------------------------------------------------------------------------ demo


def _step(number: int, title: str) -> None:
    print(f"\n=== Step {number}: {title} " + "=" * max(0, 60 - len(title)))


def run_demo(args: argparse.Namespace) -> int:
    """Narrate the whole guided conversion: analysis, pools, access, plan, confirmation, run, result."""
    service = service_from_args(args)
    backend = service.default_backend_name() if not args.backend else args.backend
    print(f"mljobs guided conversion of {args.path} on the {backend} backend")

    _step(1, "Understand the script")
    analysis = service.analyze(args.path, args.entrypoint)
    print(render_text(analysis))

    _step(2, "Plan: compute pool, dependencies, external access, method")
    result = service.plan(args.path, args.entrypoint, choices=choices_from_args(args), backend=backend)
    print(render_plan(result))
    if result.plan is None or not result.ready:
        print("\nThe plan is not ready; stopping before anything is submitted.")
        return 1
    if result.coverage is not None and result.coverage.hosts:
        print("\n" + render_coverage(result.coverage))

    _step(3, "Confirmation checkpoint")
    plan = result.plan
    print("I'll submit the job with these settings:\n" + _summary(result))
    if not args.accept:
        raise NotConfirmedError("not confirmed: rerun with --accept to say yes in advance; nothing was submitted")
    print("Confirmed in advance with --accept.")
    confirmation = service.confirm("submit", plan.plan_hash(), method="auto_accept")

    _step(4, "Submit")
    submission = service.submit(plan, confirmation)
    print(f"Job {submission.job_id} submitted ({submission.status.value}).")

    _step(5, "Follow")
    outcome = service.wait(submission.job_id, timeout=args.timeout, on_progress=_progress_printer())
    print(f"Final status: {outcome.status.value} after {outcome.elapsed:.1f}s and {outcome.polls} status checks")

    _step(6, "Logs")
    print(service.logs(submission.job_id).rstrip() or "(no output)")

    _step(7, "Result")
    if outcome.status is JobStatus.DONE:
        print(_render_result(service.result(submission.job_id)))
    else:
        diagnosis = service.diagnose(submission.job_id)
        print(f"Cause: {diagnosis.cause}\nFix:   {diagnosis.fix}")
    print(f"\nNext: `mljobs status {submission.job_id}`, `mljobs delete {submission.job_id} --yes` to clean up.")
    return EXIT_TIMEOUT if outcome.timed_out else _exit_code(outcome.status)
