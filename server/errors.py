"""The one exception hierarchy for faults in mljobs; expected outcomes are values, not exceptions.

Every message says what went wrong and what to do next, and never carries credentials, connection
strings or tracebacks. `exit_code` is what the CLI exits with (see mljobs.server.cli).
"""

from __future__ import annotations


class MljobsError(Exception):
    """Base of all mljobs faults."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UsageError(MljobsError):
    """Bad input from the user: a missing path, an invalid name, an impossible option."""

    exit_code = 2


class ConfigurationError(MljobsError):
    """Nothing (or something broken) is configured: no Snowflake connection, bad config file."""

    exit_code = 3


class ConnectionError(MljobsError):  # noqa: A001 - deliberately shadows the builtin inside mljobs
    """Snowflake could not be reached or the login failed."""

    exit_code = 3


class SnowflakeError(MljobsError):
    """Snowflake answered with an error; `code` is its numeric error code when known."""

    exit_code = 3

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class NotConfirmedError(MljobsError):
    """A side effect was requested without a valid confirmation (declined, missing or stale token)."""

    exit_code = 4


class JobNotFoundError(MljobsError):
    """No job with that id in the store or backend."""

    exit_code = 2


class JobStoreError(MljobsError):
    """The SQLite job store could not be read or written."""

    exit_code = 1


class BackendError(MljobsError):
    """A job backend failed to do what was asked (submit, cancel, fetch logs...)."""

    exit_code = 1


def describe_unexpected(exc: BaseException) -> str:
    """One line for a fault that escaped every layer (OSError, RecursionError, RuntimeError...): its kind,
    the OS reason when there is one, never a traceback, a file's content or a credential.

    Used by the CLI's last resort and offered to the MCP layer for the same purpose.
    """
    from mljobs.skill.redact import redact

    if isinstance(exc, RecursionError):
        return "the input is nested too deeply to process (RecursionError); simplify it or report it"
    if isinstance(exc, MemoryError):
        return "out of memory while processing the input; it is too large"
    if isinstance(exc, OSError):
        reason = exc.strerror or type(exc).__name__
        name = exc.filename if isinstance(exc.filename, str) else None
        where = f" ({_short(name)})" if name else ""
        return f"operating system error: {reason}{where}"
    text = " ".join(str(exc).split())
    return f"unexpected {type(exc).__name__}: {redact(_short(text))}" if text else f"unexpected {type(exc).__name__}"


def _short(text: str, limit: int = 200) -> str:
    text = "".join(ch if ch.isprintable() else "?" for ch in text)
    return text if len(text) <= limit else text[: limit - 3] + "..."
