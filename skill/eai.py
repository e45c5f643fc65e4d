"""External access: which EAI covers which host (with proof), a minimal EAI set, and admin SQL for the rest.

Host matching follows Snowflake's HOST_PORT rules (research snowflake-facts §3.4): no port means 443, `:0` any
port, `:lo-hi` a range; one `*` matches one label fragment of letters, digits and `-` (never a dot), and may not
stand for the registrable domain (`*.com` is invalid); `0.0.0.0` is every host, on 443 (or `:80`) only; names
compare case-insensitively. SQL here is proposed text for an administrator, never executed.
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from mljobs.analyzers.model import Evidence, NetworkCategory, NetworkNeed

from .facts import AccountFacts, ExternalAccessIntegration, NetworkRuleInfo
from .identifiers import InvalidIdentifier, sql_string, validate_identifier, validate_qualified
from .knowledge import KnowledgeError, load_table

#: A job may pass at most this many EAIs; one EAI may allow at most this many host names (SPCS limits).
MAX_EAIS_PER_JOB = 10
MAX_HOSTS_PER_RULE = 100
PYPI_ARTIFACT_REPOSITORY = "snowflake.snowpark.pypi_shared_repository"
DEFAULT_PORT = 443

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST_RE = re.compile(rf"^{_LABEL}(?:\.{_LABEL})*$")
# A host pattern with at most one `*` inside one label (validated further by _wildcard_ok).
_PATTERN_RE = re.compile(r"^[A-Za-z0-9*](?:[A-Za-z0-9*.-]{0,251}[A-Za-z0-9])?$")
_PORT_RE = re.compile(r"^(?P<lo>\d{1,5})(?:-(?P<hi>\d{1,5}))?$")
_USABLE_TYPES = {"HOST_PORT", "PRIVATE_HOST_PORT"}


class HostStatus(str, enum.Enum):
    """How sure the planner is that the chosen EAIs let the job reach a host."""

    COVERED = "covered"  # a readable (or Snowflake-documented) rule value matches: `matches` holds the proof
    ASSUMED = "assumed"  # only a Snowflake-managed rule whose hosts are not documented (e.g. HUGGINGFACE_RULE) allows it
    GUESSED = "guessed"  # only an EAI's name suggests it; its rules are unreadable
    UNVERIFIED = "unverified"  # some EAI has rules whose values could not be read
    UNCOVERED = "uncovered"  # no enabled EAI can be shown or suspected to allow it


@dataclass(frozen=True, slots=True)
class RuleEntry:
    """One parsed VALUE_LIST entry. `ports` is None for any port (`:0`); `error` is set for an invalid entry."""

    raw: str
    host: str
    ports: tuple[int, int] | None
    error: str | None = None

    def allows_port(self, port: int) -> bool:
        return self.ports is None or self.ports[0] <= port <= self.ports[1]

    def allows(self, host: str, port: int) -> bool:
        """True if this entry lets a connection to `host:port` through (invalid entries allow nothing)."""
        if self.error or not self.allows_port(port):
            return False
        if self.host == "0.0.0.0":
            return True
        target = host.lower()
        if "*" not in self.host:
            return target == self.host
        prefix, suffix = self.host.split("*")
        return re.fullmatch(re.escape(prefix) + r"[a-z0-9-]*" + re.escape(suffix), target) is not None


def _wildcard_error(host: str) -> str | None:
    count = host.count("*")
    if count == 0:
        return None
    if count > 1:
        return "more than one '*' (Snowflake allows a single asterisk)"
    labels = host.split(".")
    star = next(i for i, label in enumerate(labels) if "*" in label)
    if len(labels) - star - 1 < 2:
        return "the '*' may not stand for (part of) the registrable domain, e.g. '*.com'"
    return None


def parse_rule_value(value: str) -> RuleEntry:
    """Parse one HOST_PORT VALUE_LIST entry (`host`, `host:443`, `host:0`, `host:8000-8100`, `*.x.com`, `0.0.0.0`).

    Returns:
        A `RuleEntry`; malformed entries (bad port, two asterisks, `*.com`, `0.0.0.0:22`) carry `error` and match
        nothing.
    """
    text = value.strip().strip("'\"").lower()
    host, _, port_text = text.partition(":")
    if not _PATTERN_RE.match(host):
        return RuleEntry(value, host, None, "not a host name")
    if port_text == "":
        ports: tuple[int, int] | None = (DEFAULT_PORT, DEFAULT_PORT)
    else:
        m = _PORT_RE.match(port_text)
        if not m:
            return RuleEntry(value, host, None, f"bad port {port_text!r}")
        lo = int(m.group("lo"))
        hi = int(m.group("hi") or lo)
        if lo == 0 and hi == 0:
            ports = None
        elif not 1 <= lo <= hi <= 65535:
            return RuleEntry(value, host, None, f"bad port range {port_text!r}")
        else:
            ports = (lo, hi)
    if host == "0.0.0.0":
        if ports not in ((443, 443), (80, 80)):
            return RuleEntry(value, host, ports, "0.0.0.0 is only allowed with port 443 or 80")
        return RuleEntry(value, host, ports)
    error = _wildcard_error(host)
    if error is None and "*" not in host and not _HOST_RE.match(host):
        error = "not a host name"
    return RuleEntry(value, host, ports, error)


def host_matches(value: str, host: str, port: int = DEFAULT_PORT) -> bool:
    """True if the VALUE_LIST entry `value` allows `host:port` by Snowflake's rules (case-insensitive)."""
    return parse_rule_value(value).allows(host, port)


def parse_required_host(text: str) -> tuple[str, int]:
    """Split and validate a required `host[:port]` (lower-cased host; port 443 by default).

    A leading `*.` label is accepted for hosts the analyzer can only describe by pattern.

    Raises:
        ValueError: quotes, spaces, bad labels or a bad port; the message says what is allowed.
    """
    if not isinstance(text, str):
        raise ValueError("host must be a string")
    host, sep, port_text = text.strip().lower().partition(":")
    pattern = host[2:] if host.startswith("*.") else host
    if not _HOST_RE.match(pattern) or len(host) > 253:
        raise ValueError(f"host {text!r} is not a host name (letters, digits, '-' and '.', optionally 'name:port')")
    port = DEFAULT_PORT
    if sep:
        if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
            raise ValueError(f"host {text!r} has a bad port (1-65535)")
        port = int(port_text)
    return host, port


# ------------------------------------------------------------------------------------------------ knowledge


@dataclass(frozen=True, slots=True)
class _Builtin:
    name: str
    category: str
    hosts: tuple[str, ...]
    documented: bool  # Snowflake documents the rule; otherwise its host list is assumed (research §10.10)


@functools.cache
def _knowledge() -> tuple[dict[str, _Builtin], dict[str, tuple[str, ...]]]:
    data: Any = load_table("builtin_network_rules")
    if not isinstance(data, dict) or not isinstance(data.get("rules"), dict) or not isinstance(
            data.get("name_hints"), dict):
        raise KnowledgeError("builtin_network_rules.yaml: needs 'rules' and 'name_hints' mappings")
    builtins = {}
    for name, row in data["rules"].items():
        if not isinstance(row, dict) or set(row) != {"category", "hosts", "proof"}:
            raise KnowledgeError(f"builtin_network_rules.yaml: rules.{name} needs exactly category, hosts and proof")
        if row["proof"] not in ("documented", "assumed"):
            raise KnowledgeError(f"builtin_network_rules.yaml: rules.{name}.proof must be documented or assumed")
        NetworkCategory(row["category"])
        builtins[name.upper()] = _Builtin(name.upper(), row["category"], tuple(h.lower() for h in row["hosts"]),
                                          row["proof"] == "documented")
    hints = {}
    for category, words in data["name_hints"].items():
        NetworkCategory(category)
        hints[category] = tuple(w.upper() for w in words)
    return builtins, hints


def builtin_rules() -> dict[str, tuple[str, ...]]:
    """Snowflake-managed rules (fully qualified, upper-case) and the hosts they are taken to allow."""
    return {name: b.hosts for name, b in _knowledge()[0].items()}


# ------------------------------------------------------------------------------------------------ results


@dataclass(frozen=True, slots=True)
class HostMatch:
    """Proof: EAI `eai` allows the host through rule `rule`, whose entry `value` matched."""

    eai: str
    rule: str
    value: str
    source: str  # desc | account_usage | config | builtin (Snowflake-documented) | assumed (undocumented managed rule)


@dataclass(frozen=True, slots=True)
class HostCoverage:
    """One required host: who needs it (categories, evidence) and which EAIs allow it."""

    host: str
    port: int
    categories: tuple[str, ...]
    evidence: tuple[Evidence, ...]
    status: HostStatus
    matches: tuple[HostMatch, ...] = ()
    unverified: tuple[tuple[str, str], ...] = ()  # (eai, why its rules cannot be read)
    guesses: tuple[tuple[str, str], ...] = ()  # (eai, why its name suggests it)
    disabled: tuple[str, ...] = ()  # disabled EAIs that would allow it
    reason: str = ""
    evidence_more: int = 0  # evidence items beyond MAX_EVIDENCE_PER_HOST, counted not kept

    @property
    def address(self) -> str:
        return self.host if self.port == DEFAULT_PORT else f"{self.host}:{self.port}"


@dataclass(frozen=True, slots=True)
class Coverage:
    """Coverage of every required host by the account's (or the chosen) EAIs.

    `suggested_eais` is the minimal set (<= 10) that covers what can be covered; `admin_sql` creates and grants
    what is missing; `alternatives` lists other ways (artifact repository for PyPI).
    """

    hosts: tuple[HostCoverage, ...]
    suggested_eais: tuple[str, ...]
    admin_sql: tuple[str, ...] = ()
    alternatives: tuple[str, ...] = ()
    invalid_hosts: tuple[tuple[str, str], ...] = ()  # (host as given, why it was rejected)
    notes: tuple[str, ...] = ()
    chosen: tuple[str, ...] | None = None

    @property
    def uncovered(self) -> tuple[HostCoverage, ...]:
        return tuple(h for h in self.hosts if h.status is HostStatus.UNCOVERED)

    @property
    def complete(self) -> bool:
        """Every host has proof of coverage and the EAI count is within the per-job limit."""
        return all(h.status is HostStatus.COVERED for h in self.hosts) and len(self.suggested_eais) <= MAX_EAIS_PER_JOB

    def status_of(self, host: str) -> HostStatus | None:
        low = host.lower()
        return next((h.status for h in self.hosts if h.address == low or h.host == low), None)


# ------------------------------------------------------------------------------------------------ matching


def _rule_values(rule: NetworkRuleInfo) -> tuple[tuple[str, ...] | None, str, str | None]:
    """(values, source, why unreadable). Snowflake-managed rules fall back to their known host list, whose
    source is "builtin" when Snowflake documents the rule and "assumed" otherwise (research §10.10)."""
    builtin = _knowledge()[0].get(rule.name.upper())
    if rule.values is not None:
        if builtin is not None and not builtin.documented and rule.source == "builtin":
            return rule.values, "assumed", None
        return rule.values, rule.source, None
    if builtin is not None:
        return builtin.hosts, "builtin" if builtin.documented else "assumed", None
    return None, rule.source, rule.unreadable_reason or "its VALUE_LIST could not be read"


def _name_guess(eai: ExternalAccessIntegration, categories: Sequence[str]) -> str | None:
    hints = _knowledge()[1]
    names = [eai.name.upper()] + [r.name.upper().rsplit(".", 1)[-1] for r in eai.rules]
    for category in categories:
        for word in hints.get(category, ()):
            hit = next((n for n in names if word in n), None)
            if hit:
                return f"name {hit} suggests {category} access ({word}); unconfirmed"
    return None


@dataclass
class _Eval:
    matches: list[HostMatch] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)


def _evaluate(eai: ExternalAccessIntegration, host: str, port: int) -> _Eval:
    out = _Eval()
    if not eai.described:
        out.unreadable.append("DESC INTEGRATION failed, so its rules are unknown")
        return out
    for rule in eai.rules:
        if rule.type.upper() not in _USABLE_TYPES or rule.mode.upper() != "EGRESS":
            continue
        values, source, why = _rule_values(rule)
        if values is None:
            out.unreadable.append(f"rule {rule.name}: {why}")
            continue
        for value in values:
            entry = parse_rule_value(value)
            if "*" in host:
                # A pattern the analyzer could not pin down is proven only by the same pattern or by 0.0.0.0.
                ok = entry.error is None and entry.host in (host, "0.0.0.0") and entry.allows_port(port)
            else:
                ok = entry.allows(host, port)
            if ok:
                out.matches.append(HostMatch(eai.name, rule.name, value, source))
                break
    return out


@dataclass
class _Need:
    host: str
    port: int
    categories: list[str] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)
    evidence_more: int = 0


#: Evidence kept per required host; the rest is counted (`evidence_more`). 100k imports of one library
#: would otherwise carry 100k evidence items into every answer.
MAX_EVIDENCE_PER_HOST = 20


def _collect(needs: Sequence[NetworkNeed]) -> tuple[list[_Need], list[tuple[str, str]]]:
    """Merge the needs per (host, port): linear in the evidence (a set per host, never a list scan)."""
    merged: dict[tuple[str, int], _Need] = {}
    seen: dict[tuple[str, int], set[Evidence]] = {}
    invalid: list[tuple[str, str]] = []
    for need in needs:
        for raw in need.hosts:
            try:
                host, port = parse_required_host(raw)
            except ValueError as exc:
                invalid.append((raw, str(exc)))
                continue
            key = (host, port)
            item = merged.setdefault(key, _Need(host, port))
            known = seen.setdefault(key, set())
            if need.category.value not in item.categories:
                item.categories.append(need.category.value)
            for e in need.evidence:
                if e in known:
                    continue
                known.add(e)
                if len(item.evidence) < MAX_EVIDENCE_PER_HOST:
                    item.evidence.append(e)
                else:
                    item.evidence_more += 1
    return sorted(merged.values(), key=lambda n: (n.host, n.port)), invalid


def _normalize_chosen(chosen: Sequence[str], notes: list[str]) -> list[str]:
    out: list[str] = []
    for name in chosen:
        try:
            ident = validate_identifier(name, "external access integration")
        except InvalidIdentifier as exc:
            notes.append(f"ignored: {exc}")
            continue
        if ident not in out:
            out.append(ident)
    return out


def check_coverage(
    needs: Sequence[NetworkNeed], facts: AccountFacts, chosen: Sequence[str] | None = None
) -> Coverage:
    """Decide, for every host the code needs, which EAI allows it, and propose the smallest EAI set.

    Args:
        needs: network needs from the analysis (hosts per category, with evidence).
        facts: the account's EAIs and their rules (values may be unreadable), grants and role.
        chosen: EAIs the user picked; when given, only these count, and hosts another EAI would cover get a note.

    Returns:
        A `Coverage`. Hosts with a proven match are COVERED (the EAI, rule and matching value are the proof);
        hosts only an unreadable rule might allow are UNVERIFIED, or GUESSED when an EAI's name suggests the
        category; others are UNCOVERED and get admin SQL. Disabled EAIs never count. Invalid host strings are
        listed in `invalid_hosts` and never reach SQL.
    """
    notes: list[str] = []
    items, invalid = _collect(needs)
    safe_eais = []
    for e in facts.eais:
        try:
            validate_identifier(e.name, "external access integration")
            safe_eais.append(e)
        except InvalidIdentifier as exc:
            # Quoted names can hold any character and would reach SQL and generated code; never suggest them.
            notes.append(f"ignored: {exc}")
    facts_eais = tuple(safe_eais)
    by_name = {e.name.upper(): e for e in facts_eais}
    chosen_norm = _normalize_chosen(chosen, notes) if chosen is not None else None
    if chosen_norm is not None:
        for name in chosen_norm:
            if name not in by_name:
                notes.append(f"{name} is not visible to this role (SHOW EXTERNAL ACCESS INTEGRATIONS lists only "
                             "EAIs with USAGE); its rules cannot be checked")
    pool = [e for e in sorted(facts_eais, key=lambda e: e.name.upper())
            if chosen_norm is None or e.name.upper() in chosen_norm]
    usage = {n.upper() for n in facts.grants.eai_usage} if facts.grants.eai_usage is not None else None

    results: list[HostCoverage] = []
    covering: dict[str, set[int]] = {}
    maybe: dict[int, list[str]] = {}
    for i, item in enumerate(items):
        matches: list[HostMatch] = []
        unverified: list[tuple[str, str]] = []
        guesses: list[tuple[str, str]] = []
        disabled: list[str] = []
        for eai in pool:
            ev = _evaluate(eai, item.host, item.port)
            if not eai.enabled:
                if ev.matches:
                    disabled.append(eai.name)
                continue
            if ev.matches:
                matches.extend(ev.matches)
                covering.setdefault(eai.name, set()).add(i)
            elif ev.unreadable:
                guess = _name_guess(eai, item.categories)
                if guess:
                    guesses.append((eai.name, guess))
                else:
                    unverified.append((eai.name, "; ".join(ev.unreadable)))
        if chosen_norm is not None:
            unknown = [n for n in chosen_norm if n not in by_name]
            unverified.extend((n, "not visible to this role") for n in unknown)
        proven = [m for m in matches if m.source != "assumed"]
        if proven:
            status = HostStatus.COVERED
            first = proven[0]
            reason = f"allowed by {first.eai}: rule {first.rule} value {first.value!r}" + (
                " (Snowflake-managed rule; documented host list)" if first.source == "builtin" else "")
        elif matches:
            status = HostStatus.ASSUMED
            first = matches[0]
            reason = (f"assumed allowed by {first.eai}: Snowflake-managed rule {first.rule} is taken to allow "
                      f"{first.value!r}, but Snowflake does not document its hosts and DESC NETWORK RULE cannot "
                      "show them; not proven")
        elif guesses:
            status = HostStatus.GUESSED
            reason = f"maybe allowed by {guesses[0][0]}: {guesses[0][1]}"
            maybe[i] = [g[0] for g in guesses]
        elif unverified:
            status = HostStatus.UNVERIFIED
            reason = f"cannot tell: {unverified[0][0]}: {unverified[0][1]}"
            maybe[i] = [u[0] for u in unverified if u[0].upper() in by_name]
        else:
            status = HostStatus.UNCOVERED
            reason = "no enabled EAI allows it"
        if disabled:
            reason += "; disabled EAI(s) would allow it: " + ", ".join(
                f"{d} (ALTER EXTERNAL ACCESS INTEGRATION {d} SET ENABLED = TRUE)" for d in disabled)
        if status is not HostStatus.COVERED and chosen_norm is not None:
            others = [e.name for e in facts_eais if e.enabled and e.name.upper() not in chosen_norm
                      and _evaluate(e, item.host, item.port).matches]
            if others:
                reason += "; not chosen but would allow it: " + ", ".join(sorted(others))
        results.append(HostCoverage(
            host=item.host, port=item.port, categories=tuple(item.categories), evidence=tuple(item.evidence),
            status=status, matches=tuple(matches), unverified=tuple(unverified), guesses=tuple(guesses),
            disabled=tuple(disabled), reason=reason, evidence_more=item.evidence_more,
        ))

    if chosen_norm is not None:
        suggested = list(chosen_norm)
    else:
        suggested = _greedy_cover(covering, len(items))
        for i in sorted(maybe):
            if not any(n in suggested for n in maybe[i]) and maybe[i]:
                suggested.append(maybe[i][0])
                notes.append(f"{maybe[i][0]} added for {results[i].address} on an unconfirmed basis "
                             f"({results[i].status.value}); confirm its rules allow the host")
    if len(suggested) > MAX_EAIS_PER_JOB:
        notes.append(f"{len(suggested)} EAIs exceed the limit of {MAX_EAIS_PER_JOB} per job; ask an admin to "
                     "combine the network rules into fewer integrations")
    if usage is not None:
        for name in suggested:
            if name.upper() in by_name and name.upper() not in usage:
                grant = f"GRANT USAGE ON INTEGRATION {name} TO ROLE {_role(facts, notes)}"
                if facts.grants.usage_certain:
                    notes.append(f"the role lacks USAGE on {name}: {grant}")
                else:  # secondary roles or part of a hierarchy unread: it may be held there (§10.8)
                    notes.append(f"USAGE on {name} was not found in the grants read, but not every active role "
                                 f"could be read; it may still be held (else: {grant})")

    sql, alternatives = _admin_sql([r for r in results if r.status is HostStatus.UNCOVERED], facts, notes)
    for raw, why in invalid:
        notes.append(f"host {raw!r} ignored: {why}")
    return Coverage(
        hosts=tuple(results), suggested_eais=tuple(suggested), admin_sql=tuple(sql),
        alternatives=tuple(alternatives), invalid_hosts=tuple(invalid), notes=tuple(dict.fromkeys(notes)),
        chosen=tuple(chosen_norm) if chosen_norm is not None else None,
    )


def _greedy_cover(covering: dict[str, set[int]], total: int) -> list[str]:
    """Smallest-first greedy set cover: the EAI allowing the most still-uncovered hosts, ties by name."""
    left = set().union(*covering.values()) if covering else set()
    picked: list[str] = []
    while left:
        name = min(covering, key=lambda n: (-len(covering[n] & left), n))
        gain = covering[name] & left
        if not gain:
            break
        picked.append(name)
        left -= gain
    return picked


# ------------------------------------------------------------------------------------------------ admin SQL


def _role(facts: AccountFacts, notes: list[str]) -> str:
    for candidate in (facts.grants.role, facts.role):
        if candidate:
            try:
                return validate_identifier(candidate, "role")
            except InvalidIdentifier as exc:
                notes.append(f"role ignored in SQL: {exc}")
    notes.append("the current role is unknown: replace <ROLE> in the GRANT statements")
    return "<ROLE>"


def _schema_prefix(facts: AccountFacts, notes: list[str]) -> str:
    try:
        if facts.database and facts.schema:
            return validate_qualified(f"{facts.database}.{facts.schema}", "database.schema", parts=2)
    except InvalidIdentifier as exc:
        notes.append(f"database/schema ignored in SQL: {exc}")
    notes.append("no current database/schema: replace <DB>.<SCHEMA> in CREATE NETWORK RULE")
    return "<DB>.<SCHEMA>"


def _admin_sql(uncovered: list[HostCoverage], facts: AccountFacts, notes: list[str]
               ) -> tuple[list[str], list[str]]:
    """CREATE NETWORK RULE / CREATE EXTERNAL ACCESS INTEGRATION / GRANT for uncovered hosts (proposed only)."""
    if not uncovered:
        return [], []
    if facts.backend == "local":
        return _local_equivalent_sql(uncovered, notes), []
    builtins = _knowledge()[0]
    sql: list[str] = []
    alternatives: list[str] = []
    rest: list[HostCoverage] = []
    builtin_used: list[_Builtin] = []
    for cov in uncovered:
        hit = next((b for b in builtins.values() if cov.port == DEFAULT_PORT and cov.host in b.hosts), None)
        if hit is not None:
            if hit not in builtin_used:
                builtin_used.append(hit)
        else:
            rest.append(cov)
    role = _role(facts, notes)
    eais: list[str] = []
    for b in builtin_used:
        name = f"MLJOBS_{b.category.upper()}_EAI"
        sql.append(f"CREATE EXTERNAL ACCESS INTEGRATION {name} ALLOWED_NETWORK_RULES = ({b.name}) ENABLED = TRUE")
        eais.append(name)
        if not b.documented:
            notes.append(f"{b.name} is Snowflake-managed but its hosts are not documented: an EAI built on it is "
                         "assumed, not proven, to allow " + ", ".join(b.hosts))
        if b.category == NetworkCategory.PYPI.value:
            alternatives.append(
                f"instead of a PyPI EAI, install packages from Snowflake's PyPI mirror: "
                f"artifact_repositories=[{PYPI_ARTIFACT_REPOSITORY!r}] (needs the SNOWFLAKE.PYPI_REPOSITORY_USER "
                "database role, granted to PUBLIC by default)"
            )
    if rest:
        prefix = _schema_prefix(facts, notes)
        # One rule per category (split at 100 hosts), then EAIs packing whole rules up to 100 hosts each.
        by_cat: dict[str, list[str]] = {}
        for cov in rest:
            by_cat.setdefault(cov.categories[0] if cov.categories else "http", []).append(cov.address)
        rules: list[tuple[str, list[str]]] = []
        for category, hosts in by_cat.items():
            chunks = [hosts[i:i + MAX_HOSTS_PER_RULE] for i in range(0, len(hosts), MAX_HOSTS_PER_RULE)]
            for n, chunk in enumerate(chunks, 1):
                suffix = f"_{n}" if len(chunks) > 1 else ""
                rules.append((f"{prefix}.MLJOBS_{category.upper()}_RULE{suffix}", chunk))
        for rule_name, hosts in rules:
            values = ", ".join(sql_string(h) for h in hosts)
            sql.append(f"CREATE NETWORK RULE {rule_name} TYPE = HOST_PORT MODE = EGRESS VALUE_LIST = ({values})")
        groups: list[list[tuple[str, list[str]]]] = []
        for rule in rules:
            if groups and sum(len(h) for _, h in groups[-1]) + len(rule[1]) <= MAX_HOSTS_PER_RULE:
                groups[-1].append(rule)
            else:
                groups.append([rule])
        for n, group in enumerate(groups, 1):
            name = "MLJOBS_EGRESS_EAI" + (f"_{n}" if len(groups) > 1 else "")
            names = ", ".join(r for r, _ in group)
            sql.append(f"CREATE EXTERNAL ACCESS INTEGRATION {name} ALLOWED_NETWORK_RULES = ({names}) ENABLED = TRUE")
            eais.append(name)
    for name in eais:
        sql.append(f"GRANT USAGE ON INTEGRATION {name} TO ROLE {role}")
    notes.append("an administrator (CREATE INTEGRATION on the account, by default ACCOUNTADMIN) must run the "
                 "proposed SQL; then add " + ", ".join(eais) + " to external_access_integrations")
    return sql, alternatives


def _local_equivalent_sql(uncovered: list[HostCoverage], notes: list[str]) -> list[str]:
    """The local pool: the way forward is a local EAI; the SQL is its Snowflake account equivalent, same name."""
    from .diagnosis_network import eai_name_for, eai_sql  # imports this module; import late

    addresses = [cov.address for cov in uncovered]
    name = eai_name_for(uncovered[0].host) if len(uncovered) == 1 else "LOCAL_EGRESS_EAI"
    hosts = " ".join(f"--host {a}" for a in addresses)
    notes.append(f"local pool: allow {', '.join(addresses)} with a local EAI (mljobs local-eais add {name} {hosts}, "
                 f"or the add_local_eai tool; it asks for confirmation), then add {name} to the job's EAIs; the "
                 "SQL shown is the Snowflake account equivalent for when you move to an account")
    sql = [statement.rstrip(";") for statement in eai_sql(name, addresses, facts=None, plan=None)]
    sql[0] = f"/* Snowflake account equivalent of the local EAI {name}; the local pool needs none of it */ {sql[0]}"
    return sql
