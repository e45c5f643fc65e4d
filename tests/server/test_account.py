"""Read-only account discovery against the fake session: odd rows, missing grants, unreadable rules, hostile names."""

from __future__ import annotations

import pytest

from mljobs.server.account import discover, plain_qualified_name, split_list
from mljobs.server.errors import UsageError
from mljobs.skill.facts import FamilyKind
from mljobs.skill.identifiers import InvalidIdentifier
from tests.fakes import FakeSession, sql_error

HOSTILE = 'x"; DROP TABLE y; --'


@pytest.fixture
def session() -> FakeSession:
    s = FakeSession(role="ML_ROLE")
    s.add_pool("CPU_POOL", state="IDLE", family="CPU_X64_S", max_nodes=3)
    s.add_pool("GPU_POOL", state="SUSPENDED", family="GPU_NV_S", auto_resume="false")
    s.add_family("CPU_X64_S", vcpu=3, memory_gib=13)
    s.add_family("GPU_NV_S", vcpu=6, memory_gib=27, gpu="A10G", gpu_count=1, gpu_memory_gib=24)
    s.add_eai("PYPI_EAI", ["SNOWFLAKE.EXTERNAL_ACCESS.PYPI_RULE"])
    s.add_eai("S3_EAI", ["ML_DB.PUBLIC.S3_RULE"])
    s.add_network_rule("ML_DB.PUBLIC.S3_RULE", ["*.s3.amazonaws.com", "data.example.com:8443", "0.0.0.0:443"])
    s.add_stage("ML_DB.PUBLIC.PAYLOAD")
    s.grant_role("ML_ROLE", "ANALYST")  # irrelevant direction: ANALYST inherits ML_ROLE, not the reverse
    s.grant_role("ML_PARENT", "ML_ROLE")  # ML_ROLE inherits ML_PARENT
    s.grant("USAGE", "DATABASE", "ML_DB", "ML_PARENT")
    s.grant("USAGE", "SCHEMA", "ML_DB.PUBLIC", "ML_ROLE")
    s.grant("CREATE SERVICE", "SCHEMA", "ML_DB.PUBLIC", "ML_PARENT")
    s.grant("USAGE", "COMPUTE POOL", "CPU_POOL", "PUBLIC")
    s.grant("OWNERSHIP", "INTEGRATION", "PYPI_EAI", "ML_ROLE")
    s.grant("USAGE", "INTEGRATION", "S3_EAI", "ANALYST")
    return s


def _read_only(session: FakeSession) -> None:
    for statement in session.queries:
        assert statement.sql.split()[0].upper() in {"SHOW", "DESC", "DESCRIBE", "SELECT"}, statement.sql


def test_discover__full_account__facts_from_every_source(session: FakeSession) -> None:
    """Pools, live families, EAIs with rules, stages and grants through the inherited role all arrive typed."""
    facts = discover(session)
    assert (facts.backend, facts.database, facts.schema, facts.warehouse, facts.role, facts.cloud) == (
        "snowflake", "ML_DB", "PUBLIC", "ML_WH", "ML_ROLE", "aws",
    )  # fmt: skip
    cpu, gpu = facts.pools
    assert (cpu.name, cpu.state, cpu.max_nodes, cpu.auto_resume, cpu.has_usage) == ("CPU_POOL", "IDLE", 3, True, True)
    assert (gpu.state, gpu.auto_resume, gpu.has_usage) == ("SUSPENDED", False, False)
    assert facts.family("GPU_NV_S").kind is FamilyKind.GPU and facts.family("GPU_NV_S").source == "account"
    pypi, s3 = facts.eais
    assert pypi.rules[0].source == "builtin" and "files.pythonhosted.org" in pypi.rules[0].values
    assert s3.rules[0].values == ("*.s3.amazonaws.com", "data.example.com:8443", "0.0.0.0:443")
    assert s3.rules[0].source == "desc"
    assert [st.name for st in facts.stages] == ["ML_DB.PUBLIC.PAYLOAD"]
    g = facts.grants
    assert (g.database_usage, g.schema_usage, g.create_service, g.create_stage) == (True, True, True, False)
    assert g.pool_usage == ("CPU_POOL",) and g.eai_usage == ("PYPI_EAI",)
    assert facts.notes == ()
    _read_only(session)


def test_discover__odd_pool_rows__tolerated(session: FakeSession) -> None:
    """Missing and extra columns, string numbers and booleans, UNKNOWN/STOPPING states are all read."""
    session.pools.clear()
    session.pool_columns = ("name", "state", "max_nodes", "instance_family", "auto_resume")
    session.add_pool("P1", state="UNKNOWN", max_nodes="4", auto_resume="FALSE", budget="B1")
    session.add_pool("P2", state="stopping", max_nodes=None, instance_family=None, auto_resume=None)
    p1, p2 = discover(session).pools
    assert (p1.state, p1.max_nodes, p1.auto_resume, p1.active_nodes) == ("UNKNOWN", 4, False, 0)
    assert (p2.state, p2.max_nodes, p2.instance_family, p2.auto_resume) == ("STOPPING", 1, "UNKNOWN", True)


def test_discover__exclusive_native_app_pool__skipped_with_note(session: FakeSession) -> None:
    """A pool created FOR APPLICATION cannot run our jobs; it is left out and the note says why."""
    session.add_pool("APP_POOL", is_exclusive="true", application="SOME_APP")
    facts = discover(session)
    assert "APP_POOL" not in [p.name for p in facts.pools]
    assert any("APP_POOL" in n and "Native App" in n for n in facts.notes)


@pytest.mark.parametrize(("region", "cloud"), [("AWS_US_WEST_2", "aws"), ("PUBLIC.AZURE_WESTEUROPE", "azure"),
                                               ("GCP_US_CENTRAL1", "gcp"), (None, None)])  # fmt: skip
def test_discover__no_family_command__falls_back_to_table_for_cloud(
    session: FakeSession, region: str | None, cloud: str | None
) -> None:
    """Without SHOW COMPUTE POOL INSTANCE FAMILIES the documented table is used, filtered by the account's cloud."""
    from mljobs.skill.families import family_table

    session.families = None
    session.region = region
    facts = discover(session)
    assert facts.cloud == cloud
    assert {f.name for f in facts.families} == set(family_table(cloud))
    assert all(f.source == "table" for f in facts.families)
    assert any("INSTANCE FAMILIES" in n for n in facts.notes)


def test_discover__no_grants__privileges_false_not_unknown(session: FakeSession) -> None:
    """Readable grant lists with nothing for our roles mean False, not None."""
    session.grants.clear()
    facts = discover(session)
    g = facts.grants
    assert (g.database_usage, g.schema_usage, g.create_service, g.create_stage) == (False, False, False, False)
    assert g.pool_usage == () and g.eai_usage == ()
    assert all(p.has_usage is False for p in facts.pools)


def test_discover__grants_unreadable__unknown_with_notes(session: FakeSession) -> None:
    """SHOW GRANTS failures leave the privileges at None and say so in the notes."""
    session.inject(r"^SHOW GRANTS ON (SCHEMA|COMPUTE POOL)", sql_error("Insufficient privileges", 3001), times=None)
    facts = discover(session)
    g = facts.grants
    assert g.database_usage is True
    assert g.schema_usage is None and g.create_service is None and g.pool_usage is None
    assert all(p.has_usage is None for p in facts.pools)
    assert any("SHOW GRANTS ON SCHEMA ML_DB.PUBLIC failed (3001" in n for n in facts.notes)


def test_discover__role_hierarchy_deep__bounded_with_note() -> None:
    """Inherited roles are followed breadth-first up to the depth limit, then a note says the rest was skipped."""
    s = FakeSession(role="R0")
    for i in range(10):
        s.grant_role(f"R{i + 1}", f"R{i}")
    s.grant("USAGE", "DATABASE", "ML_DB", "R3")
    s.grant("USAGE", "SCHEMA", "ML_DB.PUBLIC", "R9")
    facts = discover(s)
    assert facts.grants.database_usage is True  # 3 levels up: followed
    assert facts.grants.schema_usage is False  # 9 levels up: beyond the limit
    assert any("deeper than" in n for n in facts.notes)


def test_discover__unowned_rule_no_account_usage__unreadable_with_reason(session: FakeSession) -> None:
    """DESC NETWORK RULE without OWNERSHIP and no ACCOUNT_USAGE access: values None and both reasons given."""
    session.add_network_rule("ML_DB.PUBLIC.S3_RULE", ["*.s3.amazonaws.com"], owned=False)
    rule = discover(session).eais[1].rules[0]
    assert rule.values is None
    assert "OWNERSHIP" in rule.unreadable_reason and "ACCOUNT_USAGE" in rule.unreadable_reason


def test_discover__unowned_rule_account_usage_readable__values_from_view(session: FakeSession) -> None:
    """When DESC is refused, SNOWFLAKE.ACCOUNT_USAGE.NETWORK_RULES supplies the VALUE_LIST (bound params)."""
    session.add_network_rule("ML_DB.PUBLIC.S3_RULE", ["*.s3.amazonaws.com"], owned=False)
    session.account_usage_readable = True
    rule = discover(session).eais[1].rules[0]
    assert (rule.values, rule.source) == (("*.s3.amazonaws.com",), "account_usage")
    select = next(q for q in session.queries if "ACCOUNT_USAGE" in q.sql)
    assert select.params == ("ML_DB", "PUBLIC", "S3_RULE")


def test_discover__builtin_rule__never_described(session: FakeSession) -> None:
    """SNOWFLAKE.EXTERNAL_ACCESS.* rules come from the shipped table without a doomed DESC."""
    discover(session)
    assert not any("PYPI_RULE" in q.sql for q in session.queries)


@pytest.mark.parametrize("enabled", [True, False], ids=["enabled__true", "disabled__false"])
def test_discover__eai_enabled_flag__read_from_desc(session: FakeSession, enabled: bool) -> None:
    """ENABLED from DESC INTEGRATION is reported (a disabled EAI allows nothing)."""
    session.add_eai("PYPI_EAI", ["SNOWFLAKE.EXTERNAL_ACCESS.PYPI_RULE"], enabled=enabled)
    assert discover(session).eais[0].enabled is enabled


def test_discover__eai_not_describable__described_false_with_note(session: FakeSession) -> None:
    """An EAI listed by SHOW but refused by DESC keeps its name, with rules unknown."""
    session.add_eai("S3_EAI", [], describable=False)
    eai = discover(session).eais[1]
    assert (eai.name, eai.described, eai.rules) == ("S3_EAI", False, ())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[A.B.C, D.E.F]", ["A.B.C", "D.E.F"]),
        ('["DB"."S"."R", X.Y.Z]', ['"DB"."S"."R"', "X.Y.Z"]),
        ("['MY_RULE']", ["MY_RULE"]),
        ("pypi.org,files.pythonhosted.org", ["pypi.org", "files.pythonhosted.org"]),
        ("[]", []),
        (None, []),
        ('"A"."B,C"."D"', ['"A"."B,C"."D"']),
    ],
)
def test_split_list__formats__lenient(text: str | None, expected: list[str]) -> None:
    """ALLOWED_NETWORK_RULES and VALUE_LIST are parsed whatever bracket/quote style Snowflake prints."""
    assert split_list(text) == expected


def test_discover__quoted_rule_names__queried_quoted(session: FakeSession) -> None:
    """`"ML_DB"."PUBLIC"."S3_RULE"` in ALLOWED_NETWORK_RULES is normalised and described."""
    session.add_eai("S3_EAI", rules_text='["ML_DB"."PUBLIC"."S3_RULE"]')
    rule = discover(session).eais[1].rules[0]
    assert rule.name == "ML_DB.PUBLIC.S3_RULE" and rule.values is not None
    assert 'DESC NETWORK RULE "ML_DB"."PUBLIC"."S3_RULE"' in [q.sql for q in session.queries]


def test_plain_qualified_name__case_sensitive_part__rejected() -> None:
    """A quoted lower-case part names a different object than its upper-case form; it is refused."""
    with pytest.raises(InvalidIdentifier):
        plain_qualified_name('"ml_db".PUBLIC.R')


def test_discover__hostile_names_from_account__skipped_never_executed(session: FakeSession) -> None:
    """Pool, EAI, stage, rule and role names that are not plain identifiers never reach SQL text."""
    session.add_pool(HOSTILE)
    session.add_eai(HOSTILE)
    session.add_eai("ODD_EAI", rules_text=f'[ML_DB.PUBLIC."{HOSTILE}"]')
    session.stages["ML_DB.PUBLIC.X"] = {**session.stages["ML_DB.PUBLIC.PAYLOAD"], "name": HOSTILE}
    session.grant_role(HOSTILE, "ML_ROLE")
    facts = discover(session)
    assert HOSTILE.upper() not in [p.name for p in facts.pools]
    assert [e.name for e in facts.eais] == ["PYPI_EAI", "S3_EAI", "ODD_EAI"]
    assert facts.eais[2].rules[0].values is None
    assert [s.name for s in facts.stages] == ["ML_DB.PUBLIC.PAYLOAD"]
    assert sum("skipped" in n for n in facts.notes) >= 4
    assert not any("DROP TABLE" in q.sql.upper() for q in session.queries)
    _read_only(session)


def test_discover__hostile_explicit_schema__usage_error_before_any_sql(session: FakeSession) -> None:
    """An explicit database/schema that is not a plain identifier is refused before anything runs."""
    with pytest.raises(UsageError, match="plain Snowflake identifier"):
        discover(session, schema=HOSTILE)
    assert session.queries == []


def test_discover__every_statement_fails__facts_with_notes(session: FakeSession) -> None:
    """A session that can read nothing still yields AccountFacts, with one note per failed read."""
    session.inject(r".*", sql_error("Object does not exist or not authorized.", 2003), times=None)
    facts = discover(session)
    assert facts.pools == () and facts.eais == () and facts.stages == ()
    assert facts.families  # the documented table
    assert facts.grants.database_usage is None and facts.grants.pool_usage == ()
    assert len(facts.notes) >= 5
    _read_only(session)


def test_discover__retry_wrapper__wraps_each_statement(session: FakeSession) -> None:
    """The injected retry runs every statement, so a transient failure is absorbed and not noted."""
    session.inject(r"^SHOW COMPUTE POOLS$", sql_error("throttled", 0), times=1)

    def retry_once(call):
        try:
            return call()
        except Exception:
            return call()

    facts = discover(session, retry=retry_once)
    assert [p.name for p in facts.pools] == ["CPU_POOL", "GPU_POOL"]
    assert facts.notes == ()


def test_discover__gpu_memory__per_gpu_times_count(session: FakeSession) -> None:
    """SHOW COMPUTE POOL INSTANCE FAMILIES gives GPU memory per GPU; a node has gpu_count times that (§10.9)."""
    session.add_family("GPU_NV_M", vcpu=44, memory_gib=178, gpu="A10G", gpu_count=4, gpu_memory_gib=24)
    facts = discover(session)
    assert facts.family("GPU_NV_M").gpu_memory_gib == 96
    assert facts.family("GPU_NV_S").gpu_memory_gib == 24
    assert facts.family("CPU_X64_S").gpu_memory_gib is None


def test_discover__usage_through_secondary_role__counted(session: FakeSession) -> None:
    """With DEFAULT_SECONDARY_ROLES = ALL, a role granted to the user gives USAGE; CREATE stays primary-only."""
    session.grants.clear()
    session.grant_to_user("TEAM")
    session.grant_role("TEAM_PARENT", "TEAM")
    session.grant("USAGE", "DATABASE", "ML_DB", "TEAM")
    session.grant("USAGE", "SCHEMA", "ML_DB.PUBLIC", "TEAM_PARENT")
    session.grant("CREATE SERVICE", "SCHEMA", "ML_DB.PUBLIC", "TEAM")
    session.grant("USAGE", "COMPUTE POOL", "GPU_POOL", "TEAM")
    facts = discover(session)
    g = facts.grants
    assert g.secondary_roles == ("TEAM",) and g.usage_certain
    assert (g.database_usage, g.schema_usage) == (True, True)
    assert g.create_service is False  # held by a secondary role only: CREATE needs the primary role
    assert g.pool_usage == ("GPU_POOL",)
    assert any(q.sql == "SELECT CURRENT_SECONDARY_ROLES() AS SECONDARY_ROLES" for q in session.queries)


def test_discover__secondary_roles_none__not_counted(session: FakeSession) -> None:
    """USE SECONDARY ROLES NONE: only the primary hierarchy counts, and that is certain."""
    session.grants.clear()
    session.grant_to_user("TEAM")
    session.grant("USAGE", "DATABASE", "ML_DB", "TEAM")
    session.secondary_roles = "NONE"
    g = discover(session).grants
    assert g.secondary_roles == () and g.database_usage is False and g.usage_certain


def test_discover__secondary_roles_unreadable__unknown_with_note(session: FakeSession) -> None:
    """When CURRENT_SECONDARY_ROLES() fails, missing USAGE is not certain, and the note says so."""
    session.secondary_roles_supported = False
    facts = discover(session)
    assert facts.grants.secondary_roles is None and not facts.grants.usage_certain
    assert any("CURRENT_SECONDARY_ROLES" in n and "warning, not a refusal" in n for n in facts.notes)


def test_discover__database_roles__grants_count(session: FakeSession) -> None:
    """Privileges granted to a database role held by the role (directly or nested) count (§10.8)."""
    session.grants.clear()
    session.grant_database_role("ML_DB.ML_USERS", "ML_ROLE")
    session.grant_database_role("ML_DB.ML_READERS", "ML_DB.ML_USERS", to_database_role=True)
    session.grant("USAGE", "DATABASE", "ML_DB", "ML_DB.ML_READERS", granted_to="DATABASE_ROLE")
    session.grant("USAGE", "SCHEMA", "ML_DB.PUBLIC", "ML_DB.ML_USERS", granted_to="DATABASE_ROLE")
    session.grant("CREATE SERVICE", "SCHEMA", "ML_DB.PUBLIC", "ML_DB.ML_USERS", granted_to="DATABASE_ROLE")
    g = discover(session).grants
    assert (g.database_usage, g.schema_usage, g.create_service) == (True, True, True)
    assert any(q.sql == 'SHOW GRANTS TO DATABASE ROLE "ML_DB"."ML_READERS"' for q in session.queries)
    _read_only(session)
