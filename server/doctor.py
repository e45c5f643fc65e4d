"""Account doctor: read-only checks of what an ML Job needs from a Snowflake account, each with its fix as SQL
split by who runs it (the user, or an admin). Nothing here executes a fix.

Checks (sources: research snowflake-facts.md §1.3 pool states, §3 EAIs, §5.4 logs, §5.6 privileges, §5.7
image repository; mljobs-api.md §10.6 logs outlive the container only in an event table; Snowflake docs
"Snowpark Container Services: Additional considerations for services": a service's owner role cannot be
a privileged role such as ACCOUNTADMIN or SECURITYADMIN):

  role.privileged      the role that would own the job is not ACCOUNTADMIN / SECURITYADMIN / ORGADMIN
  schema.grants        USAGE on database and schema, CREATE SERVICE (and CREATE STAGE) on the schema
  pool.usable          the pool is visible (USAGE), not suspended without AUTO_RESUME, not stuck
  pool.max_nodes       MAX_NODES >= the job's target instances
  eai.usage            each EAI the job names is visible (USAGE) and enabled; a PyPI EAI exists for pip
  image_repository     at least one image repository (a legacy requirement; the error text when missing)
  event_table          an account event table, so logs survive the container and the pool
  warehouse            a usable warehouse when the code runs Snowpark SQL
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from mljobs.skill.facts import AccountFacts, ComputePool
from mljobs.skill.identifiers import InvalidIdentifier, validate_identifier
from mljobs.skill.redact import redact

from .account import READ_ONLY_PREFIXES, discover

log = logging.getLogger(__name__)

PRIVILEGED_ROLES = frozenset({"ACCOUNTADMIN", "SECURITYADMIN", "ORGADMIN"})
PYPI_RULE = "SNOWFLAKE.EXTERNAL_ACCESS.PYPI_RULE"
DEFAULT_EVENT_TABLE = "SNOWFLAKE.TELEMETRY.EVENTS"


class Who(str, enum.Enum):
    USER = "user"  # the person submitting, with their own role
    ADMIN = "admin"  # someone with the owning or a MANAGE GRANTS role


class CheckStatus(str, enum.Enum):
    OK = "ok"
    WARNING = "warning"  # the job runs, but something will hurt (cold start, lost logs)
    ERROR = "error"  # the job cannot be submitted or will fail
    UNKNOWN = "unknown"  # the role could not read what the check needs


@dataclass(frozen=True, slots=True)
class Fix:
    """SQL for one party to run; mljobs only proposes it."""

    who: Who
    sql: tuple[str, ...]
    note: str = ""


@dataclass(frozen=True, slots=True)
class DoctorCheck:
    code: str
    title: str
    status: CheckStatus
    detail: str
    fixes: tuple[Fix, ...] = ()


@dataclass(frozen=True, slots=True)
class DoctorReport:
    """Every check, in a fixed order, plus what discovery could not read."""

    role: str | None
    checks: tuple[DoctorCheck, ...]
    notes: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not any(c.status is CheckStatus.ERROR for c in self.checks)

    def render(self) -> str:
        """The report as a person reads it: one line per check, then the fixes grouped by who runs them."""
        marks = {CheckStatus.OK: "ok  ", CheckStatus.WARNING: "warn", CheckStatus.ERROR: "FAIL",
                 CheckStatus.UNKNOWN: "??  "}
        lines = [f"mljobs doctor (role {self.role or 'unknown'})", ""]
        for c in self.checks:
            lines.append(f"  [{marks[c.status]}] {c.title}: {redact(c.detail)}")
        for who in Who:
            fixes = [(c, f) for c in self.checks for f in c.fixes if f.who is who and c.status is not CheckStatus.OK]
            if not fixes:
                continue
            lines += ["", "You can run:" if who is Who.USER else "An admin must run (proposed, never executed):"]
            for check, fix in fixes:
                lines.append(f"  -- {check.code}" + (f": {fix.note}" if fix.note else ""))
                lines.extend(f"  {sql};" for sql in fix.sql)
        lines.extend(["", *(f"Note: {n}" for n in self.notes)] if self.notes else [])
        return "\n".join(lines) + "\n"


class _Reader:
    """Runs the doctor's own read-only statements; a failure is None plus a note, never an exception."""

    def __init__(self, session: Any) -> None:
        self.session = session
        self.notes: list[str] = []

    def rows(self, sql: str, what: str) -> list[dict[str, Any]] | None:
        if not sql.upper().startswith(READ_ONLY_PREFIXES):  # programming error, never user input
            raise ValueError(f"the doctor only reads; refused: {sql[:40]}")
        try:
            rows = self.session.sql(sql).collect()
        except Exception as exc:  # each failure is a note: the check becomes "unknown"
            self.notes.append(redact(f"{what} failed: {' '.join(str(exc).split())[:200]}"))
            return None
        out = []
        for row in rows:
            data = row.as_dict() if hasattr(row, "as_dict") else dict(row)
            out.append({str(k).strip('"').lower(): v for k, v in data.items()})
        return out


def _ident(value: str | None, placeholder: str) -> str:
    """A validated identifier for proposed SQL, or a placeholder the person fills in."""
    try:
        return validate_identifier(value, "name") if value else placeholder
    except InvalidIdentifier:
        return placeholder


def _role_check(role: str | None, facts: AccountFacts, user: str) -> DoctorCheck:
    title = "role that owns the job"
    if role is None:
        return DoctorCheck("role.privileged", title, CheckStatus.UNKNOWN, "the current role could not be read")
    if role.upper() in PRIVILEGED_ROLES:
        db, sch = _ident(facts.database, "<DB>"), _ident(facts.schema, "<SCHEMA>")
        return DoctorCheck(
            "role.privileged", title, CheckStatus.ERROR,
            f"{role} would own the job service, and a service's owner role cannot be a privileged role "
            "(ACCOUNTADMIN, SECURITYADMIN, ORGADMIN)",
            (Fix(Who.USER, ("USE ROLE <ML_ROLE>",), "switch to a role made for ML work"),
             Fix(Who.ADMIN, ("CREATE ROLE IF NOT EXISTS ML_ENGINEER", f"GRANT USAGE ON DATABASE {db} TO ROLE ML_ENGINEER",
                             f"GRANT USAGE, CREATE SERVICE, CREATE STAGE ON SCHEMA {db}.{sch} TO ROLE ML_ENGINEER",
                             "GRANT USAGE ON COMPUTE POOL <POOL> TO ROLE ML_ENGINEER",
                             f"GRANT ROLE ML_ENGINEER TO USER {user}"),
                 "a dedicated role for ML jobs")))
    return DoctorCheck("role.privileged", title, CheckStatus.OK, f"{role} is not a privileged role")


def _schema_check(facts: AccountFacts, role: str) -> DoctorCheck:
    g = facts.grants
    title = "schema privileges"
    if not facts.database or not facts.schema:
        return DoctorCheck("schema.grants", title, CheckStatus.UNKNOWN,
                           "no current database/schema; pass --database and --schema")
    db, sch = _ident(facts.database, "<DB>"), _ident(facts.schema, "<SCHEMA>")
    missing = []
    if g.database_usage is False:
        missing.append(("USAGE on database", f"GRANT USAGE ON DATABASE {db} TO ROLE {role}"))
    if g.schema_usage is False:
        missing.append(("USAGE on schema", f"GRANT USAGE ON SCHEMA {db}.{sch} TO ROLE {role}"))
    if g.create_service is False:
        missing.append(("CREATE SERVICE", f"GRANT CREATE SERVICE ON SCHEMA {db}.{sch} TO ROLE {role}"))
    if g.create_stage is False and not facts.stages:
        missing.append(("CREATE STAGE (no stage exists for payloads)",
                        f"GRANT CREATE STAGE ON SCHEMA {db}.{sch} TO ROLE {role}"))
    if missing:
        return DoctorCheck("schema.grants", title, CheckStatus.ERROR,
                           f"{role} lacks " + ", ".join(m[0] for m in missing) + f" on {db}.{sch}",
                           (Fix(Who.ADMIN, tuple(m[1] for m in missing)),))
    if None in (g.database_usage, g.schema_usage, g.create_service):
        return DoctorCheck("schema.grants", title, CheckStatus.UNKNOWN,
                           "the grants could not all be read (secondary roles may still provide them)")
    return DoctorCheck("schema.grants", title, CheckStatus.OK, f"USAGE and CREATE SERVICE on {db}.{sch}")


def _pool_checks(facts: AccountFacts, pool_name: str | None, target: int, role: str) -> list[DoctorCheck]:
    pool: ComputePool | None
    if pool_name is None:
        ready = [p for p in facts.pools if p.state in ("ACTIVE", "IDLE", "RESIZING") or p.auto_resume]
        if not facts.pools:
            return [DoctorCheck("pool.usable", "compute pool", CheckStatus.ERROR,
                                "no compute pool is visible to this role",
                                (Fix(Who.ADMIN, (f"GRANT USAGE ON COMPUTE POOL SYSTEM_COMPUTE_POOL_CPU TO ROLE {role}",),
                                     "or any pool made for ML jobs"),))]
        pool = max(facts.pools, key=lambda p: (p in ready, p.max_nodes - p.active_nodes, p.idle_nodes))
    else:
        pool = next((p for p in facts.pools if p.name.upper() == pool_name.upper()), None)
        if pool is None:
            name = _ident(pool_name, "<POOL>")
            return [DoctorCheck("pool.usable", f"compute pool {name}", CheckStatus.ERROR,
                                f"{name} is not visible to {role} (no USAGE, MONITOR or OPERATE, or it does not exist)",
                                (Fix(Who.ADMIN, (f"GRANT USAGE ON COMPUTE POOL {name} TO ROLE {role}",)),)),
                    DoctorCheck("pool.max_nodes", f"nodes on {name}", CheckStatus.UNKNOWN, "the pool is not visible")]
    name = pool.name
    title = f"compute pool {name}"
    state = pool.state.upper()
    if state == "SUSPENDED" and not pool.auto_resume:
        usable = DoctorCheck("pool.usable", title, CheckStatus.ERROR,
                             f"{name} is SUSPENDED with AUTO_RESUME off: a job waits until someone resumes it",
                             (Fix(Who.ADMIN, (f"ALTER COMPUTE POOL {name} SET AUTO_RESUME = TRUE",
                                              f"ALTER COMPUTE POOL {name} RESUME"),
                                  "needs OPERATE or OWNERSHIP on the pool"),))
    elif state == "SUSPENDED":
        usable = DoctorCheck("pool.usable", title, CheckStatus.WARNING,
                             f"{name} is SUSPENDED with AUTO_RESUME on: the first job waits minutes for a cold start")
    elif state in ("STARTING", "STOPPING", "UNKNOWN"):
        usable = DoctorCheck("pool.usable", title, CheckStatus.WARNING, f"{name} is {state}; jobs wait until it settles")
    else:
        usable = DoctorCheck("pool.usable", title, CheckStatus.OK,
                             f"{name} is {state} ({pool.idle_nodes} idle of {pool.max_nodes} nodes, "
                             f"AUTO_RESUME {'on' if pool.auto_resume else 'off'})")
    if pool.max_nodes < target:
        nodes = DoctorCheck("pool.max_nodes", f"nodes on {name}", CheckStatus.ERROR,
                            f"MAX_NODES {pool.max_nodes} < {target} target instances: each instance takes a whole "
                            "node, so the job waits for nodes that never come",
                            (Fix(Who.USER, (), f"plan with target_instances <= {pool.max_nodes}"),
                             Fix(Who.ADMIN, (f"ALTER COMPUTE POOL {name} SET MAX_NODES = {target}",))))
    else:
        nodes = DoctorCheck("pool.max_nodes", f"nodes on {name}", CheckStatus.OK,
                            f"MAX_NODES {pool.max_nodes} >= {target} target instance(s)")
    return [usable, nodes]


def _eai_check(facts: AccountFacts, eais: Sequence[str], role: str) -> DoctorCheck:
    visible = {e.name.upper(): e for e in facts.eais}
    title = "external access integrations"
    problems, fixes = [], []
    for raw in eais:
        name = _ident(raw, "<EAI>")
        eai = visible.get(name)
        granted = facts.grants.eai_usage
        if eai is None or (granted is not None and name not in {g.upper() for g in granted}):
            problems.append(f"{name} is not usable by {role} (no USAGE)")
            fixes.append(f"GRANT USAGE ON INTEGRATION {name} TO ROLE {role}")
        elif not eai.enabled:
            problems.append(f"{name} is disabled")
            fixes.append(f"ALTER EXTERNAL ACCESS INTEGRATION {name} SET ENABLED = TRUE")
    if problems:
        return DoctorCheck("eai.usage", title, CheckStatus.ERROR, "; ".join(problems),
                           (Fix(Who.ADMIN, tuple(fixes)),))
    pypi = [e.name for e in facts.eais if e.enabled and any(r.name.upper() == PYPI_RULE for r in e.rules)]
    if not eais and not pypi:
        return DoctorCheck(
            "eai.usage", title, CheckStatus.WARNING,
            "no enabled EAI with SNOWFLAKE.EXTERNAL_ACCESS.PYPI_RULE is usable: jobs that pip install fail at start",
            (Fix(Who.USER, (), "or use artifact_repositories=['snowflake.snowpark.pypi_shared_repository']"),
             Fix(Who.ADMIN, (f"CREATE EXTERNAL ACCESS INTEGRATION IF NOT EXISTS PYPI_EAI ALLOWED_NETWORK_RULES = "
                             f"({PYPI_RULE}) ENABLED = TRUE", f"GRANT USAGE ON INTEGRATION PYPI_EAI TO ROLE {role}"))))
    named = ", ".join(_ident(e, "<EAI>") for e in eais) or ", ".join(pypi)
    return DoctorCheck("eai.usage", title, CheckStatus.OK, f"usable and enabled: {named}")


def _image_repository_check(reader: _Reader, facts: AccountFacts) -> DoctorCheck:
    title = "image repository"
    rows = reader.rows("SHOW IMAGE REPOSITORIES IN ACCOUNT", "SHOW IMAGE REPOSITORIES")
    if rows is None:
        return DoctorCheck("image_repository", title, CheckStatus.UNKNOWN, "image repositories could not be listed")
    if rows:
        return DoctorCheck("image_repository", title, CheckStatus.OK, f"{len(rows)} visible (e.g. {rows[0].get('name')})")
    db, sch = _ident(facts.database, "<DB>"), _ident(facts.schema, "<SCHEMA>")
    role = _ident(facts.role, "<ROLE>")
    return DoctorCheck(
        "image_repository", title, CheckStatus.WARNING,
        "none visible: accounts without one have seen 'Failed to retrieve image ... from the image repository'",
        (Fix(Who.USER, (f"CREATE IMAGE REPOSITORY IF NOT EXISTS {db}.{sch}.MLJOBS_IMAGES",),
             "needs CREATE IMAGE REPOSITORY on the schema"),
         Fix(Who.ADMIN, (f"GRANT CREATE IMAGE REPOSITORY ON SCHEMA {db}.{sch} TO ROLE {role}",))))


def _event_table_check(reader: _Reader) -> DoctorCheck:
    title = "event table for logs"
    rows = reader.rows("SHOW PARAMETERS LIKE 'EVENT_TABLE' IN ACCOUNT", "SHOW PARAMETERS LIKE 'EVENT_TABLE'")
    if rows is None:
        return DoctorCheck("event_table", title, CheckStatus.UNKNOWN, "the account parameter could not be read")
    value = next((str(r.get("value") or "").strip() for r in rows if str(r.get("key", "")).upper() == "EVENT_TABLE"), "")
    if value and value.upper() != "NONE":
        return DoctorCheck("event_table", title, CheckStatus.OK, f"logs are kept in {value}")
    return DoctorCheck(
        "event_table", title, CheckStatus.WARNING,
        "no account event table: job logs can be read only while the container exists (at most ~100 KB), "
        "and are gone once the pool suspends or the job is deleted",
        (Fix(Who.ADMIN, (f"ALTER ACCOUNT SET EVENT_TABLE = {DEFAULT_EVENT_TABLE}",),
             "or an event table of your own"),))


def _warehouse_check(reader: _Reader, facts: AccountFacts, uses_snowpark: bool | None, role: str) -> DoctorCheck:
    title = "warehouse for Snowpark SQL"
    if uses_snowpark is False:
        return DoctorCheck("warehouse", title, CheckStatus.OK, "the code runs no Snowpark SQL")
    if facts.warehouse:
        return DoctorCheck("warehouse", title, CheckStatus.OK, f"{facts.warehouse} (jobs default to it)")
    rows = reader.rows("SHOW WAREHOUSES", "SHOW WAREHOUSES") or []
    names = [str(r.get("name")) for r in rows if r.get("name")]
    status = CheckStatus.ERROR if uses_snowpark else CheckStatus.WARNING
    why = "the code uses a Snowpark session" if uses_snowpark else "code that runs Snowpark SQL would fail"
    if names:
        wh = _ident(names[0], "<WAREHOUSE>")
        return DoctorCheck("warehouse", title, status, f"no current warehouse and {why}",
                           (Fix(Who.USER, (f"USE WAREHOUSE {wh}",), "or plan with --query-warehouse"),))
    return DoctorCheck("warehouse", title, status, f"no warehouse is usable by {role} and {why}",
                       (Fix(Who.ADMIN, (f"GRANT USAGE ON WAREHOUSE <WAREHOUSE> TO ROLE {role}",)),))


def run_doctor(session: Any, *, pool: str | None = None, target_instances: int = 1, eais: Sequence[str] = (),
               uses_snowpark: bool | None = None, facts: AccountFacts | None = None) -> DoctorReport:
    """Check the account for what an ML Job needs; read-only.

    Args:
        session: an open Snowpark session (or the test fake).
        pool: the compute pool to check; None checks the best visible one.
        target_instances: nodes the job will ask for.
        eais: integrations the job will name.
        uses_snowpark: whether the code runs Snowpark SQL (None: unknown, a missing warehouse is a warning).
        facts: discovery already done for this session (else `discover` runs).

    Returns:
        A DoctorReport with every check in order. Statements the role may not run make checks "unknown".
    """
    facts = facts or discover(session)
    reader = _Reader(session)
    role = facts.role
    role_q = _ident(role, "<ROLE>")
    user_rows = reader.rows("SELECT CURRENT_USER() AS USER_NAME", "SELECT CURRENT_USER()")
    user = _ident(str(next(iter(user_rows[0].values()), "")) if user_rows else None, "<USER>")
    if target_instances < 1:
        raise ValueError("target_instances must be at least 1")
    checks = [
        _role_check(role, facts, user),
        _schema_check(facts, role_q),
        *_pool_checks(facts, pool, target_instances, role_q),
        _eai_check(facts, eais, role_q),
        _image_repository_check(reader, facts),
        _event_table_check(reader),
        _warehouse_check(reader, facts, uses_snowpark, role_q),
    ]
    return DoctorReport(role=role, checks=tuple(checks), notes=tuple(facts.notes) + tuple(reader.notes))


__all__ = ["CheckStatus", "DoctorCheck", "DoctorReport", "Fix", "Who", "run_doctor"]
