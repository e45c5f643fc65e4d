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
