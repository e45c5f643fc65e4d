"""Builders for Analysis and AccountFacts values, straight from the model types (no analyzer run)."""

from __future__ import annotations

from mljobs.analyzers.model import (
    Analysis,
    ComputeTarget,
    ComputeVerdict,
    Confidence,
    DeclaredRequirement,
    Evidence,
    GpuFinding,
    IoFinding,
    IoKind,
    IoReport,
    Location,
    MethodRecommendation,
    MultiNodeHint,
    NetworkCategory,
    NetworkNeed,
    PackageFinding,
    PackageStatus,
    SubmitMethod,
)
from mljobs.skill.facts import AccountFacts, ComputePool, ExternalAccessIntegration, Grants, NetworkRuleInfo, Stage

LOC = Location("train.py", 1)
EV = Evidence(LOC, "code", "reason")


def io(*, output_args=(), hardcoded=(), sets_return=False, entry_call: str | None = "main",
       entry_returns: bool | None = True) -> IoReport:
    return IoReport(
        output_args=tuple(IoFinding(IoKind.OUTPUT_ARG, LOC, "add_argument", flag, Confidence.CERTAIN)
                          for flag in output_args),
        hardcoded_outputs=tuple(IoFinding(IoKind.HARDCODED_OUTPUT, LOC, "save", path, Confidence.CERTAIN)
                                for path in hardcoded),
        local_inputs=(),
        sets_return=sets_return,
        return_evidence=(),
        uses_snowpark=False,
        snowpark_evidence=(),
        entrypoint_call=IoFinding(IoKind.ENTRYPOINT_CALL, LOC, "main()", entry_call, Confidence.CERTAIN,
                                  returns_value=entry_returns)
        if entry_call else None,
    )


def package(dist: str, status: PackageStatus = PackageStatus.TO_INSTALL, optional: bool = False,
            requirement: str | None = None) -> PackageFinding:
    return PackageFinding(dist, dist, status, optional, (EV,), "curated", Confidence.CERTAIN, requirement)


def verdict(gpu: bool = False, confidence: Confidence = Confidence.CERTAIN, multi_node: int | None = None,
            evidence: bool | None = None) -> ComputeVerdict:
    findings = (GpuFinding("cuda_call", LOC, "x.cuda()", "moves to GPU", confidence),) if (
        evidence if evidence is not None else gpu) else ()
    hint = MultiNodeHint("ray", multi_node, (EV,)) if multi_node else None
    return ComputeVerdict(ComputeTarget.GPU if gpu else ComputeTarget.CPU, confidence, "because", findings, hint)


def analysis(root: str = "/proj", entrypoint: str = "train.py", *, gpu: bool = False, packages=(),
             network=(), io_report: IoReport | None = None, method=SubmitMethod.SUBMIT_FILE, local_modules=(),
             requirements_file: str | None = None, declared=(), data_files=(), compute: ComputeVerdict | None = None
             ) -> Analysis:
    return Analysis(
        root=root, entrypoint=entrypoint, files=(entrypoint,), compute=compute or verdict(gpu),
        packages=tuple(packages), local_modules=tuple(local_modules), network=tuple(network),
        io=io_report or io(), method=MethodRecommendation(method, "one file, no local imports"),
        declared=tuple(DeclaredRequirement(_req_name(d), d, Location(requirements_file or "requirements.txt", i + 1))
                       for i, d in enumerate(declared)), requirements_file=requirements_file,
        data_files=tuple(data_files), runtime="2.10-cpu-py3.11",
    )


def need(category: NetworkCategory, *hosts: str) -> NetworkNeed:
    return NetworkNeed(category, hosts, (EV,), Confidence.CERTAIN)


PYPI_RULE = NetworkRuleInfo("SNOWFLAKE.EXTERNAL_ACCESS.PYPI_RULE", None, source="builtin")


def facts(*, pools=None, eais=(), grants: Grants | None = None, stages=(), backend="snowflake", **kw) -> AccountFacts:
    if pools is None:
        pools = (ComputePool("CPU_POOL", "IDLE", "CPU_X64_S", idle_nodes=1, max_nodes=3),
                 ComputePool("GPU_POOL", "IDLE", "GPU_NV_S", idle_nodes=1, max_nodes=4))
    kw.setdefault("database", "ML")
    kw.setdefault("schema", "PUBLIC")
    kw.setdefault("role", "DS")
    return AccountFacts(backend=backend, pools=tuple(pools), eais=tuple(eais), grants=grants or Grants(),
                        stages=tuple(Stage(s) for s in stages), **kw)


def pypi_eai(name: str = "PYPI_EAI") -> ExternalAccessIntegration:
    return ExternalAccessIntegration(name, True, (PYPI_RULE,))


def _req_name(line: str) -> str:
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    return canonicalize_name(Requirement(line).name)
