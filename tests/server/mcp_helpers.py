"""Shared helpers for the MCP tests: a client on a local-pool server that checks every structured result
against the tool's declared output schema."""

from __future__ import annotations

import json
import textwrap
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import jsonschema
from mcp import Client
from mcp.types import CallToolResult, ElicitResult
from mljobs.server.mcp import build_server
from mljobs.server.settings import Settings

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "train_classifier.py"


def answer_text(result: CallToolResult) -> str:
    """Everything a model may read of one answer: the text content and every string of the structured content."""

    def flatten(value: Any) -> str:
        if isinstance(value, str):
            return value
        if isinstance(value, dict):
            return "\n".join(flatten(v) for v in value.values())
        if isinstance(value, list):
            return "\n".join(flatten(v) for v in value)
        return ""

    return "\n".join([*(getattr(c, "text", "") for c in result.content), flatten(result.structured_content)])


def repeated_block(text: str) -> str:
    """The largest block of 80+ characters that appears twice (one line, or 3 consecutive lines), or ""."""
    lines = [line for line in text.splitlines() if line.strip()]
    best = ""
    seen: set[str] = set()
    for line in lines:
        if len(line) >= 80 and line in seen and len(line) > len(best):
            best = line
        seen.add(line)
    first: dict[str, int] = {}
    for i in range(len(lines) - 2):
        block = "\n".join(lines[i : i + 3])
        if len(block) >= 80 and first.get(block, i) <= i - 3 and len(block) > len(best):
            best = block
        first.setdefault(block, i)
    return best


class Checked:
    """A connected client whose `call` validates structured output against the tool's output schema and checks
    that the answer says nothing twice (no repeated block across its text and structured content)."""

    def __init__(self, client: Client, schemas: dict[str, dict[str, Any] | None]) -> None:
        self.client = client
        self.schemas = schemas

    async def call(self, name: str, args: dict[str, Any] | None = None, **kw: Any) -> CallToolResult:
        result = await self.client.call_tool(name, args or {}, **kw)
        if not result.is_error:
            schema = self.schemas[name]
            assert schema is not None, f"{name} declares no output schema"
            jsonschema.validate(result.structured_content, schema)
            assert result.content and result.content[0].type == "text" and result.content[0].text.strip()
            repeated = repeated_block(answer_text(result))
            assert not repeated, f"{name} repeats itself:\n{repeated}"
        return result

    async def ok(self, name: str, args: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
        result = await self.call(name, args, **kw)
        assert not result.is_error, f"{name} failed: {error_text(result)}"
        return result.structured_content

    async def error(self, name: str, args: dict[str, Any] | None = None) -> str:
        result = await self.call(name, args)
        assert result.is_error, f"{name} should have failed: {result.structured_content}"
        return error_text(result)


def error_text(result: CallToolResult) -> str:
    return " ".join(getattr(c, "text", "") for c in result.content)


def answer(action: str, confirm: bool = True):
    """An elicitation callback that answers every question with `action` (and records the questions)."""
    asked: list[str] = []

    async def callback(context: Any, params: Any) -> ElicitResult:
        asked.append(params.message)
        if action == "accept":
            return ElicitResult(action="accept", content={"confirm": confirm})
        return ElicitResult(action=action)

    callback.asked = asked  # type: ignore[attr-defined]
    return callback


@asynccontextmanager
async def connect(
    state_dir: Path,
    *,
    mode: str = "auto",
    elicitation: Any = None,
    read_only: bool = False,
    roots: tuple[Path, ...] = (),
) -> AsyncIterator[Checked]:
    server = build_server(Settings(backend="local", state_dir=state_dir, read_only=read_only), roots=roots)
    async with Client(server, mode=mode, elicitation_callback=elicitation) as client:
        tools = await client.list_tools()
        yield Checked(client, {t.name: t.output_schema for t in tools.tools})


def write_script(folder: Path, name: str, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(body).lstrip(), encoding="utf-8")
    return path


def dumps(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True) + "\n"
