"""`mljobs pools`, `eais`, `plan` and `generate`: discovery, ranking, coverage, the plan and its code."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from mljobs.skill.codegen import Generated, generate_code
from mljobs.skill.pools import PoolNeeds, rank_compute_pools

from ..errors import UsageError
from ..payload import export_payload
from ..jsonable import to_jsonable
from .common import add_backend_options, add_plan_options, choices_from_args, emit_json, service_from_args


def register(sub: argparse._SubParsersAction) -> None:
    pools = sub.add_parser("pools", help="rank the compute pools for a script (or in general)")
    pools.add_argument("path", nargs="?", help="script, folder or notebook whose needs decide the ranking")
    pools.add_argument("--entrypoint", help="the main file inside a project folder")
    pools.add_argument("--nodes", type=int, metavar="N",
                       help="target instances (default: the analysis' multi-node hint, else 1)")
    pools.add_argument("--json", action="store_true", help="print JSON")
    add_backend_options(pools)
    pools.set_defaults(func=run_pools)

    eais = sub.add_parser("eais", help="check which external access integrations cover the hosts a script needs")
    eais.add_argument("path", help="script, folder or notebook")
    eais.add_argument("--entrypoint", help="the main file inside a project folder")
    eais.add_argument("--eai", action="append", default=[], metavar="NAME", help="check only these EAIs")
    eais.add_argument("--json", action="store_true", help="print JSON")
    add_backend_options(eais)
    eais.set_defaults(func=run_eais)

    plan = sub.add_parser("plan", help="plan a job: pool, EAIs, requirements, code, script changes, preflight")
    add_plan_options(plan)
    plan.add_argument("--json", action="store_true", help="print JSON")
    plan.add_argument("--out", type=Path, help="also write the plan JSON to this file (for `mljobs pipeline`)")
    plan.add_argument("--export-payload", type=Path, metavar="DIR",
                      help="write exactly the files the job would upload into DIR (new or empty)")
    plan.set_defaults(func=run_plan)

    gen = sub.add_parser("generate", help="write the submission code for a script")
    add_plan_options(gen)
    gen.add_argument("--out", type=Path, help="write the code to this file instead of stdout")
    gen.set_defaults(func=run_generate)


def run_pools(args: argparse.Namespace) -> int:
    service = service_from_args(args)
    if args.path:
        _, ranking = service.rank_pools(args.path, args.entrypoint, target_instances=args.nodes)
    else:
        needs = PoolNeeds(target_instances=args.nodes or 1, why="no script given: CPU work assumed")
        ranking = rank_compute_pools(needs, service.facts())
    facts = service.facts()
    if args.json:
        emit_json({"backend": facts.backend, "ranking": ranking})
    else:
        print(f"Compute pools ({facts.backend}) for: {ranking.needs.why or 'CPU work'}\n")
        print(ranking.render_table())
        for note in facts.notes:
            print(f"Note: {note}")
    return 0 if ranking.chosen else 1


def run_eais(args: argparse.Namespace) -> int:
    service = service_from_args(args)
    _, coverage = service.check_eais(args.path, args.entrypoint, chosen=args.eai or None)
    if args.json:
        emit_json({"backend": service.facts().backend, "coverage": coverage})
    else:
        print(render_coverage(coverage))
    return 0 if coverage.complete else 1


def render_coverage(coverage: Any) -> str:
    if not coverage.hosts:
        return "No outbound network access needed: no external access integration required."
    lines = ["Required hosts:"]
    for host in coverage.hosts:
        who = ", ".join(host.categories)
        lines.append(f"  {host.address:<34} {host.status.value:<10} ({who})")
        for match in host.matches:
            lines.append(f"      allowed by {match.eai} via {match.rule} = {match.value!r} [{match.source}]")
        for eai, why in host.unverified:
            lines.append(f"      unverified: {eai}: {why}")
        for eai, why in host.guesses:
            lines.append(f"      guess: {eai}: {why}")
        if host.reason:
            lines.append(f"      {host.reason}")
    lines.append("")
    lines.append("Suggested EAIs: " + (", ".join(coverage.suggested_eais) or "none"))
    if coverage.admin_sql:
        lines.append("\nAn admin must run (proposed, never executed by mljobs):")
        lines.extend(f"  {sql}" for sql in coverage.admin_sql)
    lines.extend(f"Alternative: {alt}" for alt in coverage.alternatives)
    lines.extend(f"Note: {note}" for note in coverage.notes)
    return "\n".join(lines)


def plan_payload(result: Any) -> dict[str, Any]:
    """The stable JSON form of a plan result (the plan redacted, plus its hash)."""
    plan = result.plan
    code = result.code
    notebook = getattr(result, "notebook_script", None)
    return {
        "ready": result.ready,
        "reason": result.reason,
        "errors": list(result.errors),
        "plan": plan.to_dict(redacted=True) if plan else None,
        "plan_hash": plan.plan_hash() if plan else None,
        "ranking": result.ranking,
        "coverage": result.coverage,
        "preflight": result.preflight,
        "code": code.code if isinstance(code, Generated) else None,
        "code_warnings": list(code.warnings) if isinstance(code, Generated) else [],
        "script_edit": result.script_edit,
        "explanations": list(result.explanations),
        "payload": result.payload.to_dict() if result.payload is not None else None,
        "cost": result.cost,
        "dependencies": result.dependencies.to_dict() if result.dependencies is not None else None,
        "notebook_script": notebook.script if notebook is not None else None,
        "notebook_notes": list(notebook.notes) if notebook is not None else [],
    }


def render_plan(result: Any) -> str:
    """The plan as a person reads it: settings, why, what blocks it, code and script diff."""
    lines: list[str] = []
    plan = result.plan
    if plan is None:
        lines.append(f"No plan: {result.reason}")
        lines.extend(f"  - {e}" for e in result.errors)
        return "\n".join(lines)
    shown = plan.to_dict(redacted=True)
    lines.append("Job plan")
    for key in ("backend", "method", "source", "entrypoint", "compute_pool", "instance_family", "stage_name",
                "name", "database", "schema", "args", "pip_requirements", "external_access_integrations",
                "artifact_repositories", "env_vars", "target_instances", "min_instances", "runtime_environment"):
        value = shown.get(key)
        if value in (None, [], {}, ""):
            continue
        lines.append(f"  {key:<29} {value}")
    lines.append(f"  {'plan_hash':<29} {plan.plan_hash()[:16]}")
    if result.explanations:
        lines.append("\nWhy")
        lines.extend(f"  - {e}" for e in result.explanations)
    if result.preflight:
        lines.append("\nPreflight")
        for issue in result.preflight:
            lines.append(f"  [{issue.severity.value}] {issue.message}")
            if issue.fix:
                lines.append(f"      fix: {issue.fix}")
    lines += render_dependencies(result.dependencies)
    if result.cost is not None:
        lines.append("\nCost")
        lines.extend("  " + row for row in result.cost.lines())
    if result.ranking is not None:
        lines.append("\nCompute pools")
        lines.extend("  " + row for row in result.ranking.render_table().splitlines())
    if result.coverage is not None:
        lines.append("\nExternal access")
        lines.extend("  " + row for row in render_coverage(result.coverage).splitlines())
    payload = result.payload
    if payload is not None:
        lines.append(f"\nPayload ({len(payload.files)} files, {payload.total_size:,} bytes, from {payload.root})")
        lines.append(f"  launcher runs: {' '.join([payload.entrypoint, *payload.args])}")
        shown_files = payload.files[:20]
        lines.extend(f"  {f.path}" + (" (generated)" if f.origin == "generated" else "") for f in shown_files)
        if len(payload.files) > len(shown_files):
            lines.append(f"  ... and {len(payload.files) - len(shown_files)} more (--json lists them all)")
        lines.extend(f"  not uploaded: {p} ({why})" for p, why in payload.excluded)
        lines.extend(f"  warning: {w}" for w in payload.warnings)
    edit = result.script_edit
    if edit is not None and edit.diff:
        lines.append("\nMinimal script changes (not applied; shown for review)")
        lines.extend("  " + row for row in edit.diff.splitlines())
    elif edit is not None and edit.skipped:
        lines.append(f"\nScript changes: none ({edit.skipped})")
    notebook = getattr(result, "notebook_script", None)
    if notebook is not None:
        lines.append(f"\nConverted notebook (the job runs this as {plan.entrypoint})")
        lines.extend("  " + row for row in notebook.script.splitlines())
    code = result.code
    if isinstance(code, Generated):
        lines.append("\nSubmission code")
        lines.extend("  " + row for row in code.code.splitlines())
        lines.extend(f"  warning: {w}" for w in code.warnings)
    elif code is not None:
        lines.append(f"\nNo submission code: {code.reason}")
    lines.append("\n" + ("Ready to submit." if result.ready else "Not ready: fix the preflight errors above first."))
    return "\n".join(lines)


def render_dependencies(deps: Any) -> list[str]:
    """The dependency preflight as a section: what pip installs in the image, its size, what it replaces."""
    if deps is None:
        return []
    from ..depcheck import DepStatus, _human

    lines = [f"\nDependencies (pip in the runtime image {deps.image}; index: {deps.index})",
             f"  {deps.summary()}" + (" [cached]" if deps.cached else f" [{deps.seconds:.1f} s]")]
    if deps.status is DepStatus.CHECKED:
        for item in deps.install:
            why = "requested" if item.direct else "needed by " + ", ".join(item.via)
            extra = f", replaces {item.replaces}" if item.replaces else ""
            src = ", builds from source" if item.builds_from_source else ""
            spec = f"{item.name}=={item.version}"
            lines.append(f"    {spec:<36} {_human(item.size):>10}  ({why}{extra}{src})")
    for c in deps.conflicts:
        lines.append(f"  conflict: {c.message}")
        lines.append(f"      fix: {c.fix}")
    lines.extend(f"  note: {n}" for n in deps.notes)
    return lines


def run_plan(args: argparse.Namespace) -> int:
    service = service_from_args(args)
    result = service.plan(args.path, args.entrypoint, choices=choices_from_args(args))
    payload = plan_payload(result)
    if args.export_payload is not None:
        if result.payload is None:
            raise UsageError("no payload to export: " + (result.reason or "the code is already on a stage"))
        written = export_payload(result.payload, args.export_payload)
        print(f"exported {len(written)} payload files to {args.export_payload}", file=sys.stderr)
    if args.out:
        args.out.write_text(json.dumps(to_jsonable(payload), indent=2, sort_keys=True) + "\n", encoding="utf-8")
    if args.json:
        emit_json(payload)
    else:
        print(render_plan(result))
    return 0 if result.ready else 1


def run_generate(args: argparse.Namespace) -> int:
    service = service_from_args(args)
    result = service.plan(args.path, args.entrypoint, choices=choices_from_args(args))
    if result.plan is None:
        raise UsageError(f"no plan, so no code: {result.reason}")
    code = generate_code(result.plan, connection_name=args.connection_name)
    if not isinstance(code, Generated):
        raise UsageError(f"cannot generate code: {code.reason}")
    if args.out:
        args.out.write_text(code.code, encoding="utf-8")
        print(f"wrote {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(code.code)
    for warning in code.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return 0
