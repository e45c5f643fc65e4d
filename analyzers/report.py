"""Rendering of an Analysis: the public JSON form (`analysis_to_dict`, schema in
schemas/analysis.schema.json) and a short text report for people (`render_text`).

Every piece of evidence carries file, line and code. User-visible strings that may hold URLs pass
through `redact`, so credentials in the user's code never reach output.
"""

from __future__ import annotations

from typing import Any

from .model import (
    CliOption,
    Analysis,
    Evidence,
    GpuFinding,
    IoFinding,
    IoReport,
    Location,
    MultiNodeHint,
    PackageFinding,
    PackageStatus,
    Problem,
)
from .redact import redact

#: Version of the JSON form; bump on any incompatible change to `analysis_to_dict`.
SCHEMA_VERSION = "2"  # 2: unresolved package status, cli_options, snowflake_objects, missing_modules
#: Evidence lines shown per finding in the text report.
TEXT_EVIDENCE = 3


def _where(loc: Location) -> dict[str, Any]:
    return {"path": loc.path, "line": loc.line, "col": loc.col, "cell": loc.cell}


def _evidence(loc: Location, code: str, reason: str, signal: str | None = None,
              confidence: str | None = None) -> dict[str, Any]:
    return {**_where(loc), "code": redact(code), "reason": redact(reason), "signal": signal, "confidence": confidence}


def _from_evidence(e: Evidence) -> dict[str, Any]:
    return _evidence(e.location, e.code, e.reason)


def _from_gpu(f: GpuFinding) -> dict[str, Any]:
    return _evidence(f.location, f.evidence, f.reason, f.signal, f.confidence.value)


def _multi_node(m: MultiNodeHint | None) -> dict[str, Any] | None:
    if m is None:
        return None
    return {"framework": m.framework, "suggested_instances": m.suggested_instances,
            "evidence": [_from_evidence(e) for e in m.evidence]}


def _package(p: PackageFinding) -> dict[str, Any]:
    return {
        "import_name": p.import_name,
        "distribution": p.distribution,
        "status": p.status.value,
        "optional": p.optional,
        "evidence": [_from_evidence(e) for e in p.evidence],
        "resolved_by": p.resolved_by,
        "confidence": p.confidence.value,
        "requirement": redact(p.requirement) if p.requirement else None,
        "runtime_version": p.runtime_version,
        "hint": p.hint,
        "declared_only": p.declared_only,
    }


def _io_finding(f: IoFinding) -> dict[str, Any]:
    return {
        "kind": f.kind.value,
        **_where(f.location),
        "code": redact(f.evidence),
        "detail": redact(f.detail),
        "confidence": f.confidence.value,
        "hint": f.hint,
        "default": redact(f.default) if f.default is not None else None,
        "exists_locally": f.exists_locally,
        "returns_value": f.returns_value,
        "privilege": f.privilege,
    }


def _cli_option(o: CliOption) -> dict[str, Any]:
    return {
        "framework": o.framework, "flags": list(o.flags), "dest": o.dest, **_where(o.location),
        "code": redact(o.evidence), "type": o.type, "choices": list(o.choices) if o.choices is not None else None,
        "nargs": o.nargs, "default": redact(o.default) if o.default is not None else None, "action": o.action,
        "required": o.required, "known": o.known,
    }


def _io(r: IoReport) -> dict[str, Any]:
    return {
        "output_args": [_io_finding(f) for f in r.output_args],
        "hardcoded_outputs": [_io_finding(f) for f in r.hardcoded_outputs],
        "local_inputs": [_io_finding(f) for f in r.local_inputs],
        "sets_return": r.sets_return,
        "return_evidence": [_io_finding(f) for f in r.return_evidence],
        "uses_snowpark": r.uses_snowpark,
        "snowpark_evidence": [_io_finding(f) for f in r.snowpark_evidence],
        "entrypoint_call": _io_finding(r.entrypoint_call) if r.entrypoint_call else None,
        "cli_options": [_cli_option(o) for o in r.cli_options],
        "cli_closed": r.cli_closed,
        "snowflake_objects": [_io_finding(f) for f in r.snowflake_objects],
    }


def _problem(p: Problem) -> dict[str, Any]:
    return {**_where(p.location), "message": redact(p.message)}


def analysis_to_dict(a: Analysis) -> dict[str, Any]:
    """The public JSON form of an Analysis (plain dicts, lists, strings, numbers, booleans and None).

    The shape is documented and checked by schemas/analysis.schema.json; `schema_version` changes on any
    incompatible change. Evidence entries always have path, line, col, cell, code and reason (`signal`
    and `confidence` are set for compute evidence, else None).
    """
    c = a.compute
    return {
        "schema_version": SCHEMA_VERSION,
        "root": a.root,
        "entrypoint": a.entrypoint,
        "files": list(a.files),
        "compute": {
            "recommendation": c.recommendation.value,
            "confidence": c.confidence.value,
            "reason": redact(c.reason),
            "evidence": [_from_gpu(f) for f in c.evidence],
            "multi_node": _multi_node(c.multi_node),
            "needs_large_memory": c.needs_large_memory,
        },
        "packages": [_package(p) for p in a.packages],
        "local_modules": list(a.local_modules),
        "network": [
            {"category": n.category.value, "hosts": list(n.hosts),
             "evidence": [_from_evidence(e) for e in n.evidence], "confidence": n.confidence.value}
            for n in a.network
        ],
        "io": _io(a.io),
        "method": {"method": a.method.method.value, "reason": a.method.reason},
        "declared": [
            {"name": d.name, "specifier": redact(d.specifier), **_where(d.location)} for d in a.declared
        ],
        "requirements_file": a.requirements_file,
        "data_files": list(a.data_files),
        "problems": [_problem(p) for p in a.problems],
        "runtime": a.runtime,
        "missing_modules": list(a.missing_modules),
        "removed_apis": [
            {"api": f.api, "kind": f.kind.value, "distribution": f.distribution, "version": f.version,
             "removed_in": f.removed_in, "replacement": f.replacement, **_where(f.location),
             "code": redact(f.evidence), "confidence": f.confidence.value, "source": f.source}
            for f in a.removed_apis
        ],
    }


# --------------------------------------------------------------------------------------------------- text


def _line(loc: Location, code: str, reason: str = "") -> str:
    where = f"{loc.path}[{loc.cell}]:{loc.line}" if loc.cell is not None else f"{loc.path}:{loc.line}"
    text = f"    {where}: {redact(code)}"
    return text + (f" — {redact(reason)}" if reason else "")


def _more(total: int, shown: int) -> list[str]:
    return [f"    ... and {total - shown} more"] if total > shown else []


def render_text(a: Analysis) -> str:
    """A short report for people: compute with its top evidence, packages, network, IO, method, problems.

    Every evidence line reads `path:line: code — reason` (`path[cell]:line` in notebooks).
    """
    out: list[str] = [f"mljobs analysis of {a.entrypoint or '(all files)'} in {a.root}"]
    if len(a.files) > 1:
        out.append(f"  {len(a.files)} files analysed" + (f"; local modules: {', '.join(a.local_modules[:8])}"
                                                         + (" ..." if len(a.local_modules) > 8 else "")
                                                         if a.local_modules else ""))
    c = a.compute
    out += ["", f"Compute: {c.recommendation.value} ({c.confidence.value}) — {redact(c.reason)}"]
    for f in c.evidence[:TEXT_EVIDENCE]:
        out.append(_line(f.location, f.evidence, f.reason))
    out += _more(len(c.evidence), TEXT_EVIDENCE)
    if c.multi_node is not None:
        out.append(f"  multi-node: {c.multi_node.framework}, about {c.multi_node.suggested_instances} instances")
        for e in c.multi_node.evidence[:1]:
            out.append(_line(e.location, e.code, e.reason))

    to_install = [p for p in a.packages if p.status is PackageStatus.TO_INSTALL]
    preinstalled = [p for p in a.packages if p.status is PackageStatus.PREINSTALLED]
    out += ["", f"Packages (runtime {a.runtime or 'unknown'}):"]
    if to_install:
        out.append("  to install: " + ", ".join(_package_label(p) for p in to_install))
        for p in to_install:
            if p.hint:
                out.append(f"    {p.distribution}: {p.hint}")
            for e in p.evidence[:1]:
                out.append(_line(e.location, e.code))
    else:
        out.append("  nothing to install")
    unresolved = [p for p in a.packages if p.status is PackageStatus.UNRESOLVED]
    if unresolved:
        out.append("  unresolved (not installed; name the real distribution or add the file): "
                   + ", ".join(p.import_name for p in unresolved))
        for p in unresolved:
            for e in p.evidence[:1]:
                out.append(_line(e.location, e.code))
    if a.missing_modules:
        out.append("  missing local modules (never installed): " + ", ".join(a.missing_modules))
    if preinstalled:
        out.append("  preinstalled: " + ", ".join(
            f"{p.distribution}{'==' + p.runtime_version if p.runtime_version else ''}" for p in preinstalled))

    if a.removed_apis:
        out += ["", f"Removed APIs ({len(a.removed_apis)}): the job's library versions no longer have these"]
        for removed in a.removed_apis:
            out.append(_line(removed.location, removed.evidence, f"{removed.message}; use {removed.replacement}"))

    out += ["", "Network:" if a.network else "Network: no outbound access found"]
    for n in a.network:
        out.append(f"  {n.category.value}: {', '.join(n.hosts) or '(hosts unknown)'}")
        for e in n.evidence[:1]:
            out.append(_line(e.location, e.code, e.reason))

    out += ["", "IO:"] + _io_lines(a.io, a.data_files)
    out += ["", f"Method: {a.method.method.value} — {a.method.reason}"]
    if a.problems:
        out += ["", f"Problems ({len(a.problems)}):"]
        for prob in a.problems[:10]:
            out.append(f"  {prob.location.render()}: {redact(prob.message)}")
        out += _more(len(a.problems), 10)
    return "\n".join(out) + "\n"


def _package_label(p: PackageFinding) -> str:
    label = redact(p.requirement) if p.requirement else p.distribution
    flags = [flag for flag, on in (("optional", p.optional), (p.confidence.value, p.confidence.value != "certain")) if on]
    return label + (f" ({', '.join(flags)})" if flags else "")


def _io_lines(r: IoReport, data_files: tuple[str, ...]) -> list[str]:
    lines: list[str] = []
    for f in r.output_args:
        default = f" (default {redact(f.default)})" if f.default is not None else ""
        lines.append(f"  output argument {f.detail}{default}")
        lines.append(_line(f.location, f.evidence))
    for f in r.hardcoded_outputs:
        lines.append(f"  hard-coded output {redact(f.detail)}" + (f" — {f.hint}" if f.hint else ""))
        lines.append(_line(f.location, f.evidence))
    for f in r.local_inputs:
        where = "in the project" if f.exists_locally else "not in the project"
        lines.append(f"  local input {redact(f.detail)} ({where})" + (f" — {f.hint}" if f.hint else ""))
        lines.append(_line(f.location, f.evidence))
    if data_files:
        lines.append(f"  data files to upload: {', '.join(data_files)}")
    lines.append("  sets __return__" if r.sets_return else "  does not set __return__")
    if r.uses_snowpark:
        lines.append("  uses a Snowpark session")
        for f in r.snowpark_evidence[:1]:
            lines.append(_line(f.location, f.evidence))
    return lines
