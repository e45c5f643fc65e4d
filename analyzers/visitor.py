"""The base visitor of every pass: `ast.NodeVisitor` with a traversal that skips leaf nodes.

`NodeVisitor.generic_visit` dominates a pass on big files (measured by the network and io passes);
names, constants, contexts and operators have nothing below them that any pass inspects, so they are
skipped without a dispatch. Passes that need a leaf handler (`visit_Name`) must not subclass this.
"""

from __future__ import annotations

import ast

LEAF_TYPES = frozenset(
    {
        ast.Name, ast.Constant, ast.Load, ast.Store, ast.Del, ast.alias, ast.Pass, ast.Break, ast.Continue,
        *ast.operator.__subclasses__(), *ast.cmpop.__subclasses__(), *ast.unaryop.__subclasses__(),
        *ast.boolop.__subclasses__(),
    }
)


class FastVisitor(ast.NodeVisitor):
    def generic_visit(self, node: ast.AST) -> None:
        for name in node._fields:
            value = getattr(node, name, None)
            if isinstance(value, list):
                for item in value:
                    if isinstance(item, ast.AST) and type(item) not in LEAF_TYPES:
                        self.visit(item)
            elif isinstance(value, ast.AST) and type(value) not in LEAF_TYPES:
                self.visit(value)
