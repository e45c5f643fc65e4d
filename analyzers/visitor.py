"""How passes traverse a file: one shared pre-order node list.

`preorder` walks a tree once (iteratively, so any depth) and lists its nodes in source order (the order
`ast.NodeVisitor` visits them). `SourceFile.nodes` keeps that list without names and constants, and every
pass (imports aside) iterates it with a per-class handler table instead of walking the tree again: one
traversal per file instead of one per pass (measured in bench/bench_analyzer.py). Where a node sits (the
branches, import guards and function around it), which a recursive visitor would carry in stacks, comes
from the statement layer (flow.py) instead, asked only where a pass makes a finding.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from typing import Any

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
#: Fields that never hold a node to descend into: identifiers, numbers and flags in Python's ASDL grammar,
#: and `ctx` (always Load/Store/Del, which every skip set above leaves out). Not reading them per node is
#: a tenth of a traversal; the nodes reached and their order are unchanged.
_SCALAR_FIELDS = frozenset(
    {"id", "attr", "name", "arg", "module", "level", "type_comment", "kind", "is_async", "simple",
     "conversion", "tag", "ctx"}
)


#: A node class's fields that can hold nodes, last first (`preorder` pushes children onto a stack).
_REVERSED_FIELDS: dict[type, tuple[str, ...]] = {}


def _fields(cls: type) -> tuple[str, ...]:
    if cls is ast.Constant:
        return ()  # a literal's value is never a node
    return tuple(f for f in getattr(cls, "_fields", ()) if f not in _SCALAR_FIELDS)


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


def dispatch(visitor: Any, nodes: list[ast.AST], handlers: Mapping[type, Callable[[Any, Any], object]]) -> None:
    """Hand every node of a shared pre-order list (`SourceFile.nodes`) to the pass's handler for its class.
    Handlers never descend: the list already holds the children, after their parent."""
    get = handlers.get
    for node in nodes:
        handler = get(node.__class__)
        if handler is not None:
            handler(visitor, node)
