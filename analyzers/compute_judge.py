"""The compute pass's findings of one file: how they are reported, and the values judged once it is read.

The scan (compute.py) reports what it can judge on the spot (`.cuda()`, `import cupy`) and defers what
depends on a value bound elsewhere in the file: `.to(device)`, `device_map=dm`, `Trainer(gpus=n)`, a model
id in `from_pretrained(name)`. Those are `Pending` items, judged in `finish()` against every binding of the
file (compute_values.py reads them), so a device assigned below its use, or in another function, counts.

Reporting is the one place where confidence is capped by where the code sits: a finding under a GPU test or
inside an import guard (`Judge.conditional`, answered by the scan from the shared statement layer) is at
most `likely`; per (signal, line, cell) the strongest finding is kept.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from .compute_rules import (
    CallRule,
    ComputeRules,
    ComputeScan,
    ExternalDevice,
    GpuSignal,
    KeywordRule,
    LargeModelHint,
    MultiNodeFinding,
    MultiNodeFramework,
    _device_confidence,
    _judge_device_move,
    _large_model,
    _under,
    _weaker,
)
from .compute_values import Values, label
from .model import Confidence, Evidence, GpuFinding, Location, Problem
from .modelsize import ModelHint, is_vision_name, model_size
from .source import SourceFile


class Pending(NamedTuple):
    """A device, keyword or model value to judge once every binding of the file is known."""

    what: str  # "move" | "keyword" | "call_rule" | "instances" | "model"
    node: ast.AST  # where a finding is reported
    value: ast.expr | None  # the value to judge
    rule: Any = None  # the KeywordRule, CallRule or MultiNodeFramework that asked
    call_name: str | None = None
    method: str | None = None
    cpu_call: bool = False  # the same call also turns the GPU off (Trainer(accelerator="cpu", devices=2))


@dataclass
class _Acc:
    """Mutable accumulators of one scan."""

    gpu: dict[tuple[str, int, int], GpuFinding] = field(default_factory=dict)
    cpu: dict[tuple[str, int, int], GpuFinding] = field(default_factory=dict)
    multi: dict[tuple[str, int], MultiNodeFinding] = field(default_factory=dict)
    large: dict[tuple[str, int], LargeModelHint] = field(default_factory=dict)
    models: dict[tuple[str, int], ModelHint] = field(default_factory=dict)
    training: list[Evidence] = field(default_factory=list)
    peft: list[Evidence] = field(default_factory=list)
    memory: list[Evidence] = field(default_factory=list)
    frameworks: set[str] = field(default_factory=set)
    external: list[ExternalDevice] = field(default_factory=list)


class Judge:
    """Findings of one file and the deferred judgement; the scan subclasses it and says where nodes sit."""

    def __init__(self, src: SourceFile, rules: ComputeRules, values: Values) -> None:
        self.src = src
        self.rules = rules
        self.values = values
        self.acc = _Acc()
        self.pending: list[Pending] = []

    # ------------------------------------------------------------------ where a node sits (the scan says)

    def conditional(self, node: ast.AST) -> bool:
        """Whether `node` runs only on some machines (under a GPU test or inside an import guard)."""
        raise NotImplementedError

    def in_test(self, node: ast.AST) -> bool:
        """Whether `node` is in a test, where an availability check decides what the code does."""
        raise NotImplementedError

    # ------------------------------------------------------------------ reporting (the one place)

    def report(
        self, signal: GpuSignal, node: ast.AST, reason: str, confidence: Confidence, guarded: bool | None = None
    ) -> None:
        if self.conditional(node) if guarded is None else guarded:
            confidence = _weaker(confidence, Confidence.LIKELY)
        loc = self.src.loc(node)
        finding = GpuFinding(signal.value, loc, self.src.code(node), reason, confidence)
        target = self.acc.cpu if signal is GpuSignal.CPU_FORCED else self.acc.gpu
        key = (signal.value, loc.line, loc.cell or 0)
        old = target.get(key)
        if old is None or confidence > old.confidence:
            target[key] = finding

    def report_at(self, signal: GpuSignal, loc: Location, code: str, reason: str, confidence: Confidence) -> None:
        """A finding at a place without a node (a notebook shell line): never capped by a context."""
        finding = GpuFinding(signal.value, loc, code, reason, confidence)
        key = (signal.value, loc.line, loc.cell or 0)
        old = self.acc.gpu.get(key)
        if old is None or confidence > old.confidence:
            self.acc.gpu[key] = finding

    def report_multi(
        self, fw: MultiNodeFramework, node: ast.AST, confidence: Confidence, instances: int | None = None
    ) -> None:
        loc = self.src.loc(node)
        key = (fw.name, loc.line)
        old = self.acc.multi.get(key)
        if old is not None:
            instances = max(filter(None, (instances, old.instances)), default=None)
            if old.confidence > confidence:
                confidence = old.confidence
        code = self.src.code(node)
        self.acc.multi[key] = MultiNodeFinding(fw.name, loc, code, fw.reason, confidence, instances)

    def evidence(self, node: ast.AST, reason: str) -> Evidence:
        return Evidence(self.src.loc(node), self.src.code(node), reason)

    def model_hint(self, name: str, node: ast.AST, location: Location | None = None, code: str | None = None) -> None:
        loc = location or self.src.loc(node)
        code = code if code is not None else self.src.code(node)
        size = _large_model(name, self.rules)
        if size is not False:
            self.acc.large.setdefault((name, loc.line), LargeModelHint(name, size, loc, code))
        known = model_size(name, self.rules.model_sizes)
        if known is not None:
            millions, kind = known
            if millions is None and size not in (False, None):
                millions = float(size) * 1000
            self.acc.models.setdefault((name, loc.line), ModelHint(name, millions, kind, loc, code))

    def result(self, problems: tuple[Problem, ...]) -> ComputeScan:
        def ordered(findings: Iterable[Any]) -> tuple[Any, ...]:
            return tuple(sorted(findings, key=lambda f: f.location.sort_key()))

        acc = self.acc
        return ComputeScan(
            path=self.src.path,
            module=self.src.module,
            gpu=ordered(acc.gpu.values()),
            cpu=ordered(acc.cpu.values()),
            multi_node=ordered(acc.multi.values()),
            large_models=ordered(acc.large.values()),
            models=ordered(acc.models.values()),
            training=tuple(acc.training),
            peft=tuple(acc.peft),
            memory=tuple(acc.memory),
            frameworks=tuple(sorted(acc.frameworks)),
            device_names=self.values.exports(),
            external_devices=tuple(acc.external),
            problems=problems,
        )

    # ------------------------------------------------------------------ deferred judgement

    def finish(self) -> bool:
        """Judge every pending value now that all bindings of the file are known.

        Returns False when some value was bound through a chain too deep to follow (that value is skipped).
        """
        judges = {
            "move": self._judge_move,
            "keyword": self._judge_keyword,
            "call_rule": self._judge_call_rule,
            "instances": self._judge_instances,
            "model": self._judge_model,
        }
        complete = True
        for item in self.pending:
            try:
                judges[item.what](item)
            except RecursionError:
                complete = False
        self.pending.clear()
        return complete

    def _judge_move(self, item: Pending) -> None:
        assert item.value is not None  # noqa: S101, sanity check
        kinds = self.values.device_kinds(item.value)
        variable = isinstance(item.value, (ast.Name, ast.Attribute))
        judged = _judge_device_move(kinds, label(item.value), variable)
        if judged is not None:
            self.report(judged[0], item.node, judged[1], judged[2])
        elif not kinds:
            func = item.value.func if isinstance(item.value, ast.Call) else item.value
            qualname = self.values.names.qualname(func, allow_builtins=False)
            if qualname is not None:  # maybe a device defined in another file of the project
                call = "()" if isinstance(item.value, ast.Call) else ""
                loc = self.src.loc(item.node)
                self.acc.external.append(
                    ExternalDevice(qualname + call, loc, self.src.code(item.node), self.conditional(item.node))
                )

    def _judge_call_rule(self, item: Pending) -> None:
        rule: CallRule = item.rule
        assert item.value is not None  # noqa: S101, sanity check
        if rule.values:
            values = self.values.literal_values(item.value)
            if values & rule.values:
                confidence = rule.confidence if values <= rule.values else Confidence.LIKELY
                self.report(rule.signal, item.node, rule.reason, confidence)
            return
        device_confidence = _device_confidence(self.values.device_kinds(item.value))
        if device_confidence is None or device_confidence is Confidence.GUESS:
            return
        confidence = _weaker(device_confidence, rule.confidence)
        if rule.signal is GpuSignal.CUDA_CHECK and self.in_test(item.node):
            confidence = Confidence.LIKELY  # the availability check decides what the code does
        self.report(rule.signal, item.node, rule.reason, confidence)

    def _judge_keyword(self, item: Pending) -> None:
        rule: KeywordRule = item.rule
        assert item.value is not None  # noqa: S101, sanity check
        neutral = call_matches(rule.cpu_neutral_calls, item.call_name, item.method)
        where = f"{rule.keyword}={label(item.value)}"
        if rule.device_value:
            kinds = self.values.device_kinds(item.value)
            confidence = _device_confidence(kinds)
            if confidence is not None and confidence is not Confidence.GUESS:
                conf = _weaker(confidence, rule.confidence)
                self.report(rule.signal, item.node, f"{rule.reason} ({where})", conf)
            elif kinds == {"cpu"} and not neutral:
                reason = f"runs on the CPU ({where})"
                self.report(GpuSignal.CPU_FORCED, item.node, reason, Confidence.CERTAIN)
            return
        values = self.values.literal_values(item.value)
        can_gpu = bool(rule.gpu_values or rule.gpu_any or rule.gpu_positive_int or rule.gpu_names)
        can_gpu = can_gpu and not (item.cpu_call and rule.confidence is not Confidence.CERTAIN)
        gpu = {v for v in values if _gpu_value(rule, v)} if can_gpu else set()
        cpu = {v for v in values if v in rule.cpu_values}
        if can_gpu and ("cond" in values or (gpu and len(gpu) < len(values))):
            reason = f"{rule.reason} when a GPU is present ({where})"
            self.report(rule.signal, item.node, reason, _weaker(Confidence.LIKELY, rule.confidence))
        elif gpu:
            self.report(rule.signal, item.node, f"{rule.reason} ({where})", rule.confidence)
        elif cpu and cpu == values and not neutral:
            reason = f"turns the GPU off ({where})"
            self.report(GpuSignal.CPU_FORCED, item.node, reason, Confidence.CERTAIN)
        elif values == {"?"} and rule.gpu_any and can_gpu:
            reason = f"{rule.reason} ({where}, set at run time)"
            self.report(rule.signal, item.node, reason, Confidence.GUESS)

    def _judge_instances(self, item: Pending) -> None:
        fw: MultiNodeFramework = item.rule
        call = item.node
        assert isinstance(call, ast.Call)  # noqa: S101, sanity check
        best = None
        candidates = [kw.value for kw in call.keywords if kw.arg in fw.instance_keywords]
        candidates += [call.args[i] for i in fw.instance_positions if i < len(call.args)]
        for value in candidates:
            for lit in self.values.literal_values(value):
                if isinstance(lit, tuple) and lit[0] == "num" and isinstance(lit[1], int) and lit[1] > 0:
                    best = max(best or 0, lit[1])
        if best is not None:
            self.report_multi(fw, call, Confidence.CERTAIN, best)

    def _judge_model(self, item: Pending) -> None:
        assert item.value is not None  # noqa: S101, sanity check
        names = self.values.strings(item.value)
        if not names and isinstance(item.value, ast.Name) and not self.values.bound(item.value.id) \
                and is_vision_name(item.value.id, self.rules.model_sizes):
            names = {item.value.id}  # `vision_learner(dls, resnet18)`: an architecture function, by name
        for name in names:
            self.model_hint(name, item.node)


def _gpu_value(rule: KeywordRule, value: Any) -> bool:
    """Whether one literal value of a keyword asks for a GPU under `rule`."""
    if not isinstance(value, tuple) or value in rule.cpu_values:
        return False
    kind, raw = value
    if kind == "none" or value == ("bool", False):
        return False  # the library default, never a GPU request
    if value in rule.gpu_values:
        return True
    if kind == "name":
        return raw in rule.gpu_names
    if rule.gpu_any:
        return True
    if rule.gpu_positive_int:
        if kind == "num":
            return raw != 0
        if kind == "seq":
            return raw > 0
        if kind == "str":
            return raw.strip() not in ("", "0", "none")
    return False


def call_matches(prefixes: Sequence[str], call_name: str | None, method: str | None) -> bool:
    """A call matches when its qualified name starts with a prefix or its method/function name is one."""
    if not prefixes:
        return False
    if call_name is not None and _under(call_name, prefixes):
        return True
    if method is not None and method in prefixes:
        return True
    return call_name is not None and call_name.rsplit(".", 1)[-1] in prefixes
