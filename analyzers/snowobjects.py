"""Snowflake tables and stages a script reads or writes, with the privilege the job's role needs for each.

A job runs as the submitting role inside the account, so `session.table("SALES")` works only with SELECT on
it, and a stage path only with READ/WRITE on the stage; the local pool has no account at all. The io pass
calls `sql_objects` on literal SQL and `stage_of` on literal paths; this module knows only text.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Sequence

from .names import argument

#: A possibly qualified, possibly quoted identifier: DB.SCHEMA.NAME, "My Table", IDENTIFIER excluded.
_IDENT = r'(?:"[^"]+"|[A-Za-z_][\w$]*)(?:\s*\.\s*(?:"[^"]+"|[A-Za-z_][\w$]*)){0,2}'
_READS = re.compile(rf"\b(?:FROM|JOIN)\s+(?!\()(?P<name>{_IDENT})", re.I)
_INSERTS = re.compile(rf"\b(?:INSERT\s+(?:OVERWRITE\s+)?INTO|MERGE\s+INTO|UPDATE|DELETE\s+FROM)\s+(?P<name>{_IDENT})",
                      re.I)
_CREATES = re.compile(rf"\bCREATE\s+(?:OR\s+REPLACE\s+)?(?:(?:LOCAL|GLOBAL\s+)?(?:TEMP|TEMPORARY|TRANSIENT)\s+)?"
                      rf"TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(?P<name>{_IDENT})", re.I)
_COPY_INTO_TABLE = re.compile(rf"\bCOPY\s+INTO\s+(?P<name>{_IDENT})", re.I)
_STAGE = re.compile(r"(?<![\w@])@(?P<stage>~|%?[A-Za-z_][\w$]*(?:\.[A-Za-z_][\w$]*){0,2})(?P<path>/[^\s'\";),]*)?")
_CTE = re.compile(rf"(?:\bWITH|,)\s+(?P<name>{_IDENT})\s+AS\s*\(", re.I)
#: Words a FROM can be followed by that are not tables.
_NOT_TABLES = frozenset({"SELECT", "TABLE", "VALUES", "LATERAL", "UNNEST", "DUAL"})

SELECT = "SELECT"
INSERT = "INSERT (or CREATE TABLE on the schema when the job creates it)"
CREATE = "CREATE TABLE on the schema"
READ = "READ on the stage (USAGE for an external stage)"
WRITE = "WRITE on the stage"


def _name(text: str) -> str:
    return re.sub(r"\s*\.\s*", ".", text.strip())


def sql_objects(sql: str) -> list[tuple[str, str, str]]:
    """(kind "table"|"stage", name, privilege) of every object a SQL text names, in order, deduplicated.

    CTE names, table functions (`FROM TABLE(...)`) and subqueries are not tables. A `COPY INTO @stage`
    writes the stage; `COPY INTO t FROM @stage` inserts into t and reads the stage.
    """
    out: list[tuple[str, str, str]] = []
    ctes = {_name(m.group("name")).upper() for m in _CTE.finditer(sql)}
    copy_stage = re.search(r"\bCOPY\s+INTO\s+@", sql, re.I) is not None
    for pattern, privilege in ((_CREATES, CREATE), (_INSERTS, INSERT), (_COPY_INTO_TABLE, INSERT), (_READS, SELECT)):
        for m in pattern.finditer(sql):
            name = _name(m.group("name"))
            if name.upper() in ctes or name.upper() in _NOT_TABLES:
                continue
            out.append(("table", name, privilege))
    for m in _STAGE.finditer(sql):
        stage = m.group("stage")
        write = copy_stage and sql[: m.start()].upper().rstrip().endswith("INTO") or \
            re.match(r"\s*PUT\b", sql, re.I) is not None
        out.append(("stage", stage, WRITE if write else READ))
    return list(dict.fromkeys(out))


def stage_of(text: str) -> str | None:
    """The stage a literal path names (`@ML.RAW.DATA/train/` -> `ML.RAW.DATA`), or None when it names none."""
    m = _STAGE.match(text.strip())
    return m.group("stage") if m else None


#: Methods `call_objects` reads by name; any other names an object only as `session.read.<format>("@stage")`.
_NAMED_METHODS = frozenset({"table", "sql", "save_as_table", "write_pandas", "put", "put_stream", "copy_into_location",
                            "get", "get_stream"})


def may_name_objects(node: ast.Call, method: str, text: Callable[[ast.expr | None], str | None]) -> bool:
    """False when `call_objects` certainly finds nothing in the call, before its receiver chain is built: a
    method it does not read by name whose first argument is no literal stage path (`@...`)."""
    if method in _NAMED_METHODS:
        return True
    first = argument(node, 0)
    if first is None:
        return False
    value = text(first)
    return value is not None and "@" in value


def call_objects(node: ast.Call, method: str, chain: Sequence[str], sessionish: bool,
                 text: Callable[[ast.expr | None], str | None]) -> list[tuple[str, str, str]]:
    """(kind, name, privilege) of the tables and stages one Snowpark call names.

    Args:
        node: the call; `method` its method name.
        chain: lower-case attribute names on the way to the receiver (`session.read.parquet` -> read, session).
        sessionish: whether the receiver is a Snowpark session.
        text: the caller's literal-text reader (literals, f-strings, module constants).

    Handles session.table / sql / write_pandas, df.write.save_as_table, session.read.<format>("@stage"),
    session.file.get / put and df.copy_into_location; names computed at run time are skipped.
    """
    first = argument(node, 0)
    if method == "table" and sessionish:
        if isinstance(first, (ast.List, ast.Tuple)):
            parts = [text(e) for e in first.elts]
            name = ".".join(p for p in parts if p) if all(parts) else None
        else:
            name = text(argument(node, 0, "name"))
        return [("table", name, SELECT)] if name else []
    if method == "sql" and sessionish:
        return sql_objects(text(argument(node, 0, "query")) or "")
    if method == "save_as_table" and "write" in chain:
        name = text(argument(node, 0, "table_name"))
        return [("table", name, INSERT)] if name else []
    if method == "write_pandas" and sessionish:
        name = text(argument(node, 1, "table_name"))
        return [("table", name, INSERT)] if name else []
    if (method in {"put", "put_stream"} and "file" in chain) or method == "copy_into_location":
        if method == "copy_into_location":
            target = argument(node, 0, "location")
        else:
            target = argument(node, 1, "stage_location")
        stage = stage_of(text(target) or "")
        return [("stage", stage, WRITE)] if stage else []
    if (method in {"get", "get_stream"} and "file" in chain) or ("read" in chain and sessionish):
        stage = stage_of(text(first) or "")
        return [("stage", stage, READ)] if stage else []
    return []
