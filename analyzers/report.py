"""Rendering of an Analysis as a short text report for people (`render_text`).

The JSON form is built by the server from the same dataclasses (mljobs.server.analysis_json, schema in
schemas/analysis.schema.json). Every evidence line carries file, line and code. User-visible strings that may
hold URLs pass through `redact`, so credentials in the user's code never reach output.
"""

from __future__ import annotations

from .model import (
    Analysis,
    IoReport,
    Location,
    PackageFinding,
    PackageStatus,
)
from .redact import redact

#: Evidence lines shown per finding in the text report.
TEXT_EVIDENCE = 3


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
