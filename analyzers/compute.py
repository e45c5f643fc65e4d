"""GPU or CPU, and one node or several: the per-file evidence (`scan_compute`).

The rules and scan types are in compute_rules.py, the program-wide verdict (`decide_compute`, re-exported
here) in verdict.py, what bound values mean (devices, literals, model ids) in compute_values.py, the
deferred judgement of device and keyword values in compute_judge.py, memory sizes in memory.py, model
sizes in modelsize.py, command lines in commands.py, config files in configs.py.

Everything is matched on the AST with import aliases resolved (never on raw text, so comments, strings
and docstrings cannot trigger anything). The patterns come from `skill/data/gpu_patterns.yaml` through
`ComputeRules.from_data`; nothing here hard-codes a library table, only how each kind of pattern is read.

How the file is read: one pass over the shared pre-order node list (`SourceFile.nodes`), one handler per
node class, handlers never descend. Where a node sits comes from the shared statement layer
(`SourceFile.flow`), asked only where a finding or a deferred value is made: a finding inside an `if` whose
test is about GPUs (`if torch.cuda.is_available():`, `if args.use_gpu:`) or inside an import guard
(`try: import x except ImportError`, `with suppress(ImportError)`, `if TYPE_CHECKING:`, the definition
the imports pass uses) happens only on some machines, so it is at most `likely`. What the statement layer
cannot see, a ternary (`"cuda" if ok else "cpu"`), is kept here as source ranges of its branches and test.

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
from collections.abc import Callable
from typing import Any

from .cliargs import option_dest
from .commands import read_command
from .compute_judge import Judge, Pending, call_matches
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
    ENV_READERS,
    NameFacts,
    _norm,
    _weaker,
)
from .compute_values import Values, int_value
from .memory import allocation_size, generated_size
from .model import Confidence, Evidence, Location, Problem
from .names import argument, literal_str
from .source import SourceFile
from .verdict import decide_compute  # noqa: F401 - re-exported: the verdict lives in verdict.py


def scan_compute(src: SourceFile, rules: ComputeRules) -> ComputeScan:
    """Collect the GPU, CPU-forcing, multi-node and model-size evidence of one parsed file.

    Never raises on user code: a value bound through a chain too deep to follow is skipped with a Problem.
    """
    scan = _ComputeScan(src, rules)
    problems: list[Problem] = []
    try:
        scan.run()
        scan.magics()
    except RecursionError:  # the walk is iterative; kept for what it calls on user expressions
        problems.append(Problem(Location(src.path, 1), "code nested too deeply; GPU analysis is incomplete"))
    if not scan.finish():
        problems.append(Problem(Location(src.path, 1), "names bound too deeply; GPU analysis is incomplete"))
    return scan.result(tuple(problems))


_EXIT_CALLS = frozenset({"sys.exit", "exit", "quit", "os._exit"})

Position = tuple[int, int]


class _ComputeScan(Judge):
    """One pass over one file's node list (`run`); device and keyword values are judged in `finish()`
    (compute_judge.py), once the whole file has been read."""

    def __init__(self, src: SourceFile, rules: ComputeRules) -> None:
        super().__init__(src, rules, Values(src, rules))
        self.names = src.names
        self._aliases = src.names.aliases
        self.index = self.values.index
        # Source ranges of ternaries (`a if test else b`): their GPU-test branches, and every test.
        self._ternary_branches: list[tuple[Position, Position]] = []
        self._ternary_tests: list[tuple[Position, Position]] = []

    # ------------------------------------------------------------------ the walk

    def run(self) -> None:
        """Hand every node of the shared pre-order list to its handler. A handler returns how many of the
        nodes that follow it to pass over: the links of an attribute chain it has read as one name."""
        handlers = _HANDLERS
        skip = 0
        for node in self.src.nodes:
            if skip:
                skip -= 1
                continue
            handler = handlers.get(node.__class__)
            if handler is not None:
                skip = handler(self, node) or 0

    # ------------------------------------------------------------------ where a node sits

    def conditional(self, node: ast.AST) -> bool:
        """Whether `node` runs only on some machines: under a GPU test or inside an import guard."""
        context = self.src.flow.context(node)
        if context.optional or self.values.guarded(context):
            return True
        return bool(self._ternary_branches) and _within(node, self._ternary_branches)

    def in_test(self, node: ast.AST) -> bool:
        """Whether `node` is in the test of an if/while/assert or a ternary, where an availability check
        decides what the code does."""
        return self.src.flow.in_test(node) or (bool(self._ternary_tests) and _within(node, self._ternary_tests))

    # ------------------------------------------------------------------ statements and tests

    def _on_if(self, node: ast.If) -> None:
        if self._requires_gpu(node) and self.values.is_gpu_test(node.test):
            self.report(GpuSignal.CUDA_REQUIRED, node.test, "stops when no GPU is present", Confidence.CERTAIN)

    def _on_assert(self, node: ast.Assert) -> None:
        if not isinstance(node.test, ast.UnaryOp) and self.values.is_gpu_test(node.test):
            self.report(GpuSignal.CUDA_REQUIRED, node, "asserts that a GPU is present", Confidence.CERTAIN)

    def _on_ifexp(self, node: ast.IfExp) -> None:
        self._ternary_tests.append(_span_of(node.test))
        if self.values.is_gpu_test(node.test):
            self._ternary_branches.append(_span_of(node.body))
            self._ternary_branches.append(_span_of(node.orelse))

    def _requires_gpu(self, node: ast.If) -> bool:
        """`if not torch.cuda.is_available(): raise ...` or `if cuda_ok: ... else: sys.exit(...)`."""
        if not (_may_stop(node.body) or _may_stop(node.orelse)):
            return False  # the shape test first: most `if`s end in neither branch with a raise or a call
        test = node.test
        negated = isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not)
        if isinstance(test, ast.Compare) and len(test.comparators) == 1:
            op, right = test.ops[0], int_value(test.comparators[0])
            at_most_zero = isinstance(op, (ast.Eq, ast.LtE)) and right == 0
            negated = at_most_zero or (isinstance(op, ast.Lt) and right == 1)
        branch = node.body if negated else node.orelse
        if not branch:
            return False
        last = branch[-1]
        if isinstance(last, ast.Raise):
            return True
        return isinstance(last, ast.Expr) and isinstance(last.value, ast.Call) and \
            self.names.qualname(last.value.func) in _EXIT_CALLS

    def _on_def(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        """A parameter named like a model (`model_name="bert-base"`): its default may be a model id."""
        args = node.args
        if not args.defaults and not args.kw_defaults:
            return
        positional = [*args.posonlyargs, *args.args]
        for arg, default in zip(positional[len(positional) - len(args.defaults):], args.defaults, strict=False):
            if self.index.model_word(arg.arg):
                self.pending.append(Pending("model", default, default))
        for arg, kw_default in zip(args.kwonlyargs, args.kw_defaults, strict=False):
            if kw_default is not None and self.index.model_word(arg.arg):
                self.pending.append(Pending("model", kw_default, kw_default))

    # ------------------------------------------------------------------ imports

    def _on_import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._imported(alias.name, node)

    def _on_import_from(self, node: ast.ImportFrom) -> None:
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
        rule = self.index.gpu_module(module)
        if rule is not None:  # an optional import (inside an import guard) is capped at likely by `report`
            self.report(rule.signal, node, f"imports {rule.name}: {rule.reason}", rule.confidence)
        for fw in self.index.facts(module).frameworks:
            self.report_multi(fw, node, Confidence.LIKELY)

    # ------------------------------------------------------------------ names, attributes, calls

    def _on_attribute(self, node: ast.Attribute) -> int:
        """A resolved chain (`torch.cuda.synchronize`) is one use of a library name; its inner links are
        passed over. An unresolved one (`self.model.net`) says nothing: only its head (a call, a subscript)
        is read, as the node after the links."""
        links = 0
        head = node.value
        while head.__class__ is ast.Attribute:
            head = head.value
            links += 1
        if head.__class__ is ast.Name and head.id in self._aliases:
            qualname = self.names.qualname(node)
            if qualname is not None:
                facts = self.index.facts(qualname)
                if not facts.inert:
                    self._qualified_use(qualname, facts, node, None)
        return links

    def _on_call(self, node: ast.Call) -> int:
        func = node.func
        cls = func.__class__
        links = 0
        method: str | None = None
        if cls is ast.Attribute:
            method = func.attr  # type: ignore[attr-defined]
            head = func.value  # type: ignore[attr-defined]
            links = 1
            while head.__class__ is ast.Attribute:
                head = head.value
                links += 1
            resolvable = head.__class__ is ast.Name and head.id in self._aliases
            qualname = self.names.qualname(func) if resolvable else None
            short: str | None = method
        elif cls is ast.Name:
            qualname = self.names.qualname(func)
            short = func.id  # type: ignore[attr-defined]
        else:
            qualname = short = None
        rules = self.rules
        facts = None
        if qualname is not None:
            facts = self.index.facts(qualname)
            if not facts.inert:
                self._qualified_use(qualname, facts, node, node)
        elif method is not None and method in self.index.methods:
            self._method_call(method, node)
        if short is not None:
            if short in rules.model_loaders:
                for arg in (*node.args, *(kw.value for kw in node.keywords)):
                    self.pending.append(Pending("model", arg, arg))
            if short == "add_argument":
                self._option(node)
        if node.keywords:
            self._call_keywords(node, qualname, method or short)
        if facts is not None and facts.launcher:
            self._launcher_strings(node)
        return links  # the function's chain was read with the call

    def _qualified_use(self, qualname: str, facts: NameFacts, node: ast.AST, call: ast.Call | None) -> None:
        """A resolved library name, referenced or called: GPU rules, multi-node frameworks, training."""
        rules = self.rules
        rule = facts.gpu_call
        if rule is not None:
            self._apply_call_rule(rule, node, call)
        for fw in facts.frameworks:
            self.report_multi(fw, node, Confidence.CERTAIN if call is not None else Confidence.LIKELY)
            if call is not None:
                self.pending.append(Pending("instances", call, None, rule=fw))
        if call is None:
            return
        if facts.training:
            self.acc.training.append(self.evidence(call, f"trains with {qualname}"))
        if facts.constructor:
            leaf = qualname.rsplit(".", 1)[-1]
            first = literal_str(call.args[0]) if call.args else None
            if leaf not in rules.model_loaders:
                self.model_hint(first if first and leaf in {"create_model", "get_model"} else leaf, call)
        if facts.peft:
            self.acc.peft.append(self.evidence(call, f"fine-tunes adapters with {qualname}"))
        if qualname in rules.allocators:
            reason = allocation_size(call, qualname, rules.large_bytes)
            if reason is not None:
                self.acc.memory.append(self.evidence(call, reason))
        elif qualname in rules.generators:
            reason = generated_size(call, rules.large_bytes)
            if reason is not None:
                self.acc.memory.append(self.evidence(call, reason))
        if qualname in ENV_READERS and call.args:
            self._env_read(literal_str(call.args[0]), call)
        elif qualname in ("os.environ.setdefault", "os.putenv") and len(call.args) >= 2:
            self._env_write(literal_str(call.args[0]), call.args[1], call)
        elif qualname == "os.environ.update":
            for kw in call.keywords:
                if kw.arg:
                    self._env_write(kw.arg, kw.value, call)

    def _apply_call_rule(self, rule: CallRule, node: ast.AST, call: ast.Call | None) -> None:
        if rule.device_arg is None and rule.device_keyword is None:
            confidence = rule.confidence
            if rule.signal is GpuSignal.CUDA_CHECK and confidence is Confidence.GUESS and self.in_test(node):
                confidence = Confidence.LIKELY  # the availability check decides what the code does
            self.report(rule.signal, node, rule.reason, confidence)
            return
        if call is None:
            return
        arg = argument(call, rule.device_arg, rule.device_keyword)
        if arg is None:
            if rule.device_default:
                self.report(rule.signal, call, rule.reason, rule.confidence)
            return
        self.pending.append(Pending("call_rule", call, arg, rule=rule))

    def _method_call(self, method: str, node: ast.Call) -> None:
        rules = self.rules
        rule = rules.gpu_methods.get(method)
        scoped = rules.gpu_methods_when_imported.get(method)
        if rule is None and scoped is not None and any(self.names.imports(m) for m in scoped[1]):
            rule = scoped[0]
        if rule is not None:
            self.report(rule.signal, node, rule.reason, rule.confidence)
        elif method in rules.device_methods:
            arg = argument(node, 0, "device")
            if arg is not None:
                self.pending.append(Pending("move", node, arg))
        if method in rules.training_methods:
            self.acc.training.append(self.evidence(node, f"trains: calls .{method}()"))
        elif any(self.names.imports(m) for m in rules.training_methods_when_imported.get(method, ())):
            self.acc.training.append(self.evidence(node, f"trains: calls .{method}()"))

    def _option(self, node: ast.Call) -> None:
        """`parser.add_argument("--model_name", default="bert-base")`: the default may be a model id (the
        option's value itself is a binding, `argparse:<dest>`, in the bindings layer)."""
        dest = option_dest(node)
        if dest and self.index.model_word(dest):
            default = next((kw.value for kw in node.keywords if kw.arg == "default"), None)
            if default is not None:
                self.pending.append(Pending("model", default, default))

    # ------------------------------------------------------------------ keywords, dicts, assignments

    def _call_keywords(self, node: ast.Call, call_name: str | None, method: str | None) -> None:
        rules = self.rules
        model_word = self.index.model_word
        cpu_call: bool | None = None  # the same call also turns the GPU off (`Trainer(accelerator="cpu")`)
        for kw in node.keywords:
            name = kw.arg
            if name is None:
                continue
            if name in rules.keywords:
                if cpu_call is None:
                    cpu_call = any(self._forces_cpu(k) for k in node.keywords)
            elif not model_word(name):
                continue
            self._keyword(name, kw.value, node, call_name, method, bool(cpu_call))

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
            and (not rule.calls or (not in_dict and call_matches(rule.calls, call_name, method)))
            and not call_matches(rule.except_calls, call_name, method)
        ):
            self.pending.append(Pending("keyword", node, value, rule, call_name, method, cpu_call))
        if self.index.model_word(name):
            self.pending.append(Pending("model", value, value))

    def _on_dict(self, node: ast.Dict) -> None:
        for key, value in zip(node.keys, node.values, strict=False):
            if key is None:  # `**mapping` unpacking has no key to read
                continue
            name = literal_str(key)
            if name is not None:
                self._keyword(name, value, _span(key, value), None, None)

    def _on_assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            if target.__class__ is ast.Name:  # the common case, without the general path's calls
                if self.index.model_word(target.id):
                    self.pending.append(Pending("model", node.value, node.value))
            else:
                self._assigned(target, node.value, node)

    def _on_ann_assign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self._assigned(node.target, node.value, node)

    def _assigned(self, target: ast.expr, value: ast.expr, node: ast.AST) -> None:
        """What an assignment says beyond the binding itself (which the bindings layer records): a model id
        in a name like `model_name`, a GPU setting in `params["tree_method"]` or `os.environ[...]`."""
        if isinstance(target, ast.Name):
            if self.index.model_word(target.id):
                self.pending.append(Pending("model", value, value))
        elif isinstance(target, ast.Attribute):
            if _name_headed(target) and self.index.model_word(target.attr):
                self.pending.append(Pending("model", value, value))
        elif isinstance(target, ast.Subscript):
            name = literal_str(target.slice)
            if name is None:
                return
            if self._is_environ(target.value):
                self._env_write(name, value, node)
            else:
                self._keyword(name, value, node, None, None)
        elif isinstance(target, (ast.Tuple, ast.List)) and isinstance(value, (ast.Tuple, ast.List)):
            if len(target.elts) == len(value.elts):
                for t, v in zip(target.elts, value.elts, strict=False):
                    self._assigned(t, v, node)

    # ------------------------------------------------------------------ environment

    def _is_environ(self, node: ast.expr) -> bool:
        """`os.environ` (or an alias of it), with a cheap shape test before resolving the name."""
        cls = node.__class__
        if cls is ast.Attribute:
            if node.attr != "environ":  # type: ignore[attr-defined]
                return False
        elif cls is not ast.Name or node.id not in self._aliases:  # type: ignore[attr-defined]
            return False
        return self.names.qualname(node) == "os.environ"

    def _on_subscript(self, node: ast.Subscript) -> None:
        value = node.value
        cls = value.__class__  # `_is_environ`'s shape test, inline: subscripts are many, environ reads few
        if cls is ast.Attribute:
            if value.attr != "environ":  # type: ignore[attr-defined]
                return
        elif cls is not ast.Name or value.id not in self._aliases:  # type: ignore[attr-defined]
            return
        if node.ctx.__class__ is ast.Load and self.names.qualname(value) == "os.environ":
            self._env_read(literal_str(node.slice), node)

    def _on_compare(self, node: ast.Compare) -> None:
        # "LOCAL_RANK" in os.environ
        if len(node.ops) == 1 and isinstance(node.ops[0], (ast.In, ast.NotIn)):
            if self._is_environ(node.comparators[0]):
                self._env_read(literal_str(node.left), node)

    def _env_read(self, name: str | None, node: ast.AST) -> None:
        if not name:
            return
        for fw in self.rules.frameworks:
            if name in fw.env:
                self.report_multi(fw, node, Confidence.LIKELY)

    def _env_write(self, name: str | None, value: ast.expr, node: ast.AST) -> None:
        if not name:
            return
        text = literal_str(value)
        if text is None and isinstance(value, ast.Constant) and isinstance(value.value, int):
            text = str(value.value)
        disable = self.rules.env_gpu_disable.get(name)
        if disable is not None and text is not None and text.strip().lower() in disable:
            self.report(GpuSignal.CPU_FORCED, node, f"hides every GPU ({name}={text!r})", Confidence.CERTAIN)
        elif name in self.rules.env_gpu_select:
            self.report(GpuSignal.GPU_ENV, node, f"selects GPUs through {name}", Confidence.LIKELY)

    # ------------------------------------------------------------------ launchers and command lines

    def _launcher_strings(self, node: ast.Call) -> None:
        """`subprocess.run(["torchrun", "--nnodes=2", ...])`, `os.system("accelerate launch ...")`."""
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
                self.report_multi(fw, node, Confidence.CERTAIN, nodes)

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
            self.report_at(GpuSignal(signal), loc, code, f"{reason} on its command line", Confidence.LIKELY)
        for name in facts.models:
            self.model_hint(name, node or self.src.tree, loc, code)
        if facts.trains:
            self.acc.training.append(Evidence(loc, code, "trains: runs a training command"))
            if not facts.gpu and not facts.models:
                self.report_at(GpuSignal.AUTO_DEVICE, loc, code,
                               "runs a training program whose code is not analysed (training code uses a GPU "
                               "when one is present)", Confidence.LIKELY)

    def magics(self) -> None:
        for line, text in self.src.magics:
            self._command(text, None, line)


#: Node class -> the `_ComputeScan` handler that reads it; the handler's result is how many following nodes
#: to pass over. Classes without a handler (statements the flow places, names, literals) need none.
_HANDLERS: dict[type, Callable[[_ComputeScan, Any], int | None]] = {
    ast.Import: _ComputeScan._on_import, ast.ImportFrom: _ComputeScan._on_import_from,
    ast.If: _ComputeScan._on_if, ast.Assert: _ComputeScan._on_assert, ast.IfExp: _ComputeScan._on_ifexp,
    ast.FunctionDef: _ComputeScan._on_def, ast.AsyncFunctionDef: _ComputeScan._on_def,
    ast.Attribute: _ComputeScan._on_attribute, ast.Call: _ComputeScan._on_call, ast.Dict: _ComputeScan._on_dict,
    ast.Assign: _ComputeScan._on_assign, ast.AnnAssign: _ComputeScan._on_ann_assign,
    ast.Subscript: _ComputeScan._on_subscript, ast.Compare: _ComputeScan._on_compare,
}


def _may_stop(block: list[ast.stmt]) -> bool:
    return bool(block) and block[-1].__class__ in (ast.Raise, ast.Expr)


def _span_of(node: ast.AST) -> tuple[Position, Position]:
    return (node.lineno, node.col_offset), (node.end_lineno or 0, node.end_col_offset or 0)  # type: ignore[attr-defined]


def _within(node: ast.AST, spans: list[tuple[Position, Position]]) -> bool:
    """Whether `node` starts inside one of `spans` (source ranges of whole expressions, so a node starting
    inside one lies inside it)."""
    lineno = getattr(node, "lineno", None)
    if lineno is None:
        return False
    pos = (lineno, node.col_offset)  # type: ignore[attr-defined]
    return any(start <= pos < end for start, end in spans)


def _span(first: ast.AST, last: ast.AST) -> ast.AST:
    """A placeholder node covering `first` to `last` (a dict entry), for locations and excerpts."""
    node = ast.expr()
    node.lineno, node.col_offset = first.lineno, first.col_offset  # type: ignore[attr-defined]
    node.end_lineno = last.end_lineno  # type: ignore[attr-defined]
    node.end_col_offset = last.end_col_offset  # type: ignore[attr-defined]
    return node


def _name_headed(node: ast.Attribute) -> bool:
    """`self.model_id` (a chain on a name, which the bindings layer keys), not `f().model_id`."""
    head = node.value
    while head.__class__ is ast.Attribute:
        head = head.value
    return head.__class__ is ast.Name
