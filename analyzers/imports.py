"""The imports pass: every import statement and literal dynamic import of one file, with its context.

One `ast.NodeVisitor` keeps explicit context counters: inside a function or class body (`nested`), inside
an import guard (`optional`: the body or `else` of `try` with an `except ImportError` /
`ModuleNotFoundError` / `Exception` / bare handler, `with contextlib.suppress(ImportError)`, or
`if TYPE_CHECKING:`). Relative imports are reported with `level > 0` (they are always local). Stdlib,
local and third-party classification is left to the packages pass and the project resolver.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

from .model import Confidence, ImportFinding, ImportKind
from .names import STATEMENT_FIELDS
from .source import SourceFile

#: Exceptions whose handler makes the guarded imports optional.
GUARD_EXCEPTIONS = frozenset({"ImportError", "ModuleNotFoundError", "Exception", "BaseException"})
#: Calls that import a module named by their first argument.
DYNAMIC_IMPORTS = frozenset({"importlib.import_module", "__import__", "importlib.__import__"})
#: Identical imports (same module, names, level and context) kept per file; later ones are only counted.
MAX_REPEATS = 20
#: Import findings kept per file (a generated file with 100k distinct imports is not code to plan from).
MAX_FINDINGS_PER_FILE = 5_000
_SUPPRESS = frozenset({"contextlib.suppress"})
_TYPE_CHECKING = frozenset({"TYPE_CHECKING", "typing.TYPE_CHECKING", "typing_extensions.TYPE_CHECKING"})


def _exception_names(node: ast.expr | None) -> list[str]:
    if node is None:
        return []
    elts = node.elts if isinstance(node, ast.Tuple) else [node]
    names = []
    for elt in elts:
        if isinstance(elt, ast.Name):
            names.append(elt.id)
        elif isinstance(elt, ast.Attribute):
            names.append(elt.attr)  # builtins.ImportError
    return names


def _is_import_guard(handlers: list[ast.ExceptHandler]) -> bool:
    for handler in handlers:
        if handler.type is None:  # bare `except:`
            return True
        if any(name in GUARD_EXCEPTIONS for name in _exception_names(handler.type)):
            return True
    return False


#: node class -> `_ImportVisitor`'s handler for it (None: generic_visit).
_IMPORT_DISPATCH: dict[type, Callable[[_ImportVisitor, Any], None] | None] = {}


class _ImportVisitor(ast.NodeVisitor):
    """Collects ImportFindings in source order; all findings are made in `_report`."""

    def __init__(self, src: SourceFile) -> None:
        self.src = src
        self.findings: list[ImportFinding] = []
        self._repeats: dict[tuple[object, ...], int] = {}
        self.dropped = 0  # imports counted but not kept (see MAX_REPEATS, MAX_FINDINGS_PER_FILE)
        self._nested = 0  # depth of function / class bodies
        self._optional = 0  # depth of import guards
        # Imports are statements; expressions matter only for dynamic imports. Skipping expressions
        # when the text cannot hold one makes this pass several times faster on big trees.
        self._expressions = "import_module" in src.text or "__import__" in src.text

    def visit(self, node: ast.AST) -> None:
        # `ast.NodeVisitor.visit` builds a method name per node; a per-class table gives the same handler.
        cls = node.__class__
        try:
            method = _IMPORT_DISPATCH[cls]
        except KeyError:
            method = _IMPORT_DISPATCH[cls] = getattr(_ImportVisitor, "visit_" + cls.__name__, None)
        if method is None:
            self.generic_visit(node)
        else:
            method(self, node)

    def generic_visit(self, node: ast.AST) -> None:
        if self._expressions:
            super().generic_visit(node)
            return
        for name in STATEMENT_FIELDS:  # without a possible dynamic import, only these
            block = getattr(node, name, None)
            if isinstance(block, list):
                for child in block:
                    self.visit(child)

    def _report(self, node: ast.AST, kind: ImportKind, module: str, names: tuple[str, ...], level: int = 0) -> None:
        optional = self._optional > 0
        nested = self._nested > 0
        # Bounded work: the same import repeated (100k times in a hostile file) adds nothing after a few
        # occurrences, and every later pass is linear in the findings. Counted, not kept.
        key = (kind, module, names, level, optional, nested)
        seen = self._repeats.get(key, 0)
        self._repeats[key] = seen + 1
        if seen >= MAX_REPEATS or len(self.findings) >= MAX_FINDINGS_PER_FILE:
            self.dropped += 1
            return
        self.findings.append(
            ImportFinding(
                kind=kind,
                module=module,
                names=names,
                location=self.src.loc(node),
                evidence=self.src.code(node),
                confidence=Confidence.LIKELY if (optional or nested) else Confidence.CERTAIN,
                optional=optional,
                nested=nested,
                level=level,
            )
        )

    # ----------------------------------------------------------------------------- statements

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._report(node, ImportKind.IMPORT, alias.name, ())

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        names = tuple(alias.name for alias in node.names)
        self._report(node, ImportKind.FROM, node.module or "", names, node.level)

    def _visit_scope(self, node: ast.AST) -> None:
        self._nested += 1
        self.generic_visit(node)
        self._nested -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = visit_Lambda = _visit_scope

    def _visit_guarded(self, stmts: list[ast.stmt]) -> None:
        self._optional += 1
        for stmt in stmts:
            self.visit(stmt)
        self._optional -= 1

    def visit_Try(self, node: ast.Try) -> None:
        if _is_import_guard(node.handlers):
            self._visit_guarded(node.body)
            for handler in node.handlers:
                self.visit(handler)  # the fallback runs when the guarded import fails: not optional
            self._visit_guarded(node.orelse)  # runs only when the guarded import worked
            for stmt in node.finalbody:
                self.visit(stmt)
        else:
            self.generic_visit(node)

    visit_TryStar = visit_Try  # type: ignore[assignment]  # TryStar has exactly Try's fields

    def visit_With(self, node: ast.With) -> None:
        suppressing = False
        for item in node.items:
            expr = item.context_expr
            if isinstance(expr, ast.Call) and self.src.names.qualname(expr.func) in _SUPPRESS:
                if any(name in GUARD_EXCEPTIONS for arg in expr.args for name in _exception_names(arg)):
                    suppressing = True
            if self._expressions:
                self.visit(item)
        if suppressing:
            self._visit_guarded(node.body)
        else:
            for stmt in node.body:
                self.visit(stmt)

    visit_AsyncWith = visit_With  # type: ignore[assignment]  # AsyncWith has exactly With's fields

    def visit_If(self, node: ast.If) -> None:
        test = node.test
        # cheap shape test first: resolving names builds the file's alias table
        named = (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
            isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
        )
        if named and (isinstance(test, ast.Name) or self.src.names.qualname(test, allow_builtins=False) in _TYPE_CHECKING):
            self._visit_guarded(node.body)  # never executed at run time
            for stmt in node.orelse:
                self.visit(stmt)
        else:
            self.generic_visit(node)

    # ----------------------------------------------------------------------------- expressions

    def visit_Call(self, node: ast.Call) -> None:
        if node.args and isinstance(node.func, (ast.Name, ast.Attribute)):
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str) and first.value.strip("."):
                if self.src.names.qualname(node.func) in DYNAMIC_IMPORTS:
                    name = first.value
                    level = len(name) - len(name.lstrip("."))
                    self._report(node, ImportKind.DYNAMIC, name[level:], (), level)
        self.generic_visit(node)


def scan_imports(src: SourceFile) -> tuple[ImportFinding, ...]:
    """Return every import of one parsed file, in source order.

    Args:
        src: the parsed file (script or notebook).

    Returns:
        One ImportFinding per imported module: `import a, b` gives two; `from x import y, z` gives one
        with `names=("y", "z")`; a relative import has `level > 0` and `module` without the dots ("" for
        `from . import y`); `importlib.import_module("a.b")` / `__import__("a")` with a literal name give
        kind DYNAMIC (non-literal names are not reported). Findings inside a function or class have
        `nested=True`; inside an import guard or `if TYPE_CHECKING:` `optional=True`; either makes the
        confidence `likely`, otherwise it is `certain`.
    """
    return scan_imports_counted(src)[0]


def scan_imports_counted(src: SourceFile) -> tuple[tuple[ImportFinding, ...], int]:
    """`scan_imports`, plus how many imports were counted but not kept (repeats over MAX_REPEATS, findings
    over MAX_FINDINGS_PER_FILE); the caller reports that number as "N more"."""
    visitor = _ImportVisitor(src)
    visitor.visit(src.tree)
    return tuple(visitor.findings), visitor.dropped
