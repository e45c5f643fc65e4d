"""How passes traverse a file: one shared pre-order node list, and a visitor base that skips leaves.

`preorder` walks a tree once (iteratively, so any depth) and lists its nodes in source order (the order
`ast.NodeVisitor` visits them). `SourceFile.nodes` keeps that list without names and constants, so the passes
that need no context stack (network, removed APIs) iterate it instead of walking the tree again: one
traversal per file instead of one per pass (measured in bench/bench_analyzer.py).

`FastVisitor` is for the passes that do carry context (compute, io): `NodeVisitor.generic_visit`
dominates a pass on big files, so names, constants, contexts and operators, which have nothing below them
that any pass inspects, are skipped without a dispatch, and dispatch goes through a per-class table
instead of building a method name for every node. Passes that need a leaf handler (`visit_Name`) must not
subclass it.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any, ClassVar

LEAF_TYPES = frozenset(
    {
        ast.Name, ast.Constant, ast.Load, ast.Store, ast.Del, ast.alias, ast.Pass, ast.Break, ast.Continue,
        *ast.operator.__subclasses__(), *ast.cmpop.__subclasses__(), *ast.unaryop.__subclasses__(),
        *ast.boolop.__subclasses__(),
    }
)
#: Nodes no pass matches on and that have nothing below them: left out of `preorder`.
_NOT_INDEXED: frozenset[type] = frozenset(
    {
        ast.Load, ast.Store, ast.Del, *ast.operator.__subclasses__(), *ast.cmpop.__subclasses__(),
        *ast.unaryop.__subclasses__(), *ast.boolop.__subclasses__(),
    }
)
#: ...and names and constants too: the shared list (`SourceFile.nodes`) is for passes that match on
#: statements, calls and attributes; a name or a literal is read through its parent. Half the nodes.
STRUCTURE_ONLY: frozenset[type] = _NOT_INDEXED | {ast.Name, ast.Constant}
_FIELDS: dict[type, tuple[str, ...]] = {}
#: Fields that never hold a node to descend into: identifiers, numbers and flags in Python's ASDL grammar,
#: and `ctx` (always Load/Store/Del, which every skip set above leaves out). Not reading them per node is
#: a tenth of a traversal; the nodes reached and their order are unchanged.
_SCALAR_FIELDS = frozenset(
    {"id", "attr", "name", "arg", "module", "level", "type_comment", "kind", "is_async", "simple",
     "conversion", "tag", "ctx"}
)


#: The same fields, last first (`preorder` pushes children onto a stack).
_REVERSED_FIELDS: dict[type, tuple[str, ...]] = {}


def _fields(cls: type) -> tuple[str, ...]:
    if cls is ast.Constant:
        fields: tuple[str, ...] = ()  # a literal's value is never a node
    else:
        fields = tuple(f for f in getattr(cls, "_fields", ()) if f not in _SCALAR_FIELDS)
    _FIELDS[cls] = fields
    return fields


def preorder(tree: ast.AST, skip: frozenset[type] = _NOT_INDEXED) -> list[ast.AST]:
    """`tree` and every node below it except contexts and operators (and whatever else `skip` lists),
    parents before children and children in field order (exactly `ast.NodeVisitor`'s order). Iterative:
    no recursion limit."""
    out: list[ast.AST] = []
    append = out.append
    stack: list[ast.AST] = [tree]
    push = stack.append
    pop = stack.pop
    backwards = _REVERSED_FIELDS
    node_type = ast.AST
    while stack:
        node = pop()
        append(node)
        cls = node.__class__
        names = backwards.get(cls)
        if names is None:
            names = backwards[cls] = _fields(cls)[::-1]
        # Children are pushed last field first and each list backwards, so they pop in field order.
        for name in names:
            value = getattr(node, name, None)
            if value.__class__ is list:
                for item in reversed(value):
                    if isinstance(item, node_type) and item.__class__ not in skip:
                        push(item)
            elif isinstance(value, node_type) and value.__class__ not in skip:
                push(value)
    return out


class FastVisitor(ast.NodeVisitor):
    #: node class -> the subclass's `visit_<Class>` (or None for generic_visit); built per subclass.
    _dispatch: ClassVar[dict[type, Callable[[Any, Any], None] | None]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._dispatch = {}

    def visit(self, node: ast.AST) -> None:
        cls = node.__class__
        table = self._dispatch
        try:
            method = table[cls]
        except KeyError:
            method = table[cls] = getattr(type(self), "visit_" + cls.__name__, None)
        if method is None:
            self.generic_visit(node)
        else:
            method(self, node)

    def generic_visit(self, node: ast.AST) -> None:
        # Children are dispatched here directly rather than through `visit` (one call less per node, a
        # third of the compute pass's traversal cost); the order and the handlers are `visit`'s.
        leaves = LEAF_TYPES
        node_type = ast.AST
        table = self._dispatch
        generic = self.generic_visit
        cls = node.__class__
        names = _FIELDS.get(cls)
        if names is None:
            names = _fields(cls)
        for name in names:
            value = getattr(node, name, None)
            if value.__class__ is list:
                for item in value:
                    item_cls = item.__class__
                    if item_cls in leaves or not isinstance(item, node_type):
                        continue
                    try:
                        method = table[item_cls]
                    except KeyError:
                        method = table[item_cls] = getattr(type(self), "visit_" + item_cls.__name__, None)
                    if method is None:
                        generic(item)
                    else:
                        method(self, item)
            elif isinstance(value, node_type) and value.__class__ not in leaves:
                self.visit(value)
