"""The one GPU/CPU verdict for a whole program, from the per-file compute scans (and config files).

How the evidence weighs: *work* signals put real work on a GPU (`certain` as written, `likely` only when a
GPU is present); *hint* signals only show the author thought about GPUs; `cpu_forced` findings turn the GPU
off and outweigh everything except unconditional GPU use. The model a program trains decides whether
"uses a GPU when present" means GPU (modelsize.py); inference that only moves to a GPU when one is present,
with nothing large, stays on the CPU.
"""

from __future__ import annotations

from collections.abc import Sequence

from .compute_rules import (
    HINT_SIGNALS,
    INFERRED_SIGNALS,
    ComputeRules,
    ComputeScan,
    GpuSignal,
    LargeModelHint,
    _judge_device_move,
    _weaker,
)
from .model import ComputeTarget, ComputeVerdict, Confidence, Evidence, GpuFinding, MultiNodeHint
from .modelsize import small_models_only, training_findings

def decide_compute(scans: Sequence[ComputeScan], rules: ComputeRules) -> ComputeVerdict:
    """Recommend GPU or CPU for the whole program from the per-file scans, with the deciding evidence.

    Returns a GPU verdict (certain) when some code uses a GPU as written; GPU (likely) when the code does
    real GPU work only when a GPU is present ("runs on CPU too"), unless it turns the GPU off explicitly;
    CPU (guess) when it only checks for a GPU; CPU otherwise. `multi_node` is set when code is written for
    several nodes; `needs_large_memory` for large-model full fine-tuning, large models on CPU and huge arrays.
    """
    gpu = [f for s in scans for f in s.gpu]
    cpu = [f for s in scans for f in s.cpu]
    for finding in _cross_file_devices(scans):
        (cpu if finding.signal == GpuSignal.CPU_FORCED.value else gpu).append(finding)
    training = [e for s in scans for e in s.training]
    peft = [e for s in scans for e in s.peft]
    quantized = any(f.signal == GpuSignal.QUANTIZATION.value for f in gpu)
    # A model id only matters when the code runs the model itself (not when it names one for a remote API).
    local = any(s.frameworks for s in scans)
    larges = list({h.name: h for s in scans for h in reversed(s.large_models)}.values()) if local else []
    gpu.extend(_large_model_findings(larges, training, rules))
    models = list({h.name: h for s in scans for h in reversed(s.models)}.values()) if local else []
    large_names = {h.name for h in larges}
    gpu.extend(f for f in training_findings([h for h in models if h.name not in large_names], training,
                                            rules.model_sizes))
    small = small_models_only(models, rules.model_sizes)

    def strength(f: GpuFinding) -> tuple[int, int, int]:
        signal = GpuSignal(f.signal)
        work = 0 if signal in HINT_SIGNALS else 1
        return (work, f.confidence.rank, 0 if signal in INFERRED_SIGNALS else 1)

    gpu.sort(key=lambda f: (tuple(-x for x in strength(f)), f.location.sort_key()))
    cpu.sort(key=lambda f: (-f.confidence.rank, f.location.sort_key()))
    work = [f for f in gpu if GpuSignal(f.signal) not in HINT_SIGNALS]
    if work and small is not None and all(GpuSignal(f.signal) in INFERRED_SIGNALS for f in work):
        # Only "uses a GPU when present" (Trainer, Lightning) and every model is small: a CPU trains it.
        reason = (f"CPU: the code {_cite(work[0])}, but the model it trains, {small.name!r} (about "
                  f"{small.millions:g}M parameters), is small enough for a CPU.")
        return _with_extras(ComputeVerdict(ComputeTarget.CPU, Confidence.LIKELY, reason, tuple(gpu)), scans,
                            larges, training, peft, quantized, rules)
    if work and not training and not larges and not cpu and all(
        f.confidence is not Confidence.CERTAIN and GpuSignal(f.signal) in _CONDITIONAL_MOVES for f in work
    ):
        # "cuda if available" and nothing trains or runs a large model: inference a CPU does fine.
        reason = (f"CPU: the code {_cite(work[0])} only when a GPU is present, and it neither trains a model "
                  "nor runs a large one, so a CPU is enough (a GPU would only make it faster).")
        return _with_extras(ComputeVerdict(ComputeTarget.CPU, Confidence.LIKELY, reason, tuple(gpu)), scans,
                            larges, training, peft, quantized, rules)
    explicit_certain = [
        f for f in work if f.confidence is Confidence.CERTAIN and GpuSignal(f.signal) not in INFERRED_SIGNALS
    ]
    top = work[0] if work else None

    if explicit_certain or (top is not None and top.confidence is Confidence.CERTAIN and not cpu):
        top = explicit_certain[0] if explicit_certain else top
        assert top is not None  # noqa: S101 - the branch condition guarantees one
        conflict = bool(cpu) and cpu[0].confidence is Confidence.CERTAIN
        confidence = Confidence.LIKELY if conflict else Confidence.CERTAIN
        reason = f"GPU: the code {_cite(top)}."
        if cpu:
            where = cpu[0].location.render()
            reason += f" It also turns the GPU off at {where}; check which path the job takes."
        verdict = ComputeVerdict(ComputeTarget.GPU, confidence, reason, (*work, *_rest(gpu, work), *cpu))
    elif top is not None and top.confidence is not Confidence.GUESS and not cpu:
        reason = (
            f"GPU: the code {_cite(top)}. It falls back to the CPU when no GPU is present, so it runs on CPU "
            "too, only slower."
        )
        verdict = ComputeVerdict(ComputeTarget.GPU, Confidence.LIKELY, reason, (*work, *_rest(gpu, work)))
    elif cpu:
        also = f", although it {_cite(top)}" if top is not None else ""
        reason = f"CPU: the code {_cite(cpu[0])}{also}."
        confidence = Confidence.CERTAIN if not work else Confidence.LIKELY
        verdict = ComputeVerdict(ComputeTarget.CPU, confidence, reason, (*cpu, *gpu))
    elif top is not None:
        reason = (
            f"CPU: the code {_cite(top)}; nothing else uses a GPU, so the code runs on the CPU unless it is "
            "started with a GPU device."
        )
        verdict = ComputeVerdict(ComputeTarget.CPU, Confidence.GUESS, reason, tuple(gpu))
    elif gpu:
        reason = f"CPU: the code only {_cite(gpu[0])}, and does no GPU work, so it runs on the CPU."
        verdict = ComputeVerdict(ComputeTarget.CPU, Confidence.GUESS, reason, tuple(gpu))
    else:
        uses_dl = any(s.frameworks for s in scans)
        reason = "CPU: no GPU code found (no CUDA calls, GPU libraries, GPU options or large models)."
        confidence = Confidence.LIKELY if uses_dl else Confidence.CERTAIN
        verdict = ComputeVerdict(ComputeTarget.CPU, confidence, reason, ())

    return _with_extras(verdict, scans, larges, training, peft, quantized, rules)


#: Signals of code that moves work to a GPU when one is present (`.to(device)` with a conditional device).
_CONDITIONAL_MOVES = frozenset({GpuSignal.DEVICE_MOVE, GpuSignal.CUDA_CALL})


def _with_extras(
    verdict: ComputeVerdict,
    scans: Sequence[ComputeScan],
    larges: Sequence[LargeModelHint],
    training: Sequence[Evidence],
    peft: Sequence[Evidence],
    quantized: bool,
    rules: ComputeRules,
) -> ComputeVerdict:
    """The verdict with the multi-node hint and the large-memory flag."""
    memory = _needs_large_memory(verdict.recommendation, larges, training, peft, quantized, rules)
    memory = memory or any(s.memory for s in scans)
    return ComputeVerdict(
        verdict.recommendation,
        verdict.confidence,
        verdict.reason,
        verdict.evidence,
        _multi_node_hint(scans, rules),
        memory,
    )


def _cross_file_devices(scans: Sequence[ComputeScan]) -> list[GpuFinding]:
    """Judge `.to(DEVICE)` where DEVICE comes from another analysed module (`from config import DEVICE`)."""
    exports = {s.module: dict(s.device_names) for s in scans if s.module and s.device_names}
    if not exports:
        return []
    out = []
    for scan in scans:
        for use in scan.external_devices:
            module, _, name = use.qualname.lstrip(".").rpartition(".")
            kinds = next(
                (names[name] for mod, names in exports.items()
                 if name in names and (mod == module or mod.endswith("." + module))),
                None,
            )
            if kinds is None:
                continue
            judged = _judge_device_move(frozenset(kinds), use.qualname.lstrip("."), True)
            if judged is not None:
                signal, reason, confidence = judged
                confidence = _weaker(confidence, Confidence.LIKELY) if use.guarded else confidence
                out.append(GpuFinding(signal.value, use.location, use.evidence, reason, confidence))
    return out


def _rest(all_findings: Sequence[GpuFinding], first: Sequence[GpuFinding]) -> list[GpuFinding]:
    seen = {id(f) for f in first}
    return [f for f in all_findings if id(f) not in seen]


def _cite(f: GpuFinding) -> str:
    return f"{f.reason}, at {f.location.render()}: `{f.evidence}`"


def _size_text(billions: float | None) -> str:
    if billions is None:
        return "a large model"
    return f"a ~{billions:g}B-parameter model"


def _large_model_findings(
    larges: Sequence[LargeModelHint], training: Sequence[Evidence], rules: ComputeRules
) -> list[GpuFinding]:
    out = []
    for hint in larges:
        size = _size_text(hint.billions)
        if training:
            confidence = Confidence.CERTAIN if hint.billions is not None else Confidence.LIKELY
            reason = f"fine-tunes {hint.name!r}, {size}, which needs a GPU (on CPU it would take days)"
        else:
            confidence = Confidence.LIKELY
            reason = f"runs {hint.name!r}, {size}, which is very slow on a CPU"
        out.append(GpuFinding(GpuSignal.LARGE_MODEL.value, hint.location, hint.evidence, reason, confidence))
    return out


def _needs_large_memory(
    target: ComputeTarget,
    larges: Sequence[LargeModelHint],
    training: Sequence[Evidence],
    peft: Sequence[Evidence],
    quantized: bool,
    rules: ComputeRules,
) -> bool:
    big = [h for h in larges if h.billions is not None and h.billions >= rules.large_memory_billions]
    if not big or quantized:
        return False
    full_fine_tune = bool(training) and not peft
    return full_fine_tune or target is ComputeTarget.CPU


def _multi_node_hint(scans: Sequence[ComputeScan], rules: ComputeRules) -> MultiNodeHint | None:
    findings = [f for s in scans for f in s.multi_node]
    if not findings:
        return None
    order = {fw.name: i for i, fw in enumerate(rules.frameworks)}
    findings.sort(
        key=lambda f: (order.get(f.framework, len(order)), -f.confidence.rank, f.location.sort_key())
    )
    counts = [f.instances for f in findings if f.instances]
    instances = max([rules.default_instances, *counts])
    instances = min(instances, rules.max_instances)
    evidence = tuple(Evidence(f.location, f.evidence, f"{f.framework}: {f.reason}") for f in findings)
    return MultiNodeHint(findings[0].framework, instances, evidence)
