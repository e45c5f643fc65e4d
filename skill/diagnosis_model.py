"""The values a diagnosis is made of: a plan change, the diagnosis itself (shared by the diagnosis modules)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

CALLERS = ("mcp", "cli")


@dataclass(frozen=True, slots=True)
class PlanChange:
    """One concrete edit of the plan: `op` on `field` with `value` (or SQL an admin must run)."""

    field: str  # a JobPlan field; "admin" for account setup; "local_eais" for the local pool's EAI file
    op: str  # add | set | remove | run_sql | resubmit
    value: Any
    reason: str


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """Cause and fix of a failed job.

    The fix is phrased twice: `next_tool_call` for an assistant driving the MCP tools and `next_command` for a
    person at a terminal. `for_caller` keeps the one that fits whoever asked and puts it in `next_step`, so a
    CLI command never reaches an MCP client (and the reverse).
    """

    status: str
    matched: str | None  # catalog entry id; None when nothing matched ("code_error" when a traceback explains it)
    cause: str
    fix: str
    changes: tuple[PlanChange, ...] = ()
    evidence: tuple[str, ...] = ()  # the log lines that matched, "line N: text"
    admin_sql: tuple[str, ...] = ()
    next_tool_call: str = ""
    next_command: str = ""
    next_step: str = ""

    def for_caller(self, caller: str) -> Diagnosis:
        """This diagnosis with `next_step` phrased for `caller` ("mcp" or "cli") and the other phrasing dropped."""
        if caller not in CALLERS:
            raise ValueError(f"caller must be one of {CALLERS}, not {caller!r}")
        if caller == "mcp":
            return replace(self, next_step=self.next_tool_call, next_command="")
        return replace(self, next_step=self.next_command, next_tool_call="")
