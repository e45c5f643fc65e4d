"""Network failures in job logs: which host and port, what kind of failure, and the fix that fits what the
job already had.

Three failures look alike in a log and need different fixes:
- name resolution (DNS): on Snowflake an egress the job's EAIs do not allow usually surfaces this way; for a
  host an EAI of the job already allows, the name itself is wrong or private;
- blocked by policy: the local pool's network guard refuses the connection (Snowflake's egress policy does
  the same without a message of its own);
- timeouts: a connect timeout to a host no EAI allows is egress being dropped; a read timeout means the
  connection was made, so the remote side was slow.
So the host is first checked against the job's own EAIs, then against every EAI the account offers, and
only then is admin SQL proposed, with the port exactly as the job used it (host:80 stays host:80).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from mljobs.analyzers.model import Confidence, NetworkCategory, NetworkNeed

from .diagnosis_model import PlanChange
from .eai import DEFAULT_PORT, HostStatus, check_coverage, parse_required_host
from .facts import AccountFacts
from .identifiers import InvalidIdentifier, sql_string, validate_identifier
from .jobplan import JobPlan
from .tracebacks import is_user_frame, parse_last_traceback

FAILURE_KINDS = frozenset({"dns", "blocked", "refused", "unreachable", "connect_timeout", "read_timeout", "connect",
                           "tls"})
_HOST = r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?"
# Host (and port) as the common client libraries print them, most specific first.
_HOST_PATTERNS = (
    re.compile(rf"outbound connection to (?P<host>{_HOST})(?::(?P<port>\d+))? blocked"),
    re.compile(rf"host='(?P<host>{_HOST})', port=(?P<port>\d+)"),
    re.compile(rf"(?P<scheme>https?)://(?P<host>{_HOST})(?::(?P<port>\d+))?"),
    re.compile(rf"Failed to resolve '(?P<host>{_HOST})'"),
    re.compile(rf"Could not resolve host:? '?(?P<host>{_HOST})"),
    re.compile(rf"Connection to (?P<host>{_HOST}) timed out"),
)
_SCHEME_PORTS = {"http": 80, "https": 443}
_NEARBY = 12
# A host only an undocumented Snowflake-managed rule allows (status "assumed", where the planner has it) is not
# proven for the job's own EAIs, but is the best EAI to offer from the account's.
_ASSUMED = tuple(s for s in HostStatus if s.value == "assumed")
_MAYBE = (HostStatus.UNVERIFIED, HostStatus.GUESSED, *_ASSUMED)  # how many log lines around the failure to search for the URL when its line names no host


@dataclass(frozen=True, slots=True)
class Target:
    host: str
    port: int
    line: int  # where the host was found (0-based)

    @property
    def address(self) -> str:
        return self.host if self.port == DEFAULT_PORT else f"{self.host}:{self.port}"


@dataclass(frozen=True, slots=True)
class NetworkOutcome:
    situation: str  # other_eai | admin | local_eai | unverified | allowed_{dns,refused,timeout,tls,other} | no_host
    context: dict[str, str]
    changes: tuple[PlanChange, ...]
    admin_sql: tuple[str, ...]


def find_target(lines: Sequence[str], index: int, groups: Mapping[str, str], hint_hosts: Sequence[str] = ()
                ) -> Target | None:
    """The host and port a failure at `lines[index]` was about.

    The matched line first (its named groups, then every known way of printing a host), then the nearest line
    around it that names a URL or host, then the user's code lines in the last traceback (the call that opened
    the URL: library frames in between can be many), then the catalog entry's hint hosts (e.g. NLTK downloads
    from GitHub), and last any line of the log, nearest first.
    """
    if groups.get("host"):
        port = int(groups["port"]) if groups.get("port") else None
        target = _from_line(lines[index], index) if port is None else None
        if target and target.host == groups["host"]:
            return target
        return _target(groups["host"], port or DEFAULT_PORT, index)
    target = _from_line(lines[index], index)
    if target:
        return target
    for distance in range(1, _NEARBY + 1):
        for j in (index - distance, index + distance):
            if 0 <= j < len(lines):
                target = _from_line(lines[j], j)
                if target:
                    return target
    trace = parse_last_traceback(lines)
    for frame in reversed(trace.frames if trace else ()):
        if is_user_frame(frame.path) and frame.log_line + 1 < len(lines):
            target = _from_line(lines[frame.log_line + 1], frame.log_line + 1)
            if target:
                return target
    for hint in hint_hosts:
        target = _target(hint, DEFAULT_PORT, index)
        if target:
            return target
    for distance in range(_NEARBY + 1, len(lines)):
        for j in (index - distance, index + distance):
            if 0 <= j < len(lines):
                target = _from_line(lines[j], j)
                if target:
                    return target
    return None


def _from_line(text: str, index: int) -> Target | None:
    for pattern in _HOST_PATTERNS:
        for match in pattern.finditer(text):
            found = match.groupdict()
            if found.get("port"):
                port = int(found["port"])
            else:
                port = _SCHEME_PORTS.get((found.get("scheme") or "https").lower(), DEFAULT_PORT)
            target = _target(found["host"], port, index)
            if target and not _is_documentation(target.host, text):
                return target
    return None


def _is_documentation(host: str, text: str) -> bool:
    # Error messages link to docs ("see https://huggingface.co/docs/...#offline-mode"): not what the job fetched.
    return bool(re.search(rf"https?://{re.escape(host)}/docs?/", text)) and f"'{host}'" not in text \
        and f"//{host}'" not in text


def _target(host: str, port: int, index: int) -> Target | None:
    try:
        host, port = parse_required_host(f"{host}:{port}")
    except ValueError:
        return None
    return Target(host, port, index)


def network_outcome(kind: str, target: Target | None, plan: JobPlan | None, facts: AccountFacts | None
                    ) -> NetworkOutcome:
    """Decide the fix for a network failure of `kind` on `target`, given the job's EAIs and the account's."""
    if target is None:
        return NetworkOutcome("no_host", {}, (), ())
    job_eais = tuple(plan.external_access_integrations) if plan else ()
    context = {"host": target.host, "port": str(target.port), "address": target.address,
               "job_eais": ", ".join(job_eais) or "none"}
    need = NetworkNeed(NetworkCategory.HTTP, (target.address,), (), Confidence.CERTAIN)
    available = facts or AccountFacts(backend=plan.backend if plan else "snowflake")
    if job_eais:
        mine = check_coverage([need], available, chosen=job_eais).hosts
        if mine and mine[0].status is HostStatus.COVERED:
            context["eai"] = mine[0].matches[0].eai
            situation = {"dns": "allowed_dns", "refused": "allowed_refused", "blocked": "allowed_refused",
                         "read_timeout": "allowed_timeout", "connect_timeout": "allowed_timeout",
                         "tls": "allowed_tls"}.get(kind, "allowed_other")
            if situation == "allowed_timeout":
                change = PlanChange("job", "resubmit", None, f"{target.address} is allowed; the remote side was slow")
                return NetworkOutcome(situation, context, (change,), ())
            return NetworkOutcome(situation, context, (), ())
        if mine and mine[0].status in _MAYBE and kind != "read_timeout":
            # The job's own EAIs may allow the host, but their rules cannot be read: never propose what it may have.
            name = eai_name_for(target.host)
            context["new_eai"] = name
            sql = eai_sql(name, (target.address,), facts=facts, plan=plan)
            return NetworkOutcome("unverified", context, (), sql)
    if kind == "read_timeout":
        # A read timeout means the connection was made: egress was allowed, the remote side was slow.
        context["eai"] = "no EAI of the job (the connection itself succeeded)"
        change = PlanChange("job", "resubmit", None, f"{target.address} answered too slowly")
        return NetworkOutcome("allowed_timeout", context, (change,), ())
    anywhere = check_coverage([need], available).hosts
    if anywhere and anywhere[0].status in (HostStatus.COVERED, *_ASSUMED) and anywhere[0].matches:
        eai = anywhere[0].matches[0].eai
        context["eai"] = eai
        change = PlanChange("external_access_integrations", "add", eai, f"{eai} allows {target.address}")
        return NetworkOutcome("other_eai", context, (change,), ())
    name = eai_name_for(target.host)
    context["new_eai"] = name
    local = (plan.backend if plan else available.backend) == "local"
    sql = eai_sql(name, (target.address,), facts=None if local else facts, plan=None if local else plan)
    if local:
        first = f"/* Snowflake account equivalent of the local EAI {name}; the local pool needs none of it */ {sql[0]}"
        sql = (first, *sql[1:])
        changes = (
            PlanChange("local_eais", "add", {"name": name, "hosts": [target.address]},
                       f"no local EAI allows {target.address}; a local EAI is an entry in the local EAI file"),
            PlanChange("external_access_integrations", "add", name, f"{name} will allow {target.address}"),
        )
        return NetworkOutcome("local_eai", context, changes, sql)
    change = PlanChange("external_access_integrations", "add", name,
                        f"no EAI available to this role allows {target.address}; an admin creates {name} first")
    return NetworkOutcome("admin", context, (change,), sql)


def allowed_but_unresolved(lines: Sequence[str], dns_patterns: Sequence[re.Pattern[str]], blocked: Target,
                           plan: JobPlan | None, facts: AccountFacts | None) -> tuple[Target, str] | None:
    """The first host in the log that failed name resolution although the job's EAIs allow it, with that EAI.

    Why: download helpers try mirrors in turn (torchvision's MNIST: an S3 bucket, then an http mirror). When the
    allowed primary does not resolve, the fallback the guard blocks is the last line of the log, but adding an
    EAI for it fixes nothing; the failure that matters is the first one.
    """
    for index, text in enumerate(lines):
        if not any(p.search(text[:4000]) for p in dns_patterns):
            continue
        target = find_target(lines, index, {})
        if target is None or target.host == blocked.host:
            continue
        outcome = network_outcome("dns", target, plan, facts)
        if outcome.situation == "allowed_dns":
            return target, outcome.context["eai"]
    return None


def eai_name_for(host: str) -> str:
    """A readable EAI name for one host: api.wandb.ai -> API_WANDB_AI_EAI."""
    return (re.sub(r"[^A-Za-z0-9]+", "_", host).strip("_").upper()[:60] or "HOST") + "_EAI"


def eai_sql(name: str, addresses: Sequence[str], *, facts: AccountFacts | None, plan: JobPlan | None
            ) -> tuple[str, ...]:
    """CREATE NETWORK RULE / EXTERNAL ACCESS INTEGRATION / GRANT for `addresses` (ports kept), proposed only."""
    base = name.removesuffix("_EAI")
    schema = "<database>.<schema>"
    database = (plan.database if plan else None) or (facts.database if facts else None)
    sch = (plan.schema if plan else None) or (facts.schema if facts else None)
    role = "<role>"
    try:
        if database and sch:
            schema = f"{validate_identifier(database, 'database')}.{validate_identifier(sch, 'schema')}"
        if facts and facts.role:
            role = validate_identifier(facts.role, "role")
    except InvalidIdentifier:
        pass
    values = ", ".join(sql_string(a) for a in addresses)
    return (
        f"CREATE NETWORK RULE {schema}.{base}_RULE TYPE = HOST_PORT MODE = EGRESS VALUE_LIST = ({values});",
        f"CREATE EXTERNAL ACCESS INTEGRATION {name} ALLOWED_NETWORK_RULES = ({schema}.{base}_RULE) ENABLED = TRUE;",
        f"GRANT USAGE ON INTEGRATION {name} TO ROLE {role};",
    )
