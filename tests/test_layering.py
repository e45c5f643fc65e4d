"""Imports flow one way (server -> skill -> analyzers), and the pure layers do no I/O of their own."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {
    "analyzers": {"mljobs.skill", "mljobs.server", "sqlite3", "subprocess", "socket", "urllib.request",
                  "http.client", "requests", "httpx", "snowflake", "mcp", "time"},
    "skill": {"mljobs.server", "sqlite3", "subprocess", "socket", "urllib.request", "http.client",
              "requests", "httpx", "snowflake", "mcp", "time"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                # relative: ".." from a layer's top reaches mljobs.<other layer>
                if node.level >= 2 and node.module:
                    found.add("mljobs." + node.module)
            elif node.module:
                found.add(node.module)
    return found


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer__imports__only_allowed_modules(layer: str) -> None:
    """A pure layer never imports a higher layer or an I/O module."""
    bad = []
    for path in sorted((ROOT / layer).rglob("*.py")):
        for name in _imports(path):
            for forbidden in FORBIDDEN[layer]:
                if name == forbidden or name.startswith(forbidden + "."):
                    bad.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not bad, "\n".join(bad)
