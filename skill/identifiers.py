"""Validation and quoting of every Snowflake identifier that may reach SQL or generated code.

Only unquoted identifiers are accepted (`[A-Za-z_][A-Za-z0-9_$]*`): quoted identifiers can carry any
character, and snowflake-ml-python interpolates several names into SQL with f-strings (research
mljobs-api.md §8). A hostile name is rejected here, with a message that says what is allowed.
"""

from __future__ import annotations

import re

_IDENT = r"[A-Za-z_][A-Za-z0-9_$]{0,254}"
IDENTIFIER_RE = re.compile(rf"^{_IDENT}$")
QUALIFIED_RE = re.compile(rf"^{_IDENT}(\.{_IDENT}){{0,2}}$")
# @[db.][schema.]stage[/sub/path] -- the path part allows what the ML Jobs client accepts, minus quotes.
STAGE_RE = re.compile(rf"^@?(?P<name>{_IDENT}(\.{_IDENT}){{0,2}})(?P<path>(/[A-Za-z0-9_\-.]+)*/?)$")
ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")


class InvalidIdentifier(ValueError):
    """A name that cannot safely reach Snowflake; the message says which value and what is allowed."""


def _check_common(value: object, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidIdentifier(f"{what} must be a non-empty string")
    if value.startswith("-"):
        raise InvalidIdentifier(f"{what} {value!r} may not start with '-'")
    return value


def validate_identifier(value: object, what: str = "identifier") -> str:
    """Return `value` upper-cased if it is a plain Snowflake identifier.

    Raises:
        InvalidIdentifier: anything else (quotes, spaces, semicolons, dots, dashes, empty, too long).
    """
    text = _check_common(value, what)
    if not IDENTIFIER_RE.match(text):
        raise InvalidIdentifier(
            f"{what} {text!r} is not a plain Snowflake identifier "
            "(letters, digits, _ and $, starting with a letter or _)"
        )
    return text.upper()


def validate_qualified(value: object, what: str = "name", *, parts: int = 3) -> str:
    """Return an upper-cased `[db.][schema.]name` after checking every part.

    Raises:
        InvalidIdentifier: a part is not a plain identifier or there are more than `parts` parts.
    """
    text = _check_common(value, what)
    pieces = text.split(".")
    if len(pieces) > parts or not QUALIFIED_RE.match(text):
        raise InvalidIdentifier(
            f"{what} {text!r} must be up to {parts} dot-separated plain identifiers (e.g. DB.SCHEMA.NAME)"
        )
    return ".".join(p.upper() for p in pieces)


def validate_stage(value: object, what: str = "stage") -> str:
    """Return a normalised stage reference `@DB.SCHEMA.STAGE[/path]` (case kept in the path).

    Raises:
        InvalidIdentifier: not `@[db.][schema.]stage[/path]` with plain identifiers and a safe path.
    """
    text = _check_common(value, what)
    match = STAGE_RE.match(text)
    if not match or ".." in match.group("path"):
        raise InvalidIdentifier(
            f"{what} {text!r} must look like @DB.SCHEMA.STAGE or @DB.SCHEMA.STAGE/sub/path "
            "(plain identifiers; path of letters, digits, _ - . /)"
        )
    name = ".".join(p.upper() for p in match.group("name").split("."))
    return "@" + name + match.group("path")


def qualify(name: str, database: str | None, schema: str | None, what: str = "name") -> str:
    """Fully qualify `name` with database and schema where it lacks them.

    Raises:
        InvalidIdentifier: a part is invalid, or qualification needs a database/schema that is missing.
    """
    pieces = validate_qualified(name, what).split(".")
    if len(pieces) == 3:
        return ".".join(pieces)
    if len(pieces) == 2:
        if not database:
            raise InvalidIdentifier(f"{what} {name!r} needs a database; pass one or use DB.SCHEMA.NAME")
        return ".".join([validate_identifier(database, "database"), *pieces])
    if not database or not schema:
        raise InvalidIdentifier(f"{what} {name!r} needs a database and schema; pass them or use DB.SCHEMA.NAME")
    return ".".join([validate_identifier(database, "database"), validate_identifier(schema, "schema"), pieces[0]])


def quote(name: str) -> str:
    """Quote an already validated (qualified) identifier for SQL text: `DB.S.N` -> `"DB"."S"."N"`."""
    return ".".join('"' + part.replace('"', '""') + '"' for part in validate_qualified(name).split("."))


def sql_string(value: str) -> str:
    """A single-quoted SQL string literal with quotes and backslashes escaped."""
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def validate_env_name(value: object) -> str:
    """Environment variable names for env_vars and secrets: `[A-Za-z_][A-Za-z0-9_]*`.

    Raises:
        InvalidIdentifier: anything else.
    """
    text = _check_common(value, "environment variable name")
    if not ENV_NAME_RE.match(text):
        raise InvalidIdentifier(f"environment variable name {text!r} must match [A-Za-z_][A-Za-z0-9_]*")
    return text


def job_name_from_path(path: str) -> str:
    """A valid job name from a script name: `01-train model.py` -> `JOB_01_TRAIN_MODEL`.

    The ML Jobs client derives `<stem>_<8hex>` and rejects stems that are not identifiers
    (`train-model.py`, `01_train.py`); an explicit name avoids that (research mljobs-api.md §7).
    """
    stem = path.replace("\\", "/").rsplit("/", 1)[-1]
    stem = stem.rsplit(".", 1)[0] if "." in stem else stem
    cleaned = re.sub(r"[^A-Za-z0-9_]+", "_", stem).strip("_") or "job"
    if not re.match(r"[A-Za-z_]", cleaned):
        cleaned = "JOB_" + cleaned
    return cleaned[:200].upper()
