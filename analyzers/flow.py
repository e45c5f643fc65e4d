"""Where a node sits: the statement context every pass asks about, computed once per file.

The passes ask the same few questions about a place in the code: is it inside a branch of an `if` (and of
which tests), inside an import guard (the body or `else` of a `try` that catches `ImportError`, `with
suppress(ImportError)`, `if TYPE_CHECKING:`), inside a function or class body, inside the test of an
`if`/`while`/`assert`? Each pass used to answer them with a context stack of its own, walking the tree
again, and two of them disagreed on what an import guard is. `Flow` answers them from one walk over the
statements only (a tenth of the nodes), so the passes can iterate the shared node list
(`SourceFile.nodes`) without a stack and still know where each node is.

How a node is placed: statements are listed in source order with their spans; the innermost statement
whose span holds the node's start is found by bisection and a walk up the parent links (spans nest, so the
last statement starting at or before the node is the innermost one or lies inside it). A node in a
compound statement's header (an `if` test, a `for` iterable, a default value, a handler's exception
type) belongs to that statement's own context, not to its body's; a decorated definition's span starts at
its first decorator, so decorators belong to the block the definition sits in, where they run.
"""

from __future__ import annotations

import ast
from bisect import bisect_right
from collections.abc import Callable
from typing import Any, NamedTuple

from .names import Names

#: Exceptions whose handler makes what its `try` body imports optional.
GUARD_EXCEPTIONS = frozenset({"ImportError", "ModuleNotFoundError", "Exception", "BaseException"})
_SUPPRESS = frozenset({"contextlib.suppress"})
_TYPE_CHECKING = frozenset({"TYPE_CHECKING", "typing.TYPE_CHECKING", "typing_extensions.TYPE_CHECKING"})
_TESTED = (ast.If, ast.While, ast.Assert)


class Context(NamedTuple):
    """The block a statement sits in. Shared by every statement of the block (one object per block)."""

    branches: tuple[ast.expr, ...] = ()  # tests of the enclosing if/elif branches, outermost first
    optional: bool = False  # inside an import guard: may not run (or not run as written) at all
    nested: bool = False  # inside a function or class body
    function: str | None = None  # the innermost enclosing function's name


MODULE = Context()


class Flow:
    """The statements of one file in source order, each with its `Context`, and placement of any node."""

    __slots__ = ("_ends", "_imports", "_parents", "_starts", "contexts", "statements")

    def __init__(self, tree: ast.Module, names: Callable[[], Names]) -> None:
        """`names` gives the file's import aliases; it is called only for the rare statements whose meaning
        depends on an import (`with contextlib.suppress(ImportError)`, `if typing.TYPE_CHECKING`), so the
        aliases can themselves be built from this walk's statements (`SourceFile.names`)."""
        self.statements: list[ast.stmt] = []
        self.contexts: list[Context] = []
        self._parents: list[int] = []
        self._starts: list[tuple[int, int]] | None = None  # built on the first placement question
        self._ends: list[tuple[int, int]] = []
        self._imports: list[tuple[ast.Import | ast.ImportFrom, Context]] | None = None
        statements, contexts, parents = self.statements, self.contexts, self._parents
        blocks_of = _BLOCKS
        # Iterative pre-order over statements only (any nesting depth): a block's statements are pushed last
        # first, so they pop in source order, each before the statements nested in it.
        stack: list[tuple[ast.stmt, Context, int]] = [(stmt, MODULE, -1) for stmt in reversed(tree.body)]
        pop, push = stack.pop, stack.extend
        while stack:
            stmt, ctx, parent = pop()
            index = len(statements)
            statements.append(stmt)
            contexts.append(ctx)
            parents.append(parent)
            builder = blocks_of.get(stmt.__class__)
            if builder is not None:
                for block, inner in reversed(builder(stmt, ctx, names)):
                    push([(child, inner, index) for child in reversed(block)])

    def imports(self) -> list[tuple[ast.Import | ast.ImportFrom, Context]]:
        """The `import` / `from ... import` statements in source order, each with its context: listed once for
        the alias table, the imports pass and the removed-APIs pass."""
        if self._imports is None:
            self._imports = [(stmt, ctx) for stmt, ctx in zip(self.statements, self.contexts, strict=True)
                             if stmt.__class__ is ast.Import or stmt.__class__ is ast.ImportFrom]
        return self._imports

    def _spans(self) -> list[tuple[int, int]]:
        starts: list[tuple[int, int]] = []
        ends = self._ends
        for stmt in self.statements:
            # A decorated definition starts at its first decorator: decorators run in the enclosing block.
            decorators = getattr(stmt, "decorator_list", None)
            first = decorators[0] if decorators else stmt
            starts.append((first.lineno, first.col_offset))
            ends.append((stmt.end_lineno, stmt.end_col_offset))  # type: ignore[arg-type]
        self._starts = starts
        return starts

    def innermost(self, node: ast.AST) -> int:
        """Index (in `statements`) of the innermost statement holding `node`, the node itself when it is one;
        -1 at module level or for a node without a position."""
        lineno = getattr(node, "lineno", None)
        if lineno is None:
            return -1
        pos = (lineno, node.col_offset)  # type: ignore[attr-defined]
        starts = self._starts if self._starts is not None else self._spans()
        i = bisect_right(starts, pos) - 1
        ends, parents = self._ends, self._parents
        while i >= 0 and not pos < ends[i]:
            i = parents[i]
        return i

    def context(self, node: ast.AST) -> Context:
        """The context `node` runs in: a statement's block, or for an expression its statement's block."""
        i = self.innermost(node)
        return self.contexts[i] if i >= 0 else MODULE

    def in_test(self, node: ast.AST) -> bool:
        """Whether `node` lies in the test of an `if`, `while` or `assert` (where a GPU check decides)."""
        i = self.innermost(node)
        if i < 0:
            return False
        stmt = self.statements[i]
        if stmt is node or not isinstance(stmt, _TESTED):
            return False
        test = stmt.test
        pos = (node.lineno, node.col_offset)  # type: ignore[attr-defined]
        return (test.lineno, test.col_offset) <= pos < (test.end_lineno or 0, test.end_col_offset or 0)


def exception_names(node: ast.expr | None) -> list[str]:
    """`except (ImportError, mod.Error)` -> ["ImportError", "Error"]."""
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


def is_import_guard(handlers: list[ast.ExceptHandler]) -> bool:
    """A `try` whose handlers catch a failed import (bare `except:` included)."""
    for handler in handlers:
        if handler.type is None or any(name in GUARD_EXCEPTIONS for name in exception_names(handler.type)):
            return True
    return False


def _suppresses_import_errors(stmt: ast.With | ast.AsyncWith, names: Callable[[], Names]) -> bool:
    for item in stmt.items:
        expr = item.context_expr
        # the shape first (an exception name among the arguments): only then resolve the callee
        if isinstance(expr, ast.Call) and any(name in GUARD_EXCEPTIONS for arg in expr.args
                                              for name in exception_names(arg)):
            if names().qualname(expr.func) in _SUPPRESS:
                return True
    return False


def _type_checking(test: ast.expr, names: Callable[[], Names]) -> bool:
    # the cheap shape test first: resolving names needs the file's alias table
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING" and \
        names().qualname(test, allow_builtins=False) in _TYPE_CHECKING


def _with_branch(ctx: Context, test: ast.expr, optional: bool = False) -> Context:
    return Context((*ctx.branches, test), optional or ctx.optional, ctx.nested, ctx.function)


def _optional(ctx: Context) -> Context:
    return ctx if ctx.optional else Context(ctx.branches, True, ctx.nested, ctx.function)


Blocks = list[tuple[list[ast.stmt], Context]]


def _if(stmt: ast.If, ctx: Context, names: Callable[[], Names]) -> Blocks:
    branch = _with_branch(ctx, stmt.test)
    body = _with_branch(ctx, stmt.test, True) if _type_checking(stmt.test, names) else branch
    return [(stmt.body, body), (stmt.orelse, branch)]


def _function(stmt: ast.FunctionDef | ast.AsyncFunctionDef, ctx: Context, names: Callable[[], Names]) -> Blocks:
    return [(stmt.body, Context(ctx.branches, ctx.optional, True, stmt.name))]


def _class(stmt: ast.ClassDef, ctx: Context, names: Callable[[], Names]) -> Blocks:
    return [(stmt.body, ctx if ctx.nested else Context(ctx.branches, ctx.optional, True, ctx.function))]


def _loop(stmt: ast.For | ast.AsyncFor | ast.While, ctx: Context, names: Callable[[], Names]) -> Blocks:
    return [(stmt.body, ctx), (stmt.orelse, ctx)]


def _try(stmt: ast.Try | ast.TryStar, ctx: Context, names: Callable[[], Names]) -> Blocks:
    guarded = _optional(ctx) if is_import_guard(stmt.handlers) else ctx
    return [(stmt.body, guarded), *((h.body, ctx) for h in stmt.handlers), (stmt.orelse, guarded),
            (stmt.finalbody, ctx)]


def _with(stmt: ast.With | ast.AsyncWith, ctx: Context, names: Callable[[], Names]) -> Blocks:
    return [(stmt.body, _optional(ctx) if _suppresses_import_errors(stmt, names) else ctx)]


def _match(stmt: ast.Match, ctx: Context, names: Callable[[], Names]) -> Blocks:
    return [(case.body, ctx) for case in stmt.cases]


#: Compound statement class -> its nested blocks, in source order, each with the context it runs in.
_BLOCKS: dict[type, Callable[[Any, Context, Callable[[], Names]], Blocks]] = {
    ast.If: _if, ast.FunctionDef: _function, ast.AsyncFunctionDef: _function, ast.ClassDef: _class,
    ast.For: _loop, ast.AsyncFor: _loop, ast.While: _loop, ast.Try: _try, ast.TryStar: _try, ast.With: _with,
    ast.AsyncWith: _with, ast.Match: _match,
}
