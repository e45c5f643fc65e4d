"""Shared fixtures: the real knowledge tables, project trees on disk, notebooks, and an isolated state dir."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _isolated_state(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test touches the user's real state dir, Snowflake config or default connection."""
    state = tmp_path_factory.mktemp("state")
    monkeypatch.setenv("MLJOBS_STATE_DIR", str(state))
    monkeypatch.setenv("SNOWFLAKE_HOME", str(tmp_path_factory.mktemp("snowflake_home")))
    # The dependency preflight asks a package index; tests that want it pass a checker with a local index.
    monkeypatch.setenv("MLJOBS_DEPCHECK", "off")
    for var in ("SNOWFLAKE_DEFAULT_CONNECTION_NAME", "SNOWFLAKE_ACCOUNT", "SNOWFLAKE_USER", "SNOWFLAKE_PASSWORD"):
        monkeypatch.delenv(var, raising=False)
    return state


@pytest.fixture(scope="session")
def rules():
    """The real knowledge tables, loaded once."""
    from mljobs.skill.knowledge import load_rules

    return load_rules()


@pytest.fixture
def write_tree(tmp_path: Path) -> Callable[[Mapping[str, str | bytes]], Path]:
    """Write {relative path: text or bytes} under tmp_path (text is dedented) and return the root."""

    def write(files: Mapping[str, str | bytes]) -> Path:
        for rel, content in files.items():
            target = tmp_path / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(textwrap.dedent(content).lstrip("\n"), encoding="utf-8")
        return tmp_path

    return write


def make_notebook(cells: list[tuple[str, str]], language: str = "python") -> str:
    """ipynb JSON text from [(cell_type, source)], as Jupyter writes it (nbformat 4)."""
    return json.dumps(
        {
            "nbformat": 4,
            "nbformat_minor": 5,
            "metadata": {"language_info": {"name": language}, "kernelspec": {"name": "python3"}},
            "cells": [
                {
                    "cell_type": kind,
                    "metadata": {},
                    "source": textwrap.dedent(src).lstrip("\n").splitlines(keepends=True),
                    **({"outputs": [], "execution_count": None} if kind == "code" else {}),
                }
                for kind, src in cells
            ],
        }
    )


@pytest.fixture
def anyio_backend() -> str:
    """Async tests run on asyncio only (the MCP SDK's transport of choice)."""
    return "asyncio"
