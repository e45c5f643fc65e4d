"""EAI coverage: Snowflake's host/port matching rules, proofs, guesses, minimal sets and admin SQL."""

from __future__ import annotations

import pytest

from mljobs.analyzers.model import Confidence, Evidence, Location, NetworkCategory, NetworkNeed
from mljobs.skill.eai import (
    HostStatus,
    check_coverage,
    host_matches,
    parse_required_host,
    parse_rule_value,
)
from mljobs.skill.facts import AccountFacts, ExternalAccessIntegration, Grants, NetworkRuleInfo


@pytest.mark.parametrize(
    ("value", "host", "port", "expected"),
    [
        pytest.param("pypi.org", "pypi.org", 443, True, id="exact__default_port"),
        pytest.param("PyPI.org", "pypi.ORG", 443, True, id="case_insensitive"),
        pytest.param("pypi.org", "pypi.org", 80, False, id="no_port_means_443_only"),
        pytest.param("pypi.org:80", "pypi.org", 80, True, id="explicit_port"),
        pytest.param("pypi.org:0", "pypi.org", 8443, True, id="port_0_any"),
        pytest.param("db.example.com:5000-5100", "db.example.com", 5050, True, id="range_inside"),
        pytest.param("db.example.com:5000-5100", "db.example.com", 5101, False, id="range_outside"),
        pytest.param("*.google.com", "storage.google.com", 443, True, id="wildcard_one_label"),
        pytest.param("*.google.com", "a.b.google.com", 443, False, id="wildcard_never_crosses_dot"),
        pytest.param("*.google.com", "google.com", 443, False, id="wildcard_needs_label"),
        pytest.param("snowflake-*.google.com", "snowflake-eu1.google.com", 443, True, id="wildcard_fragment"),
        pytest.param("snowflake*abc.google.com", "snowflake-x-abc.google.com", 443, True, id="wildcard_middle"),
        pytest.param("snowflake*abc.google.com", "snowflake_x_abc.google.com", 443, False, id="wildcard_no_underscore"),
        pytest.param("*.*.google.com", "a.b.google.com", 443, False, id="two_asterisks_invalid"),
        pytest.param("*.com", "google.com", 443, False, id="wildcard_registrable_invalid"),
        pytest.param("*.google.com:0", "x.google.com", 9000, True, id="wildcard_any_port"),
        pytest.param("0.0.0.0", "anything.example", 443, True, id="all_hosts_443"),
        pytest.param("0.0.0.0:80", "anything.example", 80, True, id="all_hosts_80"),
        pytest.param("0.0.0.0", "anything.example", 80, False, id="all_hosts_no_port_is_443"),
        pytest.param("0.0.0.0:8080", "anything.example", 8080, False, id="all_hosts_other_port_invalid"),
        pytest.param("0.0.0.0:0", "anything.example", 443, False, id="all_hosts_any_port_invalid"),
        pytest.param("'pypi.org'", "pypi.org", 443, True, id="quoted_value_from_desc"),
        pytest.param("pypi.org:99999", "pypi.org", 443, False, id="bad_port_matches_nothing"),
    ],
)
def test_host_matches__table(value: str, host: str, port: int, expected: bool) -> None:
    """Matching follows Snowflake's HOST_PORT rules exactly."""
    assert host_matches(value, host, port) is expected


def test_parse_rule_value__invalid__has_error() -> None:
    """Invalid entries say why."""
    assert "single asterisk" in (parse_rule_value("*.*.x.com").error or "")
    assert "registrable" in (parse_rule_value("*.com").error or "")


@pytest.mark.parametrize(
    "host",
    ["pypi.org'; DROP TABLE x; --", "bad host.com", "", "a..b", "-lead.com", "x.com:0", "x.com:abc", 'q"uote.com'],
)
def test_parse_required_host__hostile__rejected(host: str) -> None:
    """Quotes, spaces, empty labels and bad ports never pass validation."""
    with pytest.raises(ValueError):
        parse_required_host(host)


def test_parse_required_host__port_and_wildcard__parsed() -> None:
    """`host:port` splits; a leading `*.` pattern is accepted."""
    assert parse_required_host("API.WandB.ai:8443") == ("api.wandb.ai", 8443)
    assert parse_required_host("*.aws.cdn.hf.co") == ("*.aws.cdn.hf.co", 443)


# ----------------------------------------------------------------------------------------- coverage

EV = Evidence(Location("train.py", 3), "import foo", "imports foo")


def need(category: NetworkCategory, *hosts: str) -> NetworkNeed:
    return NetworkNeed(category, hosts, (EV,), Confidence.CERTAIN)


def rule(name: str, *values: str, **kw) -> NetworkRuleInfo:
    return NetworkRuleInfo(name, tuple(values), **kw)


def eai(name: str, *rules: NetworkRuleInfo, enabled: bool = True, described: bool = True) -> ExternalAccessIntegration:
    return ExternalAccessIntegration(name, enabled, rules, described=described)


def facts(*eais: ExternalAccessIntegration, **kw) -> AccountFacts:
    kw.setdefault("database", "ML")
    kw.setdefault("schema", "PUBLIC")
    kw.setdefault("role", "DS_ROLE")
    return AccountFacts(backend="snowflake", eais=eais, **kw)


PYPI = need(NetworkCategory.PYPI, "pypi.org", "files.pythonhosted.org")
HF = need(NetworkCategory.HUGGINGFACE, "huggingface.co", "cdn-lfs.huggingface.co")
WANDB = need(NetworkCategory.WANDB, "api.wandb.ai")


def test_coverage__readable_rule__covered_with_proof() -> None:
    """A readable rule value that matches is the proof (EAI, rule, value)."""
    cov = check_coverage([WANDB], facts(eai("WANDB_EAI", rule("ML.NET.WANDB", "*.wandb.ai"))))
    host = cov.hosts[0]
    assert host.status is HostStatus.COVERED
    assert (host.matches[0].eai, host.matches[0].rule, host.matches[0].value) == ("WANDB_EAI", "ML.NET.WANDB", "*.wandb.ai")
    assert cov.suggested_eais == ("WANDB_EAI",) and cov.complete and not cov.admin_sql


def test_coverage__builtin_pypi_rule__covered_by_documented_hosts() -> None:
    """The managed PYPI_RULE (unreadable by design) counts via its documented host list."""
    pypi_rule = NetworkRuleInfo("SNOWFLAKE.EXTERNAL_ACCESS.PYPI_RULE", None, unreadable_reason="needs OWNERSHIP")
    cov = check_coverage([PYPI], facts(eai("PYPI_EAI", pypi_rule)))
    assert all(h.status is HostStatus.COVERED for h in cov.hosts)
    assert cov.hosts[0].matches[0].source == "builtin" and "Snowflake-managed" in cov.hosts[0].reason


def test_coverage__unreadable_rule__unverified_with_reason() -> None:
    """An EAI whose rule values cannot be read leaves the host unverified, with the reason."""
    r = NetworkRuleInfo("ML.NET.R1", None, unreadable_reason="DESC NETWORK RULE needs OWNERSHIP")
    cov = check_coverage([WANDB], facts(eai("TEAM_EAI", r)))
    host = cov.hosts[0]
    assert host.status is HostStatus.UNVERIFIED and "OWNERSHIP" in host.reason
    assert cov.suggested_eais == ("TEAM_EAI",) and any("unconfirmed" in n for n in cov.notes)
    assert not cov.complete


def test_coverage__name_hint__guess_not_proof() -> None:
    """An EAI named PYPI_ACCESS with an unreadable rule is a guess for PyPI hosts, never proof."""
    r = NetworkRuleInfo("ML.NET.CUSTOM", None, unreadable_reason="no OWNERSHIP")
    cov = check_coverage([PYPI], facts(eai("PYPI_ACCESS", r)))
    assert {h.status for h in cov.hosts} == {HostStatus.GUESSED}
    assert "PYPI_ACCESS" in cov.hosts[0].reason and "unconfirmed" in cov.hosts[0].reason
    assert cov.suggested_eais == ("PYPI_ACCESS",)


def test_coverage__undescribed_eai__unverified() -> None:
    """DESC INTEGRATION failure makes its rules unknown."""
    cov = check_coverage([WANDB], facts(eai("X_EAI", described=False)))
    assert cov.hosts[0].status is HostStatus.UNVERIFIED and "DESC INTEGRATION" in cov.hosts[0].reason


def test_coverage__disabled_eai__does_not_count_but_is_named() -> None:
    """A disabled EAI never covers, but the reason names it and how to enable it."""
    cov = check_coverage([WANDB], facts(eai("WANDB_EAI", rule("ML.NET.W", "api.wandb.ai"), enabled=False)))
    host = cov.hosts[0]
    assert host.status is HostStatus.UNCOVERED and host.disabled == ("WANDB_EAI",)
    assert "SET ENABLED = TRUE" in host.reason and cov.suggested_eais == ()


def test_coverage__ingress_rule__ignored() -> None:
    """Only EGRESS HOST_PORT rules allow outbound traffic."""
    cov = check_coverage([WANDB], facts(eai("E", rule("ML.NET.W", "api.wandb.ai", mode="INGRESS"))))
    assert cov.hosts[0].status is HostStatus.UNCOVERED


def test_coverage__minimal_set__greedy_and_deterministic() -> None:
    """The suggestion is the smallest set: one broad EAI beats two narrow ones."""
    f = facts(
        eai("A_PYPI", rule("ML.N.P", "pypi.org", "files.pythonhosted.org")),
        eai("B_HF", rule("ML.N.H", "huggingface.co", "cdn-lfs.huggingface.co")),
        eai("C_ALL", rule("ML.N.ALL", "0.0.0.0")),
    )
    cov = check_coverage([PYPI, HF, WANDB], f)
    assert cov.suggested_eais == ("C_ALL",) and cov.complete


def test_coverage__uncovered__admin_sql_with_builtin_pypi_and_custom_rule() -> None:
    """Uncovered PyPI uses the managed rule (plus the artifact-repository alternative); others get a custom rule."""
    cov = check_coverage([PYPI, WANDB], facts())
    sql = "\n".join(cov.admin_sql)
    assert ("CREATE EXTERNAL ACCESS INTEGRATION MLJOBS_PYPI_EAI ALLOWED_NETWORK_RULES = "
            "(SNOWFLAKE.EXTERNAL_ACCESS.PYPI_RULE) ENABLED = TRUE") in sql
    assert ("CREATE NETWORK RULE ML.PUBLIC.MLJOBS_WANDB_RULE TYPE = HOST_PORT MODE = EGRESS "
            "VALUE_LIST = ('api.wandb.ai')") in sql
    assert "ALLOWED_NETWORK_RULES = (ML.PUBLIC.MLJOBS_WANDB_RULE) ENABLED = TRUE" in sql
    assert "GRANT USAGE ON INTEGRATION MLJOBS_PYPI_EAI TO ROLE DS_ROLE" in sql
    assert any("snowflake.snowpark.pypi_shared_repository" in a for a in cov.alternatives)


def test_coverage__more_than_100_hosts__rules_split() -> None:
    """VALUE_LIST and EAIs stay within 100 hosts each."""
    many = need(NetworkCategory.HTTP, *(f"h{i}.example.com" for i in range(150)))
    cov = check_coverage([many], facts())
    rules = [s for s in cov.admin_sql if s.startswith("CREATE NETWORK RULE")]
    assert len(rules) == 2 and all(s.count("'") // 2 <= 100 for s in rules)
    assert sum(s.startswith("CREATE EXTERNAL ACCESS") for s in cov.admin_sql) == 2


def test_coverage__hostile_host__never_reaches_sql() -> None:
    """A host with quotes is rejected and listed; the SQL has no trace of it."""
    bad = need(NetworkCategory.HTTP, "evil.com') ; DROP DATABASE x; --", "ok.example.com")
    cov = check_coverage([bad], facts())
    assert cov.invalid_hosts and "DROP" not in "\n".join(cov.admin_sql)
    assert [h.host for h in cov.hosts] == ["ok.example.com"]


def test_coverage__hostile_role_and_schema__placeholders() -> None:
    """Invalid role/schema names never reach SQL; placeholders and notes are used instead."""
    cov = check_coverage([WANDB], facts(role='x"; drop', schema="bad schema"))
    sql = "\n".join(cov.admin_sql)
    assert "drop" not in sql and "<ROLE>" in sql and "<DB>.<SCHEMA>" in sql


def test_coverage__chosen__only_chosen_count_and_others_hinted() -> None:
    """With a chosen set, other EAIs do not count, but the reason names one that would."""
    f = facts(eai("WANDB_EAI", rule("ML.N.W", "api.wandb.ai")), eai("OTHER", rule("ML.N.O", "x.com")))
    cov = check_coverage([WANDB], f, chosen=["other", "bad-name"])
    assert cov.suggested_eais == ("OTHER",) and cov.chosen == ("OTHER",)
    assert cov.hosts[0].status is HostStatus.UNCOVERED and "WANDB_EAI" in cov.hosts[0].reason
    assert any("ignored" in n for n in cov.notes)


def test_coverage__chosen_invisible__unverified() -> None:
    """A chosen EAI the role cannot see is unverified, not assumed."""
    cov = check_coverage([WANDB], facts(), chosen=["SECRET_EAI"])
    assert cov.hosts[0].status is HostStatus.UNVERIFIED and cov.suggested_eais == ("SECRET_EAI",)


def test_coverage__missing_usage__grant_note() -> None:
    """A suggested EAI without USAGE gets a GRANT note."""
    f = facts(eai("W", rule("ML.N.W", "api.wandb.ai")), grants=Grants(role="R1", eai_usage=()))
    cov = check_coverage([WANDB], f)
    assert any("GRANT USAGE ON INTEGRATION W TO ROLE R1" in n for n in cov.notes)


def test_coverage__more_than_10_eais__noted() -> None:
    """More than 10 EAIs for one job is flagged."""
    eais = [eai(f"E{i:02d}", rule(f"ML.N.R{i}", f"h{i}.example.com")) for i in range(12)]
    many = need(NetworkCategory.HTTP, *(f"h{i}.example.com" for i in range(12)))
    cov = check_coverage([many], facts(*eais))
    assert len(cov.suggested_eais) == 12 and not cov.complete
    assert any("limit of 10" in n for n in cov.notes)


def test_coverage__no_needs__complete_and_empty() -> None:
    """No network needs: nothing to suggest, nothing to create."""
    cov = check_coverage([], facts())
    assert cov.complete and cov.suggested_eais == () and cov.admin_sql == ()


def test_coverage__same_host_two_categories__merged_with_both() -> None:
    """A host needed by two categories appears once with both categories and evidence."""
    cov = check_coverage([need(NetworkCategory.PYTORCH_HUB, "github.com"), need(NetworkCategory.NLTK, "github.com")],
                         facts())
    assert len(cov.hosts) == 1 and cov.hosts[0].categories == ("pytorch_hub", "nltk")


def test_coverage__hostile_eai_name__never_suggested() -> None:
    """An EAI whose (quoted) name is not a plain identifier is ignored with a note, even if it would match."""
    f = facts(eai('BAD"; DROP', rule("ML.N.W", "api.wandb.ai")), eai("GOOD", rule("ML.N.G", "api.wandb.ai")))
    cov = check_coverage([WANDB], f)
    assert cov.suggested_eais == ("GOOD",) and any("ignored" in n for n in cov.notes)
    assert all(m.eai == "GOOD" for m in cov.hosts[0].matches)


def test_coverage__managed_rule_other_than_pypi__assumed_not_proof() -> None:
    """HUGGINGFACE_RULE's hosts are not documented: its match is 'assumed', never COVERED proof (§10.10)."""
    hf_rule = NetworkRuleInfo("SNOWFLAKE.EXTERNAL_ACCESS.HUGGINGFACE_RULE", None, source="builtin")
    cov = check_coverage([HF], facts(eai("HF_EAI", hf_rule)))
    assert {h.status for h in cov.hosts} == {HostStatus.ASSUMED}
    assert "not proven" in cov.hosts[0].reason and cov.hosts[0].matches[0].source == "assumed"
    assert cov.suggested_eais == ("HF_EAI",) and not cov.complete


def test_coverage__assumed_and_proven__proof_wins() -> None:
    """A host an own, readable rule allows is COVERED even when an assumed managed rule also matches."""
    hf_rule = NetworkRuleInfo("SNOWFLAKE.EXTERNAL_ACCESS.HUGGINGFACE_RULE", None, source="builtin")
    own = rule("ML.NET.HF", "huggingface.co", "cdn-lfs.huggingface.co")
    cov = check_coverage([HF], facts(eai("A_HF", hf_rule), eai("B_HF", own)))
    assert {h.status for h in cov.hosts} == {HostStatus.COVERED}
    assert all(h.reason.startswith("allowed by B_HF") for h in cov.hosts)


def test_admin_sql__huggingface_uncovered__managed_rule_proposed_as_assumed() -> None:
    """Proposing HUGGINGFACE_RULE for uncovered hosts says that it is assumed, not documented."""
    cov = check_coverage([HF], facts())
    assert any("SNOWFLAKE.EXTERNAL_ACCESS.HUGGINGFACE_RULE" in q for q in cov.admin_sql)
    assert any("assumed, not proven" in n for n in cov.notes)


@pytest.mark.parametrize(("secondary", "phrase"), [(("TEAM",), "the role lacks USAGE on WANDB_EAI"),
                                                   (None, "it may still be held")])  # fmt: skip
def test_coverage__suggested_eai_without_usage__note_as_sure_as_the_grants(secondary, phrase: str) -> None:
    """A suggested EAI without USAGE in the grants read: a plain 'lacks' only when every active role was read."""
    f = facts(eai("WANDB_EAI", rule("ML.NET.W", "api.wandb.ai")),
              grants=Grants(role="DS_ROLE", eai_usage=(), secondary_roles=secondary))
    cov = check_coverage([WANDB], f)
    assert any(phrase in n and "GRANT USAGE ON INTEGRATION WANDB_EAI TO ROLE DS_ROLE" in n for n in cov.notes)
