"""The public JSON form of an Analysis: pydantic models built straight from the analyzers' dataclasses.

One model per concept for every consumer: `mljobs analyze --json` prints it, the MCP `analyze_script` tool returns
it (with fewer evidence lines per finding), and schemas/analysis.schema.json is generated from it
(`python -m mljobs.server.analysis_json > schemas/analysis.schema.json`; a test fails when the file differs).
Enumerations come from the analyzers' enums, so a confidence or category is spelled in one place. Strings that
may hold URLs pass through `redact`, so credentials in the user's code never reach output.
"""

from __future__ import annotations

import json
import sys
from typing import Any, Literal

from mljobs.analyzers.model import (
    Analysis,
    CliOption,
    ComputeTarget,
    Confidence,
    Evidence,
    GpuFinding,
    IoFinding,
    IoKind,
    IoReport,
    Location,
    NetworkCategory,
    PackageStatus,
    SubmitMethod,
)
from mljobs.analyzers.redact import redact
from mljobs.analyzers.removed_apis import ApiKind, RemovedApiFinding
from pydantic import BaseModel, ConfigDict, Field

#: Version of the JSON form; bump on any incompatible change.
SCHEMA_VERSION: Literal["2"] = "2"  # 2: unresolved package status, cli_options, snowflake_objects, missing_modules
SCHEMA_ID = "https://github.com/mljobs/mljobs/blob/main/schemas/analysis.schema.json"

Limit = int | None  # evidence entries kept per finding (None: all)


def _cap(items: Any, limit: Limit) -> list[Any]:
    return list(items if limit is None else items[:limit])


def compact_schema(schema: dict[str, Any], cls: Any = None) -> None:
    """Drop what repeats or says nothing: the titles pydantic derives from field and class names (the property
    and $defs keys say the same) and `"default": null` (an absent field means null). Every tools/list carries
    these schemas, so each byte is paid on every connection."""
    schema.pop("title", None)
    for prop in schema.get("properties", {}).values():
        prop.pop("title", None)
        if "default" in prop and prop["default"] is None:
            del prop["default"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=compact_schema)


class Where(_Model):
    path: str = Field(description="POSIX path relative to the analysis root.")
    line: int = Field(description="1-based line (within the cell for notebooks).")
    col: int = Field(default=0, ge=0, description="0-based column.")
    cell: int | None = Field(default=None, description="1-based notebook cell, counting every cell.")

    @staticmethod
    def of(loc: Location) -> dict[str, Any]:
        return {"path": loc.path, "line": loc.line, "col": loc.col, "cell": loc.cell}


class EvidenceOut(Where):
    """Where and why: file, line, code and reason."""

    code: str = Field(description="The code, as a one-line excerpt (credentials redacted).")
    reason: str = Field(description="Why this code is evidence.")
    signal: str | None = Field(default=None, description="Compute evidence: the GPU signal kind.")
    confidence: Confidence | None = Field(default=None)

    @classmethod
    def from_evidence(cls, e: Evidence) -> EvidenceOut:
        return cls(**Where.of(e.location), code=redact(e.code), reason=redact(e.reason))

    @classmethod
    def from_gpu(cls, f: GpuFinding) -> EvidenceOut:
        return cls(**Where.of(f.location), code=redact(f.evidence), reason=redact(f.reason), signal=f.signal,
                   confidence=f.confidence)


class MultiNodeOut(_Model):
    framework: str = Field(description="ray | snowflake_distributor | torch_distributed | ...")
    suggested_instances: int = Field(ge=1, description="Nodes the code is written for.")
    evidence: list[EvidenceOut]


class ComputeOut(_Model):
    recommendation: ComputeTarget = Field(description="The kind of node the job needs.")
    confidence: Confidence
    reason: str = Field(description="One sentence explaining the verdict.")
    evidence: list[EvidenceOut] = Field(description="Lines that decided the verdict.")
    multi_node: MultiNodeOut | None = Field(default=None, description="Distributed framework found, or null.")
    needs_large_memory: bool = Field(description="The code loads data or models that want a high-memory node.")


class PackageOut(_Model):
    import_name: str = Field(description="The module the code imports.")
    distribution: str = Field(description="PyPI distribution name.")
    status: PackageStatus = Field(description="preinstalled in the runtime image, to_install (goes to "
                                  "pip_requirements), stdlib or local.")
    optional: bool = Field(description="Only imported under an import guard: the code runs without it.")
    evidence: list[EvidenceOut] = Field(description="Where it is imported.")
    resolved_by: str = Field(description="curated | installed | declared | pip_magic | identity | extra (a library "
                                         "call imports it at run time; the evidence names the call)")
    confidence: Confidence
    requirement: str | None = Field(default=None, description="Declared specifier, e.g. xgboost>=2.0.")
    runtime_version: str | None = Field(default=None, description="Version in the runtime image when preinstalled.")
    hint: str | None = Field(default=None, description="Install note, when one is known.")
    declared_only: bool = Field(
        default=False, description="Declared in requirements but imported by no analysed file."
    )


class NetworkOut(_Model):
    category: NetworkCategory = Field(description="What the access is for.")
    hosts: list[str] = Field(description="Hosts an External Access Integration must allow.")
    evidence: list[EvidenceOut] = Field(description="The calls that need the network.")
    confidence: Confidence


class IoFindingOut(Where):
    kind: IoKind
    code: str = Field(description="The code, as a one-line excerpt (credentials redacted).")
    detail: str = Field(description="Option name, literal path or function name.")
    confidence: Confidence
    hint: str | None = Field(default=None, description="What to do about it.")
    default: str | None = Field(default=None, description="The option's literal default, when it has one.")
    exists_locally: bool | None = Field(default=None, description="For a local input: whether the file is inside the project.")
    returns_value: bool | None = Field(
        default=None, description="For the entrypoint call: whether the called function returns a value."
    )
    privilege: str | None = Field(
        default=None, description="For a Snowflake table or stage: the privilege the job's role needs."
    )

    @classmethod
    def from_finding(cls, f: IoFinding) -> IoFindingOut:
        return cls(**Where.of(f.location), kind=f.kind, code=redact(f.evidence), detail=redact(f.detail),
                   confidence=f.confidence, hint=f.hint, default=redact(f.default) if f.default is not None else None,
                   exists_locally=f.exists_locally, returns_value=f.returns_value, privilege=f.privilege)


class CliOptionOut(Where):
    """One option or positional argument the script's parser declares (argparse, click, typer)."""

    framework: str = Field(description="argparse | click | typer")
    flags: list[str] = Field(description="Its flags, e.g. ['-o', '--output-dir']; empty for a positional argument.")
    dest: str = Field(description="The attribute or parameter name.")
    code: str | None = Field(
        default=None, description="The declaration, as a one-line excerpt (left out when an I/O finding cites it)."
    )
    type: str | None = Field(default=None, description="int, float, bool, str, path, choice or the callable's name.")
    choices: list[str] | None = Field(default=None, description="Allowed values, when declared.")
    nargs: str | None = None
    default: str | None = Field(default=None, description="Literal default as text.")
    action: str | None = Field(default=None, description="store_true, count, append, ... (click: flag).")
    required: bool = False
    known: bool = Field(default=True, description="False when part of the declaration is computed at run time.")

    @classmethod
    def from_option(cls, o: CliOption, cited: set[tuple[str, int]]) -> CliOptionOut:
        said = (o.location.path, o.location.line) in cited
        return cls(**Where.of(o.location), framework=o.framework, flags=list(o.flags), dest=o.dest,
                   code=None if said else redact(o.evidence), type=o.type, choices=list(o.choices) if o.choices is not None else None,
                   nargs=o.nargs, default=redact(o.default) if o.default is not None else None, action=o.action,
                   required=o.required, known=o.known)


class IoOut(_Model):
    output_args: list[IoFindingOut] = Field(description="Options the script has for its output location (the "
                                            "job passes the result path to them).")
    hardcoded_outputs: list[IoFindingOut] = Field(description="Output paths written in the code; lost unless routed.")
    local_inputs: list[IoFindingOut] = Field(description="Local files the code reads; absent in the job unless "
                                             "shipped with it.")
    sets_return: bool = Field(description="The script assigns __return__, so the job has a result value.")
    return_evidence: list[IoFindingOut]
    uses_snowpark: bool = Field(description="The script opens a Snowpark session.")
    snowpark_evidence: list[IoFindingOut]
    entrypoint_call: IoFindingOut | None = Field(default=None, description="The `if __name__ == '__main__'` call, if any.")
    cli_options: list[CliOptionOut] = Field(default_factory=list, description="Options the script's parser declares.")
    cli_closed: bool = Field(
        default=False, description="The declarations are the whole story: an undeclared option is an error."
    )
    snowflake_objects: list[IoFindingOut] = Field(
        default_factory=list, description="Snowflake tables and stages the code reads or writes."
    )

    @classmethod
    def from_report(cls, r: IoReport, limit: Limit) -> IoOut:
        def many(items: Any) -> list[IoFindingOut]:
            return [IoFindingOut.from_finding(f) for f in _cap(items, limit)]

        findings = (*r.output_args, *r.hardcoded_outputs, *r.local_inputs, *r.return_evidence, *r.snowpark_evidence)
        cited = {(f.location.path, f.location.line) for f in findings}  # each declaration line is quoted once

        return cls(
            output_args=many(r.output_args), hardcoded_outputs=many(r.hardcoded_outputs),
            local_inputs=many(r.local_inputs), sets_return=r.sets_return, return_evidence=many(r.return_evidence),
            uses_snowpark=r.uses_snowpark, snowpark_evidence=many(r.snowpark_evidence),
            entrypoint_call=IoFindingOut.from_finding(r.entrypoint_call) if r.entrypoint_call else None,
            cli_options=[CliOptionOut.from_option(o, cited) for o in r.cli_options], cli_closed=r.cli_closed,
            snowflake_objects=many(r.snowflake_objects),
        )


class MethodOut(_Model):
    method: SubmitMethod = Field(description="Recommended submit method.")
    reason: str = Field(description="Why that method.")


class DeclaredOut(Where):
    name: str = Field(description="Canonical distribution name.")
    specifier: str = Field(description="The requirement as written, credentials redacted.")


class ProblemOut(Where):
    message: str = Field(description="Why the file could not be read or parsed (analysis went on without it).")


class RemovedApiOut(Where):
    """A use of an API that the job's library version removed, with its replacement."""

    api: str = Field(description="The API as used, e.g. datasets.load_metric or Accelerator(fp16=...).")
    kind: ApiKind
    distribution: str
    version: str | None = Field(default=None, description="Version the job gets; null: unpinned, pip installs the latest.")
    removed_in: str = Field(description="Release of the distribution that removed it.")
    replacement: str = Field(description="What to use instead.")
    code: str = Field(description="The code, as a one-line excerpt (credentials redacted).")
    confidence: Confidence
    source: str = Field(description="Where the removal is documented.")

    @classmethod
    def from_finding(cls, f: RemovedApiFinding) -> RemovedApiOut:
        return cls(**Where.of(f.location), api=f.api, kind=f.kind, distribution=f.distribution, version=f.version,
                   removed_in=f.removed_in, replacement=f.replacement, code=redact(f.evidence),
                   confidence=f.confidence, source=f.source)


class AnalysisOut(_Model):
    """What a script, notebook or project needs to run as a Snowflake ML Job, with evidence for every finding."""

    schema_version: Literal["2"] = Field(description="Changes on any incompatible change of this form.")
    root: str = Field(description="Absolute path of the project root.")
    entrypoint: str = Field(description='The file to run, relative to root ("" in all-files mode without one).')
    files: list[str] = Field(description="Files analysed, entrypoint first.")
    compute: ComputeOut
    packages: list[PackageOut] = Field(description="Third-party imports and how each is satisfied.")
    pip_requirements: list[str] = Field(description="What the job must pip-install (not in the runtime image).")
    local_modules: list[str] = Field(description="First-party modules the entrypoint imports.")
    network: list[NetworkOut] = Field(description="Outbound access the code needs.")
    io: IoOut
    method: MethodOut
    declared: list[DeclaredOut] = Field(description="Requirements declared in requirements.txt or pyproject.")
    requirements_file: str | None = Field(default=None, description="requirements.txt that travels with the code.")
    data_files: list[str] = Field(description="Local input files found inside the project tree.")
    problems: list[ProblemOut] = Field(description="Files that could not be read or parsed.")
    runtime: str = Field(description="Runtime package list used, e.g. 2.10-cpu-py3.11.")
    missing_modules: list[str] = Field(
        default_factory=list, description="Imports that look like the project's own code but have no file (each is a problem)."
    )
    removed_apis: list[RemovedApiOut] = Field(
        default_factory=list, description="Uses of APIs that the job's library versions removed, each with its fix."
    )
    evidence_limit: int | None = Field(default=None, description="Evidence entries kept per finding (null: all).")
    next_step: str | None = Field(default=None, description="What to call next (MCP answers only).")

    @classmethod
    def from_analysis(cls, a: Analysis, *, evidence_limit: Limit = None, next_step: str | None = None) -> AnalysisOut:
        """Build the form from the dataclasses; `evidence_limit` keeps the first N evidence lines per finding."""
        c = a.compute
        n = evidence_limit
        multi = c.multi_node
        to_install = [
            redact(p.requirement) if p.requirement else p.distribution
            for p in a.packages if p.status is PackageStatus.TO_INSTALL and not p.optional
        ]
        return cls(
            schema_version=SCHEMA_VERSION, root=a.root, entrypoint=a.entrypoint, files=list(a.files),
            compute=ComputeOut(
                recommendation=c.recommendation, confidence=c.confidence, reason=redact(c.reason),
                evidence=[EvidenceOut.from_gpu(f) for f in _cap(c.evidence, n)],
                multi_node=MultiNodeOut(
                    framework=multi.framework, suggested_instances=multi.suggested_instances,
                    evidence=[EvidenceOut.from_evidence(e) for e in _cap(multi.evidence, n)],
                ) if multi else None,
                needs_large_memory=c.needs_large_memory,
            ),
            packages=[
                PackageOut(
                    import_name=p.import_name, distribution=p.distribution, status=p.status, optional=p.optional,
                    evidence=[EvidenceOut.from_evidence(e) for e in _cap(p.evidence, n)], resolved_by=p.resolved_by,
                    confidence=p.confidence, requirement=redact(p.requirement) if p.requirement else None,
                    runtime_version=p.runtime_version, hint=p.hint, declared_only=p.declared_only,
                )
                for p in a.packages
            ],
            pip_requirements=list(dict.fromkeys(to_install)),
            local_modules=list(a.local_modules),
            network=[
                NetworkOut(category=x.category, hosts=list(x.hosts), confidence=x.confidence,
                           evidence=[EvidenceOut.from_evidence(e) for e in _cap(x.evidence, n)])
                for x in a.network
            ],
            io=IoOut.from_report(a.io, n),
            method=MethodOut(method=a.method.method, reason=a.method.reason),
            declared=[DeclaredOut(**Where.of(d.location), name=d.name, specifier=redact(d.specifier))
                      for d in a.declared],
            requirements_file=a.requirements_file, data_files=list(a.data_files),
            problems=[ProblemOut(**Where.of(p.location), message=redact(p.message)) for p in a.problems],
            runtime=a.runtime, missing_modules=list(a.missing_modules), removed_apis=[RemovedApiOut.from_finding(f) for f in a.removed_apis],
            evidence_limit=evidence_limit, next_step=next_step,
        )


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the form, as published in schemas/analysis.schema.json."""
    schema = AnalysisOut.model_json_schema(mode="serialization")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "mljobs static analysis",
        **schema,
    }


def schema_text() -> str:
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    sys.stdout.write(schema_text())
