"""Domain values (the analyzers', the skill's and the service's dataclasses) -> the MCP output models.

Every answer carries each fact once: admin SQL lives in one `admin_sql` list and the preflight fixes point at it;
a failed job's traceback lives in `error` (final exception, the user's frame, the traceback once), never also in a
log tail; needs_confirmation names decisions without repeating the preflight list.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Sequence
from typing import Any

from mljobs.skill.diagnosis import Diagnosis
from mljobs.skill.facts import AccountFacts
from mljobs.skill.cost import CostEstimate
from mljobs.skill.jobplan import JobPlan
from mljobs.skill.payload import Payload
from mljobs.skill.plan import confirmation_summary
from mljobs.skill.redact import redact

from ..backends.base import JobResult, JobStatus
from ..cleanup import CleanupPlan
from ..doctor import CheckStatus, DoctorReport
from ..service import JobView
from . import models as m

EVIDENCE_PER_FINDING = 3
TRACEBACK_CHARS = 4000
#: Frames that belong to the runtime, not to the user's code (the launcher, runpy, installed libraries).
_RUNTIME_FRAME = re.compile(r"site-packages|dist-packages|mljob_launcher|/runpy\.py|<frozen |/lib/python3\.\d+/")
_FRAME = re.compile(r'^\s*File "(?P<path>[^"]+)", line (?P<line>\d+), in (?P<func>.+)$')
_EXCEPTION = re.compile(r"^(?P<type>[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning)|[A-Z]\w+Error)\b(?P<rest>.*)$")

# ------------------------------------------------------------------------------------------------ pools, EAIs


def ranking_out(ranking: Any, backend: str, next_step: str) -> m.PoolRankingOut:
    chosen = ranking.chosen.name if ranking.chosen else None
    return m.PoolRankingOut(
        backend=backend,
        needs=ranking.needs.why or ("GPU" if ranking.needs.wants_gpu else "CPU"),
        chosen=chosen,
        reason=ranking.reason,
        pools=[
            m.PoolOut(
                name=c.name,
                instance_family=c.instance_family,
                shape=c.shape(),
                state=c.state,
                idle_nodes=c.idle_nodes,
                active_nodes=c.active_nodes,
                max_nodes=c.max_nodes,
                base_score=c.base_score,
                score=c.score,
                usable=c.usable,
                chosen=c.name == chosen,
                credits_per_hour=c.credits_per_hour,
                assumed=c.assumed,
                reasons=list(c.reasons),
            )
            for c in ranking.candidates
        ],
        notes=list(ranking.notes),
        next_step=next_step,
    )


def coverage_out(cov: Any, facts: AccountFacts, next_step: str) -> m.CoverageOut:
    """Hosts with the same categories, status and reason form one entry; each evidence line is listed once."""
    shown: set[tuple[str, int, int | None]] = set()
    groups: dict[tuple[tuple[str, ...], str, str], m.HostCoverageOut] = {}
    for h in cov.hosts:
        key = (tuple(h.categories), h.status.value, h.reason)
        group = groups.get(key)
        if group is None:
            group = groups[key] = m.HostCoverageOut(
                hosts=[], categories=list(h.categories), status=h.status.value, reason=h.reason
            )
        group.hosts.append(h.address)
        group.matches += [m.HostMatchOut(eai=x.eai, rule=x.rule, value=x.value) for x in h.matches[:3]]
        for e in h.evidence:
            where = (e.location.path, e.location.line, e.location.cell)
            if where not in shown and len(group.evidence) < EVIDENCE_PER_FINDING:
                shown.add(where)
                group.evidence.append(m.EvidenceOut.from_evidence(e))
    return m.CoverageOut(
        backend=facts.backend,
        complete=cov.complete,
        suggested_eais=list(cov.suggested_eais),
        available_eais=[e.name for e in facts.eais if e.enabled],
        hosts=list(groups.values()),
        admin_sql=list(cov.admin_sql),
        alternatives=list(cov.alternatives),
        notes=list(cov.notes),
        next_step=next_step,
    )


def coverage_text(cov: Any) -> str:
    counts: dict[str, int] = {}
    for h in cov.hosts:
        counts[h.status.value] = counts.get(h.status.value, 0) + 1
    lines = [f"{len(cov.hosts)} host(s): " + ", ".join(f"{n} {s}" for s, n in counts.items()) + " (see `hosts`)"]
    if not cov.hosts:
        lines = ["no outbound access needed"]
    lines.append("Suggested EAIs: " + (", ".join(cov.suggested_eais) or "none"))
    if cov.admin_sql:
        lines.append(f"{len(cov.admin_sql)} admin SQL statements in `admin_sql` (for an admin; never run by mljobs)")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------ plan


def plan_out(result: Any, facts: AccountFacts, plan_hash: str | None) -> tuple[m.PlanOut, str, str | None]:
    """(the answer, its text, the generated code) for a PlanResult. The code travels in the answer once."""
    admin_sql = list(result.coverage.admin_sql) if result.coverage is not None else []
    if result.plan is None:
        errors = [redact(e) for e in result.errors] or [redact(result.reason or "no plan is possible")]
        out = m.PlanOut(
            plan_hash=None,
            ready=False,
            reason=f"no plan is possible ({len(errors)} error(s) in `errors`)",
            errors=errors,
            explanations=[redact(e) for e in result.explanations],
            ranking=_ranking_brief(result.ranking, unless_in=errors),
            admin_sql=admin_sql,
            next_step="fix the reason above (change the choices) and call plan_job again",
        )
        return out, f"No plan: {'; '.join(errors)}", None
    plan: JobPlan = result.plan
    assert plan_hash is not None
    code = code_note = None
    if result.code is not None and hasattr(result.code, "code"):
        code = result.code.code
        code_note = "; ".join(result.code.warnings) or None
    elif result.code is not None:
        code_note = result.code.reason
    edit = result.script_edit
    diff = edit.diff if edit is not None and edit.changed else None
    preflight = [_preflight_out(i, admin_sql) for i in result.preflight]
    notebook = result.notebook_script
    errors = [p.code for p in preflight if p.severity == "error"]  # the details are in `preflight`, once
    out = m.PlanOut(
        plan_hash=plan_hash,
        ready=result.ready,
        reason=None if result.ready else f"preflight found {len(errors)} error(s); `preflight` has each with its fix",
        errors=errors,
        settings=plan.to_dict(redacted=True),
        summary=confirmation_summary(result),
        needs_confirmation=needs_confirmation(result),
        preflight=preflight,
        ranking=_ranking_brief(result.ranking),
        coverage=coverage_out(result.coverage, facts, "") if result.coverage is not None else None,
        admin_sql=admin_sql,
        code=code,
        code_uri=f"mljobs://plans/{plan_hash}/code" if code else None,
        code_note=code_note,
        script_diff=diff,
        explanations=[redact(e) for e in result.explanations],
        cost=cost_out(result.cost),
        dependencies=_dependencies(result.dependencies),
        payload=payload_out(result.payload),
        notebook_script=redact(notebook.script) if notebook is not None else None,
        notebook_notes=[redact(n) for n in notebook.notes] if notebook is not None else [],
        next_step=(
            "show `summary` and `needs_confirmation` to the user and STOP; when they agree, call "
            f"submit_job(plan_hash='{plan_hash}')"
            if result.ready
            else "fix the preflight errors (change the choices, or have an admin run `admin_sql`) and plan again"
        ),
    )
    lines = [
        "Plan " + plan_hash[:12] + (" (ready)" if result.ready else f" (NOT ready: {out.reason})"),
        *(f"  {s}" for s in out.summary),
    ]
    if diff:
        lines.append("A script edit is proposed in `script_diff` (not applied).")
    if code:
        lines.append(f"Generated code: `code` (also at {out.code_uri}).")
    return out, "\n".join(lines), code


def cost_out(cost: CostEstimate | None) -> m.CostOut | None:
    if cost is None:
        return None
    return m.CostOut(
        backend=cost.backend, family=cost.family, nodes=cost.nodes, credits_per_node_hour=cost.credits_per_node_hour,
        credits_per_hour=cost.credits_per_hour, cold_start=cost.cold_start, start_reason=cost.start_reason,
        local_seconds=cost.local_seconds,
    )


def _dependencies(deps: Any) -> dict[str, Any] | None:
    """The server's DepCheck (see PlanResult.dependencies) in its own dict form, or None when not run."""
    return deps.to_dict() if deps is not None and hasattr(deps, "to_dict") else None


def payload_out(payload: Payload | None) -> m.PayloadOut | None:
    """What uploads: the first files (the count and size cover all), launcher entrypoint and args verbatim."""
    if payload is None:
        return None
    return m.PayloadOut(
        file_count=len(payload.files),
        total_size=payload.total_size,
        files=[
            m.PayloadFileOut(path=f.path, size=f.size, origin="generated" if f.origin == "generated" else "file")
            for f in payload.files[: m.PAYLOAD_FILES_SHOWN]
        ],
        entrypoint=payload.entrypoint,
        args=[redact(a) for a in payload.args],
        excluded=[f"{path}: {reason}" for path, reason in payload.excluded[: m.PAYLOAD_FILES_SHOWN]],
        warnings=list(payload.warnings),
        wrapper=payload.wrapper,
    )


def _preflight_out(issue: Any, admin_sql: list[str]) -> m.PreflightOut:
    fix = redact(issue.fix)
    joined = "; ".join(admin_sql)
    if joined and joined in fix:
        fix = fix.replace(joined, "the statements in `admin_sql`")
    return m.PreflightOut(severity=issue.severity.value, code=issue.code, message=redact(issue.message), fix=fix)


def _ranking_brief(ranking: Any, unless_in: Sequence[str] = ()) -> m.PoolChoiceOut | None:
    """The chosen pool and the usable alternatives, enough to confirm the choice without rank_pools; left out
    when it would only repeat an error that already quotes its reason."""
    if ranking is None or any(ranking.reason in e for e in unless_in):
        return None
    return m.PoolChoiceOut(
        chosen=ranking.chosen.name if ranking.chosen else None,
        reason=ranking.reason,
        alternatives=[
            f"{c.name} ({c.instance_family}, score {c.score:g})"
            for c in ranking.candidates
            if c.usable and (ranking.chosen is None or c.name != ranking.chosen.name)
        ][:5],
    )


def needs_confirmation(result: Any) -> list[str]:
    """The decisions the user makes or accepts, each once (preflight details stay in `preflight`)."""
    plan: JobPlan = result.plan
    out: list[str] = []
    if result.ranking is not None and result.ranking.chosen is not None:
        out.append(f"Compute pool {plan.compute_pool}: accept, or name another (`ranking` lists the alternatives)")
    if plan.pip_requirements:
        out.append(
            "Packages to install: "
            + ", ".join(redact(r) for r in plan.pip_requirements)
            + " (needs PyPI access); add or pin versions?"
        )
    coverage = result.coverage
    if coverage is not None and coverage.hosts:
        missing = [h.address for h in coverage.hosts if h.status.value != "covered"]
        out.append(
            "External access: "
            + (", ".join(plan.external_access_integrations) or "none")
            + (
                f"; NOT proven for {', '.join(missing)} (an admin runs `admin_sql`, or accept that these calls fail)"
                if missing
                else "; every host is covered"
            )
        )
    if result.script_edit is not None and result.script_edit.changed:
        out.append("Proposed script edit (script_diff): apply it yourself, or leave the script as it is")
    if plan.target_instances > 1:
        out.append(f"{plan.target_instances} nodes: the code is written for multi-node; confirm the node count")
    errors = sum(1 for i in result.preflight if i.severity.value == "error")
    warnings = len(result.preflight) - errors
    if errors or warnings:
        out.append(f"Preflight: {errors} error(s), {warnings} warning(s) in `preflight`")
    out.append("Submit this exact plan? (the MANDATORY confirmation; nothing runs before the user says yes)")
    return out


# ------------------------------------------------------------------------------------------------ jobs


def error_out(result: JobResult | None, logs: str | None) -> m.JobErrorOut | None:
    """A failed job's error: the final exception, the user's innermost frame, and the traceback (once)."""
    if result is not None and result.success:
        return None
    tb = redact(result.traceback) if result is not None and result.traceback else _traceback_in(logs or "")
    # The traceback's (or the log's) last exception line says more than the exception's repr: FileNotFoundError
    # names the file there.
    exception = (
        _last_exception(tb or "")
        or _last_exception(redact(logs or ""))
        or (redact(result.error) if result is not None and result.error else None)
    )
    if exception is None and tb is None:
        return None
    frame = code = None
    if tb:
        frame, code = _user_frame(tb)
    return m.JobErrorOut(
        exception=exception or "unknown error (no exception in the logs)",
        user_frame=frame,
        code=code,
        traceback=tb[-TRACEBACK_CHARS:] if tb else None,
    )


def _traceback_in(logs: str) -> str | None:
    start = logs.rfind("Traceback (most recent call last):")
    if start < 0:
        return None
    lines = logs[start:].splitlines()
    end = next((i for i, line in enumerate(lines[1:], 1) if _EXCEPTION.match(line)), len(lines) - 1)
    return "\n".join(lines[: end + 1])


def _last_exception(text: str) -> str | None:
    for line in reversed(text.splitlines()):
        if _EXCEPTION.match(line.strip()):
            return line.strip()
    return None


def _user_frame(tb: str) -> tuple[str | None, str | None]:
    """`path:line in func` of the innermost frame outside the runtime, and its code line."""
    lines = tb.splitlines()
    found: tuple[str | None, str | None] = (None, None)
    for i, line in enumerate(lines):
        match = _FRAME.match(line)
        if match and not _RUNTIME_FRAME.search(match["path"]):
            code = lines[i + 1].strip() if i + 1 < len(lines) and not _FRAME.match(lines[i + 1]) else None
            found = (f"{match['path']}:{match['line']} in {match['func']}", code or None)
    return found


def result_out(result: JobResult | None) -> m.ResultOut | None:
    """The value of a finished job (its error goes to `error_out`)."""
    if result is None:
        return None
    value, value_repr = result.value, None
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        value, value_repr = None, redact(repr(result.value))[:TRACEBACK_CHARS]
    named = json.dumps(value) if value is not None else (value_repr or "")
    artifacts = [a for a in result.artifacts if a not in named]  # a path the value already names is said once
    return m.ResultOut(success=result.success, value=value, value_repr=value_repr, artifacts=artifacts)


def status_next(status: JobStatus, job_id: str) -> str:
    if not status.terminal:
        return f"call wait_for_job(job_id='{job_id}') to follow it"
    if status is JobStatus.DONE:
        return "the result is in `result`; job_logs shows the output; delete_job cleans up when the user is done"
    if status in (JobStatus.FAILED, JobStatus.INTERNAL_ERROR):
        return f"the error is in `error`; call diagnose_job(job_id='{job_id}') for the cause and the fix"
    return "nothing more to follow"


def job_out(view: JobView, *, next_step: str | None = None) -> m.JobStatusOut:
    """The one job view: status enum, times, result or error; the log tail only while there is no error.
    `next_step` overrides the status' own next step; "" leaves it out (in lists)."""
    error = error_out(view.result, view.log_tail) if view.status in (JobStatus.FAILED, JobStatus.INTERNAL_ERROR) \
        else None
    return m.JobStatusOut(
        job_id=view.job_id,
        backend=view.backend,
        status=view.status,
        terminal=view.status.terminal,
        name=view.name,
        compute_pool=view.compute_pool,
        created_at=view.created_at,
        finished_at=view.finished_at,
        message=redact(view.message) if view.message else None,
        log_tail=None if error is not None else view.log_tail,
        result=result_out(view.result) if view.result is not None and view.result.success else None,
        error=error,
        history=[f"{s} at {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(at))}" for s, at in view.history],
        next_step=(next_step or None) if next_step is not None else status_next(view.status, view.job_id),
    )


def job_text(out: m.JobStatusOut) -> str:
    text = f"{out.job_id}: {out.status.value}"
    if out.result is not None:
        text += f"\nresult: {json.dumps(out.result.value) if out.result.value is not None else out.result.value_repr}"
    if out.error is not None:
        text += f"\nerror: {out.error.exception}" + (f" at {out.error.user_frame}" if out.error.user_frame else "")
    if out.log_tail:
        text += f"\n({len(out.log_tail.splitlines())} log lines in `log_tail`)"
    return text


def diagnosis_out(job_id: str, d: Diagnosis) -> m.DiagnosisOut:
    return m.DiagnosisOut(
        job_id=job_id,
        status=d.status,
        matched=d.matched,
        cause=redact(d.cause),
        fix=redact(d.fix),
        changes=[
            m.PlanChangeOut(field=c.field, op=c.op, value=_jsonable(c.value), reason=redact(c.reason))
            for c in d.changes
        ],
        evidence=list(dict.fromkeys(d.evidence)),
        admin_sql=list(d.admin_sql),
        next_step=redact(d.next_step) or (
            "apply the changes with plan_job (same path plus the changed choices), confirm with the user, submit again"
            if d.changes
            else "follow `fix`"
        ),
    )


def _jsonable(value: Any) -> Any:
    try:
        json.dumps(value)
        return value
    except (TypeError, ValueError):
        return redact(repr(value))


# ------------------------------------------------------------------------------------------------ account upkeep


def doctor_out(report: DoctorReport) -> m.DoctorOut:
    """Each check once; fixes only on checks that are not ok (the CLI's render groups the same fixes by who)."""
    return m.DoctorOut(
        role=report.role,
        ok=report.ok,
        checks=[
            m.DoctorCheckOut(
                code=c.code,
                title=c.title,
                status=c.status.value,
                detail=redact(c.detail),
                fixes=[
                    m.FixOut(who=f.who.value, sql=list(f.sql), note=f.note or None)
                    for f in c.fixes
                    if c.status is not CheckStatus.OK
                ],
            )
            for c in report.checks
        ],
        notes=[redact(n) for n in report.notes],
        next_step=(
            "the account is ready; plan_job with backend='snowflake'"
            if report.ok
            else "show the failing checks to the user; `user` fixes they run themselves, `admin` fixes go to an "
            "admin (mljobs never runs them); then call doctor again"
        ),
    )


def doctor_text(out: m.DoctorOut) -> str:
    counts: dict[str, int] = {}
    for c in out.checks:
        counts[c.status] = counts.get(c.status, 0) + 1
    failing = [c.code for c in out.checks if c.status in ("error", "warning")]
    return (
        f"doctor (role {out.role or 'unknown'}): " + ", ".join(f"{n} {s}" for s, n in counts.items())
        + (f"; not ok: {', '.join(failing)} (fixes in `checks`)" if failing else "")
    )


def cleanup_out(found: CleanupPlan, *, removed: Sequence[str] = (), done: bool = False,
                confirmation: m.ConfirmationOut | None = None, next_step: str) -> m.CleanupOut:
    return m.CleanupOut(
        stage=found.stage,
        orphans=[m.OrphanOut(folder=o.folder, files=o.files, size=o.size) for o in found.orphans],
        live_folders=found.live_folders,
        removed=list(removed),
        done=done,
        confirmation=confirmation,
        next_step=next_step,
    )
