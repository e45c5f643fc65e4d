"""Plan one ML Job: analysis + account facts + user choices -> JobPlan, with every decision explained.

`plan_job` is the single planning entry. It ranks pools, checks network coverage, derives arguments and
requirements, proposes (never applies) minimal script edits, runs preflight and generates the submission code.
Bad choices and impossible plans are values with reasons, not exceptions.
"""

from __future__ import annotations

import dataclasses
import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from mljobs import __version__
from mljobs.analyzers.model import (
    ComputeTarget,
    PackageFinding,
    Analysis,
    Confidence,
    IoFinding,
    IoReport,
    NetworkCategory,
    NetworkNeed,
    PackageStatus,
    SubmitMethod,
)

from mljobs.analyzers.nbscript import NotebookScript, notebook_to_script

from .argcheck import check_args
from .codegen import Generated, NotGenerated, generate_code
from .script_edit import RESULT_ENV, CodemodResult
from .cost import CostEstimate, estimate_cost
from .eai import PYPI_ARTIFACT_REPOSITORY, Coverage, builtin_rules, check_coverage
from .facts import AccountFacts
from .identifiers import (
    InvalidIdentifier,
    job_name_from_path,
    qualify,
    validate_env_name,
    validate_identifier,
    validate_qualified,
    validate_stage,
)
from .entry import needs_wrapper
from .jobplan import JobPlan, summary_lines
from .payload import Payload, payload_for_plan
from .pools import PoolNeeds, PoolRanking, rank_compute_pools
from .preflight import PreflightIssue, Severity, preflight
from .redact import redact
from .runner_inputs import runner_input_errors
from .spec import merge_overrides, resources_override, secret_env_override, shm_volume_override

DEFAULT_STAGE = "MLJOBS_PAYLOAD"
#: Jobs carry the tool and its version in `comment` unless the user sets one, so they are attributable.
DEFAULT_COMMENT = f"mljobs {__version__}"
RESULT_ARG = "$" + RESULT_ENV
#: Upper bound on instances a plan may ask for (account node limit is 750; one node per instance).
MAX_INSTANCES = 750


@dataclass(frozen=True)
class PlanChoices:
    """What the user decided; every field left None is derived from the analysis and the account.

    `eais` are added to the coverage suggestion, or used alone with `only_eais`. `pip_index_secret` names a
    Snowflake secret holding a private index URL (mounted as PIP_INDEX_URL). `propose_edits` controls whether
    script edits are computed (they are never applied here).
    """

    pool: str | None = None
    eais: tuple[str, ...] = ()
    only_eais: bool = False
    stage: str | None = None
    database: str | None = None
    schema: str | None = None
    args: tuple[str, ...] | None = None
    target_instances: int | None = None
    min_instances: int | None = None
    method: SubmitMethod | None = None
    name: str | None = None
    env_vars: Mapping[str, str] = field(default_factory=dict)
    runtime_environment: str | None = None
    backend: str | None = None
    query_warehouse: str | None = None
    function_name: str | None = None
    source_stage: str | None = None  # for submit_from_stage: where the code already is
    extra_pip_requirements: tuple[str, ...] = ()
    use_artifact_repository: bool = False
    pip_index_secret: str | None = None
    shm_size: str | None = None
    gpus: int | None = None
    spec_overrides: dict[str, Any] | None = None
    comment: str | None = None
    connection_name: str | None = None
    propose_edits: bool = True
    allow_direct_requirements: bool = False  # URL/VCS/file requirements; only a person's explicit CLI flag sets it


@dataclass(frozen=True)
class PlanResult:
    """The plan and everything behind it, or why there is none.

    `plan` is None when no plan is possible (`reason` says why; `errors` lists invalid choices).
    `ready` is True when a plan exists and preflight found no error.
    """

    plan: JobPlan | None
    reason: str | None = None
    errors: tuple[str, ...] = ()
    ranking: PoolRanking | None = None
    coverage: Coverage | None = None
    preflight: tuple[PreflightIssue, ...] = ()
    code: Generated | NotGenerated | None = None
    script_edit: CodemodResult | None = None
    explanations: tuple[str, ...] = ()
    payload: Payload | None = None  # exactly what uploads (None: no plan, or the code is already on a stage)
    cost: CostEstimate | None = None
    # The server's dependency preflight (mljobs.server.depcheck.DepCheck): it runs a resolver, so the
    # pure planner leaves it None and the service fills it in.
    dependencies: Any = None
    #: For a notebook: the script the job runs (show it to the user before submitting).
    notebook_script: NotebookScript | None = None

    @property
    def ready(self) -> bool:
        return self.plan is not None and not any(i.severity is Severity.ERROR for i in self.preflight)


def _fail(reason: str, errors: list[str] | None = None, explanations: list[str] | None = None, **kw: Any
          ) -> PlanResult:
    return PlanResult(None, redact(reason), tuple(redact(e) for e in errors or ()),
                      explanations=tuple(redact(n) for n in explanations or ()), **kw)


def _validate_choices(c: PlanChoices) -> list[str]:
    """Every user value checked up front; each message says which field and what is allowed."""
    errors: list[str] = []

    def check(fn: Any, value: Any, *args: Any) -> None:
        if value is None:
            return
        try:
            fn(value, *args)
        except (InvalidIdentifier, ValueError) as exc:
            errors.append(str(exc))

    check(validate_identifier, c.pool, "compute pool")
    for eai in c.eais:
        check(validate_identifier, eai, "external access integration")
    check(validate_stage, c.stage, "stage")
    check(validate_stage, c.source_stage, "source stage")
    check(validate_identifier, c.database, "database")
    check(validate_identifier, c.schema, "schema")
    check(validate_qualified, c.name, "job name")
    check(validate_identifier, c.query_warehouse, "query warehouse")
    check(validate_qualified, c.pip_index_secret, "secret")
    for key in c.env_vars:
        check(validate_env_name, key)
    for key, value in c.env_vars.items():
        if not isinstance(value, str):
            errors.append(f"env var {key} must be a string, got {type(value).__name__}")
    for label, count in (("target_instances", c.target_instances), ("min_instances", c.min_instances)):
        if count is not None and (isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_INSTANCES):
            errors.append(f"{label} must be an integer from 1 to {MAX_INSTANCES}, got {count!r}")
    if (isinstance(c.target_instances, int) and isinstance(c.min_instances, int)
            and c.min_instances > c.target_instances):
        errors.append(f"min_instances ({c.min_instances}) may not exceed target_instances ({c.target_instances})")
    if c.gpus is not None and (isinstance(c.gpus, bool) or not isinstance(c.gpus, int) or not 1 <= c.gpus <= 8):
        errors.append(f"gpus must be an integer from 1 to 8 (the most any family has), got {c.gpus!r}")
    if c.args is not None and not all(isinstance(a, str) for a in c.args):
        errors.append("args must be strings")
    if c.function_name is not None and not c.function_name.isidentifier():
        errors.append(f"function_name {c.function_name!r} is not a Python identifier")
    if c.backend is not None and c.backend not in ("snowflake", "local"):
        errors.append(f"backend {c.backend!r} must be 'snowflake' or 'local'")
    for index, req in enumerate(c.extra_pip_requirements, start=1):
        if not isinstance(req, str) or not req.strip() or "\n" in req:
            errors.append(f"pip requirement #{index} must be one non-empty line")
    return errors


def _missing(analysis: Analysis, installed: frozenset[str] | None, *, optional: bool) -> list[PackageFinding]:
    """Packages the job environment lacks: by the runtime image's lists (`installed` None) or by what the
    target has installed (the local pool: this machine)."""
    if installed is None:
        return [p for p in analysis.packages if p.status is PackageStatus.TO_INSTALL and p.optional is optional]
    # An unresolved import is never installed, whatever the backend: its name is only a guess.
    return [p for p in analysis.packages
            if p.optional is optional and p.status is not PackageStatus.UNRESOLVED
            and canonicalize_name(p.distribution) not in installed]


def _req_name(line: str) -> str | None:
    try:
        return canonicalize_name(Requirement(line).name)
    except InvalidRequirement:
        return None


def _pin(req: Requirement) -> str | None:
    specs = list(req.specifier)
    return specs[0].version if len(specs) == 1 and specs[0].operator in ("==", "===") and "*" not in \
        specs[0].version else None


def requirement_conflicts(file_lines: list[str], wanted: list[str]) -> list[str]:
    """Pairs of requirements for one distribution that no version satisfies (one pins a version the other
    excludes), as "file line vs wanted line" texts."""
    out = []
    for w in wanted:
        try:
            rw = Requirement(w)
        except InvalidRequirement:
            continue
        for f in file_lines:
            try:
                rf = Requirement(f)
            except InvalidRequirement:
                continue
            if canonicalize_name(rf.name) != canonicalize_name(rw.name):
                continue
            pf, pw = _pin(rf), _pin(rw)
            clash = (pf is not None and not rw.specifier.contains(pf, prereleases=True)) or (
                pw is not None and not rf.specifier.contains(pw, prereleases=True))
            if clash:
                out.append(f"{f!r} vs {w!r}")
    return out


@dataclass(frozen=True)
class _Requirements:
    pip: tuple[str, ...]
    requirements_file: str | None
    issues: tuple[PreflightIssue, ...] = ()


def _pip_requirements(analysis: Analysis, installed: frozenset[str] | None, method: SubmitMethod,
                      choices: PlanChoices, notes: list[str] | None, target: str) -> _Requirements:
    """What the job installs on one target, never dropping a needed package or an extra.

    `installed` None plans against the Container Runtime image (the Snowflake code, always); a set plans
    against that environment (the local pool: only what this machine lacks). A requirements.txt at the root
    travels with submit_directory and startup.sh installs it, but the library writes pip_requirements over
    that file: so when the code needs something the file lacks, or the user asked for extras,
    pip_requirements carries the file's lines plus those. A pin in the file that excludes what is needed
    makes the plan not ready.
    """
    say = notes.append if notes is not None else (lambda _text: None)
    to_install = _missing(analysis, installed, optional=False)
    optional = [p.distribution for p in _missing(analysis, installed, optional=True)]
    if optional:
        say(f"optional imports not installed: {', '.join(sorted(optional))} (guarded by try/except)")
    travels = (method is SubmitMethod.SUBMIT_DIRECTORY and analysis.requirements_file is not None
               and posixpath.dirname(analysis.requirements_file) == "")
    unused = [p.distribution for p in to_install if p.declared_only]
    if unused and not travels:  # declared but imported nowhere: the job does not need them
        to_install = [p for p in to_install if not p.declared_only]
        say(f"declared but not imported by the code, so not installed: {', '.join(sorted(unused))}")
    reqs = list(dict.fromkeys([p.requirement or p.distribution for p in to_install]))
    extras = [r for r in choices.extra_pip_requirements if r not in reqs]
    where = ("not installed in the local pool's environment" if installed is not None
             else f"not in the runtime image {analysis.runtime or ''}".rstrip())
    if not travels:
        reqs += extras
        if reqs:
            say(f"pip_requirements: {', '.join(reqs)} ({where})")
        return _Requirements(tuple(reqs), None)
    rel = analysis.requirements_file
    file_lines = [d.specifier for d in analysis.declared if d.location.path == rel]
    declared = {n for n in (_req_name(x) for x in file_lines) if n}
    missing = [r for r in reqs if _req_name(r) not in declared]
    issues = [PreflightIssue(
        Severity.ERROR, "requirements.conflict",
        f"{rel} conflicts with what the job needs: {clash}",
        f"change the pin in {rel} or the requested requirement so one version satisfies both")
        for clash in requirement_conflicts(file_lines, [p.requirement or p.distribution for p in to_install]
                                           + list(choices.extra_pip_requirements))]
    if not missing and not extras:
        say(f"{rel} travels with submit_directory and startup.sh installs it at container start; it declares "
            "every package the code needs" + (f" {where}" if reqs else ""))
        return _Requirements((), rel, tuple(issues))
    if any("***" in line for line in file_lines):
        issues.append(PreflightIssue(
            Severity.ERROR, "requirements.credentials",
            f"{rel} holds credentials, and pip_requirements would carry its lines (it replaces that file)",
            "move the index URL into a Snowflake secret (pip_index_secret) and drop it from the file"))
    merged = list(dict.fromkeys([*file_lines, *missing, *extras]))
    added = missing + extras
    say(f"pip_requirements: {rel}'s {len(file_lines)} line(s) plus {', '.join(added)} "
        f"({'needed by the code and ' if missing else ''}{'requested' if extras else where}): the library writes "
        f"pip_requirements over {rel}, so it carries both and nothing is dropped")
    return _Requirements(tuple(merged), rel, tuple(issues))


def _derive_args(analysis: Analysis, method: SubmitMethod, choices: PlanChoices, notes: list[str]
                 ) -> tuple[tuple[str, ...], bool]:
    """(args, output handled by an option). Prefers the script's own output option over editing code."""
    if choices.args is not None:
        notes.append("args as given")
        return tuple(choices.args), any(RESULT_ARG in a for a in choices.args)
    if method is SubmitMethod.REMOTE:
        return (), False
    args = output_args(analysis.io)
    if args is not None:
        flag = args[0]
        finding = next(f for f in analysis.io.output_args if f.detail == flag)
        notes.append(f"the script takes {flag} ({finding.location.render()}), which its parser declares as a "
                     f"path: passing {list(args)!r} sends its outputs to the job's result stage, so the code needs "
                     "no edit (the variable is set in the job container)")
        return args, True
    for finding in analysis.io.output_args:
        if not finding.detail.startswith("-"):
            notes.append(f"the script takes a positional output argument {finding.detail!r}: pass {RESULT_ARG} in "
                         "its position through args (not derived automatically)")
    rejected = [f.detail for f in analysis.io.output_args if f.detail.startswith("-")]
    if rejected:
        notes.append(f"output options {', '.join(rejected)} were not given the result path: their declarations "
                     "could not be verified to take a folder (pass args yourself to use one)")
    return (), False


def output_args(io: IoReport) -> tuple[str, ...] | None:
    """The args that send the script's outputs to the result stage, or None when no option surely takes one.

    Folder options come before file options (`--model_file out/model.pkl` gets `$MLRS_STAGE_RESULT_PATH/
    model.pkl`), certain before likely; a candidate is used only when the parser accepts it without doubt.
    """
    ranked = sorted((f for f in io.output_args if f.detail.startswith("-")),
                    key=lambda f: (_is_file_option(f), f.confidence is not Confidence.CERTAIN))
    for finding in ranked:
        value = RESULT_ARG
        if _is_file_option(finding):
            base = posixpath.basename((finding.default or "").rstrip("/"))
            if not base or "{}" in base:
                continue
            value = f"{RESULT_ARG}/{base}"
        args = (finding.detail, value)
        rejected = [i for i in check_args(args, io) if i.code != "args.required"]  # required: reported anyway
        if not rejected and all(o.known for o in io.cli_options if finding.detail in o.flags):
            return args
    return None


def _is_file_option(finding: IoFinding) -> bool:
    key = finding.detail.lstrip("-").replace("-", "_").lower()
    default = (finding.default or "").rstrip("/")
    return bool(re.search(r"(?:^|_)(?:file|filename|fname)(?:_|$)|^outfile$", key)) or bool(
        re.search(r"\.[A-Za-z0-9]{1,8}$", posixpath.basename(default)))


def _network_needs(analysis: Analysis, reqs: tuple[str, ...], requirements_file: str | None,
                   artifact: bool) -> list[NetworkNeed]:
    needs = [n for n in analysis.network if not (artifact and n.category is NetworkCategory.PYPI)]
    if (reqs or requirements_file) and not artifact and not any(n.category is NetworkCategory.PYPI for n in needs):
        hosts = builtin_rules().get("SNOWFLAKE.EXTERNAL_ACCESS.PYPI_RULE", ("pypi.org", "files.pythonhosted.org"))
        needs.append(NetworkNeed(NetworkCategory.PYPI, hosts, (), Confidence.CERTAIN))
    return needs


def _script_edit(analysis: Analysis, method: SubmitMethod, output_by_arg: bool, notes: list[str]
                 ) -> CodemodResult | None:
    """Propose (not apply) the smallest edit: route hard-coded outputs and capture __return__ when needed."""
    if method is SubmitMethod.SUBMIT_FROM_STAGE:
        return None
    entry = analysis.entrypoint
    if not entry.endswith(".py"):
        return CodemodResult("", skipped=f"{entry} is not a .py script; edits are only proposed for scripts")
    literals = [] if output_by_arg else [f.detail for f in analysis.io.hardcoded_outputs]
    call = analysis.io.entrypoint_call
    capture = (method is not SubmitMethod.REMOTE and not analysis.io.sets_return and call is not None
               and call.returns_value is True)
    if call is not None and call.returns_value is not True and not analysis.io.sets_return \
            and method is not SubmitMethod.REMOTE:
        notes.append(f"no __return__ edit: {call.hint}")
    if not literals and not capture:
        return None
    try:
        source = (Path(analysis.root) / entry).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return CodemodResult("", skipped=f"could not read {entry}: {exc.__class__.__name__}")
    from .codemods import apply_codemods  # libcst loads only when a script is edited

    result = apply_codemods(source, capture=capture, output_literals=literals, path=entry,
                            entry=call.detail if call else None)
    if result.changed:
        notes.append("proposed script edit (applied only on request): " + "; ".join(result.changes))
    return result


def _convert_notebook(analysis: Analysis, method: SubmitMethod, notes: list[str]) -> NotebookScript | str:
    """The notebook as the script the job runs, or why it cannot be (a one-line reason)."""
    if method not in (SubmitMethod.SUBMIT_FILE, SubmitMethod.SUBMIT_DIRECTORY):
        return (f"{analysis.entrypoint} is a notebook: it runs with submit_file or submit_directory (its cells become "
                f"a script), not {method.value}")
    try:
        data = (Path(analysis.root) / analysis.entrypoint).read_bytes()
    except OSError as exc:
        return f"cannot read {analysis.entrypoint}: {exc.strerror or exc.__class__.__name__}"
    converted = notebook_to_script(data, posixpath.basename(analysis.entrypoint))
    if isinstance(converted, str):
        return converted
    script = notebook_script_path(analysis, method)
    notes.append(f"the notebook's code cells run as {script}, written into the payload at submission; "
                 "'# %% [cell N]' lines in it mark the cells, and job tracebacks name the cell and line"
                 + (f"; {len(converted.pip_lines)} pip line(s) become pip_requirements" if converted.pip_lines
                    else ""))
    notes.extend(f"notebook {n}" for n in converted.notes)
    return converted


def notebook_script_path(analysis: Analysis, method: SubmitMethod) -> str:
    """Where a notebook's converted script goes in the payload: beside it, `<stem>.py`, never over a file."""
    rel = analysis.entrypoint if method is SubmitMethod.SUBMIT_DIRECTORY else posixpath.basename(analysis.entrypoint)
    stem = posixpath.splitext(rel)[0]
    candidate = stem + ".py"
    if method is SubmitMethod.SUBMIT_DIRECTORY and (Path(analysis.root) / candidate).exists():
        candidate = stem + "_mljobs_job.py"
    return candidate


def plan_job(analysis: Analysis, facts: AccountFacts, choices: PlanChoices | None = None) -> PlanResult:
    """Decide every field of a JobPlan and explain each decision.

    Args:
        analysis: the static analysis of the script/project.
        facts: what the account (or local pool) offers.
        choices: user overrides; None for all defaults.

    Returns:
        A `PlanResult` with the plan, pool ranking, network coverage, preflight issues, generated code, proposed
        script edit and explanations. `plan` is None (with `reason`) when a choice is invalid, no pool is
        usable, the database/schema are unknown, or the method's inputs are missing (function name for
        @remote, source stage for submit_from_stage, a .py entrypoint).
    """
    c = choices or PlanChoices()
    notes: list[str] = []
    errors = _validate_choices(c)
    if errors:
        return _fail("invalid choices: " + "; ".join(errors), errors)

    backend = c.backend or facts.backend
    method = c.method or analysis.method.method
    notes.append(f"method {method.value}: " + ("chosen by you" if c.method else analysis.method.reason))
    notebook: NotebookScript | None = None
    if analysis.entrypoint.endswith(".ipynb"):
        converted = _convert_notebook(analysis, method, notes)
        if isinstance(converted, str):
            return _fail(converted, explanations=notes)
        notebook = converted
    elif not analysis.entrypoint.endswith(".py"):
        return _fail(f"ML Jobs run .py entrypoints and {analysis.entrypoint} is not one", explanations=notes)

    # --- where the code comes from
    root = str(Path(analysis.root))
    entry_path = str(Path(analysis.root) / analysis.entrypoint)
    function_name = None
    if method is SubmitMethod.SUBMIT_FILE:
        source, entrypoint = entry_path, posixpath.basename(analysis.entrypoint)
    elif method is SubmitMethod.SUBMIT_DIRECTORY:
        source, entrypoint = root, analysis.entrypoint
    elif method is SubmitMethod.SUBMIT_FROM_STAGE:
        if not c.source_stage:
            return _fail("submit_from_stage needs source_stage: the stage path that already holds the code",
                         explanations=notes)
        source, entrypoint = validate_stage(c.source_stage, "source stage"), analysis.entrypoint
        if not re.fullmatch(r"[\w\-./]+", entrypoint):
            # snowflake-ml-python parses the stage entrypoint with `[\w\-./]` path characters and rejects others.
            return _fail(f"the entrypoint {entrypoint!r} on a stage may only contain letters, digits, _ - . /; "
                         "rename it on the stage", explanations=notes)
    else:
        call = analysis.io.entrypoint_call
        function_name = c.function_name or (call.detail if call and call.detail.isidentifier() else None)
        if not function_name:
            return _fail("@remote needs the function to run: pass function_name", explanations=notes)
        source, entrypoint = entry_path, posixpath.basename(analysis.entrypoint)
        notes.append(f"@remote runs {function_name}() from {entrypoint}")
    if notebook is not None:
        entrypoint = notebook_script_path(analysis, method)

    # --- instances
    hint = analysis.compute.multi_node
    target = c.target_instances or (hint.suggested_instances if hint else 1)
    if hint and not c.target_instances:
        notes.append(f"{target} instances: the code is written for several nodes ({hint.framework})")
    minimum = c.min_instances or target
    if minimum > target:
        return _fail(f"min_instances ({minimum}) may not exceed target_instances ({target})", explanations=notes)
    if backend == "local" and target > 1:
        # The local pool is one machine (max_nodes 1): say so and plan one instance, instead of "no pool fits".
        if c.min_instances and c.min_instances > 1:
            return _fail(f"min_instances ({c.min_instances}) cannot be met on the local pool, which is one machine; "
                         "use min_instances=1 for a local dry run, or plan on Snowflake", explanations=notes)
        what = f"{hint.framework} code" if hint else "the job"
        notes.append(f"the local pool is one machine: planning 1 instance instead of {target}; {what} runs as a "
                     f"single node here (on Snowflake it would use {target} nodes)")
        target = minimum = 1

    # --- pool
    needs = PoolNeeds.from_verdict(analysis.compute, target_instances=target, min_instances=minimum)
    if c.gpus:
        needs = dataclasses.replace(needs, min_gpus=c.gpus, gpu_required=True)
        notes.append(f"{c.gpus} GPU(s) per node requested")
    ranking = rank_compute_pools(needs, facts)
    extra_issues: list[PreflightIssue] = []
    if c.pool:
        pool_name = validate_identifier(c.pool, "compute pool")
        picked = ranking.candidate(pool_name)
        if picked is None:
            notes.append(f"pool {pool_name} chosen by you; it is not visible to this role, so its fit is unchecked")
            family = None
        else:
            family = picked.instance_family
            notes.append(f"pool {pool_name} chosen by you (score {picked.score:g}; ranking's choice: "
                         f"{ranking.chosen.name if ranking.chosen else 'none'})")
            if not picked.usable:
                extra_issues.append(PreflightIssue(
                    Severity.ERROR, "pool.unusable", f"the chosen pool {pool_name} is unusable: "
                    + "; ".join(r.removeprefix("unusable: ") for r in picked.reasons if r.startswith("unusable")),
                    f"choose another pool ({ranking.chosen.name} ranks best)" if ranking.chosen else
                    "fix the pool as described"))
    elif ranking.chosen is None:
        return _fail(f"no compute pool fits: {ranking.reason}", explanations=notes, ranking=ranking)
    else:
        pool_name, family = ranking.chosen.name, ranking.chosen.instance_family
        notes.append(f"pool {pool_name} ({family}): {ranking.reason}")

    # --- database, schema, stage, name
    database = (c.database or facts.database or ("LOCAL" if backend == "local" else None))
    schema = (c.schema or facts.schema or ("PUBLIC" if backend == "local" else None))
    if not database or not schema:
        return _fail("no database/schema: pass database and schema (the session has no current ones)",
                     explanations=notes, ranking=ranking)
    try:
        database = validate_identifier(database, "database")
        schema = validate_identifier(schema, "schema")
        stage_ref = validate_stage(c.stage or DEFAULT_STAGE, "stage")
        stage_obj, _, sub = stage_ref[1:].partition("/")
        stage_name = "@" + qualify(stage_obj, database, schema, "stage") + (f"/{sub}" if sub else "")
    except InvalidIdentifier as exc:
        return _fail(str(exc), [str(exc)], notes, ranking=ranking)
    exists = any(s.name.upper() == stage_name[1:].split("/", 1)[0] for s in facts.stages)
    notes.append(f"payload stage {stage_name}: " + ("exists" if exists else
                 "will be created on first submit (needs CREATE STAGE on the schema)"))
    if c.name:
        name = validate_qualified(c.name, "job name")
        notes.append(f"job name {name} as given")
    else:
        name = job_name_from_path(function_name or analysis.entrypoint)
        notes.append(f"job name {name} from {function_name or analysis.entrypoint} (a valid identifier; the "
                     "library's own derivation rejects names like '01-train model')")

    # --- args, requirements, network
    args, output_by_arg = _derive_args(analysis, method, c, notes)
    # The planner's own $MLRS_STAGE_RESULT_PATH arg only works through the entry wrapper (Snowflake passes args
    # verbatim); args the user gave pass verbatim, as on Snowflake, with a warning when they name $MLRS_*.
    wrapper = output_by_arg and c.args is None and method not in (SubmitMethod.REMOTE, SubmitMethod.SUBMIT_FROM_STAGE)
    if needs_wrapper(args) and not wrapper and method is not SubmitMethod.REMOTE:
        extra_issues.append(PreflightIssue(
            Severity.WARNING, "args.literal_variable",
            "your args name $MLRS_* variables: Snowflake passes args verbatim, so the script receives the text "
            f"{next(a for a in args if needs_wrapper([a]))!r}, not a path",
            "let mljobs derive the output arg (it adds an entry wrapper that expands it), or read "
            "os.environ['MLRS_STAGE_RESULT_PATH'] in the script"))
    req = _pip_requirements(analysis, facts.installed_packages, method, c, notes, backend)
    reqs, requirements_file = req.pip, req.requirements_file
    travelling = [(f"{d.location.path}:{d.location.line}", d.specifier) for d in analysis.declared
                  if requirements_file and d.location.path.endswith(".txt")]
    refused = runner_input_errors(reqs, c.env_vars, travelling, allow_direct=c.allow_direct_requirements)
    if refused:
        return _fail("invalid choices: " + "; ".join(refused), refused, notes)
    artifact = c.use_artifact_repository
    if artifact:
        notes.append(f"packages install from {PYPI_ARTIFACT_REPOSITORY} (artifact repository), so no PyPI EAI "
                     "is needed")
    net_needs = _network_needs(analysis, reqs, requirements_file, artifact)
    suggestion = check_coverage(net_needs, facts)
    chosen_eais = [validate_identifier(e, "external access integration") for e in c.eais]
    eais = tuple(dict.fromkeys(chosen_eais if c.only_eais else [*suggestion.suggested_eais, *chosen_eais]))
    coverage = check_coverage(net_needs, facts, chosen=eais)
    if net_needs:
        notes.append("EAIs " + (", ".join(eais) or "none") + ": "
                     + ("as given" if c.only_eais else "the smallest set covering the hosts the code needs"
                        + (" plus your choices" if chosen_eais else "")))
    if c.pip_index_secret:
        notes.append(f"private index: secret {c.pip_index_secret} is mounted as PIP_INDEX_URL (never in code)")

    # --- spec overrides
    try:
        spec = merge_overrides(
            c.spec_overrides,
            secret_env_override(c.pip_index_secret) if c.pip_index_secret else None,
            resources_override(gpus=c.gpus) if c.gpus else None,
            shm_volume_override(c.shm_size) if c.shm_size else None,
        )
    except (InvalidIdentifier, ValueError) as exc:
        return _fail(f"spec_overrides: {exc}", [str(exc)], notes, ranking=ranking, coverage=coverage)

    env_vars = tuple(sorted((validate_env_name(k), v) for k, v in c.env_vars.items()))
    edit = _script_edit(analysis, method, output_by_arg, notes) if c.propose_edits else None

    plan = JobPlan(
        backend=backend,
        method=method,
        source=source,
        entrypoint=entrypoint,
        compute_pool=pool_name,
        stage_name=stage_name,
        name=name,
        database=database,
        schema=schema,
        instance_family=family,
        args=args,
        pip_requirements=reqs,
        external_access_integrations=eais,
        env_vars=env_vars,
        target_instances=target,
        min_instances=minimum,
        spec_overrides=spec,
        runtime_environment=_runtime_pin(c.runtime_environment, method, facts, backend, notes, extra_issues),
        query_warehouse=validate_identifier(c.query_warehouse, "query warehouse") if c.query_warehouse else None,
        function_name=function_name,
        requirements_file=requirements_file,
        artifact_repositories=(PYPI_ARTIFACT_REPOSITORY,) if artifact else (),
        comment=c.comment or DEFAULT_COMMENT,
        notebook=(posixpath.basename(analysis.entrypoint) if method is SubmitMethod.SUBMIT_FILE
                  else analysis.entrypoint) if notebook is not None else None,
        entry_wrapper=wrapper,
    )
    payload = payload_for_plan(plan)
    if payload is not None:
        extra_issues += [PreflightIssue(Severity.WARNING, "payload.large_file", w, "add it to .mljobsignore")
                         for w in payload.warnings]
        secret = [p for p, why in payload.excluded if "secret" in why or "private key" in why]
        if secret:
            notes.append("not uploaded (may hold secrets): " + ", ".join(secret))
        if payload.wrapper:
            notes.append("entry wrapper: " + payload.wrapper)
        listed = {f.path for f in payload.files}
        for rel, what in ((entrypoint, "the entrypoint"), (requirements_file, "the requirements file")):
            if plan.notebook and rel == entrypoint:
                continue  # the converted script is written into the payload at submission
            if rel and method is not SubmitMethod.REMOTE and Path(source).exists() and rel not in listed:
                why = next((w for p, w in payload.excluded if rel == p or rel.startswith(p.rstrip("/") + "/")),
                           "not found")
                extra_issues.append(PreflightIssue(
                    Severity.ERROR, "payload.excluded", f"{what} {rel} is not in the payload ({why})",
                    "remove the rule that excludes it from .gitignore/.mljobsignore, or move the file"))
    issues = (extra_issues + list(req.issues) + list(preflight(plan, analysis, facts, coverage))
              + _removed_api_issues(analysis))
    issues.sort(key=lambda i: 0 if i.severity is Severity.ERROR else 1)
    code_plan = _notebook_code_plan(plan)
    code = generate_code(code_plan, connection_name=c.connection_name) if backend == "snowflake" else \
        _snowflake_equivalent(code_plan, analysis, c)
    if plan.notebook and isinstance(code, Generated):
        code = Generated(code.code, (
            f"the code submits the converted script {plan.entrypoint}, which mljobs writes into the payload when it "
            f"submits; to run this code yourself, first save the converted script (shown with the plan) as "
            f"{posixpath.join(posixpath.dirname(code_plan.source), plan.entrypoint) if plan.method is SubmitMethod.SUBMIT_FILE else plan.entrypoint}"
            + ("" if plan.method is SubmitMethod.SUBMIT_FILE else f" inside {plan.source}"),
            *code.warnings))
    return PlanResult(
        plan=plan, ranking=ranking, coverage=coverage, preflight=tuple(issues), code=code, script_edit=edit,
        # redacted: a --pip URL may carry user:token@
        explanations=tuple(redact(n) for n in notes), cost=estimate_cost(plan, facts), notebook_script=notebook,
        payload=payload,
    )


def _notebook_code_plan(plan: JobPlan) -> JobPlan:
    """For a notebook plan, the plan the generated code submits: the converted script beside the notebook."""
    if not plan.notebook or plan.method is not SubmitMethod.SUBMIT_FILE:
        return plan
    return dataclasses.replace(plan, source=str(Path(plan.source).with_name(plan.entrypoint)))


_PY_SUFFIX = re.compile(r"-py(\d)(\d+)$")


def _runtime_pin(pinned: str | None, method: SubmitMethod, facts: AccountFacts, backend: str, notes: list[str],
                 issues: list[PreflightIssue]) -> str | None:
    """runtime_environment with the Python suffix made explicit where pickles cross the client/image boundary.

    @remote cloudpickles the function with the submitting Python, and `job.result()` unpickles non-JSON
    results with it; both fail across Python versions. Since snowflake-ml-python 2.2, a tag without a
    `-pyXY` suffix selects the client's Python and a suffix selects that one (mljobs-api §10.11), so: a tag
    without a suffix gets the client's (the choice no longer depends on which Python submits later), a
    suffix that differs is an error for @remote and a warning otherwise.
    """
    if backend != "snowflake":
        return pinned
    client = facts.client_python
    suffix = "-py" + client.replace(".", "")
    if pinned is None or "/" in pinned or pinned.startswith("cre@") or ":" in pinned:
        if method is SubmitMethod.REMOTE:
            notes.append(f"@remote pickles the function with Python {client}; with no runtime_environment pin the "
                         f"image follows the submitting Python (snowflake-ml-python 2.2+), so submit from {client}")
        return pinned
    match = _PY_SUFFIX.search(pinned)
    if match is None:
        if method is SubmitMethod.REMOTE:
            notes.append(f"runtime_environment {pinned} pinned to {pinned}{suffix}: the image's Python must be the "
                         f"client's {client}, which pickles the @remote function")
            return pinned + suffix
        return pinned
    image_python = f"{match.group(1)}.{match.group(2)}"
    if image_python != client:
        remote = method is SubmitMethod.REMOTE
        issues.append(PreflightIssue(
            Severity.ERROR if remote else Severity.WARNING, "python.image_mismatch",
            f"runtime_environment {pinned} runs Python {image_python} but this client is Python {client}: "
            + ("the pickled @remote function cannot be loaded there" if remote
               else "job.result() cannot unpickle non-JSON results across versions"),
            f"use runtime_environment={_PY_SUFFIX.sub(suffix, pinned)!r} or submit from Python {image_python}"))
    return pinned


def confirmation_summary(result: PlanResult) -> list[str]:
    """The one confirmation summary for CLI and MCP checkpoints: the plan's settings, then what it costs
    (credits/hour, cold start, a local run's duration) and what pip will do in the image.

    Returns:
        Lines; empty when there is no plan.
    """
    if result.plan is None:
        return []
    notes = result.cost.lines() if result.cost is not None else []
    deps = result.dependencies
    if deps is not None and hasattr(deps, "summary"):
        notes.append(f"Dependency preflight ({deps.image}): {deps.summary()}")
        notes.extend(f"  conflict: {c.message}" for c in getattr(deps, "conflicts", ()))
    return summary_lines(result.plan, notes)


def _removed_api_issues(analysis: Analysis) -> list[PreflightIssue]:
    """One issue per use of an API the job's library versions removed; the plan is not ready while one stays
    (a guessed receiver type is only a warning)."""
    return [
        PreflightIssue(
            Severity.WARNING if f.confidence is Confidence.GUESS else Severity.ERROR, "api.removed",
            f"{f.location.render()}: {f.evidence}: {f.message}", f"use {f.replacement}")
        for f in analysis.removed_apis
    ]


def _snowflake_equivalent(plan: JobPlan, analysis: Analysis, choices: PlanChoices) -> Generated | NotGenerated:
    """Code that would run this local plan on Snowflake: the system pool for its compute kind, the connection's
    default database and schema, a payload stage there, and requirements planned against the runtime image --
    what this machine lacks (torch, xgboost...) is preinstalled there and never reaches this code."""
    gpu = analysis.compute.recommendation is ComputeTarget.GPU
    pool = "SYSTEM_COMPUTE_POOL_GPU" if gpu else "SYSTEM_COMPUTE_POOL_CPU"
    image = _pip_requirements(analysis, None, plan.method, choices, None, "snowflake")
    target = dataclasses.replace(
        plan, backend="snowflake", compute_pool=pool, instance_family=None, stage_name="@MLJOBS_PAYLOAD",
        database=None, schema=None, pip_requirements=image.pip, requirements_file=image.requirements_file,
        external_access_integrations=tuple(e for e in plan.external_access_integrations),
    )
    code = generate_code(target, connection_name=choices.connection_name, plan_hash=plan.plan_hash())
    if not isinstance(code, Generated):
        return code
    return Generated(code.code, (
        f"this plan runs on the local pool; the code shows the Snowflake equivalent on {pool} with the "
        "connection's default database and schema, and requirements planned against the runtime image. Plan "
        "with --backend snowflake for your account's pools, stage and EAIs",
        *code.warnings,
    ))
