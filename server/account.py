"""Read-only discovery of what a Snowflake account offers a job -> `AccountFacts`.

Only SHOW, DESC(RIBE) and SELECT statements are sent (`_query` refuses anything else). Every identifier that
reaches SQL text is validated and quoted through `skill/identifiers.py`; values go as bind parameters. A
name the account returns that is not a plain identifier (it could carry `"; DROP ...`) is never put into SQL:
the object is skipped with a note. Each statement that fails becomes a note in `AccountFacts.notes` and the
corresponding fact stays "unknown" (None), never a crash.

Sources: research snowflake-facts.md §1 (SHOW COMPUTE POOLS columns, states), §3 (EAIs, network rules and
why DESC NETWORK RULE fails on SNOWFLAKE.* rules), mljobs-api.md §10.9 (GPU memory per GPU). Roles and
grants are read by server/grants.py with the same machinery.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Callable
from typing import Any, TypeVar

from mljobs.skill.facts import (
    AccountFacts,
    ComputePool,
    ExternalAccessIntegration,
    FamilyKind,
    InstanceFamily,
    NetworkRuleInfo,
    Stage,
)
from mljobs.skill.identifiers import InvalidIdentifier, quote, validate_identifier, validate_qualified
from mljobs.skill.redact import redact

from .errors import UsageError

log = logging.getLogger(__name__)

T = TypeVar("T")
Retry = Callable[[Callable[[], T]], T]

READ_ONLY_PREFIXES = ("SHOW ", "DESC ", "DESCRIBE ", "SELECT ")
_TRUE = {"true", "t", "yes", "y", "1", "on"}
_FALSE = {"false", "f", "no", "n", "0", "off"}
CLOUDS = ("aws", "azure", "gcp")


class _Unavailable(Exception):
    """A discovery statement failed; the note has been recorded."""


def _no_retry(call: Callable[[], T]) -> T:
    return call()


def _bool(value: Any, default: bool | None = None) -> bool | None:
    """SHOW output spells booleans as true/false strings (sometimes Y/N); real bools pass through."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower() if value is not None else ""
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return default


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return default


def _float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _unquote_context(value: str | None) -> str | None:
    """`'"ML_DB"'` (how Snowpark reports the current database) -> `ML_DB`."""
    if not value:
        return None
    text = value.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1].replace('""', '"')
    return text or None


def _row_dict(row: Any) -> dict[str, Any]:
    data = row.as_dict() if hasattr(row, "as_dict") else dict(row)
    return {str(k).strip('"').lower(): v for k, v in data.items()}


def split_list(text: Any) -> list[str]:
    """`[A.B.C, "X"."Y"."Z"]`, `a.com,b.com`, `['a.com']` or a JSON list -> items, quotes kept inside names."""
    if text is None:
        return []
    if isinstance(text, (list, tuple)):
        return [str(t).strip() for t in text if str(t).strip()]
    body = str(text).strip()
    if body.startswith("[") and body.endswith("]"):
        body = body[1:-1]
    items = re.findall(r'(?:"(?:[^"]|"")*"|[^,"])+', body)
    out = []
    for item in items:
        item = item.strip()
        if len(item) >= 2 and item[0] == item[-1] and item[0] in "'`":
            item = item[1:-1].strip()
        if item:
            out.append(item)
    return out


def plain_qualified_name(text: str) -> str:
    """`"DB"."S"."R"` or `db.s.r` -> `DB.S.R`, accepting quotes only around parts that are plain upper-case.

    Raises:
        InvalidIdentifier: a part is not a plain identifier, or is quoted and case-sensitive (lower-case).
    """
    parts = re.findall(r'"((?:[^"]|"")*)"|([^."]+)', text.strip())
    if not parts:
        raise InvalidIdentifier(f"name {text!r} is empty")
    names = []
    for quoted, plain in parts:
        if quoted:
            if quoted != quoted.upper():
                raise InvalidIdentifier(f"name {text!r} has a case-sensitive (quoted lower-case) part")
            names.append(quoted)
        else:
            names.append(plain.strip())
    return validate_qualified(".".join(names), "name")


class _Discovery:
    def __init__(self, session: Any, retry: Retry[Any]) -> None:
        self.session = session
        self.retry = retry
        self.notes: list[str] = []

    def note(self, text: str) -> None:
        self.notes.append(redact(text))
        log.info("discovery: %s", text)

    def query(self, sql: str, params: list[Any] | None = None, *, what: str, consequence: str) -> list[dict[str, Any]]:
        """Run one read-only statement and return its rows as lower-cased dicts.

        Raises:
            _Unavailable: the statement failed (a note saying what and its consequence was recorded).
        """
        if not sql.upper().startswith(READ_ONLY_PREFIXES):  # a programming error, never user input
            raise ValueError(f"discovery may only read; refused: {sql[:40]}")
        try:
            rows = self.retry(lambda: self.session.sql(sql, params=params).collect() if params
                              else self.session.sql(sql).collect())  # fmt: skip
        except Exception as exc:  # each failure becomes a note, whatever the driver raised
            code = getattr(exc, "sql_error_code", None) or getattr(exc, "errno", None)
            message = (getattr(exc, "message", None) or str(exc)).strip().splitlines()
            detail = " ".join(line.strip() for line in message if line.strip())[:300] or type(exc).__name__
            self.note(f"{what} failed ({f'{code}: ' if code else ''}{detail}); {consequence}")
            raise _Unavailable(what) from exc
        return [_row_dict(r) for r in rows]

    def safe(self, value: str, what: str, *, qualified: bool = False) -> str | None:
        """The validated (upper-cased) name, or None with a note when it is not a plain identifier."""
        try:
            return plain_qualified_name(value) if qualified else validate_identifier(value, what)
        except InvalidIdentifier as exc:
            self.note(f"skipped {what} {value!r}: {exc}; mljobs only uses plain identifiers")
            return None


def discover(
    session: Any,
    *,
    database: str | None = None,
    schema: str | None = None,
    retry: Retry[Any] | None = None,
    client_python: str | None = None,
) -> AccountFacts:
    """Read pools, instance families, EAIs (with their network rules), stages and grants from the account.

    Args:
        session: an open Snowpark session (or anything with `.sql(q, params=).collect()` and `get_current_*`).
        database, schema: where stages live and which grants matter; default: the session's current ones.
        retry: wraps each statement (the backend passes its transient-error retry); default: run once.
        client_python: "major.minor" that will submit; default: this interpreter.

    Returns:
        AccountFacts; everything that could not be read is None/empty and explained in `notes`.

    Raises:
        UsageError: `database` or `schema` was given and is not a plain identifier (nothing was executed).
    """
    try:
        db = validate_identifier(database, "database") if database else None
        sch = validate_identifier(schema, "schema") if schema else None
    except InvalidIdentifier as exc:
        raise UsageError(f"{exc}. Pass the name without quotes or special characters.") from exc
    d = _Discovery(session, retry or _no_retry)
    db = db or _context_name(d, session, "get_current_database", "database")
    sch = sch or _context_name(d, session, "get_current_schema", "schema")
    warehouse = _unquote_context(_call(session, "get_current_warehouse"))
    role = _context_name(d, session, "get_current_role", "role")
    if not db or not sch:
        d.note("no current database/schema: stages and schema grants were not read; pass database and schema")

    cloud = _cloud(d)
    pools = _pools(d)
    families = _families(d, cloud)
    eais = _eais(d)
    stages = _stages(d, db, sch) if db and sch else ()
    from .grants import read_grants  # roles and grants build on this module's _Discovery

    grants, pools = read_grants(d, role, db, sch, pools, eais)
    return AccountFacts(
        backend="snowflake", database=db, schema=sch, warehouse=warehouse, role=role, pools=pools,
        families=families, eais=eais, stages=stages, grants=grants, cloud=cloud,
        client_python=client_python or f"{sys.version_info.major}.{sys.version_info.minor}", notes=tuple(d.notes),
    )  # fmt: skip


def _call(session: Any, method: str) -> str | None:
    try:
        return getattr(session, method)()
    except Exception as exc:  # a context getter that fails means "unknown", never a crash
        log.info("%s failed: %s", method, exc)
        return None


def _context_name(d: _Discovery, session: Any, method: str, what: str) -> str | None:
    value = _unquote_context(_call(session, method))
    if value is None:
        return None
    return d.safe(value, f"current {what}")


def _cloud(d: _Discovery) -> str | None:
    try:
        rows = d.query("SELECT CURRENT_REGION() AS REGION", what="SELECT CURRENT_REGION()",
                       consequence="the cloud is unknown, so instance families of every cloud are listed")  # fmt: skip
    except _Unavailable:
        return None
    region = str(next(iter(rows[0].values()), "") or "") if rows else ""
    cloud = region.lower().rsplit(".", 1)[-1].split("_", 1)[0]
    return cloud if cloud in CLOUDS else None


def _pools(d: _Discovery) -> tuple[ComputePool, ...]:
    try:
        rows = d.query("SHOW COMPUTE POOLS", what="SHOW COMPUTE POOLS",
                       consequence="no compute pools are known; name one explicitly")  # fmt: skip
    except _Unavailable:
        return ()
    pools = []
    for row in rows:
        name = d.safe(str(row.get("name") or ""), "compute pool")
        if name is None:
            continue
        if _bool(row.get("is_exclusive"), False):
            d.note(f"skipped compute pool {name}: it is exclusive to a Native App ({row.get('application')})")
            continue
        max_nodes = max(_int(row.get("max_nodes"), 1), 1)
        pools.append(ComputePool(
            name=name, state=str(row.get("state") or "UNKNOWN").upper(),
            instance_family=str(row.get("instance_family") or "UNKNOWN").upper(),
            min_nodes=_int(row.get("min_nodes"), 1), max_nodes=max_nodes,
            active_nodes=_int(row.get("active_nodes")), idle_nodes=_int(row.get("idle_nodes")),
            target_nodes=_int(row.get("target_nodes")), num_jobs=_int(row.get("num_jobs")),
            auto_resume=bool(_bool(row.get("auto_resume"), True)), owner=_text(row.get("owner")),
            comment=_text(row.get("comment")), is_system=name.startswith("SYSTEM_COMPUTE_POOL"),
        ))  # fmt: skip
    return tuple(pools)


def _family_kind(name: str, gpu_count: int) -> FamilyKind:
    upper = name.upper()
    if gpu_count > 0:
        return FamilyKind.GPU
    if "ARM" in upper.split("_"):
        return FamilyKind.ARM
    if upper.startswith(("HIGHMEM", "MEM_")):
        return FamilyKind.HIGHMEM
    return FamilyKind.CPU


def _families(d: _Discovery, cloud: str | None) -> tuple[InstanceFamily, ...]:
    try:
        rows = d.query("SHOW COMPUTE POOL INSTANCE FAMILIES", what="SHOW COMPUTE POOL INSTANCE FAMILIES",
                       consequence="instance-family shapes come from the documented table")  # fmt: skip
    except _Unavailable:
        rows = []
    live = []
    for row in rows:
        name = str(row.get("name") or "").upper()
        vcpu, memory = _float(row.get("vcpu")), _float(row.get("memory_gib"))
        if not name or vcpu is None or memory is None:
            continue
        gpu_count = _int(row.get("gpu_count"))
        live.append(InstanceFamily(
            name=name, vcpu=vcpu, memory_gib=memory, gpu_count=gpu_count,
            gpu_type=_text(row.get("gpu")) if gpu_count else None,
            gpu_memory_gib=_node_gpu_memory(row.get("gpu_memory_gib"), gpu_count),
            kind=_family_kind(name, gpu_count), source="account",
        ))  # fmt: skip
    if live:
        return tuple(live)
    from mljobs.skill.families import family_table  # the documented table, only when the account gave nothing

    return tuple(family_table(cloud).values())


def _node_gpu_memory(per_gpu: Any, gpu_count: int) -> float | None:
    """GPU memory of one node: SHOW COMPUTE POOL INSTANCE FAMILIES reports `gpu_memory_gib` per GPU
    (research mljobs-api.md §10.9), while `InstanceFamily.gpu_memory_gib` is the node total, as in the docs'
    instance-family tables that skill/data/instance_families.yaml transcribes."""
    value = _float(per_gpu)
    if not gpu_count or value is None:
        return None
    return value * gpu_count


def _eais(d: _Discovery) -> tuple[ExternalAccessIntegration, ...]:
    try:
        rows = d.query("SHOW EXTERNAL ACCESS INTEGRATIONS", what="SHOW EXTERNAL ACCESS INTEGRATIONS",
                       consequence="no external access integrations are known")  # fmt: skip
    except _Unavailable:
        return ()
    rule_cache: dict[str, NetworkRuleInfo] = {}
    out = []
    for row in rows:
        name = d.safe(str(row.get("name") or ""), "external access integration")
        if name is None:
            continue
        enabled = _bool(row.get("enabled"), True)
        comment = _text(row.get("comment"))
        try:
            props = d.query(f"DESC INTEGRATION {quote(name)}", what=f"DESC INTEGRATION {name}",
                            consequence=f"the hosts {name} allows are unknown")  # fmt: skip
        except _Unavailable:
            out.append(ExternalAccessIntegration(name, bool(enabled), (), comment, described=False))
            continue
        by_prop = {str(p.get("property") or "").upper(): p.get("property_value") for p in props}
        enabled = _bool(by_prop.get("ENABLED"), enabled)
        rules = tuple(_rule(d, r, rule_cache) for r in split_list(by_prop.get("ALLOWED_NETWORK_RULES")))
        out.append(ExternalAccessIntegration(name, bool(enabled), rules, comment, described=True))
    return tuple(out)


def _rule(d: _Discovery, raw_name: str, cache: dict[str, NetworkRuleInfo]) -> NetworkRuleInfo:
    try:
        name = plain_qualified_name(raw_name)
    except InvalidIdentifier as exc:
        d.note(f"network rule {raw_name!r} was not read: {exc}")
        return NetworkRuleInfo(raw_name, None, source="desc", unreadable_reason=f"not a plain identifier: {exc}")
    if name in cache:
        return cache[name]
    from mljobs.skill.eai import builtin_rules  # Snowflake-managed rules: DESC is impossible (needs OWNERSHIP)

    builtin = builtin_rules().get(name)
    if builtin is not None:
        info = NetworkRuleInfo(name, tuple(builtin), source="builtin")
    else:
        info = _described_rule(d, name)
    cache[name] = info
    return info


def _described_rule(d: _Discovery, name: str) -> NetworkRuleInfo:
    reasons = []
    try:
        rows = d.query(f"DESC NETWORK RULE {quote(name)}", what=f"DESC NETWORK RULE {name}",
                       consequence="trying SNOWFLAKE.ACCOUNT_USAGE.NETWORK_RULES")  # fmt: skip
        if rows:
            row = rows[0]
            return NetworkRuleInfo(name, tuple(split_list(row.get("value_list"))),
                                   type=str(row.get("type") or "HOST_PORT").upper(),
                                   mode=str(row.get("mode") or "EGRESS").upper(), source="desc")  # fmt: skip
        reasons.append("DESC NETWORK RULE returned nothing")
    except _Unavailable:
        reasons.append("DESC NETWORK RULE needs OWNERSHIP of the rule")
    parts = name.split(".")
    if len(parts) == 3:
        try:
            rows = d.query(
                "SELECT VALUE_LIST, TYPE, MODE FROM SNOWFLAKE.ACCOUNT_USAGE.NETWORK_RULES WHERE DATABASE_NAME = ? "
                "AND SCHEMA_NAME = ? AND NAME = ? AND DELETED IS NULL",
                parts, what=f"SNOWFLAKE.ACCOUNT_USAGE.NETWORK_RULES for {name}",
                consequence=f"the hosts of {name} are unknown",
            )  # fmt: skip
            if rows:
                row = rows[0]
                return NetworkRuleInfo(name, tuple(split_list(row.get("value_list"))),
                                       type=str(row.get("type") or "HOST_PORT").upper(),
                                       mode=str(row.get("mode") or "EGRESS").upper(),
                                       source="account_usage")  # fmt: skip
            reasons.append("not in SNOWFLAKE.ACCOUNT_USAGE.NETWORK_RULES (up to 2 h latency, or no access)")
        except _Unavailable:
            reasons.append("SNOWFLAKE.ACCOUNT_USAGE is not readable by this role")
    return NetworkRuleInfo(name, None, source="desc", unreadable_reason="; ".join(reasons))


def _stages(d: _Discovery, db: str, sch: str) -> tuple[Stage, ...]:
    try:
        rows = d.query(f"SHOW STAGES IN SCHEMA {quote(f'{db}.{sch}')}", what=f"SHOW STAGES IN SCHEMA {db}.{sch}",
                       consequence="existing stages are unknown; the job's stage will be created if missing")  # fmt: skip
    except _Unavailable:
        return ()
    out = []
    for row in rows:
        name = d.safe(str(row.get("name") or ""), "stage")
        if name is None:
            continue
        stage_db = _text(row.get("database_name")) or db
        stage_schema = _text(row.get("schema_name")) or sch
        kind = str(row.get("type") or "INTERNAL").upper()
        out.append(Stage(f"{stage_db}.{stage_schema}.{name}", kind))
    return tuple(out)
