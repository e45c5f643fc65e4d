"""Which privileges the session's roles hold for a job: primary, secondary and database roles -> `Grants`.

Read-only, through account.py's `_Discovery` (every statement SHOW/SELECT, identifiers validated and quoted,
failures become notes). Facts it follows (research snowflake-facts.md §5.6, mljobs-api.md §10.8):
- USAGE counts from any active role: the primary role, the secondary roles (CURRENT_SECONDARY_ROLES(); users'
  DEFAULT_SECONDARY_ROLES is ('ALL') since the 2024_08 behavior bundle) and everything they inherit,
  including database roles (`granted_on = DATABASE_ROLE`, followed with SHOW GRANTS TO DATABASE ROLE);
- CREATE SERVICE / CREATE STAGE count from the primary role's hierarchy only: "authorization to execute
  CREATE <object> statements to create objects is provided by the primary role" (docs "USE SECONDARY ROLES");
- when the secondary roles or part of a hierarchy cannot be read, `Grants` says so (`secondary_roles=None`,
  `complete=False`), and preflight turns a USAGE grant not found into a warning instead of a refusal.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable

from mljobs.skill.facts import ComputePool, ExternalAccessIntegration, Grants
from mljobs.skill.identifiers import InvalidIdentifier, quote

from .account import _Discovery, _Unavailable, plain_qualified_name, split_list

MAX_ROLE_DEPTH = 6  # role-hierarchy levels followed from the current role
MAX_ROLES = 50  # roles inspected at most (SHOW GRANTS TO ROLE is one statement each)
USAGE_PRIVILEGES = frozenset({"USAGE", "OWNERSHIP"})


def read_grants(
    d: _Discovery,
    role: str | None,
    db: str | None,
    sch: str | None,
    pools: tuple[ComputePool, ...],
    eais: tuple[ExternalAccessIntegration, ...],
) -> tuple[Grants, tuple[ComputePool, ...]]:
    """The job-relevant privileges of the session's roles, and the pools with their `has_usage` filled in."""
    return _grants(d, _roles(d, role), role, db, sch, pools, eais)


@dataclasses.dataclass(frozen=True, slots=True)
class _Roles:
    """The roles whose grants count for this session.

    `primary`: the current role, every role it inherits (account roles and database roles, the latter as
    `DB.NAME`) and PUBLIC. `secondary`: the same for the active secondary roles; None when they could not be
    read. Since the 2024_08 behavior bundle a user's DEFAULT_SECONDARY_ROLES is ('ALL'), so privileges of any
    role granted to the user count for USAGE; CREATE <object> is authorized by the primary role alone (docs
    "USE SECONDARY ROLES"). `complete`: every hierarchy was read to the end (no failure, no cap reached).
    """

    primary: frozenset[str]
    secondary: frozenset[str] | None
    secondary_names: tuple[str, ...] | None
    complete: bool

    @property
    def any(self) -> frozenset[str]:
        return self.primary | (self.secondary or frozenset())


def _roles(d: _Discovery, role: str | None) -> _Roles | None:
    """Primary and secondary role hierarchies; None when the current role is unknown."""
    if role is None:
        d.note("the current role is unknown: privileges were not checked")
        return None
    primary, complete = _hierarchy(d, [role])
    names = _secondary_role_names(d)
    if names is None:
        return _Roles(primary, None, None, complete)
    others = [n for n in names if n not in primary]
    secondary, secondary_complete = _hierarchy(d, others) if others else (frozenset({"PUBLIC"}), True)
    return _Roles(primary, secondary, names, complete and secondary_complete)


def _secondary_role_names(d: _Discovery) -> tuple[str, ...] | None:
    """The active secondary roles from CURRENT_SECONDARY_ROLES(); None (with a note) when unknown.

    The function returns a JSON object such as `{"roles":"ROLE1,ROLE2","value":"ALL"}`: `roles` lists the
    activated roles granted directly to the user (docs "CURRENT_SECONDARY_ROLES"); their own hierarchies
    are followed like the primary role's.
    """
    consequence = ("privileges held only through secondary roles are unknown, so a missing USAGE grant is "
                   "reported as a warning, not a refusal")
    try:
        rows = d.query("SELECT CURRENT_SECONDARY_ROLES() AS SECONDARY_ROLES", what="SELECT CURRENT_SECONDARY_ROLES()",
                       consequence=consequence)  # fmt: skip
    except _Unavailable:
        return None
    raw = next(iter(rows[0].values()), None) if rows else None
    try:
        data = json.loads(str(raw)) if raw is not None else None
    except ValueError:
        data = None
    if not isinstance(data, dict):
        d.note(f"CURRENT_SECONDARY_ROLES() returned {str(raw)[:80]!r}, not the documented JSON object; {consequence}")
        return None
    names = []
    for item in split_list(data.get("roles") or ""):
        name = d.safe(item, "secondary role")
        if name is not None and name not in names:
            names.append(name)
    return tuple(names)


def _hierarchy(d: _Discovery, start: list[str]) -> tuple[frozenset[str], bool]:
    """`start`, every role it inherits (depth and count bounded) and PUBLIC; and whether that is complete.

    Account roles appear by name, database roles as `DB.NAME` (`SHOW GRANTS TO ROLE` lists a granted
    database role with `granted_on = DATABASE_ROLE`; grants to database roles count like any other).
    """
    seen = set(start)
    frontier = list(start)
    complete = True
    for _depth in range(MAX_ROLE_DEPTH):
        next_frontier = []
        for current in frontier:
            is_db_role = "." in current
            kind = "DATABASE ROLE" if is_db_role else "ROLE"
            try:
                rows = d.query(f"SHOW GRANTS TO {kind} {quote(current)}", what=f"SHOW GRANTS TO {kind} {current}",
                               consequence="privileges inherited through it are not counted")  # fmt: skip
            except _Unavailable:
                complete = False
                continue
            for row in rows:
                on = str(row.get("granted_on") or "").upper()
                if on not in ("ROLE", "DATABASE_ROLE") or str(row.get("privilege") or "").upper() != "USAGE":
                    continue
                child = _granted_role(d, str(row.get("name") or ""), on, current if is_db_role else None)
                if child and child not in seen:
                    if len(seen) >= MAX_ROLES:
                        d.note(f"role hierarchy has more than {MAX_ROLES} roles; the rest were not followed")
                        return frozenset(seen | {"PUBLIC"}), False
                    seen.add(child)
                    next_frontier.append(child)
        frontier = next_frontier
        if not frontier:
            break
    else:
        if frontier:
            d.note(f"role hierarchy deeper than {MAX_ROLE_DEPTH} levels; deeper roles were not followed")
            complete = False
    return frozenset(seen | {"PUBLIC"}), complete


def _granted_role(d: _Discovery, name: str, granted_on: str, parent_db_role: str | None) -> str | None:
    """A role named in a grant row: an account role, or a database role qualified as `DB.NAME`."""
    if granted_on == "ROLE":
        return d.safe(name, "role")
    qualified = d.safe(name, "database role", qualified=True)
    if qualified is None:
        return None
    if "." not in qualified and parent_db_role:  # a database role granted to one of the same database
        qualified = f"{parent_db_role.split('.', 1)[0]}.{qualified}"
    return qualified if qualified.count(".") == 1 else None


def _privileges(d: _Discovery, kind: str, name: str) -> dict[str, set[str]] | None:
    """Privileges on one object by grantee role; None when SHOW GRANTS ON failed.

    Grants to database roles (`granted_to = DATABASE_ROLE`) count; their grantee is keyed qualified
    (`DB.NAME`) and, when shown bare, qualified with the object's database.
    """
    try:
        rows = d.query(f"SHOW GRANTS ON {kind} {quote(name)}", what=f"SHOW GRANTS ON {kind} {name}",
                       consequence="that privilege is reported as unknown")  # fmt: skip
    except _Unavailable:
        return None
    by_grantee: dict[str, set[str]] = {}
    object_db = name.split(".", 1)[0] if kind in ("DATABASE", "SCHEMA") else None
    for row in rows:
        granted_to = str(row.get("granted_to") or "ROLE").upper()
        grantee = str(row.get("grantee_name") or "").upper()
        if granted_to == "DATABASE_ROLE":
            grantee = _plain(grantee)
            if "." not in grantee and object_db:
                grantee = f"{object_db}.{grantee}"
        elif granted_to != "ROLE":
            continue
        by_grantee.setdefault(grantee, set()).add(str(row.get("privilege") or "").upper())
    return by_grantee


def _held(by_grantee: dict[str, set[str]] | None, roles: frozenset[str]) -> set[str] | None:
    if by_grantee is None:
        return None
    return {p for grantee, privileges in by_grantee.items() if grantee in roles for p in privileges}


def _plain(name: str) -> str:
    try:
        return plain_qualified_name(name)
    except InvalidIdentifier:
        return name


def _has(held: set[str] | None, wanted: Iterable[str]) -> bool | None:
    if held is None:
        return None
    return bool(held & (set(wanted) | {"OWNERSHIP"}))


def _grants(
    d: _Discovery,
    roles: _Roles | None,
    role: str | None,
    db: str | None,
    sch: str | None,
    pools: tuple[ComputePool, ...],
    eais: tuple[ExternalAccessIntegration, ...],
) -> tuple[Grants, tuple[ComputePool, ...]]:
    """USAGE from any active role (primary or secondary); CREATE SERVICE / CREATE STAGE from the primary only."""
    if roles is None:
        return Grants(role=role, secondary_roles=None, complete=False), pools
    usable = roles.any
    db_held = _held(_privileges(d, "DATABASE", db), usable) if db else None
    schema_grants = _privileges(d, "SCHEMA", f"{db}.{sch}") if db and sch else None
    schema_held, schema_primary = _held(schema_grants, usable), _held(schema_grants, roles.primary)

    pool_usage: list[str] = []
    pool_unknown = False
    updated_pools = []
    for pool in pools:
        has = _has(_held(_privileges(d, "COMPUTE POOL", pool.name), usable), USAGE_PRIVILEGES)
        pool_unknown |= has is None
        if has:
            pool_usage.append(pool.name)
        updated_pools.append(_replace_pool(pool, has))
    eai_usage: list[str] = []
    eai_unknown = False
    for eai in eais:
        has = _has(_held(_privileges(d, "INTEGRATION", eai.name), usable), USAGE_PRIVILEGES)
        eai_unknown |= has is None
        if has:
            eai_usage.append(eai.name)
    grants = Grants(
        role=role,
        database_usage=_has(db_held, {"USAGE"}),
        schema_usage=_has(schema_held, {"USAGE"}),
        create_service=_has(schema_primary, {"CREATE SERVICE"}),
        create_stage=_has(schema_primary, {"CREATE STAGE"}),
        pool_usage=None if pool_unknown and not pool_usage else tuple(pool_usage),
        eai_usage=None if eai_unknown and not eai_usage else tuple(eai_usage),
        secondary_roles=roles.secondary_names,
        complete=roles.complete,
    )
    return grants, tuple(updated_pools)


def _replace_pool(pool: ComputePool, has_usage: bool | None) -> ComputePool:
    return dataclasses.replace(pool, has_usage=has_usage)
