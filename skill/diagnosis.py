"""Failure diagnosis: a failed job's status and logs in, the cause and a concrete fix (a plan change) out.

The knowledge is the shared catalog skill/data/error_catalog.yaml; this module only matches it against
the log lines, fills the placeholders from what the plan and account say, and turns the catalog's
`change` kind into concrete edits of the JobPlan.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from .eai import host_matches
from .facts import AccountFacts, FamilyKind, InstanceFamily
from .families import family_table, lookup_family
from .identifiers import InvalidIdentifier, validate_identifier
from .jobplan import JobPlan
from .knowledge import KnowledgeError, load_table
from .redact import redact

CHANGE_KINDS = frozenset(
    {
        "add_pip_requirement", "add_eai", "pypi_access", "larger_memory", "larger_gpu", "gpu_pool", "grant",
        "ship_files", "client_python", "fewer_instances", "admin_setup", "remove_file", "resubmit",
    }
)
PYPI_HOSTS = ("pypi.org", "files.pythonhosted.org")
_MAX_LINE = 400


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    id: str
    patterns: tuple[re.Pattern[str], ...]
    cause: str
    fix: str
    change: str


@dataclass(frozen=True, slots=True)
class PlanChange:
    """One concrete edit of the plan: `op` on `field` with `value` (or SQL an admin must run)."""

    field: str  # a JobPlan field, or "admin" for account setup
    op: str  # add | set | run_sql | resubmit
    value: Any
    reason: str


@dataclass(frozen=True, slots=True)
class Diagnosis:
    status: str
    matched: str | None  # catalog entry id, None when nothing matched
    cause: str
    fix: str
    changes: tuple[PlanChange, ...] = ()
    evidence: tuple[str, ...] = ()  # the log lines that matched, "line N: text"
    admin_sql: tuple[str, ...] = ()


@cache
def load_error_catalog() -> tuple[CatalogEntry, ...]:
    """The shipped catalog, compiled once.

    Raises:
        KnowledgeError: an entry lacks a field, names an unknown change kind, or has a bad regex.
    """
    return parse_catalog(load_table("error_catalog"))


def parse_catalog(data: Any) -> tuple[CatalogEntry, ...]:
    entries = []
    for raw in (data or {}).get("entries", []):
        try:
            change = raw["change"]
            if change not in CHANGE_KINDS:
                raise KnowledgeError(f"error_catalog entry {raw.get('id')!r}: unknown change {change!r}")
            entries.append(
                CatalogEntry(
                    id=raw["id"],
                    patterns=tuple(re.compile(p) for p in raw["patterns"]),
                    cause=raw["cause"],
                    fix=raw["fix"],
                    change=change,
                )
            )
        except KeyError as exc:
            raise KnowledgeError(f"error_catalog entry {raw.get('id')!r} lacks {exc}") from None
        except re.error as exc:
            raise KnowledgeError(f"error_catalog entry {raw.get('id')!r}: bad pattern: {exc}") from None
    ids = [e.id for e in entries]
    if len(set(ids)) != len(ids):
        raise KnowledgeError("error_catalog has duplicate entry ids")
    return tuple(entries)


def diagnose(
    status: str,
    logs: str,
    *,
    plan: JobPlan | None = None,
    facts: AccountFacts | None = None,
    message: str | None = None,
    distribution_of: Callable[[str], str | None] | None = None,
    catalog: Sequence[CatalogEntry] | None = None,
) -> Diagnosis:
    """Explain a job's failure from its status, status message and logs.

    Args:
        status: the job status (DONE jobs get "nothing to diagnose").
        logs: the job logs, ideally verbose (the pip phase comes before the user code).
        plan: the job's plan, used to make the fix concrete (current family, requirements, EAIs).
        facts: account facts: EAIs that could cover a host, pools with larger families, the role.
        message: the backend's status message, searched like a log line.
        distribution_of: import name -> PyPI distribution (the analyzer's resolver); identity if None.
        catalog: entries to match (the shipped catalog by default).

    Returns:
        A Diagnosis; `matched` is None when no catalog entry fits (then the last error line is quoted).
    """
    status = status.upper()
    if status == "DONE":
        return Diagnosis(status, None, "The job finished successfully.", "Nothing to fix.")
    entries = load_error_catalog() if catalog is None else tuple(catalog)
    lines = [*(message.splitlines() if message else []), *logs.splitlines()]
    for entry in entries:
        hit = _first_match(entry, lines)
        if hit is None:
            continue
        index, groups = hit
        context = _context(entry, groups, plan, facts, distribution_of)
        changes, admin_sql = _changes(entry.change, context, plan, facts)
        evidence = (f"line {index + 1}: {redact(lines[index].strip())[:_MAX_LINE]}",)
        return Diagnosis(
            status=status,
            matched=entry.id,
            cause=_fill(entry.cause, context),
            fix=_fill(entry.fix, context),
            changes=changes,
            evidence=evidence,
            admin_sql=admin_sql,
        )
    last = _last_error_line(lines)
    if status in {"PENDING", "RUNNING", "CANCELLING"}:
        cause = f"The job is still {status}; there is no failure to diagnose yet."
        fix = "Wait for the job to finish (mljobs wait), then diagnose again."
    elif status == "CANCELLED":
        cause, fix = "The job was cancelled.", "Resubmit if the cancellation was not intended."
    else:
        cause = "No known failure pattern matched" + (f"; the last error was: {last[1]}" if last else ".")
        fix = "Read the full logs with verbose output (mljobs logs JOB --verbose) for the traceback."
    return Diagnosis(status, None, cause, fix, evidence=(f"line {last[0] + 1}: {last[1]}",) if last else ())


# ----------------------------------------------------------------------------------------- matching


def _first_match(entry: CatalogEntry, lines: Sequence[str]) -> tuple[int, dict[str, str]] | None:
    # Prefer the LAST matching line: tracebacks end with the real error, retries repeat earlier.
    for index in range(len(lines) - 1, -1, -1):
        line = lines[index][:4000]
        for pattern in entry.patterns:
            match = pattern.search(line)
            if match:
                return index, {k: v for k, v in match.groupdict().items() if v}
    return None


def _last_error_line(lines: Sequence[str]) -> tuple[int, str] | None:
    for index in range(len(lines) - 1, -1, -1):
        text = lines[index].strip()
        if re.search(r"(Error|Exception|error:|FAILED)", text):
            return index, redact(text)[:_MAX_LINE]
    return None


def _fill(template: str, context: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: context.get(m.group(1), m.group(0)), template)


def _context(
    entry: CatalogEntry,
    groups: dict[str, str],
    plan: JobPlan | None,
    facts: AccountFacts | None,
    distribution_of: Callable[[str], str | None] | None,
) -> dict[str, str]:
    context = {
        "host": "the remote host",
        "requirement": "the requirements",
        "path": "a local file",
        "object_type": "an object",
        "object_name": "",
        "family": "the pool's instance family",
        "memory": "?",
    }
    context.update(groups)
    if "requirement" in groups:
        context["requirement"] = groups["requirement"].strip("'\"")
    if "module" in groups:
        top = groups["module"].split(".")[0]
        context["distribution"] = (distribution_of(groups["module"]) if distribution_of else None) or top
    if plan and plan.instance_family:
        family = lookup_family(plan.instance_family, facts)
        context["family"] = plan.instance_family
        if family:
            context["memory"] = f"{family.memory_gib:g}"
    return context


# ----------------------------------------------------------------------------------------- changes


def _changes(
    kind: str, context: dict[str, str], plan: JobPlan | None, facts: AccountFacts | None
) -> tuple[tuple[PlanChange, ...], tuple[str, ...]]:
    match kind:
        case "add_pip_requirement":
            dist = context["distribution"]
            changes = [PlanChange("pip_requirements", "add", dist, f"{context['module']} is imported but not installed")]
            changes.extend(_pypi_changes(plan, facts))
            return tuple(changes), ()
        case "pypi_access":
            return tuple(_pypi_changes(plan, facts)), ()
        case "add_eai":
            host = context.get("host", "")
            eai = _covering_eai(host, facts) if host and host != "the remote host" else None
            if eai:
                return (PlanChange("external_access_integrations", "add", eai, f"{eai} allows {host}"),), ()
            sql = _eai_sql(host) if host and host != "the remote host" else ()
            reason = f"no EAI available to this role allows {host}; an admin must create one"
            return (PlanChange("external_access_integrations", "add", f"<EAI allowing {host}>", reason),), sql
        case "larger_memory" | "larger_gpu" | "gpu_pool":
            return _family_change(kind, plan, facts), ()
        case "grant":
            return (), _grant_sql(context, plan, facts)
        case "ship_files":
            return (PlanChange("method", "set", "submit_directory", f"{context['path']} must travel with the code"),), ()
        case "client_python":
            return (PlanChange("client_python", "set", "3.11", "submit from the Python the runtime image uses"),), ()
        case "fewer_instances":
            return (PlanChange("target_instances", "set", 1, "the pool cannot provide more nodes now"),), ()
        case "admin_setup":
            return (), ("CREATE IMAGE REPOSITORY IF NOT EXISTS <database>.<schema>.MLJOBS_IMAGES;",)
        case "remove_file":
            return (PlanChange("payload", "remove", "environment.yml", "conda environments are not supported"),), ()
        case "resubmit":
            return (PlanChange("job", "resubmit", None, "transient platform event"),), ()
    return (), ()


def _pypi_changes(plan: JobPlan | None, facts: AccountFacts | None) -> list[PlanChange]:
    current = set(plan.external_access_integrations) if plan else set()
    for host in PYPI_HOSTS:
        eai = _covering_eai(host, facts)
        if eai and eai in current:
            return []  # the plan already has PyPI access; the index itself must be the problem
        if eai:
            return [PlanChange("external_access_integrations", "add", eai, f"{eai} allows {host}")]
    return [
        PlanChange(
            "artifact_repositories", "add", "snowflake.snowpark.pypi_shared_repository",
            "no PyPI EAI is available to this role; the shared artifact repository needs none",
        )
    ]


def _covering_eai(host: str, facts: AccountFacts | None) -> str | None:
    if not facts:
        return None
    for eai in facts.eais:
        if not eai.enabled:
            continue
        for rule in eai.rules:
            if rule.values and any(host_matches(value, host) for value in rule.values):
                return eai.name
    return None


def _eai_sql(host: str) -> tuple[str, ...]:
    name = re.sub(r"[^A-Za-z0-9]+", "_", host).strip("_").upper()[:60] or "HOST"
    return (
        f"CREATE NETWORK RULE <database>.<schema>.{name}_RULE TYPE = HOST_PORT MODE = EGRESS VALUE_LIST = ('{host}');",
        f"CREATE EXTERNAL ACCESS INTEGRATION {name}_EAI ALLOWED_NETWORK_RULES = (<database>.<schema>.{name}_RULE) ENABLED = TRUE;",
        f"GRANT USAGE ON INTEGRATION {name}_EAI TO ROLE <role>;",
    )


def _family_change(kind: str, plan: JobPlan | None, facts: AccountFacts | None) -> tuple[PlanChange, ...]:
    current = lookup_family(plan.instance_family, facts) if plan and plan.instance_family else None
    candidates = [f for f in (facts.families if facts and facts.families else family_table().values())]
    if kind == "gpu_pool":
        pools = [p for p in (facts.pools if facts else ()) if _kind(p.instance_family, facts) is FamilyKind.GPU]
        target = pools[0].name if pools else "SYSTEM_COMPUTE_POOL_GPU"
        return (PlanChange("compute_pool", "set", target, "the code needs a GPU"),)
    if kind == "larger_gpu":
        floor = (current.gpu_memory_gib or 0) if current else 0
        fits = sorted(
            (f for f in candidates if f.kind is FamilyKind.GPU and (f.gpu_memory_gib or 0) > floor),
            key=lambda f: (f.gpu_memory_gib or 0, f.credits_per_hour or 1e9),
        )
    else:
        floor = current.memory_gib if current else 0
        fits = sorted(
            (f for f in candidates if f.kind in (FamilyKind.HIGHMEM, FamilyKind.CPU) and f.memory_gib > floor),
            key=lambda f: (f.kind is not FamilyKind.HIGHMEM, f.memory_gib, f.credits_per_hour or 1e9),
        )
    if not fits:
        return (PlanChange("instance_family", "set", None, "no larger family is known; split the work"),)
    family = fits[0]
    pool = _pool_with_family(family, facts)
    reason = f"{family.name} has {_shape(family)} per node" + (f" (pool {pool})" if pool else "")
    changes = [PlanChange("instance_family", "set", family.name, reason)]
    if pool:
        changes.append(PlanChange("compute_pool", "set", pool, reason))
    return tuple(changes)


def _kind(name: str, facts: AccountFacts | None) -> FamilyKind | None:
    family = lookup_family(name, facts)
    return family.kind if family else None


def _pool_with_family(family: InstanceFamily, facts: AccountFacts | None) -> str | None:
    for pool in facts.pools if facts else ():
        if pool.instance_family.upper() == family.name.upper():
            return pool.name
    return None


def _shape(family: InstanceFamily) -> str:
    gpu = f", {family.gpu_count}x {family.gpu_type or 'GPU'}" if family.gpu_count else ""
    return f"{family.vcpu:g} vCPU / {family.memory_gib:g} GiB{gpu}"


def _grant_sql(context: dict[str, str], plan: JobPlan | None, facts: AccountFacts | None) -> tuple[str, ...]:
    role = "<role>"
    if facts and facts.role:
        try:
            role = validate_identifier(facts.role.strip('"'), "role")
        except InvalidIdentifier:
            role = "<role>"
    object_type = context.get("object_type", "").lower()
    name = context.get("object_name", "").strip('"') or "<name>"
    if not re.fullmatch(r"[A-Za-z0-9_.$]+|<name>", name):
        name = "<name>"
    if object_type == "schema":
        return (
            f"GRANT USAGE ON DATABASE {name.split('.')[0] if '.' in name else '<database>'} TO ROLE {role};",
            f"GRANT USAGE, CREATE SERVICE, CREATE STAGE ON SCHEMA {name} TO ROLE {role};",
        )
    if object_type in {"compute pool", "integration", "warehouse", "database"}:
        return (f"GRANT USAGE ON {object_type.upper()} {name} TO ROLE {role};",)
    if object_type == "stage":
        return (f"GRANT READ, WRITE ON STAGE {name} TO ROLE {role};",)
    pool = plan.compute_pool if plan else "<pool>"
    schema = f"{plan.database}.{plan.schema}" if plan and plan.database and plan.schema else "<database>.<schema>"
    return (
        f"GRANT USAGE ON COMPUTE POOL {pool} TO ROLE {role};",
        f"GRANT USAGE, CREATE SERVICE, CREATE STAGE ON SCHEMA {schema} TO ROLE {role};",
    )
