"""What every tool module uses: the decorator, the answer shape, error mapping and the shared annotations.

An answer is structured content for programs plus one short text for people and for models that read text.
The text never repeats a large block that is already in the structured content (logs, code, tracebacks):
it says what happened and where the rest is.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from mljobs.skill.redact import redact
from pydantic import BaseModel, ValidationError

from ..errors import (
    ConfigurationError,
    ConnectionError,
    JobNotFoundError,
    MljobsError,
    NotConfirmedError,
    SnowflakeError,
    UsageError,
    describe_unexpected,
)

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])

#: Reads of local files and knowledge only.
LOCAL_READS = ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False)
#: Reads of job state from a backend (changes over time, so not idempotent).
JOB_READS = ToolAnnotations(read_only_hint=True, open_world_hint=True)


def tool(server: MCPServer, *, title: str, annotations: ToolAnnotations, name: str | None = None) -> Callable[[F], F]:
    """`server.tool` with the docstring's indentation removed: the description is what the model reads."""

    def register(fn: F) -> F:
        server.tool(
            name=name, title=title, description=inspect.cleandoc(fn.__doc__ or ""), annotations=annotations
        )(fn)
        return fn

    return register


def answer(model: BaseModel, text: str) -> CallToolResult:
    """Structured content for programs, a short text for people and models that read text. Null fields are left
    out (every nullable field has a null default, so the answer still fits its schema): absent means null."""
    return CallToolResult(
        content=[TextContent(type="text", text=text)],
        structured_content=model.model_dump(mode="json", exclude_none=True),
    )


_NEXT = {
    JobNotFoundError: "call list_jobs to see the job ids mljobs knows",
    NotConfirmedError: "ask the user again (plan_job for submit, a preview for cancel/delete)",
    ConfigurationError: "configure a Snowflake connection (connections.toml) or use backend='local'",
    ConnectionError: "check the Snowflake connection and login, or use backend='local'",
    SnowflakeError: "check the names and the role's privileges (the message says which)",
    UsageError: "fix the input and call the tool again",
}


@contextmanager
def tool_errors(tool_name: str) -> Iterator[None]:
    """Expected faults -> ToolError('<what>; <next>'); anything else -> a redacted one-liner, traceback on stderr."""
    try:
        yield
    except ToolError:
        raise
    except MljobsError as exc:
        message = redact(exc.message)
        hint = next((v for k, v in _NEXT.items() if isinstance(exc, k)), "")
        raise ToolError(message if (";" in message or not hint) else f"{message}; {hint}") from None
    except Exception as exc:
        log.exception("%s failed unexpectedly", tool_name)
        raise ToolError(f"{tool_name} failed: {describe_unexpected(exc)}; the server log (stderr) has the details") \
            from None


def validation_message(tool_name: str, exc: ValidationError) -> str:
    """One line naming each rejected argument and why, never its value (the value is the caller's data, and
    pydantic's own text quotes it and spans many lines)."""
    problems = []
    for err in exc.errors(include_url=False, include_input=False):
        where = ".".join(str(part) for part in err["loc"]) or "arguments"
        problems.append(f"`{where}`: {' '.join(str(err['msg']).split())}")
    shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
    return f"invalid arguments for {tool_name}: {shown}; fix them and call {tool_name} again"


class Server(MCPServer):
    """The SDK's server with one change: an argument validation error becomes one line per `validation_message`."""

    async def call_tool(self, name: str, arguments: dict[str, Any], context: Any = None) -> Any:
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as exc:
            if isinstance(exc.__cause__, ValidationError) and not isinstance(exc, UnexpectedToolError):
                raise ToolError(validation_message(name, exc.__cause__)) from None
            raise
