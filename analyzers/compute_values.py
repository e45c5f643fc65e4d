"""What the values bound in one file mean to the GPU rules: device kinds, literal values, model-id strings.

The values themselves come from the shared bindings layer (`SourceFile.bindings`, bindings.py), the one
model of "what can this name hold" that the compute, network and io passes all read. This module only
*interprets* them for the compute pass, which asks three questions of an expression:

- `device_kinds`: which device it names ({"cuda"}, {"cuda", "cpu"} when chosen by a test, {"runtime"} when a
  command-line or config value decides, ...), for `.to(x)`, `device=x` and device-taking GPU calls;
- `literal_values`: which literals it can be (normalised by `compute_rules._norm`; "?" unknown, "cond" a
  GPU-availability test), for keyword rules such as `accelerator="gpu"` or `tree_method=...`;
- `strings`: which string literals it can be, for model ids (`from_pretrained(model_name)`).

Which bindings count (the compute pass's choice; the layer records more): every kind but `loop`. An
assignment, a pair of a tuple assignment, a parameter default, a function's `return` values (key
`call:<function>`, what a call of it gives) and a command-line option's default or `set_defaults` value
(key `argparse:<dest>`) all say what a name may hold. A `for` loop's iterable is a collection, not a value
of the name, and reading `for d in ["cpu", "cuda"]` as "the device may be CUDA" would over-report. Every
binding counts, in any branch or function (`Bindings.of`, not `current`): the question is what the code
*may* use. A binding made under a GPU test (`if torch.cuda.is_available(): device = "cuda"`, in any
function) is guarded: its CUDA only happens on a GPU machine, so it reads as "cuda?" (a GPU when present).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from typing import Any

from .bindings import Binding, Bindings, binding_key
from .compute_rules import ComputeRules, _norm, _under, name_index
from .flow import Context
from .names import argument, attr_chain, literal_str
from .source import SourceFile
from .visitor import preorder

#: Binding kinds the compute pass reads (see the module docstring for why `loop` is not one).
VALUE_KINDS = frozenset({"assign", "default", "return", "option"})


class Values:
    """The compute reading of one file's bindings. Lookups are memoised per (question, name)."""

    def __init__(self, src: SourceFile, rules: ComputeRules) -> None:
        self.names = src.names
        self.src = src
        self.rules = rules
        self.index = name_index(rules)
        self._memo: dict[tuple[str, str], frozenset[Any]] = {}
        self._tests: dict[int, bool] = {}  # id(test expression) -> is a GPU test
        self._contexts: dict[int, bool] = {}  # id(Context) -> some branch test is a GPU test
        words = rules.condition_words
        self._condition_words = re.compile("|".join(map(re.escape, words))) if words else None

    # ------------------------------------------------------------------ bindings

    @property
    def bindings(self) -> Bindings:
        """The file's bindings, built on first use: most library files never ask."""
        return self.src.bindings

    def bound(self, key: str) -> list[Binding]:
        """The bindings of `key` the compute pass reads (every kind but `loop`), in source order."""
        found = self.bindings.of(key)
        if found and any(b.kind == "loop" for b in found):
            return [b for b in found if b.kind != "loop"]
        return found

    def guarded(self, context: Context) -> bool:
        """Whether a block runs only when a GPU test holds: some enclosing `if` tests for a GPU."""
        branches = context.branches
        if not branches:
            return False
        known = self._contexts.get(id(context))
        if known is None:
            known = self._contexts[id(context)] = any(self.is_gpu_test(test) for test in branches)
        return known

    def is_gpu_test(self, test: ast.AST) -> bool:
        """True when an if/ternary test depends on GPU availability or a GPU flag (`if use_cuda:`)."""
        known = self._tests.get(id(test))
        if known is None:
            known = self._tests[id(test)] = self._gpu_test(test)
        return known

    def _gpu_test(self, test: ast.AST) -> bool:
        words = self._condition_words
        for node in preorder(test):  # any order will do; cheaper than ast.walk
            if isinstance(node, ast.Name):
                if words is not None and words.search(node.id.lower()):
                    return True
            elif isinstance(node, ast.Attribute):
                if words is not None and words.search(node.attr.lower()):
                    return True
                qualname = self.names.qualname(node)
                if qualname and self.index.facts(qualname).gpu_call:
                    return True
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                if self.string_kind(node.value) in ("cuda", "cpu"):
                    return True
        return False

    def exports(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """Device-valued names of this file (`DEVICE`, `get_device()`) that other files may import."""
        # A key naming a device has "device" in it, so does the text: most files build no bindings for this.
        if "device" not in self.src.text.lower():  # a tenth of a case-insensitive regex search's time
            return ()
        out = []
        for key in self.bindings.keys():
            if "." in key or "device" not in key.lower() or not self.bound(key):
                continue
            try:
                kinds = self._lookup(key, "device", frozenset()) or frozenset()
            except RecursionError:
                continue
            if kinds & {"cuda", "cuda?", "cpu"}:
                name = key[5:] + "()" if key.startswith("call:") else key
                out.append((name, tuple(sorted(kinds))))
        return tuple(sorted(out))

    def _lookup(self, key: str, mode: str, seen: frozenset[str]) -> frozenset[Any] | None:
        """The values bound to `key` in this file, read as devices or literals (None when unbound)."""
        bindings = self.bound(key)
        if not bindings:
            return None
        memo = self._memo.get((mode, key))
        if memo is not None:
            return memo
        if key in seen:
            return frozenset()
        seen = seen | {key}
        out: set[Any] = set()
        device = mode == "device"
        read: Callable[[ast.expr, frozenset[str]], frozenset[Any]] = (
            self.device_kinds if device else self.literal_values
        )
        for binding in bindings:
            values = read(binding.value, seen)
            if device and "cuda" in values and self.guarded(binding.context):
                values = frozenset("cuda?" if v == "cuda" else v for v in values)
            out |= values
        result = frozenset(out)
        self._memo[(mode, key)] = result
        return result

    def _lookup_attr(self, node: ast.expr, mode: str, seen: frozenset[str]) -> frozenset[Any] | None:
        """`self.device`, `args.device` (an option's value), `model.device` (the model's device binding)."""
        key = binding_key(node)
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

    # ------------------------------------------------------------------ devices

    def string_kind(self, text: str) -> str:
        """"cuda:0" -> "cuda", "cpu" -> "cpu", "auto" -> "cuda?" (a GPU when present), else "other"."""
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

    def device_kinds(self, node: ast.expr, seen: frozenset[str] = frozenset()) -> frozenset[str]:
        """What device an expression names: {"cuda"}, {"cuda", "cpu"} (conditional), {"runtime"}, ..."""
        rules = self.rules
        if isinstance(node, ast.Constant):
            value = node.value
            if isinstance(value, str):
                return frozenset({self.string_kind(value)})
            if isinstance(value, int) and not isinstance(value, bool):
                return frozenset({"cuda" if value >= 0 else "cpu"})
            return frozenset({"other"})
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and int_value(node.operand) is not None:
            return frozenset({"cpu"})
        if isinstance(node, ast.JoinedStr):
            head = node.values[0] if node.values else None
            if isinstance(head, ast.Constant) and isinstance(head.value, str) and head.value.strip():
                return frozenset({self.string_kind(head.value)})
            return frozenset({"runtime"})
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return self.device_kinds(node.left, seen)
        if isinstance(node, ast.IfExp):
            return self.device_kinds(node.body, seen) | self.device_kinds(node.orelse, seen)
        if isinstance(node, ast.BoolOp):
            return frozenset().union(*(self.device_kinds(v, seen) for v in node.values))
        if isinstance(node, ast.Call):
            qualname = self.names.qualname(node.func)
            if qualname is not None:
                if qualname in rules.device_constructors:
                    arg = argument(node, 0, "type") or argument(node, 0, "device")
                    return self.device_kinds(arg, seen) if arg is not None else frozenset()
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

    # ------------------------------------------------------------------ literals and strings

    def literal_values(self, node: ast.expr, seen: frozenset[str] = frozenset()) -> frozenset[Any]:
        """The literal values an expression can have; "?" for unknown, "cond" for GPU-availability tests."""
        if isinstance(node, ast.Constant):
            return frozenset({_norm(node.value)})
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and int_value(node.operand) is not None:
            return frozenset({_norm(-(int_value(node.operand) or 0))})
        if isinstance(node, ast.IfExp):
            return self.literal_values(node.body, seen) | self.literal_values(node.orelse, seen)
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
            return frozenset({"cond"}) if self.is_gpu_test(node) else frozenset({"?"})
        if isinstance(node, (ast.Call, ast.Compare, ast.BoolOp, ast.UnaryOp)) and self.is_gpu_test(node):
            return frozenset({"cond"})
        return frozenset({"?"})

    def strings(self, node: ast.expr, seen: frozenset[str] = frozenset()) -> set[str]:
        """The string literals an expression can hold, as written (following the bindings of names)."""
        text = literal_str(node)
        if text is not None:
            return {text}
        if isinstance(node, ast.IfExp):
            return self.strings(node.body, seen) | self.strings(node.orelse, seen)
        key = binding_key(node) if isinstance(node, (ast.Name, ast.Attribute)) else None
        if key is None or key in seen:
            return set()
        bindings = self.bound(key)
        if not bindings and "." in key:
            bindings = self.bound("argparse:" + key.rsplit(".", 1)[-1])
        out: set[str] = set()
        for binding in bindings:
            out |= self.strings(binding.value, seen | {key})
        return out


# ---------------------------------------------------------------------------------------- argument helpers


def int_value(node: ast.AST | None) -> int | None:
    """An int literal's value (not a bool), else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
        return node.value
    return None


def label(node: ast.expr) -> str:
    """A short source-like label for reasons: `device`, `"cuda"`, `args.device`."""
    if isinstance(node, ast.Constant):
        return repr(node.value)
    key = binding_key(node) if isinstance(node, (ast.Name, ast.Attribute)) else None
    if key is not None:
        return key
    try:
        text = ast.unparse(node)
    except (ValueError, RecursionError):
        return "a device"
    return text if len(text) <= 60 else text[:57] + "..."
