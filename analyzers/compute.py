"""GPU or CPU, and one node or several: the per-file evidence (`scan_compute`).

The rules and scan types are in compute_rules.py, the program-wide verdict (`decide_compute`, re-exported
here) in verdict.py, model sizes in modelsize.py, command lines in commands.py, config files in configs.py.

Everything is matched on the AST with import aliases resolved (never on raw text, so comments, strings
and docstrings cannot trigger anything). The patterns come from `skill/data/gpu_patterns.yaml` through
`ComputeRules.from_data`; nothing here hard-codes a library table, only how each kind of pattern is read.

How the evidence weighs (see `decide_compute`):
- *work* signals put real work on a GPU (`.cuda()`, `.to(device)`, device_map, GPU boosters, ...);
  `certain` when the code does so as written, `likely` when it does so only when a GPU is present;
- *hint* signals (`cuda_check`, `cuda_setting`, `gpu_env`) only show the author thought about GPUs:
  a script that merely prints `torch.cuda.is_available()` stays on CPU;
- `cpu_forced` findings (`use_cpu=True`, `device="cpu"`, `CUDA_VISIBLE_DEVICES=""`) turn the GPU off and
  outweigh everything except code that uses the GPU unconditionally.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from .commands import read_command
from .compute_rules import (  # noqa: F401 - re-exported: callers import the rules and scan types from here
    HINT_SIGNALS,
    INFERRED_SIGNALS,
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
    _longest_prefix,
    _norm,
    _prefixes,
    _under,
    _weaker,
)
from .model import Confidence, Evidence, GpuFinding, Location, Problem
from .modelsize import ModelHint, is_vision_name, model_size
from .names import Names, attr_chain, literal_str
from .source import SourceFile
from .verdict import decide_compute  # noqa: F401 - re-exported: the verdict lives in verdict.py
from .visitor import FastVisitor, preorder


def scan_compute(src: SourceFile, rules: ComputeRules) -> ComputeScan:
    """Collect the GPU, CPU-forcing, multi-node and model-size evidence of one parsed file.

    Never raises on user code: a tree too deep to walk keeps the findings made so far and adds a Problem.
    """
    visitor = _ComputeVisitor(src, rules)
    problems: list[Problem] = []
    try:
        visitor.visit(src.tree)
        visitor.magics()
    except RecursionError:
        problems.append(Problem(Location(src.path, 1), "code nested too deeply; GPU analysis is incomplete"))
    if not visitor.finish():
        problems.append(Problem(Location(src.path, 1), "names bound too deeply; GPU analysis is incomplete"))
    return visitor.result(tuple(problems))


@dataclass
class _Binding:
    value: ast.expr
    guarded: bool


@dataclass
class _Pending:
    """A device or keyword value to judge once every assignment of the file is known."""

    what: str  # "move" | "keyword" | "call_rule" | "instances" | "model"
    node: ast.AST
    value: ast.expr | None
    guarded: bool
    rule: Any = None
    call_name: str | None = None
    method: str | None = None
    in_test: bool = False
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


class _NameFacts(NamedTuple):
    """What the rule tables say about one resolved name (`_ComputeVisitor._name_facts`)."""

    gpu_call: CallRule | None  # the longest-prefix GPU call rule
    frameworks: tuple[MultiNodeFramework, ...]  # multi-node frameworks under it, in prefix order
    training: bool  # under a training call
    constructor: bool  # under a model constructor
    peft: bool  # under an adapter fine-tuning call
    launcher: bool  # under a call that launches a command line


_EXIT_CALLS = frozenset({"sys.exit", "exit", "quit", "os._exit"})
_ENV_READERS = frozenset({"os.environ.get", "os.getenv", "os.environ.__getitem__"})
_ENV_WRITERS = frozenset({"os.environ.setdefault", "os.putenv"})


class _ComputeVisitor(FastVisitor):
    """One pass over one file. Context lives in explicit stacks:

    `_guards` (inside `if torch.cuda.is_available():` or `if args.cuda:`, so GPU use is conditional),
    `_optional` (inside `try: ... except ImportError`), `_functions` (to bind `return` values to a
    function name) and `_tests` (inside an if/while/assert test, where an availability check decides).
    Device variables and keyword values are judged in `finish()`, once every assignment is known.
    """

    def __init__(self, src: SourceFile, rules: ComputeRules) -> None:
        self.src = src
        self.rules = rules
        self.names: Names = src.names
        self.acc = _Acc()
        self._guards: list[bool] = [False]
        self._optional: list[bool] = [False]
        self._functions: list[str] = []
        self._tests = 0
        self._bindings: dict[str, list[_Binding]] = {}
        self._pending: list[_Pending] = []
        self._memo: dict[tuple[str, str], frozenset[Any]] = {}
        self._constructors = frozenset(rules.model_constructors)
        # Per-name answers of the rule tables: a file uses the same few names again and again.
        self._facts: dict[str, _NameFacts] = {}
        self._model_words: dict[str, bool] = {}
        words = rules.condition_words
        self._condition_words = re.compile("|".join(map(re.escape, words))) if words else None

    # ------------------------------------------------------------------ reporting (the one place)

    def _report(
        self,
        signal: GpuSignal,
        node: ast.AST,
        reason: str,
        confidence: Confidence,
        guarded: bool | None = None,
    ) -> None:
        if self._conditional() if guarded is None else guarded:
            confidence = _weaker(confidence, Confidence.LIKELY)
        loc = self.src.loc(node)
        finding = GpuFinding(signal.value, loc, self.src.code(node), reason, confidence)
        target = self.acc.cpu if signal is GpuSignal.CPU_FORCED else self.acc.gpu
        key = (signal.value, loc.line, loc.cell or 0)
        old = target.get(key)
        if old is None or confidence > old.confidence:
            target[key] = finding

    def _report_multi(
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

    def _evidence(self, node: ast.AST, reason: str) -> Evidence:
        return Evidence(self.src.loc(node), self.src.code(node), reason)

    def result(self, problems: tuple[Problem, ...]) -> ComputeScan:
        def ordered(findings: Iterable[Any]) -> tuple[Any, ...]:
            return tuple(sorted(findings, key=lambda f: f.location.sort_key()))

        return ComputeScan(
            path=self.src.path,
            module=self.src.module,
            gpu=ordered(self.acc.gpu.values()),
            cpu=ordered(self.acc.cpu.values()),
            multi_node=ordered(self.acc.multi.values()),
            large_models=ordered(self.acc.large.values()),
            models=ordered(self.acc.models.values()),
            training=tuple(self.acc.training),
            peft=tuple(self.acc.peft),
            memory=tuple(self.acc.memory),
            frameworks=tuple(sorted(self.acc.frameworks)),
            device_names=self.exports(),
            external_devices=tuple(self.acc.external),
            problems=problems,
        )

    # ------------------------------------------------------------------ context stacks

    def _conditional(self) -> bool:
        return self._guards[-1] or self._optional[-1]

    def _visit_guarded(self, nodes: Iterable[ast.AST], guarded: bool) -> None:
        self._guards.append(self._guards[-1] or guarded)
        try:
            for node in nodes:
                self.visit(node)
        finally:
            self._guards.pop()

    def _visit_test(self, test: ast.AST) -> None:
        self._tests += 1
        try:
            self.visit(test)
        finally:
            self._tests -= 1

    def visit_If(self, node: ast.If) -> None:
        self._visit_test(node.test)
        gpu_test = self._is_gpu_test(node.test)
        if gpu_test and self._requires_gpu(node):
            reason = "stops when no GPU is present"
            self._report(GpuSignal.CUDA_REQUIRED, node.test, reason, Confidence.CERTAIN)
        self._visit_guarded(node.body, gpu_test)
        self._visit_guarded(node.orelse, gpu_test)

    def visit_While(self, node: ast.While) -> None:
        self._visit_test(node.test)
        self._visit_guarded(node.body, False)
        self._visit_guarded(node.orelse, False)

    def visit_IfExp(self, node: ast.IfExp) -> None:
        self._visit_test(node.test)
        gpu_test = self._is_gpu_test(node.test)
        self._visit_guarded((node.body, node.orelse), gpu_test)

    def visit_Assert(self, node: ast.Assert) -> None:
        self._visit_test(node.test)
        if self._is_gpu_test(node.test) and not isinstance(node.test, ast.UnaryOp):
            self._report(GpuSignal.CUDA_REQUIRED, node, "asserts that a GPU is present", Confidence.CERTAIN)
        if node.msg is not None:
            self.visit(node.msg)

    def visit_Try(self, node: ast.Try) -> None:
        optional = any(_catches_import_error(h) for h in node.handlers)
        self._optional.append(self._optional[-1] or optional)
        try:
            for stmt in node.body:
                self.visit(stmt)
        finally:
            self._optional.pop()
        for part in (node.handlers, node.orelse, node.finalbody):
            for child in part:
                self.visit(child)

    visit_TryStar = visit_Try  # type: ignore[assignment]  # TryStar has exactly Try's fields

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for deco in node.decorator_list:
            self.visit(deco)
        self.visit(node.args)
        args = node.args
        positional = [*args.posonlyargs, *args.args]
        for arg, default in zip(positional[len(positional) - len(args.defaults):], args.defaults, strict=False):
            self._bind(arg.arg, default)
            if self._has_model_word(arg.arg):
                self._pending.append(_Pending("model", default, default, False))
        for arg, kw_default in zip(args.kwonlyargs, args.kw_defaults, strict=False):
            if kw_default is not None:
                self._bind(arg.arg, kw_default)
                if self._has_model_word(arg.arg):
                    self._pending.append(_Pending("model", kw_default, kw_default, False))
        if node.returns is not None:
            self.visit(node.returns)
        self._functions.append(node.name)
        try:
            for stmt in node.body:
                self.visit(stmt)
        finally:
            self._functions.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Return(self, node: ast.Return) -> None:
        if node.value is not None:
            if self._functions:
                self._bind("call:" + self._functions[-1], node.value)
            self.visit(node.value)

    # ------------------------------------------------------------------ imports

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._imported(alias.name, node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level or not node.module:
            return
        self._imported(node.module, node)
        for alias in node.names:
            if alias.name != "*":
                self._imported(f"{node.module}.{alias.name}", node, from_name=True)

    def _imported(self, module: str, node: ast.AST, from_name: bool = False) -> None:
        rules = self.rules
        if not from_name:
            top = module.split(".", 1)[0]
            if top in rules.dl_frameworks:
                self.acc.frameworks.add(top)
        rule = _longest_prefix(module, rules.gpu_modules)
        if rule is not None:
            optional = self._optional[-1]
            confidence = _weaker(rule.confidence, Confidence.LIKELY) if optional else rule.confidence
            self._report(rule.signal, node, f"imports {rule.name}: {rule.reason}", confidence)
        for fw in self._frameworks_of(_prefixes(module)):
            self._report_multi(fw, node, Confidence.LIKELY)

    # ------------------------------------------------------------------ names, attributes, calls

    def _leaf(self, node: ast.AST) -> None:
        """Leaves carry no evidence on their own; skipping their generic visit keeps big literals cheap."""

    visit_Constant = visit_Name = visit_Load = visit_Store = visit_Del = _leaf

    def visit_List(self, node: ast.List | ast.Tuple | ast.Set) -> None:
        if not all(isinstance(e, ast.Constant) for e in node.elts):
            self.generic_visit(node)

    visit_Tuple = visit_Set = visit_List

    def _frameworks_of(self, prefixes: list[str]) -> list[MultiNodeFramework]:
        index = self.rules.framework_index
        found: list[MultiNodeFramework] = []
        for prefix in prefixes:
            for fw in index.get(prefix, ()):
                if fw not in found:
                    found.append(fw)
        return found

    def visit_Attribute(self, node: ast.Attribute) -> None:
        qualname = self.names.qualname(node)
        if qualname is not None:
            self._qualified_use(qualname, node, None)
            return
        # The inner links of an unresolved chain cannot resolve either: go straight to its head,
        # iteratively, so a 2000-link chain costs no recursion.
        head = node.value
        while isinstance(head, ast.Attribute):
            head = head.value
        self.visit(head)

    def _name_facts(self, qualname: str) -> _NameFacts:
        facts = self._facts.get(qualname)
        if facts is None:
            rules = self.rules
            prefixes = _prefixes(qualname)
            facts = self._facts[qualname] = _NameFacts(
                _longest_prefix(qualname, rules.gpu_calls),
                tuple(self._frameworks_of(prefixes)),
                not rules.training_calls.isdisjoint(prefixes),
                not self._constructors.isdisjoint(prefixes),  # `_under(qualname, rules.model_constructors)`
                not rules.peft_calls.isdisjoint(prefixes),
                _under(qualname, rules.launch_calls),
            )
        return facts

    def _has_model_word(self, name: str) -> bool:
        """True when `name` (any case) contains one of the rules' model-name words."""
        known = self._model_words.get(name)
        if known is None:
            lowered = name.lower()
            known = self._model_words[name] = any(w in lowered for w in self.rules.model_name_words)
        return known

    def _qualified_use(self, qualname: str, node: ast.AST, call: ast.Call | None) -> None:
        """A resolved library name, referenced or called: GPU rules, multi-node frameworks, training."""
        rules = self.rules
        facts = self._name_facts(qualname)
        rule = facts.gpu_call
        if rule is not None:
            self._apply_call_rule(rule, node, call)
        for fw in facts.frameworks:
            self._report_multi(fw, node, Confidence.CERTAIN if call is not None else Confidence.LIKELY)
            if call is not None:
                self._pending.append(_Pending("instances", call, None, False, rule=fw))
        if call is None:
            return
        if facts.training:
            self.acc.training.append(self._evidence(call, f"trains with {qualname}"))
        if facts.constructor:
            leaf = qualname.rsplit(".", 1)[-1]
            first = literal_str(call.args[0]) if call.args else None
            if leaf not in rules.model_loaders:
                self._model_hint(first if first and leaf in {"create_model", "get_model"} else leaf, call)
        if facts.peft:
            self.acc.peft.append(self._evidence(call, f"fine-tunes adapters with {qualname}"))
        if qualname in rules.allocators:
            self._allocation(call, qualname)
        elif qualname in rules.generators:
            self._generated_data(call, qualname)
        if qualname in _ENV_READERS and call.args:
            self._env_read(literal_str(call.args[0]), call)
        elif qualname in _ENV_WRITERS and len(call.args) >= 2:
            self._env_write(literal_str(call.args[0]), call.args[1], call)
        elif qualname == "os.environ.update":
            for kw in call.keywords:
                if kw.arg:
                    self._env_write(kw.arg, kw.value, call)

    def _apply_call_rule(self, rule: CallRule, node: ast.AST, call: ast.Call | None) -> None:
        needs_arg = rule.device_arg is not None or rule.device_keyword is not None
        if not needs_arg:
            confidence = rule.confidence
            if rule.signal is GpuSignal.CUDA_CHECK and self._tests:
                # the availability check decides what the code does
                confidence = Confidence.LIKELY if confidence is Confidence.GUESS else confidence
            self._report(rule.signal, node, rule.reason, confidence)
            return
        if call is None:
            return
        arg = _argument(call, rule.device_arg, rule.device_keyword)
        if arg is None:
            if rule.device_default:
                self._report(rule.signal, call, rule.reason, rule.confidence)
            return
        pending = _Pending("call_rule", call, arg, self._conditional(), rule=rule, in_test=self._tests > 0)
        self._pending.append(pending)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        qualname = self.names.qualname(func)
        method = func.attr if isinstance(func, ast.Attribute) else None
        short = method or (func.id if isinstance(func, ast.Name) else None)
        if qualname is not None:
            self._qualified_use(qualname, node, node)
        else:
            if method is not None:
                self._method_call(method, node)
            self.visit(func)
        if short is not None and short in self.rules.model_loaders:
            for arg in (*node.args, *(kw.value for kw in node.keywords)):
                self._pending.append(_Pending("model", arg, arg, False))
        if short == "add_argument":
            self._argparse_argument(node)
        elif short == "set_defaults":
            for kw in node.keywords:
                if kw.arg:
                    self._bind("argparse:" + kw.arg, kw.value)
        cpu_call = any(self._forces_cpu(kw) for kw in node.keywords)
        for kw in node.keywords:
            if kw.arg is not None:
                self._keyword(kw.arg, kw.value, node, qualname, method or short, cpu_call)
        if qualname is not None:
            self._launcher_strings(node, qualname)
        for arg in node.args:
            self.visit(arg)
        for kw in node.keywords:
            self.visit(kw.value)

    def _method_call(self, method: str, node: ast.Call) -> None:
        rules = self.rules
        rule = rules.gpu_methods.get(method)
        scoped = rules.gpu_methods_when_imported.get(method)
        if rule is None and scoped is not None and any(self.names.imports(m) for m in scoped[1]):
            rule = scoped[0]
        if rule is not None:
            self._report(rule.signal, node, rule.reason, rule.confidence)
        elif method in rules.device_methods:
            arg = _argument(node, 0, "device")
            if arg is not None:
                self._pending.append(_Pending("move", node, arg, self._conditional()))
        if method in rules.training_methods:
            self.acc.training.append(self._evidence(node, f"trains: calls .{method}()"))
        elif any(self.names.imports(m) for m in rules.training_methods_when_imported.get(method, ())):
            self.acc.training.append(self._evidence(node, f"trains: calls .{method}()"))

    # ------------------------------------------------------------------ keywords, dicts, assignments

    def _forces_cpu(self, kw: ast.keyword) -> bool:
        rule = self.rules.keywords.get(kw.arg or "")
        if rule is None or not isinstance(kw.value, ast.Constant):
            return False
        return _norm(kw.value.value) in rule.cpu_values

    def _keyword(
        self,
        name: str,
        value: ast.expr,
        node: ast.AST,
        call_name: str | None,
        method: str | None,
        cpu_call: bool = False,
    ) -> None:
        rules = self.rules
        rule = rules.keywords.get(name)
        in_dict = call_name is None and method is None
        if (
            rule is not None
            and (not rule.calls or (not in_dict and _call_matches(rule.calls, call_name, method)))
            and not _call_matches(rule.except_calls, call_name, method)
        ):
            guarded = self._conditional()
            pending = _Pending("keyword", node, value, guarded, rule, call_name, method, cpu_call=cpu_call)
            self._pending.append(pending)
        if self._has_model_word(name):
            self._pending.append(_Pending("model", value, value, False))

    def visit_Dict(self, node: ast.Dict) -> None:
        for key, value in zip(node.keys, node.values, strict=False):
            if key is None:  # `**mapping` unpacking has no key to read
                continue
            name = literal_str(key)
            if name is not None:
                self._keyword(name, value, _span(key, value), None, None)
        self.generic_visit(node)

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            self._assigned(target, node.value, node)
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self._assigned(node.target, node.value, node)
        self.generic_visit(node)

    def _assigned(self, target: ast.expr, value: ast.expr, node: ast.AST) -> None:
        if isinstance(target, (ast.Name, ast.Attribute)):
            key = _key(target)
            if key is not None:
                self._bind(key, value)
                if self._has_model_word(key.rsplit(".", 1)[-1]):
                    self._pending.append(_Pending("model", value, value, False))
        elif isinstance(target, ast.Subscript):
            name = literal_str(target.slice)
            if name is None:
                return
            if self.names.qualname(target.value) == "os.environ":
                self._env_write(name, value, node)
            else:
                self._keyword(name, value, node, None, None)
        elif isinstance(target, (ast.Tuple, ast.List)) and isinstance(value, (ast.Tuple, ast.List)):
            if len(target.elts) == len(value.elts):
                for t, v in zip(target.elts, value.elts, strict=False):
                    self._assigned(t, v, node)

    def _bind(self, key: str, value: ast.expr) -> None:
        self._bindings.setdefault(key, []).append(_Binding(value, self._guards[-1]))

    def visit_Subscript(self, node: ast.Subscript) -> None:
        if isinstance(node.ctx, ast.Load) and self.names.qualname(node.value) == "os.environ":
            self._env_read(literal_str(node.slice), node)
        self.generic_visit(node)

    def visit_Compare(self, node: ast.Compare) -> None:
        # "LOCAL_RANK" in os.environ
        if len(node.ops) == 1 and isinstance(node.ops[0], (ast.In, ast.NotIn)):
            if self.names.qualname(node.comparators[0]) == "os.environ":
                self._env_read(literal_str(node.left), node)
        self.generic_visit(node)

    # ------------------------------------------------------------------ environment

    def _env_read(self, name: str | None, node: ast.AST) -> None:
        if not name:
            return
        for fw in self.rules.frameworks:
            if name in fw.env:
                self._report_multi(fw, node, Confidence.LIKELY)

    def _env_write(self, name: str | None, value: ast.expr, node: ast.AST) -> None:
        if not name:
            return
        text = literal_str(value)
        if text is None and isinstance(value, ast.Constant) and isinstance(value.value, int):
            text = str(value.value)
        disable = self.rules.env_gpu_disable.get(name)
        if disable is not None and text is not None and text.strip().lower() in disable:
            self._report(GpuSignal.CPU_FORCED, node, f"hides every GPU ({name}={text!r})", Confidence.CERTAIN)
        elif name in self.rules.env_gpu_select:
            self._report(GpuSignal.GPU_ENV, node, f"selects GPUs through {name}", Confidence.LIKELY)

    # ------------------------------------------------------------------ argparse, launchers, memory

    def _argparse_argument(self, node: ast.Call) -> None:
        dest = None
        dest_node = next((kw.value for kw in node.keywords if kw.arg == "dest"), None)
        if dest_node is not None:
            dest = literal_str(dest_node)
        if dest is None:
            flags = [s for s in (literal_str(a) for a in node.args) if s]
            long = next((f for f in flags if f.startswith("--")), None)
            positional = next((f for f in flags if not f.startswith("-")), None)
            chosen = long or positional or (flags[0] if flags else None)
            if chosen:
                dest = chosen.lstrip("-").replace("-", "_")
        if not dest:
            return
        default = next((kw.value for kw in node.keywords if kw.arg == "default"), None)
        action = literal_str(next((kw.value for kw in node.keywords if kw.arg == "action"), None))
        if default is None and action in ("store_true", "store_false"):
            default = ast.Constant(action == "store_false")
        if default is not None:
            self._bind("argparse:" + dest, default)
            if any(w in dest.lower() for w in self.rules.model_name_words):
                self._pending.append(_Pending("model", default, default, False))

    def _launcher_strings(self, node: ast.Call, qualname: str) -> None:
        """`subprocess.run(["torchrun", "--nnodes=2", ...])`, `os.system("accelerate launch ...")`."""
        if not self._name_facts(qualname).launcher:
            return
        words: list[str] = []
        for arg in node.args[:1]:
            parts = arg.elts if isinstance(arg, (ast.List, ast.Tuple)) else [arg]
            for part in parts:
                text = literal_str(part)
                if text is not None:
                    words.extend(text.split())
        if not words:
            return
        command = " ".join(words)
        self._command(command, node)
        for fw in self.rules.frameworks:
            if any(command == lw or command.startswith(lw + " ") for lw in fw.launchers):
                nodes = None
                for i, word in enumerate(words):
                    flag, _, inline = word.partition("=")
                    if flag in self.rules.launcher_node_flags:
                        text = inline or (words[i + 1] if i + 1 < len(words) else "")
                        if text.isdigit():
                            nodes = int(text)
                if fw.needs_node_flag and (nodes is None or nodes <= 1):
                    continue  # e.g. `torchrun --nproc_per_node=4`: several processes, one node
                self._report_multi(fw, node, Confidence.CERTAIN, nodes)

    def _command(self, text: str, node: ast.AST | None, line: int | None = None) -> None:
        """A command line the code runs (a notebook `!` line or a subprocess string): what it says about GPUs."""
        facts = read_command(text, self.rules.commands)
        if not (facts.runs_program or facts.gpu):
            return
        loc = self.src.location(line) if line is not None else self.src.loc(node) if node is not None else None
        if loc is None:
            return
        code = text.strip()[:160] if line is not None else self.src.code(node) if node is not None else text
        if facts.runs_program:
            self.acc.frameworks.add("command")  # code we cannot read runs: "no GPU found" is not certain
        for signal, reason in facts.gpu:
            self._report_at(GpuSignal(signal), loc, code, f"{reason} on its command line", Confidence.LIKELY)
        for name in facts.models:
            self._model_hint(name, node or self.src.tree, loc, code)
        if facts.trains:
            self.acc.training.append(Evidence(loc, code, "trains: runs a training command"))
            if not facts.gpu and not facts.models:
                self._report_at(GpuSignal.AUTO_DEVICE, loc, code,
                                "runs a training program whose code is not analysed (training code uses a GPU "
                                "when one is present)", Confidence.LIKELY)

    def _report_at(self, signal: GpuSignal, loc: Location, code: str, reason: str, confidence: Confidence) -> None:
        finding = GpuFinding(signal.value, loc, code, reason, confidence)
        key = (signal.value, loc.line, loc.cell or 0)
        old = self.acc.gpu.get(key)
        if old is None or confidence > old.confidence:
            self.acc.gpu[key] = finding

    def magics(self) -> None:
        for line, text in self.src.magics:
            self._command(text, None, line)

    def _allocation(self, call: ast.Call, qualname: str) -> None:
        shape = call.args[0] if call.args else None
        dims: list[int] = []
        if isinstance(shape, (ast.Tuple, ast.List)):
            dims = [d for d in (_int(e) for e in shape.elts) if d is not None]
            if len(dims) != len(shape.elts):
                return
        elif qualname.split(".")[-1] in ("rand", "randn") or qualname.startswith("torch."):
            dims = [d for d in (_int(e) for e in call.args) if d is not None]
            if len(dims) != len(call.args):
                return
        elif shape is not None and _int(shape) is not None:
            dims = [_int(shape) or 0]
        if dims and math.prod(dims) * 8 >= self.rules.large_bytes:
            size = math.prod(dims) * 8 / 1e9
            self.acc.memory.append(self._evidence(call, f"allocates about {size:.0f} GB in one array"))

    def _generated_data(self, call: ast.Call, qualname: str) -> None:
        rows = _int(_argument(call, 0, "n_samples")) or 100
        cols = _int(_argument(call, 1, "n_features")) or 2
        if rows * cols * 8 >= self.rules.large_bytes:
            size = rows * cols * 8 / 1e9
            self.acc.memory.append(self._evidence(call, f"generates about {size:.0f} GB of data"))

    # ------------------------------------------------------------------ tests

    def _is_gpu_test(self, test: ast.AST) -> bool:
        """True when an if/ternary test depends on GPU availability or a GPU flag (`if use_cuda:`)."""
        words = self._condition_words
        for node in preorder(test):  # any order will do; cheaper than ast.walk
            if isinstance(node, ast.Name):
                if words is not None and words.search(node.id.lower()):
                    return True
            elif isinstance(node, ast.Attribute):
                if words is not None and words.search(node.attr.lower()):
                    return True
                qualname = self.names.qualname(node)
                if qualname and self._name_facts(qualname).gpu_call:
                    return True
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                if self._string_kind(node.value) in ("cuda", "cpu"):
                    return True
        return False

    def _requires_gpu(self, node: ast.If) -> bool:
        """`if not torch.cuda.is_available(): raise ...` or `if cuda_ok: ... else: sys.exit(...)`."""
        negated = isinstance(node.test, ast.UnaryOp) and isinstance(node.test.op, ast.Not)
        test = node.test
        if isinstance(test, ast.Compare) and len(test.comparators) == 1:
            op, right = test.ops[0], _int(test.comparators[0])
            at_most_zero = isinstance(op, (ast.Eq, ast.LtE)) and right == 0
            negated = at_most_zero or (isinstance(op, ast.Lt) and right == 1)
        branch = node.body if negated else node.orelse
        return bool(branch) and self._stops(branch[-1])

    def _stops(self, stmt: ast.stmt) -> bool:
        if isinstance(stmt, ast.Raise):
            return True
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
            return self.names.qualname(stmt.value.func) in _EXIT_CALLS
        return False

    # ------------------------------------------------------------------ deferred judgement

    def finish(self) -> bool:
        """Judge every device and keyword value now that all assignments of the file are known.

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
        for item in self._pending:
            try:
                judges[item.what](item)
            except RecursionError:
                complete = False
        self._pending.clear()
        return complete

    def _report_deferred(
        self, item: _Pending, signal: GpuSignal, reason: str, confidence: Confidence
    ) -> None:
        self._report(signal, item.node, reason, confidence, guarded=item.guarded)

    def _judge_move(self, item: _Pending) -> None:
        assert item.value is not None  # noqa: S101, sanity check
        kinds = self._device_kinds(item.value)
        variable = isinstance(item.value, (ast.Name, ast.Attribute))
        judged = _judge_device_move(kinds, _label(item.value), variable)
        if judged is not None:
            self._report_deferred(item, *judged)
        elif not kinds:
            func = item.value.func if isinstance(item.value, ast.Call) else item.value
            qualname = self.names.qualname(func, allow_builtins=False)
            if qualname is not None:  # maybe a device defined in another file of the project
                call = "()" if isinstance(item.value, ast.Call) else ""
                loc = self.src.loc(item.node)
                self.acc.external.append(
                    ExternalDevice(qualname + call, loc, self.src.code(item.node), item.guarded)
                )

    def exports(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """Device-valued names of this file (`DEVICE`, `get_device()`) that other files may import."""
        out = []
        for key in self._bindings:
            if "." in key or "device" not in key.lower():
                continue
            try:
                kinds = self._lookup(key, "device", frozenset()) or frozenset()
            except RecursionError:
                continue
            if kinds & {"cuda", "cuda?", "cpu"}:
                name = key[5:] + "()" if key.startswith("call:") else key
                out.append((name, tuple(sorted(kinds))))
        return tuple(sorted(out))

    def _judge_call_rule(self, item: _Pending) -> None:
        rule: CallRule = item.rule
        assert item.value is not None  # noqa: S101, sanity check
        if rule.values:
            values = self._literal_values(item.value)
            if values & rule.values:
                confidence = rule.confidence if values <= rule.values else Confidence.LIKELY
                self._report_deferred(item, rule.signal, rule.reason, confidence)
            return
        device_confidence = _device_confidence(self._device_kinds(item.value))
        if device_confidence is None or device_confidence is Confidence.GUESS:
            return
        confidence = _weaker(device_confidence, rule.confidence)
        if rule.signal is GpuSignal.CUDA_CHECK and item.in_test:
            confidence = Confidence.LIKELY  # the availability check decides what the code does
        self._report_deferred(item, rule.signal, rule.reason, confidence)

    def _judge_keyword(self, item: _Pending) -> None:
        rule: KeywordRule = item.rule
        assert item.value is not None  # noqa: S101, sanity check
        neutral = _call_matches(rule.cpu_neutral_calls, item.call_name, item.method)
        where = f"{rule.keyword}={_label(item.value)}"
        if rule.device_value:
            kinds = self._device_kinds(item.value)
            confidence = _device_confidence(kinds)
            if confidence is not None and confidence is not Confidence.GUESS:
                conf = _weaker(confidence, rule.confidence)
                self._report_deferred(item, rule.signal, f"{rule.reason} ({where})", conf)
            elif kinds == {"cpu"} and not neutral:
                reason = f"runs on the CPU ({where})"
                self._report_deferred(item, GpuSignal.CPU_FORCED, reason, Confidence.CERTAIN)
            return
        values = self._literal_values(item.value)
        can_gpu = bool(rule.gpu_values or rule.gpu_any or rule.gpu_positive_int or rule.gpu_names)
        can_gpu = can_gpu and not (item.cpu_call and rule.confidence is not Confidence.CERTAIN)
        gpu = {v for v in values if self._gpu_value(rule, v)} if can_gpu else set()
        cpu = {v for v in values if v in rule.cpu_values}
        if can_gpu and ("cond" in values or (gpu and len(gpu) < len(values))):
            reason = f"{rule.reason} when a GPU is present ({where})"
            self._report_deferred(item, rule.signal, reason, _weaker(Confidence.LIKELY, rule.confidence))
        elif gpu:
            self._report_deferred(item, rule.signal, f"{rule.reason} ({where})", rule.confidence)
        elif cpu and cpu == values and not neutral:
            reason = f"turns the GPU off ({where})"
            self._report_deferred(item, GpuSignal.CPU_FORCED, reason, Confidence.CERTAIN)
        elif values == {"?"} and rule.gpu_any and can_gpu:
            reason = f"{rule.reason} ({where}, set at run time)"
            self._report_deferred(item, rule.signal, reason, Confidence.GUESS)

    def _gpu_value(self, rule: KeywordRule, value: Any) -> bool:
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

    def _judge_instances(self, item: _Pending) -> None:
        fw: MultiNodeFramework = item.rule
        call = item.node
        assert isinstance(call, ast.Call)  # noqa: S101, sanity check
        best = None
        candidates = [kw.value for kw in call.keywords if kw.arg in fw.instance_keywords]
        candidates += [call.args[i] for i in fw.instance_positions if i < len(call.args)]
        for value in candidates:
            for lit in self._literal_values(value):
                if isinstance(lit, tuple) and lit[0] == "num" and isinstance(lit[1], int) and lit[1] > 0:
                    best = max(best or 0, lit[1])
        if best is not None:
            self._report_multi(fw, call, Confidence.CERTAIN, best)

    def _judge_model(self, item: _Pending) -> None:
        assert item.value is not None  # noqa: S101, sanity check
        names = self._strings(item.value, frozenset())
        if not names and isinstance(item.value, ast.Name) and item.value.id not in self._bindings \
                and is_vision_name(item.value.id, self.rules.model_sizes):
            names = {item.value.id}  # `vision_learner(dls, resnet18)`: an architecture function, by name
        for name in names:
            self._model_hint(name, item.node)

    def _model_hint(self, name: str, node: ast.AST, location: Location | None = None, code: str | None = None) -> None:
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

    def _strings(self, node: ast.expr, seen: frozenset[str]) -> set[str]:
        """The string literals an expression can hold, as written (following simple assignments)."""
        text = literal_str(node)
        if text is not None:
            return {text}
        if isinstance(node, ast.IfExp):
            return self._strings(node.body, seen) | self._strings(node.orelse, seen)
        key = _key(node) if isinstance(node, (ast.Name, ast.Attribute)) else None
        if key is None or key in seen:
            return set()
        bindings = self._bindings.get(key)
        if bindings is None and "." in key:
            bindings = self._bindings.get("argparse:" + key.rsplit(".", 1)[-1])
        out: set[str] = set()
        for binding in bindings or ():
            out |= self._strings(binding.value, seen | {key})
        return out

    # ------------------------------------------------------------------ value resolution

    def _string_kind(self, text: str) -> str:
        low = text.strip().lower()
        if not low:
            return "other"
        if low.startswith(self.rules.cuda_prefixes):
            return "cuda"
        if low.startswith(self.rules.cpu_prefixes):
            return "cpu"
        if low == "auto":
            return "cuda?"
        return "other"

    def _lookup(self, key: str, mode: str, seen: frozenset[str]) -> frozenset[Any] | None:
        """The values bound to `key` in this file (None when unbound)."""
        bindings = self._bindings.get(key)
        if bindings is None:
            return None
        memo = self._memo.get((mode, key))
        if memo is not None:
            return memo
        if key in seen:
            return frozenset()
        seen = seen | {key}
        out: set[Any] = set()
        for binding in bindings:
            values = (self._device_kinds if mode == "device" else self._literal_values)(binding.value, seen)
            if binding.guarded and mode == "device":
                values = frozenset("cuda?" if v == "cuda" else v for v in values)
            out |= values
        result = frozenset(out)
        self._memo[(mode, key)] = result
        return result

    def _lookup_attr(self, node: ast.expr, mode: str, seen: frozenset[str]) -> frozenset[Any] | None:
        key = _key(node)
        if key is None:
            return None
        found = self._lookup(key, mode, seen)
        if found is not None or "." not in key:
            return found
        receiver, last = key.rsplit(".", 1)
        found = None
        if receiver.rsplit(".", 1)[-1] in self.rules.config_objects:
            found = self._lookup("argparse:" + last, mode, seen)
        if found is None and last == "device":
            found = self._lookup(receiver, mode, seen)
        return found

    def _device_kinds(self, node: ast.expr, seen: frozenset[str] = frozenset()) -> frozenset[str]:
        """What device an expression names: {"cuda"}, {"cuda", "cpu"} (conditional), {"runtime"}, ..."""
        rules = self.rules
        if isinstance(node, ast.Constant):
            value = node.value
            if isinstance(value, str):
                return frozenset({self._string_kind(value)})
            if isinstance(value, int) and not isinstance(value, bool):
                return frozenset({"cuda" if value >= 0 else "cpu"})
            return frozenset({"other"})
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and _int(node.operand) is not None:
            return frozenset({"cpu"})
        if isinstance(node, ast.JoinedStr):
            head = node.values[0] if node.values else None
            if isinstance(head, ast.Constant) and isinstance(head.value, str) and head.value.strip():
                return frozenset({self._string_kind(head.value)})
            return frozenset({"runtime"})
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return self._device_kinds(node.left, seen)
        if isinstance(node, ast.IfExp):
            return self._device_kinds(node.body, seen) | self._device_kinds(node.orelse, seen)
        if isinstance(node, ast.BoolOp):
            return frozenset().union(*(self._device_kinds(v, seen) for v in node.values))
        if isinstance(node, ast.Call):
            qualname = self.names.qualname(node.func)
            if qualname is not None:
                if qualname in rules.device_constructors:
                    arg = _argument(node, 0, "type") or _argument(node, 0, "device")
                    return self._device_kinds(arg, seen) if arg is not None else frozenset()
                if _under(qualname, rules.conditional_devices):
                    return frozenset({"cuda?"})
                if qualname.startswith("torch.cuda."):
                    return frozenset({"cuda"})
                return frozenset()
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
            found = self._lookup("call:" + name, "device", seen) if name else None
            return found or frozenset()
        if isinstance(node, ast.Name):
            found = self._lookup(node.id, "device", seen)
            if found is not None:
                return found
            return frozenset({"cuda?"}) if node.id in rules.index_names else frozenset()
        if isinstance(node, ast.Attribute):
            if self.names.qualname(node) is not None:
                return frozenset()  # a library constant (torch.float16) or another module's name
            found = self._lookup_attr(node, "device", seen)
            if found is not None:
                return found
            chain = attr_chain(node)
            if chain and chain[0] in rules.config_objects and len(chain) == 2:
                if chain[-1] in rules.index_names:
                    return frozenset({"cuda?"})
                if "device" in chain[-1].lower() or chain[-1].lower() in rules.condition_words:
                    return frozenset({"runtime"})
            return frozenset()
        return frozenset()

    def _literal_values(self, node: ast.expr, seen: frozenset[str] = frozenset()) -> frozenset[Any]:
        """The literal values an expression can have; "?" for unknown, "cond" for GPU-availability tests."""
        if isinstance(node, ast.Constant):
            return frozenset({_norm(node.value)})
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and _int(node.operand) is not None:
            return frozenset({_norm(-(_int(node.operand) or 0))})
        if isinstance(node, ast.IfExp):
            return self._literal_values(node.body, seen) | self._literal_values(node.orelse, seen)
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            return frozenset({("seq", len(node.elts))})
        if isinstance(node, ast.Dict):
            return frozenset({("seq", len(node.keys))})
        if isinstance(node, ast.JoinedStr):
            text = literal_str(node)
            return frozenset({_norm(text)}) if text is not None else frozenset({"?"})
        if isinstance(node, (ast.Name, ast.Attribute)):
            qualname = self.names.qualname(node)
            if qualname is not None:
                return frozenset({("name", qualname)})
            found = (
                self._lookup(node.id, "literal", seen) if isinstance(node, ast.Name)
                else self._lookup_attr(node, "literal", seen)
            )
            if found:
                return found
            return frozenset({"cond"}) if self._is_gpu_test(node) else frozenset({"?"})
        if isinstance(node, (ast.Call, ast.Compare, ast.BoolOp, ast.UnaryOp)) and self._is_gpu_test(node):
            return frozenset({"cond"})
        return frozenset({"?"})


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    if handler.type is None:
        return True
    names = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(
        isinstance(n, ast.Name) and n.id in ("ImportError", "ModuleNotFoundError", "Exception") for n in names
    )


def _argument(call: ast.Call, position: int | None, keyword: str | None) -> ast.expr | None:
    if keyword is not None:
        for kw in call.keywords:
            if kw.arg == keyword:
                return kw.value
    if position is not None and position < len(call.args):
        arg = call.args[position]
        return None if isinstance(arg, ast.Starred) else arg
    return None


def _call_matches(prefixes: Sequence[str], call_name: str | None, method: str | None) -> bool:
    """A call matches when its qualified name starts with a prefix or its method/function name is one."""
    if not prefixes:
        return False
    if call_name is not None and _under(call_name, prefixes):
        return True
    if method is not None and method in prefixes:
        return True
    return call_name is not None and call_name.rsplit(".", 1)[-1] in prefixes


def _key(node: ast.expr) -> str | None:
    """`device` -> "device", `self.device` -> "self.device"; None for anything else."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        chain = attr_chain(node)
        if len(chain) >= 2 and isinstance(_head(node), ast.Name):
            return ".".join(chain)
    return None


def _span(first: ast.AST, last: ast.AST) -> ast.AST:
    """A placeholder node covering `first` to `last` (a dict entry), for locations and excerpts."""
    node = ast.expr()
    node.lineno, node.col_offset = first.lineno, first.col_offset  # type: ignore[attr-defined]
    node.end_lineno = last.end_lineno  # type: ignore[attr-defined]
    node.end_col_offset = last.end_col_offset  # type: ignore[attr-defined]
    return node


def _head(node: ast.expr) -> ast.expr:
    while isinstance(node, ast.Attribute):
        node = node.value
    return node


def _int(node: ast.AST | None) -> int | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
        return node.value
    return None


def _label(node: ast.expr) -> str:
    """A short source-like label for reasons: `device`, `"cuda"`, `args.device`."""
    if isinstance(node, ast.Constant):
        return repr(node.value)
    key = _key(node)
    if key is not None:
        return key
    try:
        text = ast.unparse(node)
    except (ValueError, RecursionError):
        return "a device"
    return text if len(text) <= 60 else text[:57] + "..."
