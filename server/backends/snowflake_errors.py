"""How a snowflake-ml-python or connector failure is classified (transient or not) and explained to the user.

Transient: network drops, throttling, HTTP 5xx and the connector's retryable codes -- worth a retry. Permanent:
a statement Snowflake rejected; `map_error` turns it into an mljobs fault whose message says what to do, using
the error codes the library itself branches on (research mljobs-api.md §6.3, §8).
"""

from __future__ import annotations

import builtins
import re

from mljobs.skill.redact import redact

from ..errors import BackendError, MljobsError, SnowflakeError, UsageError

#: snowflake.connector.errorcode: ER_FAILED_TO_CONNECT_TO_DB, ER_CONNECTION_IS_CLOSED, ER_FAILED_TO_REQUEST,
#: ER_CONNECTION_TIMEOUT, ER_RETRYABLE_CODE -- the connector's own "the network failed, not the statement".
TRANSIENT_CODES = frozenset({250001, 250002, 250003, 251011, 251012})
#: Connector exception classes for HTTP 429/500/502/503/504 and retryable HTTP failures.
_TRANSIENT_CLASS_NAMES = frozenset({
    "OperationalError", "ServiceUnavailableError", "TooManyRequests", "GatewayTimeoutError", "BadGatewayError",
    "RequestTimeoutError", "InternalServerError", "OtherHTTPRetryableError",
})  # fmt: skip
_TRANSIENT_TEXT = re.compile(
    r"\b(429|502|503|504)\b|too many requests|service unavailable|temporarily unavailable|throttl|"
    r"connection (reset|aborted|closed|refused)|timed out while connecting",
    re.IGNORECASE,
)
#: Permanent Snowflake error codes with a plain explanation and what to do.
EXPLAINED_CODES = {
    2003: "the object does not exist or the current role is not authorized to see it: check the name (fully "
          "qualified), the current role, and that USAGE was granted",
    3001: "the current role lacks a privilege: grant USAGE on the database, USAGE and CREATE SERVICE (and CREATE "
          "STAGE if the stage is new) on the schema, USAGE on the compute pool and on each external access "
          "integration",
    90106: "there is no current schema: pass database and schema (or set them on the connection)",
    2143: "the feature is not enabled in this account (job history or persistent logs)",
    392507: "the cloud provider has no capacity for the pool's instance family: wait or use another pool",
    392508: "the compute pool is at MAX_NODES: wait, raise MAX_NODES or use another pool",
}  # fmt: skip


def _error_code(exc: BaseException) -> int | None:
    for candidate in (getattr(exc, "sql_error_code", None), getattr(exc, "errno", None),
                      getattr(getattr(exc, "conn_error", None), "errno", None)):  # fmt: skip
        try:
            if candidate is not None and int(candidate) > 0:
                return int(candidate)
        except (TypeError, ValueError):
            continue
    return None


def is_transient(exc: BaseException) -> bool:
    """True for failures worth retrying: network drops, throttling, HTTP 5xx, connector retryable codes.

    A statement Snowflake rejected (compilation, privileges, not found) is permanent. `TimeoutError` from
    the library means "job not finished", never a network problem.
    """
    if isinstance(exc, TimeoutError):
        return False
    if isinstance(exc, builtins.ConnectionError):
        return True
    chain = [exc, getattr(exc, "conn_error", None)]
    for item in chain:
        if item is None:
            continue
        if type(item).__name__ in _TRANSIENT_CLASS_NAMES and type(item).__module__.startswith("snowflake"):
            return True
    if _error_code(exc) in TRANSIENT_CODES:
        return True
    text = getattr(exc, "message", None) or str(exc)
    return bool(_TRANSIENT_TEXT.search(text))


def _message(exc: BaseException) -> str:
    text = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return redact(" ".join(str(text).split()))[:500]


def map_error(what: str, exc: BaseException) -> MljobsError:
    """A library or driver exception as an mljobs fault whose message says what to do."""
    if isinstance(exc, MljobsError):
        return exc
    code = _error_code(exc)
    message = _message(exc)
    cause = exc.__cause__
    if isinstance(exc, RuntimeError) and cause is not None and _error_code(cause):
        code, message = _error_code(cause), f"{message} ({_message(cause)})"
    lowered = message.lower()
    if code is None and "grant privileges on schema" in lowered:
        code = 3001
    if code is None and "please specify a schema" in lowered:
        code = 90106
    if code in EXPLAINED_CODES:
        return SnowflakeError(f"{what} failed: {message} -- {EXPLAINED_CODES[code]}.", code)
    if isinstance(exc, (ValueError, FileNotFoundError, NotImplementedError)):
        return UsageError(f"{what} refused by snowflake-ml-python: {message}")
    if code is not None or type(exc).__module__.startswith("snowflake"):
        return SnowflakeError(f"{what} failed: {message}", code)
    return BackendError(f"{what} failed: {type(exc).__name__}: {message}")
