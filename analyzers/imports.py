"""The imports pass: every import statement and literal dynamic import of one file, with its context.

The context comes from the shared statement layer (`flow.Flow`), so this pass and every other agree on what
an import guard is: `nested` is inside a function or class body (or, for a dynamic import, a lambda),
`optional` inside an import guard (the body or `else` of a `try` with an `except ImportError` /
`ModuleNotFoundError` / `Exception` / bare handler, `with contextlib.suppress(ImportError)`, or
`if TYPE_CHECKING:`; see `flow.GUARD_EXCEPTIONS`). Import statements are read from the flow's statement
list (no walk of their own); dynamic imports from the file's shared node list, and only when the text can
hold one. Relative imports are reported with `level > 0` (they are always local). Stdlib, local and
third-party classification is left to the packages pass and the project resolver.
"""

from __future__ import annotations

import ast

from .flow import Context
from .model import Confidence, ImportFinding, ImportKind
from .source import SourceFile

#: Calls that import a module named by their first argument.
DYNAMIC_IMPORTS = frozenset({"importlib.import_module", "__import__", "importlib.__import__"})
#: Identical imports (same module, names, level and context) kept per file; later ones are only counted.
MAX_REPEATS = 20
#: Import findings kept per file (a generated file with 100k distinct imports is not code to plan from).
MAX_FINDINGS_PER_FILE = 5_000


class _Collector:
    """Findings in source order, all made in `_report`, with the repeat and size caps."""

    def __init__(self, src: SourceFile) -> None:
        self.src = src
        self.findings: list[ImportFinding] = []
        self._repeats: dict[tuple[object, ...], int] = {}
        self.dropped = 0  # imports counted but not kept (see MAX_REPEATS, MAX_FINDINGS_PER_FILE)

    def _report(self, node: ast.AST, kind: ImportKind, module: str, names: tuple[str, ...], level: int,
                optional: bool, nested: bool) -> None:
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

    def statement(self, node: ast.Import | ast.ImportFrom, ctx: Context) -> None:
        if node.__class__ is ast.Import:
            for alias in node.names:
                self._report(node, ImportKind.IMPORT, alias.name, (), 0, ctx.optional, ctx.nested)
        else:
            assert isinstance(node, ast.ImportFrom)  # noqa: S101, sanity check for the type checker
            names = tuple(alias.name for alias in node.names)
            self._report(node, ImportKind.FROM, node.module or "", names, node.level, ctx.optional, ctx.nested)

    def dynamic(self, call: ast.Call, name: str, ctx: Context, in_lambda: bool) -> None:
        level = len(name) - len(name.lstrip("."))
        self._report(call, ImportKind.DYNAMIC, name[level:], (), level, ctx.optional, ctx.nested or in_lambda)


def _dynamic_imports(src: SourceFile) -> list[tuple[ast.Call, str]]:
    """`importlib.import_module("x")` / `__import__("x")` calls with a literal name, in source order."""
    found: list[tuple[ast.Call, str]] = []
    qualname = src.names.qualname
    for node in src.nodes:
        if node.__class__ is not ast.Call:
            continue
        call = node
        if call.args and isinstance(call.func, (ast.Name, ast.Attribute)):
            first = call.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str) and first.value.strip("."):
                if qualname(call.func) in DYNAMIC_IMPORTS:
                    found.append((call, first.value))
    return found


def _inside(node: ast.AST, spans: list[tuple[tuple[int, int], tuple[int, int]]]) -> bool:
    pos = (node.lineno, node.col_offset)  # type: ignore[attr-defined]
    return any(start <= pos < end for start, end in spans)


def scan_imports(src: SourceFile) -> tuple[ImportFinding, ...]:
    """Return every import of one parsed file, in source order.

    Args:
        src: the parsed file (script or notebook).

    Returns:
        One ImportFinding per imported module: `import a, b` gives two; `from x import y, z` gives one
        with `names=("y", "z")`; a relative import has `level > 0` and `module` without the dots ("" for
        `from . import y`); `importlib.import_module("a.b")` / `__import__("a")` with a literal name give
        kind DYNAMIC (non-literal names are not reported). Findings inside a function or class body (or a
        dynamic import inside a lambda) have `nested=True`; inside an import guard or `if TYPE_CHECKING:`
        `optional=True`; either makes the confidence `likely`, otherwise it is `certain`. A default value
        or a decorator runs where its `def` is, so it takes the context of the `def`, not of its body.
    """
    return scan_imports_counted(src)[0]


def scan_imports_counted(src: SourceFile) -> tuple[tuple[ImportFinding, ...], int]:
    """`scan_imports`, plus how many imports were counted but not kept (repeats over MAX_REPEATS, findings
    over MAX_FINDINGS_PER_FILE); the caller reports that number as "N more"."""
    flow = src.flow
    out = _Collector(src)
    text = src.text
    # Statements are a tenth of the nodes: the expressions matter only when the text can hold a dynamic import.
    dynamic = _dynamic_imports(src) if ("import_module" in text or "__import__" in text) else []
    if not dynamic:
        for stmt, ctx in flow.imports():
            out.statement(stmt, ctx)
        return tuple(out.findings), out.dropped
    lambdas = [((n.lineno, n.col_offset), (n.end_lineno or 0, n.end_col_offset or 0))
               for n in src.nodes if n.__class__ is ast.Lambda]
    events: list[tuple[tuple[int, int], int, ast.AST, object]] = []
    statements = flow.imports()
    for order, (stmt, ctx) in enumerate(statements):
        events.append(((stmt.lineno, stmt.col_offset), order, stmt, ctx))
    for order, (call, name) in enumerate(dynamic, start=len(statements)):
        events.append(((call.lineno, call.col_offset), order, call, name))
    events.sort(key=lambda e: (e[0], e[1]))  # source order: a call in a decorator comes before the body
    for _, _, node, extra in events:
        if isinstance(extra, Context):
            out.statement(node, extra)  # type: ignore[arg-type]
        else:
            assert isinstance(node, ast.Call) and isinstance(extra, str)  # noqa: S101, sanity check
            out.dynamic(node, extra, flow.context(node), _inside(node, lambdas))
    return tuple(out.findings), out.dropped
