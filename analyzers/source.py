"""One parsed input file (script or notebook), as every pass receives it: text, tree and location mapping."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from functools import cached_property

from .bindings import Bindings
from .flow import Flow
from .model import Location, excerpt
from .names import Names
from .visitor import STRUCTURE_ONLY, preorder


#: Line separators of `str.splitlines` that Python's tokenizer does not count as line ends.
_OTHER_BREAKS = re.compile("[\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
_PARSER_BREAK = re.compile("\r\n|\r|\n")


@dataclass(frozen=True, slots=True)
class CellSpan:
    """Lines `first`..`last` (1-based, inclusive) of a notebook's joined code come from cell `cell`."""

    cell: int
    first: int
    last: int


@dataclass(frozen=True)
class SourceFile:
    """A parsed file. Passes use `loc(node)` and `code(node)` so notebooks get cell-relative locations.

    For a notebook, `text` is the code cells joined in order, with magic lines blanked (so line numbers
    within each cell stay right) and `cells` maps joined lines back to cells.
    """

    path: str  # POSIX, relative to the analysis root
    text: str
    tree: ast.Module
    module: str = ""  # dotted module name relative to the root ("pkg.util"), "" for notebooks
    cells: tuple[CellSpan, ...] = ()
    magics: tuple[tuple[int, str], ...] = field(default=())  # (joined line, magic text) for notebooks

    @property
    def is_notebook(self) -> bool:
        return bool(self.cells)

    @cached_property
    def names(self) -> Names:
        """Import aliases of this file, built once and shared by every pass (from the statement walk's list
        when it already exists: one walk fewer)."""
        flow = self.__dict__.get("flow")
        return Names(self.tree, [stmt for stmt, _ in flow.imports()] if flow is not None else None)

    @cached_property
    def flow(self) -> Flow:
        """Every statement with its context (branches, import guard, function): see flow.py."""
        return Flow(self.tree, lambda: self.names)

    @cached_property
    def bindings(self) -> Bindings:
        """Every value bound to a name of this file, shared by the passes that follow values."""
        return Bindings(self.flow)

    @cached_property
    def nodes(self) -> list[ast.AST]:
        """Every node of the tree but names and constants, in source order (see `visitor.preorder`): the one
        traversal of this file that the passes without a context stack (network, io, removed APIs) share."""
        return preorder(self.tree, STRUCTURE_ONLY)

    @cached_property
    def lines(self) -> list[str]:
        """The text's lines as the parser numbers them (`node.lineno - 1` indexes this list)."""
        if _OTHER_BREAKS.search(self.text) is None:
            return self.text.splitlines()  # the fast path: no separator the tokenizer does not count
        # str.splitlines also breaks at form feeds (old code separates sections with ^L), vertical tabs and
        # Unicode separators, which Python reads as plain characters: split only where the parser does.
        return _PARSER_BREAK.split(self.text.removesuffix("\n"))

    def location(self, line: int, col: int = 0) -> Location:
        """Map a line of `text` to a Location (cell-relative for notebooks)."""
        for span in self.cells:
            if span.first <= line <= span.last:
                return Location(self.path, line - span.first + 1, col, span.cell)
        return Location(self.path, line, col)

    def loc(self, node: ast.AST) -> Location:
        return self.location(getattr(node, "lineno", 1), getattr(node, "col_offset", 0))

    def code(self, node: ast.AST) -> str:
        """The node's source as a one-line excerpt (falls back to its line when the segment is unknown)."""
        segment = None
        lineno = getattr(node, "lineno", None)
        end = getattr(node, "end_lineno", None)
        if lineno is not None and end is not None:
            lines = self.lines
            if end - lineno < 8 and end <= len(lines):
                first = lines[lineno - 1]
                if lineno == end:
                    segment = first[node.col_offset : node.end_col_offset]  # type: ignore[attr-defined]
                else:
                    chunk = [first[node.col_offset :]]  # type: ignore[attr-defined]
                    chunk.extend(lines[lineno : end - 1])
                    chunk.append(lines[end - 1][: node.end_col_offset])  # type: ignore[attr-defined]
                    segment = "\n".join(chunk)
        if segment is None:
            segment = self.line_text(lineno or 1)
        return excerpt(segment)

    def line_text(self, line: int) -> str:
        lines = self.lines
        return excerpt(lines[line - 1]) if 0 < line <= len(lines) else ""
