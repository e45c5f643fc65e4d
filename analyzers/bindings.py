"""The values bound to each name of one file: the one model of "what can this variable hold" every pass reads.

A device in `device = "cuda"`, a URL in `URL = "https://..."`, a path in `out = Path("model.pt")` all reach
their use through a name. The compute, network and io passes used to keep three tables of their own, with
three rules for which assignment counts (every one, the one in force, module constants only) that disagreed
on the same line of code. `Bindings` records every binding once, from the statement walk (`flow.Flow`), in
source order, with where it happens, and answers the two questions the passes ask:

- `of(key)`: every value the name is ever given (in any branch or function): what the code *may* use,
  for evidence such as "a GPU device when one is present";
- `current(key, node)`: the binding in force where `node` is read, in source order: the last one before
  it, else (a module constant used in a function defined above it) the module's own last one; for
  values that name one thing, such as a path or a URL; `read(key, node)` is the same question for a read
  that may sit inside the binding's own value (`url = url + "/x"`), which sees the binding before.

What binds: assignments to names and to attribute chains on a name (`self.device = ...`, key
`"self.device"`), pairwise tuple unpacking, `for x in y` (a `loop` binding whose value is the iterable),
parameter defaults, `return` values (key `"call:<function>"`, what a call of the function gives), and
command-line options (`parser.add_argument("--lr", default=...)`, `set_defaults`; key `"argparse:<dest>"`).
Each `Binding` keeps the `Context` of its statement (so a binding inside `if torch.cuda.is_available():`
is known to happen only on a GPU machine). Interpreting a value (as a device, a literal, a path) is the
asking pass's business: it differs by question, the bindings do not.
"""

from __future__ import annotations

import ast
from bisect import bisect_left
from collections.abc import Callable
from typing import Any, NamedTuple

from .flow import Context, Flow
from .cliargs import option_dest
from .names import literal_str

#: Option-declaring calls (`parser.add_argument`, `parser.set_defaults`) whose values bind `argparse:<dest>`.
_OPTION_CALLS = frozenset({"add_argument", "set_defaults"})


class Binding(NamedTuple):
    """One value given to a name."""

    value: ast.expr
    at: tuple[int, int]  # (line, column) of the binding statement: source order
    context: Context  # the block the binding happens in
    kind: str  # "assign" | "loop" | "default" | "return" | "option"
    module_level: bool  # a statement at the top of the module


class Bindings:
    """Every binding of one file by key, in source order (see the module docstring for the keys)."""

    __slots__ = ("_by_key", "_starts")

    def __init__(self, flow: Flow) -> None:
        self._by_key: dict[str, list[Binding]] = {}
        self._starts: dict[str, list[tuple[int, int]]] = {}  # per key, built on its first `current` question
        parents, contexts, handlers = flow._parents, flow.contexts, _HANDLERS
        for index, stmt in enumerate(flow.statements):
            handler = handlers.get(stmt.__class__)
            if handler is not None:
                handler(self, stmt, contexts[index], parents[index] == -1)

    # -- questions

    def __contains__(self, key: str) -> bool:
        return key in self._by_key

    def keys(self) -> list[str]:
        """Every bound key, in order of first binding."""
        return list(self._by_key)

    def of(self, key: str) -> list[Binding]:
        """Every binding of `key`, in source order (empty when it is never bound)."""
        return self._by_key.get(key, [])

    def current(self, key: str, node: ast.AST) -> Binding | None:
        """The binding of `key` in force where `node` reads it: the last one starting before it in the source,
        else the last module-level one (a function may read a constant the module binds below it).

        A read inside a binding's own value sees the binding before it: `url = url + "/x"` and
        `for x in f(x)` read the earlier `url` / `x`, as Python evaluates the value first. That earlier
        binding counts only in the same function (or both at module level): the name is local where it is
        assigned, so `path = expand(path)` in a function reads its parameter, not a `path` of another
        function, and gives None (unknown here)."""
        found = self._by_key.get(key)
        if not found:
            return None
        lineno = getattr(node, "lineno", None)
        if lineno is not None:
            starts = self._starts.get(key)
            if starts is None:
                starts = self._starts[key] = [b.at for b in found]
            i = bisect_left(starts, (lineno, node.col_offset)) - 1  # type: ignore[attr-defined]
            if i >= 0:
                binding = found[i]
                if not _within(node, binding.value):
                    return binding
                function = binding.context.function
                for earlier in reversed(found[:i]):
                    if earlier.context.function == function:
                        return earlier
                return None
        for binding in reversed(found):
            if binding.module_level:
                return binding
        return None

    # -- building: one handler per statement class (see `_HANDLERS`)

    def _on_assign(self, stmt: ast.Assign, ctx: Context, top: bool) -> None:
        at = (stmt.lineno, stmt.col_offset)
        value = stmt.value
        for target in stmt.targets:
            if target.__class__ is ast.Name:  # the common case, without the general path's calls
                found = self._by_key.get(target.id)
                if found is None:
                    found = self._by_key[target.id] = []
                found.append(Binding(value, at, ctx, "assign", top))
            else:
                self._assign(target, value, at, ctx, top)
        if isinstance(stmt.value, ast.Call):
            self._options(stmt.value, at, ctx, top)

    def _on_ann_assign(self, stmt: ast.AnnAssign, ctx: Context, top: bool) -> None:
        if stmt.value is not None:
            self._assign(stmt.target, stmt.value, (stmt.lineno, stmt.col_offset), ctx, top)

    def _on_expr(self, stmt: ast.Expr, ctx: Context, top: bool) -> None:
        if isinstance(stmt.value, ast.Call):
            self._options(stmt.value, (stmt.lineno, stmt.col_offset), ctx, top)

    def _on_for(self, stmt: ast.For | ast.AsyncFor, ctx: Context, top: bool) -> None:
        if isinstance(stmt.target, ast.Name):
            self._add(stmt.target.id, Binding(stmt.iter, (stmt.lineno, stmt.col_offset), ctx, "loop", top))

    def _on_def(self, stmt: ast.FunctionDef | ast.AsyncFunctionDef, ctx: Context, top: bool) -> None:
        args = stmt.args
        if args.defaults or args.kw_defaults:
            self._defaults(args, (stmt.lineno, stmt.col_offset), ctx)

    def _on_return(self, stmt: ast.Return, ctx: Context, top: bool) -> None:
        if stmt.value is not None and ctx.function is not None:
            binding = Binding(stmt.value, (stmt.lineno, stmt.col_offset), ctx, "return", top)
            self._add("call:" + ctx.function, binding)

    def _add(self, key: str, binding: Binding) -> None:
        self._by_key.setdefault(key, []).append(binding)

    def _assign(self, target: ast.expr, value: ast.expr, at: tuple[int, int], ctx: Context, top: bool) -> None:
        if isinstance(target, (ast.Name, ast.Attribute)):
            key = binding_key(target)
            if key is not None:
                self._add(key, Binding(value, at, ctx, "assign", top))
        elif isinstance(target, (ast.Tuple, ast.List)) and isinstance(value, (ast.Tuple, ast.List)):
            if len(target.elts) == len(value.elts):
                for t, v in zip(target.elts, value.elts, strict=True):
                    self._assign(t, v, at, ctx, top)

    def _defaults(self, args: ast.arguments, at: tuple[int, int], ctx: Context) -> None:
        positional = [*args.posonlyargs, *args.args]
        for arg, default in zip(positional[len(positional) - len(args.defaults):], args.defaults, strict=True):
            self._add(arg.arg, Binding(default, at, ctx, "default", False))
        for arg, kw_default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
            if kw_default is not None:
                self._add(arg.arg, Binding(kw_default, at, ctx, "default", False))

    def _options(self, call: ast.Call, at: tuple[int, int], ctx: Context, top: bool) -> None:
        func = call.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
        if name not in _OPTION_CALLS:
            return
        if name == "set_defaults":
            for kw in call.keywords:
                if kw.arg:
                    self._add("argparse:" + kw.arg, Binding(kw.value, at, ctx, "option", top))
            return
        dest = option_dest(call)
        if not dest:
            return
        default = next((kw.value for kw in call.keywords if kw.arg == "default"), None)
        if default is None:
            action = literal_str(next((kw.value for kw in call.keywords if kw.arg == "action"), None))
            if action in ("store_true", "store_false"):
                # the implicit default of a flag, placed on the call for locations
                default = ast.Constant(action == "store_false")
                ast.copy_location(default, call)
        if default is not None:
            self._add("argparse:" + dest, Binding(default, at, ctx, "option", top))


def _within(node: ast.AST, outer: ast.AST) -> bool:
    """Whether `node` starts inside `outer`'s source span (so it is `outer` or one of its descendants)."""
    lineno = getattr(node, "lineno", None)
    start = getattr(outer, "lineno", None)
    if lineno is None or start is None:
        return False
    pos = (lineno, node.col_offset)  # type: ignore[attr-defined]
    end = (outer.end_lineno or 0, outer.end_col_offset or 0)  # type: ignore[attr-defined]
    return (start, outer.col_offset) <= pos < end  # type: ignore[attr-defined]


def binding_key(node: ast.expr) -> str | None:
    """`device` -> "device", `self.device` -> "self.device"; None for anything else (`f().x`, `a[0]`)."""
    if node.__class__ is ast.Name:
        return node.id
    parts: list[str] = []
    while node.__class__ is ast.Attribute:
        parts.append(node.attr)
        node = node.value
    if not parts or node.__class__ is not ast.Name:
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


#: Statement class -> the `Bindings` method that records what it binds.
_HANDLERS: dict[type, Callable[[Bindings, Any, Context, bool], None]] = {
    ast.Assign: Bindings._on_assign, ast.AnnAssign: Bindings._on_ann_assign, ast.Expr: Bindings._on_expr,
    ast.For: Bindings._on_for, ast.AsyncFor: Bindings._on_for, ast.FunctionDef: Bindings._on_def,
    ast.AsyncFunctionDef: Bindings._on_def, ast.Return: Bindings._on_return,
}
