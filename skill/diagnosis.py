"""Failure diagnosis: a failed job's status and logs in, the cause and a concrete fix (a plan change) out.

The knowledge is the shared catalog skill/data/error_catalog.yaml; this module only matches it against
the log lines, fills the placeholders from what the plan and account say, and turns the catalog's
`change` kind into concrete edits of the JobPlan.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

from mljobs.analyzers.model import SubmitMethod

from .diagnosis_model import Diagnosis, PlanChange
from .diagnosis_network import FAILURE_KINDS, allowed_but_unresolved, find_target, network_outcome
from .diagnosis_phrasing import phrase
from .eai import host_matches
from .facts import AccountFacts, FamilyKind, InstanceFamily
from .families import family_table, lookup_family
from .identifiers import InvalidIdentifier, validate_identifier
from .jobplan import JobPlan
from .knowledge import KnowledgeError, load_table
from .redact import redact
from .tracebacks import parse_last_traceback

__all__ = ["CatalogEntry", "Diagnosis", "PlanChange", "diagnose", "load_error_catalog", "parse_catalog"]

CHANGE_KINDS = frozenset(
    {
        "add_pip_requirement", "add_eai", "pypi_access", "larger_memory", "larger_gpu", "gpu_pool", "grant",
        "ship_files", "client_python", "fewer_instances", "admin_setup", "remove_file", "resubmit",
        "network", "missing_distribution", "script_args", "snowflake_backend", "wandb_offline",
    }
)
WHEN = frozenset({"pypi_allowed", "local_backend"})
PYPI_HOSTS = ("pypi.org", "files.pythonhosted.org")
_MAX_LINE = 400


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    id: str
    patterns: tuple[re.Pattern[str], ...]
    cause: str
    fix: str
    change: str
    failure: str | None = None  # network entries: the kind of failure (dns, blocked, refused, ...)
    hosts: tuple[str, ...] = ()  # network entries: the host meant when the log line names none
    when: str | None = None  # a condition on the job (pypi_allowed, local_backend)


@dataclass(frozen=True, slots=True)
class _Outcome:
    changes: tuple[PlanChange, ...] = ()
    admin_sql: tuple[str, ...] = ()
    cause: str | None = None  # replaces the entry's cause (network situations)
    fix: str | None = None


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
            failure, when = raw.get("failure"), raw.get("when")
            if failure is not None and failure not in FAILURE_KINDS:
                raise KnowledgeError(f"error_catalog entry {raw.get('id')!r}: unknown failure {failure!r}")
            if (change == "network") != (failure is not None):
                raise KnowledgeError(f"error_catalog entry {raw.get('id')!r}: `failure` goes with change network")
            if when is not None and when not in WHEN:
                raise KnowledgeError(f"error_catalog entry {raw.get('id')!r}: unknown condition {when!r}")
            entries.append(
                CatalogEntry(
                    id=raw["id"],
                    patterns=tuple(re.compile(p) for p in raw["patterns"]),
                    cause=raw["cause"],
                    fix=raw["fix"],
                    change=change,
                    failure=failure,
                    hosts=tuple(raw.get("hosts", ())),
                    when=when,
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


@cache
def network_texts() -> tuple[Mapping[str, str], Mapping[str, Mapping[str, str]]]:
    """The catalog's `network` section: failure phrases by kind, cause/fix templates by situation.

    Raises:
        KnowledgeError: the section is missing a failure kind or a situation lacks its cause or fix.
    """
    section = (load_table("error_catalog") or {}).get("network") or {}
    failures, situations = section.get("failures") or {}, section.get("situations") or {}
    missing = FAILURE_KINDS - set(failures)
    if missing:
        raise KnowledgeError(f"error_catalog network.failures lacks {sorted(missing)}")
    for name, body in situations.items():
        if not isinstance(body, dict) or not {"cause", "fix"} <= set(body):
            raise KnowledgeError(f"error_catalog network.situations.{name} needs cause and fix")
    return failures, situations


def diagnose(
    status: str,
    logs: str,
    *,
    plan: JobPlan | None = None,
    facts: AccountFacts | None = None,
    message: str | None = None,
    distribution_of: Callable[[str], str | None] | None = None,
    catalog: Sequence[CatalogEntry] | None = None,
    job_id: str | None = None,
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
        job_id: the job, for the next step (`job_logs(...)`, `mljobs logs ...`).

    Returns:
        A Diagnosis with the fix phrased as the next MCP tool call and as a CLI command. When no catalog entry
        fits, the last traceback explains it: `matched` is "code_error" with the final exception and the
        user's frame that raised it; None when the log holds no traceback either (the last error line is quoted).
    """
    diagnosis = _diagnose(status, logs, plan, facts, message, distribution_of, catalog)
    tool, command = phrase(diagnosis, plan, job_id)
    return replace(diagnosis, next_tool_call=tool, next_command=command)


def _diagnose(
    status: str,
    logs: str,
    plan: JobPlan | None,
    facts: AccountFacts | None,
    message: str | None,
    distribution_of: Callable[[str], str | None] | None,
    catalog: Sequence[CatalogEntry] | None,
) -> Diagnosis:
    status = status.upper()
    if status == "DONE":
        return Diagnosis(status, None, "The job finished successfully.", "Nothing to fix.")
    entries = load_error_catalog() if catalog is None else tuple(catalog)
    lines = [*(message.splitlines() if message else []), *logs.splitlines()]
    for entry in entries:
        if entry.when and not _condition(entry.when, plan, facts, lines):
            continue
        hit = _first_match(entry, lines)
        if hit is None:
            continue
        index, groups = hit
        context = _context(entry, groups, plan, facts, distribution_of)
        if entry.change == "network":
            outcome = _network(entry, lines, index, groups, plan, facts)
        else:
            outcome = _changes(entry.change, context, plan, facts)
        evidence = [f"line {index + 1}: {redact(lines[index].strip())[:_MAX_LINE]}"]
        trace = parse_last_traceback(lines)
        if trace and trace.user_frame and trace.user_frame.log_line != index:
            frame = trace.user_frame
            evidence.append(f"line {frame.log_line + 1}: raised in {frame.where}" + (f": {frame.code}" if frame.code else ""))
        return Diagnosis(
            status=status,
            matched=entry.id,
            cause=redact(outcome.cause or _fill(entry.cause, context)),
            fix=redact(outcome.fix or _fill(entry.fix, context)),
            changes=outcome.changes,
            evidence=tuple(evidence),
            admin_sql=outcome.admin_sql,
        )
    trace = parse_last_traceback(lines) if status not in {"PENDING", "RUNNING", "CANCELLING", "CANCELLED"} else None
    if trace is not None:
        return _code_error(status, lines, trace)
    last = _last_error_line(lines)
    if status in {"PENDING", "RUNNING", "CANCELLING"}:
        cause = f"The job is still {status}; there is no failure to diagnose yet."
        fix = "Wait for the job to finish, then diagnose again."
    elif status == "CANCELLED":
        cause, fix = "The job was cancelled.", "Resubmit if the cancellation was not intended."
    else:
        cause = "No known failure pattern matched and the logs hold no traceback" + (
            f"; the last error was: {last[1]}" if last else ".")
        fix = "Read the full logs with the setup phase (verbose) for the first error."
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
        known = distribution_of(groups["module"]) if distribution_of else None
        local = _project_module(top, plan)
        if local:  # the project has it (e.g. a `datasets/` folder): ship the folder, never install the name
            known = None
            context["local_module"] = local
        # An unknown name is never proposed for install (it may be a local module; issue 10 item 3).
        context["distribution"] = known or (f"the distribution that provides {top} (mljobs does not know it: "
                                            "confirm the real name first; never pip install a local module's name)")
        context["unknown_distribution"] = "" if known else top
    if plan and plan.instance_family:
        family = lookup_family(plan.instance_family, facts)
        context["family"] = plan.instance_family
        if family:
            context["memory"] = f"{family.memory_gib:g}"
    return context


def _ship_files(path: str, plan: JobPlan | None) -> _Outcome:
    """Ship the file with the folder, unless that cannot help: the path leaves the job's code folder (`app/`, where
    the payload lands; e.g. built from `Path(__file__).parents[1]`), or the folder was already shipped."""
    posix = path.replace("\\", "/")
    if posix.startswith("/") and "/app/" not in posix:
        return _Outcome(
            cause=f"The job opened {path}, which is outside the folder the job's code runs from (app/): no submission "
                  "method puts a file there, so shipping the project folder does not help.",
            fix="Open the file relative to the script (Path(__file__).parent / ...) with the data inside the project "
                "folder and submit_directory, or read the data from a stage or table.")
    if plan is not None and plan.method is SubmitMethod.SUBMIT_DIRECTORY:
        return _Outcome(
            cause=f"The job opened {path}; the project folder was already shipped, so the file is not in it (missing "
                  "from the folder, or excluded from the payload).",
            fix="Add the file to the project folder (or stop excluding it), or read the data from a stage or table.")
    return _Outcome((PlanChange("method", "set", "submit_directory", f"{path} must travel with the code"),))


def _project_module(top: str, plan: JobPlan | None) -> str | None:
    """The project file or folder named like a missing module (`utils.py`, `TaxiFareModel/`), or None."""
    if plan is None or plan.source.startswith("@") or not top.isidentifier():
        return None
    folder = Path(plan.source)
    folder = folder.parent if folder.suffix else folder
    for candidate in (folder / f"{top}.py", folder / top):
        if candidate.exists():
            return str(candidate)
    return None


# ----------------------------------------------------------------------------------------- changes


def _changes(kind: str, context: dict[str, str], plan: JobPlan | None, facts: AccountFacts | None) -> _Outcome:
    match kind:
        case "add_pip_requirement":
            if context.get("local_module"):
                return _Outcome((PlanChange("method", "set", "submit_directory",
                                            f"{context['local_module']} is part of the project and must travel with "
                                            "it"),))
            if context.get("unknown_distribution"):
                return _Outcome(())
            dist = context["distribution"]
            changes = [PlanChange("pip_requirements", "add", dist, f"{context['module']} is imported but not installed")]
            changes.extend(_pypi_changes(plan, facts))
            return _Outcome(tuple(changes))
        case "pypi_access":
            return _Outcome(tuple(_pypi_changes(plan, facts)))
        case "add_eai":
            host = context.get("host", "")
            eai = _covering_eai(host, facts) if host and host != "the remote host" else None
            if eai:
                return _Outcome((PlanChange("external_access_integrations", "add", eai, f"{eai} allows {host}"),))
            return _Outcome()
        case "larger_memory" | "larger_gpu" | "gpu_pool":
            return _Outcome(_family_change(kind, plan, facts))
        case "grant":
            return _Outcome(admin_sql=_grant_sql(context, plan, facts))
        case "ship_files":
            return _ship_files(context["path"], plan)
        case "client_python":
            return _Outcome((PlanChange("client_python", "set", "3.11", "submit from the Python the runtime image uses"),))
        case "fewer_instances":
            return _Outcome((PlanChange("target_instances", "set", 1, "the pool cannot provide more nodes now"),))
        case "admin_setup":
            return _Outcome(admin_sql=("CREATE IMAGE REPOSITORY IF NOT EXISTS <database>.<schema>.MLJOBS_IMAGES;",))
        case "remove_file":
            return _Outcome((PlanChange("payload", "remove", "environment.yml", "conda environments are not supported"),))
        case "resubmit":
            return _Outcome((PlanChange("job", "resubmit", None, "transient platform event"),))
        case "missing_distribution":
            return _Outcome()  # never guess a package to install; the cause says what to check
        case "script_args":
            return _Outcome(_args_change(context, plan))
        case "wandb_offline":
            if plan is None or plan.backend != "local":
                return _Outcome()  # on an account the key comes from a secret: said in the fix, never a plan value
            env = {**dict(plan.env_vars), "WANDB_MODE": "offline"}
            return _Outcome((PlanChange("env_vars", "set", env, "a dry run without a W&B key logs offline"),))
        case "snowflake_backend":
            return _Outcome((PlanChange("backend", "set", "snowflake", "the code needs a Snowflake session"),))
    return _Outcome()


def _network(entry: CatalogEntry, lines: Sequence[str], index: int, groups: dict[str, str], plan: JobPlan | None,
             facts: AccountFacts | None) -> _Outcome:
    failures, situations = network_texts()
    target = find_target(lines, index, groups, entry.hosts)
    result = network_outcome(entry.failure or "connect", target, plan, facts)
    context = dict(result.context)
    context["failure"] = _fill(failures[entry.failure or "connect"], context)
    texts = situations.get(result.situation, {})
    if entry.failure == "blocked" and target is not None and result.situation in {"local_eai", "admin", "other_eai"}:
        dns = [p for e in load_error_catalog() if e.failure == "dns" for p in e.patterns]
        first = allowed_but_unresolved(lines, dns, target, plan, facts)
        if first is not None:  # a fallback was blocked after an allowed host did not resolve: fix the first
            host, eai = first
            context.update(first_host=host.host, first_address=host.address, first_line=str(host.line + 1), eai=eai)
            texts = situations["fallback_after_allowed_dns"]
            return _Outcome((), (), _fill(texts["cause"], context), _fill(texts["fix"], context))
    return _Outcome(result.changes, result.admin_sql, _fill(texts.get("cause", entry.cause), context),
                    _fill(texts.get("fix", entry.fix), context))


def _condition(when: str, plan: JobPlan | None, facts: AccountFacts | None, lines: Sequence[str]) -> bool:
    if when == "local_backend":
        return bool(plan and plan.backend == "local") or bool(facts and facts.backend == "local")
    if when == "pypi_allowed":
        if plan is None:
            return False
        if any(re.search(r"Failed to establish a new connection|name resolution|Name or service not known|"
                         r"Network is unreachable|timed out", line) for line in lines):
            return False  # pip could not reach the index: the access, not the name, is the problem
        if plan.artifact_repositories:
            return True
        mine = set(plan.external_access_integrations)
        return all(any(e in mine for e in _covering_eais(host, facts)) for host in PYPI_HOSTS)
    return False


def _args_change(context: dict[str, str], plan: JobPlan | None) -> tuple[PlanChange, ...]:
    option = context.get("option", "")
    args = list(plan.args) if plan else []
    for i, arg in enumerate(args):
        name, eq, _ = arg.partition("=")
        if name == option:
            drop = [arg] if eq or i + 1 >= len(args) or args[i + 1].startswith("-") else [arg, args[i + 1]]
            return (PlanChange("args", "remove", drop, f"the script's parser rejected {option}"),)
    return ()


def _code_error(status: str, lines: Sequence[str], trace: Any) -> Diagnosis:
    frame = trace.user_frame
    exception = redact(trace.exception)[:_MAX_LINE]
    evidence = [f"line {trace.exception_line + 1}: {redact(lines[trace.exception_line].strip())[:_MAX_LINE]}"]
    if frame is None:
        cause = f"The job raised {exception} inside a library; no frame of your code is in the traceback."
        fix = "Read the whole traceback for the call of yours that led there, fix it, then submit again."
    else:
        code = f" (`{redact(frame.code)[:200]}`)" if frame.code else ""
        cause = f"The job's code raised {exception} at {frame.where}{code}" + (
            f" in {frame.function}" if frame.function and frame.function != "<module>" else "") + "."
        fix = f"Fix {frame.where} (this is an error in the code, not in the job's setup), then submit again."
        evidence.insert(0, f"line {frame.log_line + 1}: {redact(lines[frame.log_line].strip())[:_MAX_LINE]}")
    return Diagnosis(status, "code_error", cause, fix, evidence=tuple(evidence))


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
    found = _covering_eais(host, facts)
    return found[0] if found else None


def _covering_eais(host: str, facts: AccountFacts | None) -> list[str]:
    out: list[str] = []
    for eai in facts.eais if facts else ():
        if eai.enabled and any(rule.values and any(host_matches(v, host) for v in rule.values) for rule in eai.rules):
            out.append(eai.name)
    return out


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
