"""Small SQL-text helpers shared by the fake session's parts: errors as Snowpark raises them, identifier parts."""

from __future__ import annotations

import re

from snowflake.snowpark.exceptions import SnowparkSQLException


def sql_error(message: str, code: int | None = None) -> SnowparkSQLException:
    """A SnowparkSQLException as the Snowpark wrapper raises it (message + Snowflake error number)."""
    return SnowparkSQLException(message, sql_error_code=code)


def _ident_parts(text: str) -> list[str]:
    """`db.s."Mixed"` -> ["DB", "S", "Mixed"]: unquoted parts upper-cased, quoted kept, `""` unescaped."""
    parts: list[str] = []
    for match in re.finditer(r'"((?:[^"]|"")*)"|([^."]+)', text.strip()):
        quoted, plain = match.groups()
        parts.append(quoted.replace('""', '"') if quoted is not None else plain.strip().upper())
    return parts


def _unescape_literal(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "r": "\r"}.get(m.group(1), m.group(1)), text)


def _bool_text(value: bool) -> str:
    return "true" if value else "false"
