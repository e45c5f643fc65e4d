"""Alias-aware name resolution: turn `t.cuda.is_available` into `torch.cuda.is_available`.

Every pass that matches library calls needs this, so it is computed once per file (`names_of`) and
shared. It is deliberately flat: imports anywhere in the file (module level, functions, try blocks)
bind names for the whole file. That over-approximates scoping, which is the right error for evidence
gathering: a shadowed alias is far rarer than a function-local `import torch`.
"""

from __future__ import annotations

import ast
import builtins
from collections.abc import Iterable, Iterator

_BUILTINS = frozenset(dir(builtins))
#: Fields that hold nested statements. Import statements are only ever found below these, so walking
#: them instead of every expression node is several times faster on big files.
STATEMENT_FIELDS = ("body", "orelse", "finalbody", "handlers", "cases")


def import_statements(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every `import` / `from ... import` statement in the tree, at any depth (order not guaranteed)."""
    found: list[ast.Import | ast.ImportFrom] = []
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
            continue
        for name in STATEMENT_FIELDS:
            block = getattr(node, name, None)
            if isinstance(block, list):
                stack.extend(block)
    return found


class Names:
    """Local name -> fully qualified dotted name, from the import statements of one module."""

    __slots__ = ("_imports", "_memo", "aliases", "star_modules")

    def __init__(self, tree: ast.AST, imports: Iterable[ast.Import | ast.ImportFrom] | None = None) -> None:
        """`imports`: the tree's import statements, when a walk already listed them (`Flow.imports`);
        otherwise they are found here."""
        aliases: dict[str, str] = {}
        stars: list[str] = []
        if imports is None:
            imports = import_statements(tree)
        # Source order, so a later import of the same name wins, as it does at run time.
        for node in sorted(imports, key=lambda n: (n.lineno, n.col_offset)):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        aliases[alias.asname] = alias.name
                    else:
                        head = alias.name.split(".", 1)[0]
                        aliases.setdefault(head, head)
            else:
                base = ("." * node.level) + (node.module or "")
                for alias in node.names:
                    if alias.name == "*":
                        if node.module and not node.level:
                            stars.append(node.module)
                        continue
                    target = f"{base}.{alias.name}" if base and not base.endswith(".") else base + alias.name
                    aliases[alias.asname or alias.name] = target
        # A module-level class that extends an imported class stands for it (`class MyCLI(LightningCLI)`:
        # calling MyCLI(...) runs LightningCLI), so rules for the base apply to the subclass.
        for stmt in getattr(tree, "body", ()):
            if isinstance(stmt, ast.ClassDef) and stmt.bases and stmt.name not in aliases:
                chain = attr_chain(stmt.bases[0])
                if chain and chain[0] in aliases and not isinstance(stmt.bases[0], ast.Call):
                    aliases[stmt.name] = ".".join([aliases[chain[0]], *chain[1:]])
        self.aliases = aliases
        #: Modules imported with `from m import *`: their names are unqualified in the file.
        self.star_modules = tuple(stars)
        # The compute, network and io passes resolve the same call nodes; nodes live as long as the tree.
        self._memo: dict[int, str | None] = {}
        self._imports: dict[str, bool] = {}  # `imports` answers: the passes ask per call, for a few prefixes

    def qualname(self, node: ast.AST, *, allow_builtins: bool = True) -> str | None:
        """Return the dotted name an expression refers to, or None when its head is not an import.

        `Name` and `Attribute` chains resolve through the import aliases; an unimported builtin
        (`open`, `print`) resolves to itself when `allow_builtins` is set. Calls and subscripts in the
        chain (`torch.device("cuda").type`) stop resolution and give None.
        """
        cls = node.__class__
        if cls is ast.Name:  # a bare name is one lookup: no memo needed
            target = self.aliases.get(node.id)  # type: ignore[attr-defined]
            if target is None and allow_builtins and node.id in _BUILTINS:  # type: ignore[attr-defined]
                return node.id  # type: ignore[attr-defined]
            return target
        if cls is not ast.Attribute:
            return None
        # A chain: one memo entry per node (the passes resolve the same calls), the same for both flavours.
        memo = self._memo
        key = id(node)
        try:
            return memo[key]
        except KeyError:
            result = memo[key] = self._resolve(node)
            return result

    def _resolve(self, node: ast.AST) -> str | None:
        parts: list[str] = []
        while node.__class__ is ast.Attribute:
            parts.append(node.attr)
            node = node.value
        if node.__class__ is not ast.Name:
            return None
        head = self.aliases.get(node.id)
        if head is None:
            return None
        parts.append(head)
        return ".".join(reversed(parts))

    def call_name(self, call: ast.Call) -> str | None:
        return self.qualname(call.func)

    def imports(self, prefix: str) -> bool:
        """True when some alias points into `prefix` (a top-level module or dotted prefix)."""
        known = self._imports.get(prefix)
        if known is not None:
            return known
        known = self._imports[prefix] = any(target == prefix or target.startswith(prefix + ".")
                   for target in (*self.aliases.values(), *self.star_modules))
        return known


def dotted_prefixes(name: str) -> list[str]:
    """`a.b.c` -> ["a.b.c", "a.b", "a"], longest first: a dotted name and every module above it, for set
    lookups in the rule tables instead of scanning every rule per name."""
    out = [name]
    while "." in name:
        name = name.rsplit(".", 1)[0]
        out.append(name)
    return out


def attr_chain(node: ast.AST) -> list[str]:
    """`a.b.c` -> ["a", "b", "c"]; the head may be any expression (then it is omitted)."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return list(reversed(parts))


def literal_str(node: ast.AST | None) -> str | None:
    """The value of a string constant (or an f-string with no placeholders), else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr) and all(isinstance(v, ast.Constant) for v in node.values):
        return "".join(str(v.value) for v in node.values)  # type: ignore[attr-defined]
    return None


def argument(call: ast.Call, position: int | None = None, *keywords: str | None) -> ast.expr | None:
    """The expression a call passes for one parameter: by keyword, else at `position`.

    The one argument reader every pass shares. A keyword wins over the position (in valid code a parameter is
    never given both ways, and a keyword is explicit where `f(*args, name=x)` is not); among several
    `keywords` (aliases of the parameter: `"file", "filename"`), the first one present in the call counts.
    A positional argument that is `*args` gives None: where its items land is unknown.

    Args:
        call: the call node.
        position: 0-based index of the parameter among positional arguments; None for keyword-only.
        keywords: the parameter's keyword name(s); a None among them matches nothing (`rule.keyword or None`).

    Returns:
        The argument's expression, or None when the call does not pass it (or passes it through `*args`).
    """
    if keywords:
        for kw in call.keywords:
            if kw.arg is not None and kw.arg in keywords:  # `**kwargs` names nothing (and a None keyword matches none)
                return kw.value
    if position is not None and position < len(call.args):
        value = call.args[position]
        return None if value.__class__ is ast.Starred else value
    return None


def docstring_nodes(tree: ast.AST) -> Iterator[ast.Constant]:
    """String constants that are docstrings (first statement of a module, class or function body)."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                if isinstance(body[0].value.value, str):
                    yield body[0].value
