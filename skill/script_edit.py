"""What a proposed script edit is (`CodemodResult`), apart from how it is made (codemods.py, with libcst).

Planning always carries an edit result, but only a plan that edits a script needs libcst (a third of a
second to import); keeping the result type here lets the CLI and the planner load without it.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

RESULT_ENV = "MLRS_STAGE_RESULT_PATH"


@dataclass(frozen=True, slots=True)
class CodemodResult:
    """The edited code and its diff, or the original code with `skipped` saying why nothing was changed.

    `changes` lists what was done, one line each; `warnings` lists occurrences deliberately left alone.
    """

    code: str
    diff: str = ""
    changes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    skipped: str | None = None

    @property
    def changed(self) -> bool:
        return bool(self.changes)


def unified_diff(before: str, after: str, path: str) -> str:
    """A `git diff`-style unified diff of one file (empty when equal)."""
    return "".join(difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True), fromfile=f"a/{path}", tofile=f"b/{path}"))
