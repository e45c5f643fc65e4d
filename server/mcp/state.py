"""What the tools share across calls: settings, the core service, the plans by hash, the analyses of this session.

The state is made once by `build_server` and handed to every tool through the SDK's lifespan context
(`ctx.request_context.lifespan_context`), so tool modules need no closure over it and no global.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mljobs.analyzers.model import Analysis
from mljobs.skill.jobplan import JobPlan

from ..errors import describe_unexpected
from ..payload import fingerprint_for_plan
from ..service import Service
from ..settings import Settings
from . import models as m

MAX_PLANS = 64  # plans kept server-side (LRU); a plan older than that must be planned again
MAX_ANALYSES = 32  # analyses kept per server (LRU), checked against the files they read

K = TypeVar("K")
V = TypeVar("V")


class Lru(Generic[K, V]):
    """A small thread-safe LRU map (MCP runs sync tools in worker threads)."""

    def __init__(self, limit: int) -> None:
        self._items: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()
        self._limit = limit

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._limit:
                self._items.popitem(last=False)

    def get(self, key: K) -> V | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value


@dataclass
class PlanEntry:
    """A plan as planned (unredacted, so secrets never travel to the model and back), what the user saw, and
    the source fingerprint it was planned from (a changed source means the user confirmed other code)."""

    plan: JobPlan
    ready: bool
    output: m.PlanOut
    code: str | None
    fingerprint: str | None


@dataclass
class AppState:
    """Settings, the core service (made in the lifespan unless a test injects one), plans and analyses."""

    settings: Settings
    service: Service | None = None
    roots: tuple[Path, ...] = ()
    plans: Lru[str, PlanEntry] = field(default_factory=lambda: Lru(MAX_PLANS))
    analyses: Lru[tuple[str, str | None], tuple[Analysis, tuple[Any, ...]]] = field(
        default_factory=lambda: Lru(MAX_ANALYSES)
    )
    #: (action, subject key) -> the exact subject the user was asked about (elicitation), so the tool body acts on
    #: what the user saw and not on a list that changed in between.
    shown: Lru[tuple[str, str], str] = field(default_factory=lambda: Lru(MAX_PLANS))

    @property
    def svc(self) -> Service:
        if self.service is None:
            self.service = Service(self.settings)
        return self.service

    def analyze(self, path: str, entrypoint: str | None) -> Analysis:
        """One analysis per source version: analyze, rank, check and plan of the same unchanged code share it.

        The memo is checked against the size and mtime of every file the analysis read (and of the root folder,
        so an added or removed file counts as a change); anything else re-analyses."""
        key = (path, entrypoint)
        cached = self.analyses.get(key)
        if cached is not None and cached[1] == _stamps(cached[0]):
            return cached[0]
        analysis = self.svc.analyze(path, entrypoint)
        self.analyses.put(key, (analysis, _stamps(analysis)))
        return analysis

    def resolve_path(self, path: str) -> str:
        """Absolute path; inside one of the allowed roots when the server was started with roots. A path the OS
        cannot resolve (a symlink loop, an unknown user in ~name, a NUL byte) is one line, not a traceback."""
        try:
            p = Path(path).expanduser()
            if not p.is_absolute():
                p = (self.roots[0] if self.roots else Path.cwd()) / p
            p = p.resolve()
        except (OSError, RuntimeError, ValueError) as exc:
            raise ToolError(f"cannot use this path: {describe_unexpected(exc)}; pass another path") from None
        if self.roots and not any(p == r or p.is_relative_to(r) for r in self.roots):
            raise ToolError(
                f"{path} is outside the folders this server may read ({', '.join(map(str, self.roots))}); "
                "pass a path inside them or restart mljobs serve with another --root"
            )
        return str(p)

    def plan_entry(self, plan_hash: str) -> PlanEntry:
        entry = self.plans.get(plan_hash)
        if entry is None:
            raise ToolError(
                f"unknown plan {plan_hash[:12]} (plans live only in this server process); "
                "call plan_job again and confirm the new plan"
            )
        return entry

    def stale(self, entry: PlanEntry) -> str | None:
        """Why the plan may no longer be submitted (its source changed), or None."""
        if entry.fingerprint is not None and fingerprint_for_plan(entry.plan) != entry.fingerprint:
            return (
                f"{entry.plan.source} changed since it was planned, so the user confirmed other code; "
                "call plan_job again and confirm the new plan"
            )
        return None


def state_of(ctx: Context) -> AppState:
    """The server's state, from the request's lifespan context."""
    state = ctx.request_context.lifespan_context
    assert isinstance(state, AppState), "build_server's lifespan yields the AppState"
    return state


def _stamps(analysis: Analysis) -> tuple[Any, ...]:
    """(name, size, mtime_ns) of the root folder and of every file the analysis read."""
    root = Path(analysis.root)
    names = [".", *analysis.files, *([analysis.requirements_file] if analysis.requirements_file else [])]
    out: list[Any] = []
    for name in names:
        try:
            st = os.stat(root / name)
        except OSError:
            out.append((name, None, None))
        else:
            out.append((name, st.st_size, st.st_mtime_ns))
    return tuple(out)
