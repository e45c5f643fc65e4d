"""Preflight: what would make a planned job fail (or waste money) before it is submitted, with the fix.

Checks grants (research snowflake-facts §5.6; secondary and database roles, mljobs-api.md §10.8), the query
warehouse of Snowpark code, pool fit and node counts, network coverage and PyPI access,
the client Python (the runtime image follows it; @remote and result() unpickle across it), EAI limits,
spec_overrides, and whether the method ships everything the script imports.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from mljobs.analyzers.snowobjects import SELECT as SELECT_PRIVILEGE
from mljobs.analyzers.model import (
    Analysis,
    ComputeTarget,
    Confidence,
    NetworkCategory,
    NetworkNeed,
    PackageStatus,
    SubmitMethod,
)

from .argcheck import check_args
from .eai import MAX_EAIS_PER_JOB, Coverage, HostStatus, builtin_rules, check_coverage
from .facts import AccountFacts, FamilyKind
from .families import lookup_family
from .identifiers import InvalidIdentifier, validate_identifier, validate_qualified
from .jobplan import JobPlan
from .spec import validate_spec_overrides

#: Python versions the Container Runtime ships images for (runtime 2.10: 3.10, 3.11, 3.12; research §4.2).
RUNTIME_PYTHONS = ("3.10", "3.11", "3.12")
SYSTEM_POOLS = frozenset({"SYSTEM_COMPUTE_POOL_CPU", "SYSTEM_COMPUTE_POOL_GPU"})


class Severity(str, enum.Enum):
    ERROR = "error"  # the job would fail or cannot be submitted
    WARNING = "warning"  # it would run, but probably not as intended


@dataclass(frozen=True, slots=True)
class PreflightIssue:
    """One problem found before submission: what is wrong and the exact fix (SQL or plan change)."""

    severity: Severity
    code: str  # stable identifier, e.g. "grant.create_service"
    message: str
    fix: str


def _role(facts: AccountFacts) -> str:
    for candidate in (facts.grants.role, facts.role):
        if candidate:
            try:
                return validate_identifier(candidate, "role")
            except InvalidIdentifier:
                continue
    return "<ROLE>"


def _grant_issues(plan: JobPlan, facts: AccountFacts) -> list[PreflightIssue]:
    """Privileges the role lacks, as errors only where the grants read prove it.

    USAGE counts from the primary role, every active secondary role (DEFAULT_SECONDARY_ROLES is ALL since the
    2024_08 bundle) and the database roles they hold (mljobs-api.md §10.8). When the secondary roles or part of a
    role hierarchy could not be read, a USAGE grant not found is only a warning: the user may hold it. CREATE
    SERVICE / CREATE STAGE are authorized by the primary role alone (docs "USE SECONDARY ROLES").
    """
    g = facts.grants
    role = _role(facts)
    db = plan.database or facts.database or "<DB>"
    schema = f"{db}.{plan.schema or facts.schema or '<SCHEMA>'}"
    out: list[PreflightIssue] = []
    secondary = ("" if not g.secondary_roles else f" or its secondary roles ({', '.join(g.secondary_roles)})")

    def missing(code: str, what: str, grant: str, *, certain: bool, primary_only: bool = False) -> None:
        if certain:
            text = f"the role {role}{'' if primary_only else secondary} lacks {what}"
            if primary_only and g.secondary_roles:
                text += " (CREATE privileges come from the primary role only, not from secondary roles)"
            out.append(PreflightIssue(Severity.ERROR, code, text, f"an owner or admin runs: {grant}"))
        else:
            why = ("the secondary roles could not be read" if g.secondary_roles is None
                   else "part of the role hierarchy could not be read")
            out.append(PreflightIssue(
                Severity.WARNING, code,
                f"{what} was not found in the grants read for {role}, but {why}, so it may still be held",
                f"if submission fails with SQL error 3001, an owner or admin runs: {grant}"))

    usage_certain = g.usage_certain
    if g.database_usage is False:
        missing("grant.database_usage", f"USAGE on database {db}", f"GRANT USAGE ON DATABASE {db} TO ROLE {role}",
                certain=usage_certain)
    if g.schema_usage is False:
        missing("grant.schema_usage", f"USAGE on schema {schema}", f"GRANT USAGE ON SCHEMA {schema} TO ROLE {role}",
                certain=usage_certain)
    if g.create_service is False:
        missing("grant.create_service", f"CREATE SERVICE on schema {schema} (every ML job is a job service)",
                f"GRANT CREATE SERVICE ON SCHEMA {schema} TO ROLE {role}", certain=g.complete, primary_only=True)
    stage_name = plan.stage_name.lstrip("@").split("/", 1)[0].upper()
    stage_exists = any(s.name.upper() == stage_name for s in facts.stages)
    if not stage_exists and g.create_stage is False:
        missing("grant.create_stage", f"CREATE STAGE on {schema}, and the payload stage {stage_name} does not exist "
                "(snowflake-ml-python creates it on first use)",
                f"GRANT CREATE STAGE ON SCHEMA {schema} TO ROLE {role}  -- or create the stage once: "
                f"CREATE STAGE {stage_name} ENCRYPTION = (TYPE = 'SNOWFLAKE_SSE')", certain=g.complete,
                primary_only=True)
    pool = next((p for p in facts.pools if p.name.upper() == plan.compute_pool.upper()), None)
    if pool is not None and pool.has_usage is not None:
        no_pool_usage = not pool.has_usage
    elif g.pool_usage is not None and plan.compute_pool.upper() not in SYSTEM_POOLS:
        # System pools are usable through PUBLIC's default grant, which a role's grant list does not show.
        no_pool_usage = plan.compute_pool.upper() not in {p.upper() for p in g.pool_usage}
    else:
        no_pool_usage = False
    if no_pool_usage:
        missing("grant.pool_usage", f"USAGE on compute pool {plan.compute_pool}",
                f"GRANT USAGE ON COMPUTE POOL {plan.compute_pool} TO ROLE {role}", certain=usage_certain)
    if g.eai_usage is not None:
        have = {e.upper() for e in g.eai_usage}
        for eai in plan.external_access_integrations:
            if eai.upper() not in have:
                missing("grant.eai_usage", f"USAGE on integration {eai}",
                        f"GRANT USAGE ON INTEGRATION {eai} TO ROLE {role}", certain=usage_certain)
    return out


def _warehouse_issues(plan: JobPlan, analysis: Analysis, facts: AccountFacts) -> list[PreflightIssue]:
    """A job whose code uses Snowpark runs its SQL on the job's query warehouse.

    snowflake-ml-python sends `QUERY_WAREHOUSE` = the plan's query_warehouse or the session's current
    warehouse (mljobs-api.md §2.3). With neither, the job's queries fail with "No active warehouse selected
    in the current session" -- a missing warehouse, not a missing privilege, so the fix is to name one.
    """
    if not analysis.io.uses_snowpark or plan.query_warehouse or facts.warehouse:
        return []
    where = ", ".join(e.location.render() for e in analysis.io.snowpark_evidence[:2])
    return [PreflightIssue(
        Severity.WARNING, "warehouse.none",
        f"the code uses a Snowpark session ({where or 'Snowpark use'}) but no warehouse is set: neither the plan's "
        "query_warehouse nor the connection's current warehouse; its queries would fail with \"No active "
        "warehouse selected\" (this is a missing warehouse, not a missing privilege)",
        "set query_warehouse in the plan (a warehouse the role has USAGE on), or a default warehouse on the "
        "connection")]


def _compute_issues(plan: JobPlan, analysis: Analysis, facts: AccountFacts) -> list[PreflightIssue]:
    out: list[PreflightIssue] = []
    pool = next((p for p in facts.pools if p.name.upper() == plan.compute_pool.upper()), None)
    family_name = plan.instance_family or (pool.instance_family if pool else None)
    family = lookup_family(family_name, facts) if family_name else None
    verdict = analysis.compute
    where = ", ".join(e.location.render() for e in verdict.evidence[:3])
    if family is not None:
        if verdict.recommendation is ComputeTarget.GPU and family.kind is not FamilyKind.GPU:
            sure = verdict.confidence is Confidence.CERTAIN
            out.append(PreflightIssue(
                Severity.ERROR if sure else Severity.WARNING, "compute.gpu_on_cpu_pool",
                f"the code uses a GPU ({where or verdict.reason}) but {plan.compute_pool} is a CPU pool "
                f"({family.name})" + ("" if sure else "; it may fall back to CPU and run slowly"),
                "choose a GPU pool (GPU_NV_*, GPU_L40S_*, GPU_GCP_*) or SYSTEM_COMPUTE_POOL_GPU"))
        elif verdict.recommendation is ComputeTarget.CPU and verdict.evidence and family.kind is not FamilyKind.GPU:
            out.append(PreflightIssue(
                Severity.WARNING, "compute.gpu_evidence_on_cpu_pool",
                f"the verdict is CPU, but the code has GPU evidence ({where}); on {family.name} it runs on CPU",
                "if the GPU path matters, choose a GPU pool"))
        elif verdict.recommendation is ComputeTarget.CPU and family.kind is FamilyKind.GPU:
            out.append(PreflightIssue(
                Severity.WARNING, "compute.cpu_on_gpu_pool",
                f"no GPU use was found, but {plan.compute_pool} is a GPU pool ({family.name}"
                + (f", {family.credits_per_hour:g} credits/node-hour" if family.credits_per_hour else "") + ")",
                "choose a CPU pool (e.g. SYSTEM_COMPUTE_POOL_CPU) unless the GPU is used indirectly"))
        if family.kind is FamilyKind.ARM:
            out.append(PreflightIssue(Severity.ERROR, "compute.arm_pool",
                                      f"{family.name} is ARM; the ML Container Runtime needs x86 nodes",
                                      "choose an x86 pool"))
    if plan.min_instances > plan.target_instances or plan.min_instances < 1:
        out.append(PreflightIssue(Severity.ERROR, "instances.min_gt_target",
                                  f"min_instances {plan.min_instances} must be between 1 and target_instances "
                                  f"{plan.target_instances}", "lower min_instances"))
    if pool is not None:
        if plan.min_instances > pool.max_nodes:
            out.append(PreflightIssue(
                Severity.ERROR, "instances.min_gt_max_nodes",
                f"min_instances {plan.min_instances} exceeds max_nodes {pool.max_nodes} of {pool.name} "
                "(snowflake-ml-python rejects this before submitting)",
                f"lower min_instances, or ALTER COMPUTE POOL {pool.name} SET MAX_NODES = {plan.min_instances}"))
        if plan.target_instances > pool.max_nodes and plan.backend == "local":
            out.append(PreflightIssue(
                Severity.WARNING, "instances.local_single_node",
                f"target_instances {plan.target_instances} on the local pool, which is one machine: the job runs "
                "1 instance and multi-node code sees a single node",
                "use target_instances=1 locally; test multi-node on a Snowflake pool with enough MAX_NODES"))
        elif plan.target_instances > pool.max_nodes:
            out.append(PreflightIssue(
                Severity.ERROR, "instances.target_gt_max_nodes",
                f"target_instances {plan.target_instances} exceeds max_nodes {pool.max_nodes} of {pool.name}; "
                "the job waits for nodes that never come, then fails",
                f"lower target_instances, or ALTER COMPUTE POOL {pool.name} SET MAX_NODES = {plan.target_instances}"))
    if plan.target_instances > 1 and verdict.multi_node is None:
        out.append(PreflightIssue(
            Severity.WARNING, "instances.not_distributed",
            f"{plan.target_instances} instances requested, but the script shows no multi-node framework (Ray, "
            "Snowflake distributors, torch.distributed); the extra nodes would idle and still cost credits",
            "use target_instances=1, or distribute the work (e.g. snowflake.ml.modeling.distributors or Ray)"))
    return out


def _pypi_needs() -> NetworkNeed:
    hosts = builtin_rules().get("SNOWFLAKE.EXTERNAL_ACCESS.PYPI_RULE", ("pypi.org", "files.pythonhosted.org"))
    return NetworkNeed(NetworkCategory.PYPI, hosts, (), Confidence.CERTAIN)


def _network_issues(plan: JobPlan, analysis: Analysis, facts: AccountFacts, coverage: Coverage | None
                    ) -> list[PreflightIssue]:
    out: list[PreflightIssue] = []
    installs = bool(plan.pip_requirements) or plan.requirements_file is not None
    needs = [n for n in analysis.network if not (plan.artifact_repositories and n.category is NetworkCategory.PYPI)]
    if installs and not plan.artifact_repositories and not any(n.category is NetworkCategory.PYPI for n in needs):
        needs.append(_pypi_needs())
    if coverage is None:
        coverage = check_coverage(needs, facts, chosen=plan.external_access_integrations)
    for host in coverage.hosts:
        cats = ", ".join(host.categories)
        where = ", ".join(e.location.render() for e in host.evidence[:2])
        if host.status is HostStatus.UNCOVERED:
            out.append(PreflightIssue(
                Severity.ERROR, "network.uncovered",
                f"{host.address} ({cats}{'; ' + where if where else ''}) is not allowed by the job's EAIs: "
                f"{host.reason}",
                _local_eai_fix(host.address) if facts.backend == "local" else
                "add an EAI that allows it, or have an admin run the proposed SQL: "
                + ("; ".join(coverage.admin_sql) if coverage.admin_sql else "see the coverage report")))
        elif host.status in (HostStatus.UNVERIFIED, HostStatus.GUESSED, HostStatus.ASSUMED):
            out.append(PreflightIssue(
                Severity.WARNING, f"network.{host.status.value}",
                f"{host.address} ({cats}) may not be reachable: {host.reason}",
                "confirm the EAI's network rule lists the host (an admin can DESC NETWORK RULE)"))
    pypi_hosts = [h for h in coverage.hosts if "pypi" in h.categories]
    if installs and not plan.artifact_repositories and any(h.status is HostStatus.UNCOVERED for h in pypi_hosts):
        out.append(PreflightIssue(
            Severity.ERROR, "network.pip_without_pypi",
            "packages must be installed at container start (pip install -r requirements.txt) but no EAI allows "
            "PyPI; pip fails and so does the job, before your code runs",
            "pass a PyPI EAI (ALLOWED_NETWORK_RULES = (SNOWFLAKE.EXTERNAL_ACCESS.PYPI_RULE)), or use "
            "artifact_repositories=['snowflake.snowpark.pypi_shared_repository']"))
    if len(plan.external_access_integrations) > MAX_EAIS_PER_JOB:
        out.append(PreflightIssue(
            Severity.ERROR, "network.too_many_eais",
            f"{len(plan.external_access_integrations)} EAIs; a job may use at most {MAX_EAIS_PER_JOB}",
            "ask an admin to combine network rules into fewer integrations"))
    return out


def _python_issues(plan: JobPlan, facts: AccountFacts) -> list[PreflightIssue]:
    if facts.client_python in RUNTIME_PYTHONS:
        return []
    remote = plan.method is SubmitMethod.REMOTE
    return [PreflightIssue(
        Severity.ERROR if remote else Severity.WARNING, "python.unsupported_client",
        f"the submitting Python is {facts.client_python}; runtime images exist for {', '.join(RUNTIME_PYTHONS)}, and "
        "the image follows the client's version"
        + ("; @remote pickles the function with the client Python, so it cannot be unpickled in the job"
           if remote else "; job.result() unpickles across versions and may fail"),
        f"submit from a Python {RUNTIME_PYTHONS[0]}-{RUNTIME_PYTHONS[-1]} environment"
        + ("" if remote else ", or pin runtime_environment and return JSON-serialisable values"))]


def _method_issues(plan: JobPlan, analysis: Analysis) -> list[PreflightIssue]:
    out: list[PreflightIssue] = []
    if plan.method is SubmitMethod.SUBMIT_FILE and analysis.local_modules:
        out.append(PreflightIssue(
            Severity.ERROR, "method.local_imports_not_shipped",
            f"submit_file uploads only {plan.entrypoint}, but it imports local modules "
            f"{', '.join(analysis.local_modules)}; the job fails with ModuleNotFoundError",
            "use submit_directory with the project folder"))
    if plan.method is SubmitMethod.SUBMIT_FILE and analysis.data_files:
        out.append(PreflightIssue(
            Severity.WARNING, "method.data_files_not_shipped",
            f"the script reads local files ({', '.join(analysis.data_files[:3])}) that submit_file does not upload",
            "use submit_directory, or read the data from a Snowflake table or stage"))
    if not plan.stage_name.lstrip("@").split("/", 1)[0].count(".") == 2:
        out.append(PreflightIssue(
            Severity.WARNING, "stage.unqualified",
            f"stage {plan.stage_name} is not fully qualified; it resolves in the session's database/schema",
            "use @DB.SCHEMA.STAGE"))
    return out


def _requirement_name(text: str) -> str:
    try:
        return canonicalize_name(Requirement(text).name)
    except InvalidRequirement:
        return text


def _import_issues(plan: JobPlan, analysis: Analysis) -> list[PreflightIssue]:
    """Imports nothing provides: a missing local module or an unresolved package is the user's call."""
    out: list[PreflightIssue] = []
    planned = {_requirement_name(r) for r in plan.pip_requirements}
    missing = [m for m in analysis.missing_modules if canonicalize_name(m.lstrip(".")) not in planned]
    if missing:
        out.append(PreflightIssue(
            Severity.ERROR, "imports.missing_local",
            f"the code imports {', '.join(missing)}, which look like the project's own modules but have no file in "
            "it; the job would fail with ModuleNotFoundError (see the analysis problems for where)",
            "add the missing files to the project folder and submit the folder; only if one is really a PyPI "
            "package you have checked, pass its distribution as an extra pip requirement"))
    unresolved = [p for p in analysis.packages if p.status is PackageStatus.UNRESOLVED and not p.optional
                  and canonicalize_name(p.distribution) not in planned]
    if unresolved:
        where = ", ".join(p.evidence[0].location.render() for p in unresolved[:3] if p.evidence)
        out.append(PreflightIssue(
            Severity.ERROR, "imports.unresolved",
            f"no project file, standard-library module, curated entry or installed package provides "
            f"{', '.join(p.import_name for p in unresolved)} ({where}); nothing is installed for them, so the job "
            "would fail with ModuleNotFoundError",
            "name the real PyPI distribution (declare it in requirements.txt or pass it as an extra pip "
            "requirement) after checking it is the package you mean, or add the missing file to the project"))
    return out


def _snowflake_issues(plan: JobPlan, analysis: Analysis, facts: AccountFacts) -> list[PreflightIssue]:
    """Snowpark use and the tables/stages it touches: impossible on the local pool, grants to check on Snowflake."""
    io = analysis.io
    objects = io.snowflake_objects
    sessions = [f for f in io.snowpark_evidence if f.confidence is Confidence.CERTAIN]
    out: list[PreflightIssue] = []
    named = ", ".join(f"{f.detail} ({f.location.render()})" for f in objects[:4]) + (", ..." if len(objects) > 4
                                                                                    else "")
    if plan.backend == "local" and (sessions or objects):
        first = (sessions or list(objects))[0]
        out.append(PreflightIssue(
            Severity.ERROR, "snowpark.local_pool",
            f"the script needs a Snowflake session ({first.evidence} at {first.location.render()})"
            + (f" and reads or writes {named}" if objects else "")
            + "; the local pool has no Snowflake account, so the job would fail after installing its packages",
            "plan it for Snowflake (backend snowflake, with a connection), or make the Snowpark part optional so the "
            "script runs without a session locally"))
    elif plan.backend == "snowflake" and objects:
        role = _role(facts)
        grants = []
        for f in objects:
            try:
                name = validate_qualified(f.detail, "object")
            except (InvalidIdentifier, ValueError):
                continue
            if f.privilege == SELECT_PRIVILEGE:
                grants.append(f"GRANT SELECT ON TABLE {name} TO ROLE {role}")
            elif f.privilege and f.privilege.startswith("INSERT"):
                grants.append(f"GRANT INSERT ON TABLE {name} TO ROLE {role}")
            elif f.privilege and f.privilege.startswith(("READ", "WRITE")):
                grants.append(f"GRANT {f.privilege.split()[0]} ON STAGE {name} TO ROLE {role}")
        out.append(PreflightIssue(
            Severity.WARNING, "snowflake.object_privileges",
            f"the job runs as {role} and touches {named}: "
            + "; ".join(dict.fromkeys(f"{f.privilege} for {f.detail}" for f in objects[:6] if f.privilege))
            + " (table grants are not read, so this is not checked)",
            ("if a grant is missing, an owner runs: " + "; ".join(dict.fromkeys(grants))) if grants else
            "check the role's privileges on these objects"))
    return out


def _input_issues(plan: JobPlan, analysis: Analysis) -> list[PreflightIssue]:
    """Local files the code reads that are not in the project: the job will not have them."""
    absent = [f for f in analysis.io.local_inputs if f.exists_locally is False and "{}" not in f.detail
              and f.confidence is not Confidence.GUESS and not f.detail.startswith("@")]
    if not absent:
        return []
    shown = ", ".join(f"{f.detail} ({f.location.render()})" for f in absent[:4]) + (", ..." if len(absent) > 4 else "")
    return [PreflightIssue(
        Severity.WARNING, "inputs.not_in_project",
        f"the code reads {shown}, which the project does not contain; the job will not have "
        + ("them" if len(absent) > 1 else "it") + " unless the script creates or downloads " + (
            "them" if len(absent) > 1 else "it") + " first",
        "upload the data to a stage (or a table) and read it from there, or add it to the project folder")]


def _args_issues(plan: JobPlan, analysis: Analysis) -> list[PreflightIssue]:
    """The plan's args against the script's parser: a rejected arg is an error, an unverifiable one a warning."""
    if plan.method is SubmitMethod.REMOTE:
        return []
    return [PreflightIssue(Severity.ERROR if issue.certain else Severity.WARNING, issue.code, issue.message, issue.fix)
            for issue in check_args(plan.args, analysis.io)]


def preflight(plan: JobPlan, analysis: Analysis, facts: AccountFacts, coverage: Coverage | None = None
              ) -> tuple[PreflightIssue, ...]:
    """Check a plan against the analysis and the account before anything is submitted.

    Args:
        plan: the job to check.
        analysis: what the code needs (GPU, hosts, local modules, data files).
        facts: what the account offers (grants, pools, EAIs, stages, client Python).
        coverage: network coverage for exactly the plan's EAIs; None to compute it here.

    Returns:
        Issues, errors first, each with a fix. Empty when nothing is wrong. Grants that could not be read
        (None) are not reported as missing. On the local backend only the plan-level checks run.
    """
    issues: list[PreflightIssue] = []
    if plan.backend == "snowflake":
        issues += _grant_issues(plan, facts)
    issues += _compute_issues(plan, analysis, facts)
    issues += _network_issues(plan, analysis, facts, coverage)
    if plan.backend == "snowflake":
        issues += _python_issues(plan, facts)
        issues += _warehouse_issues(plan, analysis, facts)
    issues += _method_issues(plan, analysis)
    issues += _args_issues(plan, analysis)
    issues += _import_issues(plan, analysis)
    issues += _snowflake_issues(plan, analysis, facts)
    issues += _input_issues(plan, analysis)
    for spec_issue in validate_spec_overrides(plan.spec_overrides):
        issues.append(PreflightIssue(
            Severity(spec_issue.severity), "spec_overrides", f"{spec_issue.path}: {spec_issue.message}",
            "fix spec_overrides (see mljobs.skill.spec)"))
    order = {Severity.ERROR: 0, Severity.WARNING: 1}
    return tuple(sorted(issues, key=lambda i: order[i.severity]))


def _local_eai_fix(address: str) -> str:
    from .diagnosis_network import eai_name_for

    name = eai_name_for(address.partition(":")[0])
    return (f"add a local EAI that allows it (mljobs local-eais add {name} --host {address}, or the add_local_eai "
            "tool, after the user's yes), then plan again with it; the coverage report shows its account equivalent")
