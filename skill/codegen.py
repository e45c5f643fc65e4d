"""Generate the Python script that submits a JobPlan with snowflake-ml-python (submit_* or @remote).

Every literal goes through `repr`/`pprint` (never string concatenation of user text), every identifier through
skill/identifiers.py, and the result must pass `ast.parse`. Credentials are never written into the code: a
value holding one is replaced by a read of a local environment variable, and a warning says which.
"""

from __future__ import annotations

import ast
import pprint
import re
from dataclasses import dataclass
from typing import Any

from mljobs.analyzers.model import SubmitMethod

from .identifiers import InvalidIdentifier, validate_env_name, validate_identifier, validate_qualified, validate_stage
from .entry import WRAPPER_NAME, WRAPPER_TEXT
from .jobplan import JobPlan
from .payload import Payload, PayloadError, payload_for_plan
from .redact import has_secret, redact

#: Env var names whose values are treated as secrets even when they do not look like a URL credential.
_SECRET_NAME = re.compile(r"(TOKEN|SECRET|PASSWORD|PASSWD|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIAL)", re.I)
_LITERAL_TYPES = (str, int, float, bool, type(None))


@dataclass(frozen=True, slots=True)
class Generated:
    """Runnable submission code (passes `ast.parse`) and what the user should know about it."""

    code: str
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class NotGenerated:
    """No code, and why (an input that cannot be written safely)."""

    reason: str


class _Unsafe(ValueError):
    pass


class _Secret:
    """A value that must be read from the environment at run time (rendered as `_secret('NAME')`)."""

    def __init__(self, env: str, prefix: str = "") -> None:
        self.env = env
        self.prefix = prefix

    def __repr__(self) -> str:
        call = f"_secret({self.env!r})"
        return f"{self.prefix!r} + {call}" if self.prefix else call


class _Expr:
    """Python source written as is (built here from checked parts, never from user text)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def _unique_name(plan: JobPlan) -> _Expr:
    """`<name>_<8 hex>` per run, like the backend and the library's own derivation: a fixed name would reuse
    @stage/<name>/ and collide with the previous job of that name."""
    return _Expr(f"{plan.name + '_'!r} + uuid.uuid4().hex[:8]")


def _is_literal(value: Any) -> bool:
    if isinstance(value, _LITERAL_TYPES):
        return not (isinstance(value, float) and value != value)  # NaN has no literal
    if isinstance(value, (list, tuple)):
        return all(_is_literal(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_literal(v) for k, v in value.items())
    return False


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)):
        return [s for v in value for s in _strings(v)]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (k, *_strings(v))]
    return []


def _fmt(value: Any, indent: int) -> str:
    """A Python literal for `value`; continuation lines indented to sit under a keyword argument."""
    text = pprint.pformat(value, width=110 - indent, sort_dicts=False)
    return text.replace("\n", "\n" + " " * indent)


def _validated(plan: JobPlan) -> list[str]:
    """Check every identifier-like plan field; return warnings. Raises InvalidIdentifier/_Unsafe on bad input."""
    warnings: list[str] = []
    validate_identifier(plan.compute_pool, "compute pool")
    stage = validate_stage(plan.stage_name, "stage")
    if stage.split("/", 1)[0].count(".") != 2:
        warnings.append(f"stage {plan.stage_name} is not fully qualified; it resolves in the session's current "
                        "database/schema, not the database/schema arguments")
    validate_qualified(plan.name, "job name")
    for eai in plan.external_access_integrations:
        validate_identifier(eai, "external access integration")
    for name, _ in plan.env_vars:
        validate_env_name(name)
    if plan.database is not None:
        validate_identifier(plan.database, "database")
    if plan.schema is not None:
        validate_identifier(plan.schema, "schema")
    if plan.database and not plan.schema:
        raise _Unsafe("a database without a schema is rejected by snowflake-ml-python; set the schema too")
    if plan.query_warehouse is not None:
        validate_identifier(plan.query_warehouse, "query warehouse")
    for repo in plan.artifact_repositories:
        validate_qualified(repo, "artifact repository")
    if plan.runtime_environment is not None and not re.fullmatch(r"[A-Za-z0-9_./:@-]+", plan.runtime_environment):
        # snowflake-ml-python interpolates it into SQL with an f-string (research mljobs-api §8).
        raise _Unsafe(f"runtime_environment {plan.runtime_environment!r} must be an image tag or image URL "
                      "(letters, digits and _ . / : @ -)")
    if plan.method is SubmitMethod.REMOTE and not (plan.function_name and plan.function_name.isidentifier()):
        raise _Unsafe("method remote needs function_name, the name of a function defined in the source file")
    if plan.spec_overrides is not None:
        if not _is_literal(plan.spec_overrides):
            raise _Unsafe("spec_overrides holds values that are not plain literals (str, number, bool, list, dict)")
        if any(has_secret(s) for s in _strings(plan.spec_overrides)):
            raise _Unsafe("spec_overrides holds a credential; mount a Snowflake secret instead "
                          "(mljobs.skill.spec.secret_env_override)")
    if plan.target_instances < 1 or not 1 <= plan.min_instances <= plan.target_instances:
        raise _Unsafe(f"instances must satisfy 1 <= min_instances ({plan.min_instances}) <= target_instances "
                      f"({plan.target_instances})")
    return warnings


def _protect(plan: JobPlan, warnings: list[str]) -> tuple[list[Any], list[Any], dict[str, Any], list[str]]:
    """Args, pip requirements and env vars with every credential replaced by an env-var read."""
    used: list[str] = []

    def secret(env: str, what: str, value: str, prefix: str = "") -> _Secret:
        used.append(env)
        shown = f" ({redact(value)})" if has_secret(value) else ""
        warnings.append(f"{what} holds a credential{shown}; the code reads "
                        + ("the URL" if prefix else "it") + f" from the local environment variable {env} "
                        "instead of embedding it")
        return _Secret(env, prefix)

    args: list[Any] = [
        secret(f"MLJOBS_ARG_{i}", f"argument {i}", a) if has_secret(a) else a for i, a in enumerate(plan.args)
    ]
    reqs: list[Any] = []
    for i, req in enumerate(plan.pip_requirements):
        if has_secret(req):
            option = re.match(r"^(--index-url[= ]|--extra-index-url[= ]|-i )", req)
            if option and "MLJOBS_PIP_INDEX_URL" not in used:
                reqs.append(secret("MLJOBS_PIP_INDEX_URL", f"pip requirement {i}", req, option.group(0)))
            else:
                reqs.append(secret(f"MLJOBS_PIP_REQ_{i}", f"pip requirement {i}", req))
        else:
            reqs.append(req)
    env_vars: dict[str, Any] = {}
    for name, value in plan.env_vars:
        if has_secret(value) or _SECRET_NAME.search(name):
            env_vars[name] = secret(name, f"env var {name}", value)
        else:
            env_vars[name] = value
    if any(isinstance(v, _Secret) for v in env_vars.values()):
        warnings.append("env_vars values are visible in the job's service spec; for credentials prefer a Snowflake "
                        "secret mounted through spec_overrides (mljobs.skill.spec.secret_env_override)")
    return args, reqs, env_vars, used


def submit_options(plan: JobPlan, reqs: list[Any], env_vars: dict[str, Any], *, warehouse: str | None = None
                   ) -> list[tuple[str, Any]]:
    """The keyword arguments every submission path shares (submit_*, @remote, MLJobDefinition.register).

    One list for the generated script and the generated pipelines, so a new JobPlan field reaches both.
    `warehouse` is the fallback query warehouse when the plan names none.
    """
    return [
        ("target_instances", plan.target_instances),
        ("min_instances", plan.min_instances),
        ("pip_requirements", reqs or None),
        ("external_access_integrations", list(plan.external_access_integrations) or None),
        ("env_vars", env_vars or None),
        ("spec_overrides", plan.spec_overrides),
        ("runtime_environment", plan.runtime_environment),
        ("query_warehouse", plan.query_warehouse or warehouse),
        ("artifact_repositories", list(plan.artifact_repositories) or None),
        ("comment", plan.comment),
        ("name", plan.name),
        ("database", plan.database),
        ("schema", plan.schema),
        # An explicit name reuses @stage/<name>/ and the main file is PUT with overwrite=False, so an edited
        # script would be silently skipped without this (research mljobs-api §8).
        ("overwrite", True),
    ]


def _kwargs(plan: JobPlan, args: list[Any], reqs: list[Any], env_vars: dict[str, Any],
            staged: Payload | None = None) -> list[tuple[str, Any]]:
    """Every plan field as a keyword argument, in a stable order; a unique job name per run (no overwrite).

    With `staged` (the payload copied to a folder by the generated code), the entrypoint is the payload's:
    the entry wrapper when one runs first, with the user's script as its first argument.
    """
    kw: list[tuple[str, Any]] = [("stage_name", plan.stage_name)]
    entry = plan.entrypoint
    if staged is not None and staged.wrapper:
        entry = staged.entrypoint.rsplit("/", 1)[1]
        args = [staged.args[0], *args]  # the user's script, by its container path
    if staged is not None or plan.method is SubmitMethod.SUBMIT_DIRECTORY or \
            plan.method is SubmitMethod.SUBMIT_FROM_STAGE:
        kw.insert(0, ("entrypoint", entry))
    if plan.method is not SubmitMethod.REMOTE:
        kw.append(("args", args))
    options = [(k, _unique_name(plan) if k == "name" else v) for k, v in submit_options(plan, reqs, env_vars)
               if k != "overwrite"]
    return kw + options


def _staged_payload(plan: JobPlan, warnings: list[str]) -> Payload | None:
    """The payload the generated code must copy before upload: always for a folder (submit_directory would
    upload .env, .git and virtualenvs as they are), and for a file whose args need the entry wrapper."""
    if plan.method not in (SubmitMethod.SUBMIT_FILE, SubmitMethod.SUBMIT_DIRECTORY):
        return None
    try:
        payload = payload_for_plan(plan)
    except PayloadError as exc:
        warnings.append(f"{exc}; the code uploads {plan.source} as it is (unfiltered)")
        return None
    if payload is None or not (plan.method is SubmitMethod.SUBMIT_DIRECTORY or payload.wrapper):
        return None
    if not _copied(payload):
        warnings.append(f"{plan.source} cannot be read here, so the code uploads it as it is (unfiltered)")
        return None
    if payload.wrapper:
        warnings.append(payload.wrapper)
    return payload


def _copied(payload: Payload) -> list[str]:
    """What the code copies from the source folder: the listed files, and a notebook's converted script (the
    plan tells the user to save it there). requirements.txt (from pip_requirements) and the wrapper are not."""
    return [f.path for f in payload.files
            if f.origin == "file" or f.path not in ("requirements.txt", WRAPPER_NAME)]


def _staging_lines(payload: Payload) -> list[str]:
    """Code that copies exactly the payload's files (and the entry wrapper) into a fresh folder."""
    copied = _copied(payload)
    lines = [
        "# Exactly the files mljobs lists as the payload (no .git, .env, virtualenvs, node_modules, caches or",
        "# ignored files), copied to a fresh folder that is uploaded instead of the project itself.",
        f"SOURCE = pathlib.Path({payload.root!r})",
        f"FILES = {_fmt(copied, 8)}",
        'payload_dir = pathlib.Path(tempfile.mkdtemp(prefix="mljobs_payload_"))',
        "for rel in FILES:",
        "    (payload_dir / rel).parent.mkdir(parents=True, exist_ok=True)",
        "    shutil.copy2(SOURCE / rel, payload_dir / rel)",
    ]
    if payload.wrapper:
        name = payload.entrypoint.rsplit("/", 1)[1]
        lines += [
            "# Snowflake passes job args verbatim: this wrapper expands $MLRS_* in them inside the container,",
            "# then runs the script, so outputs reach the job's result stage.",
            f"(payload_dir / {name!r}).write_text({WRAPPER_TEXT!r})",
        ]
    return lines + [""]


def generate_code(
    plan: JobPlan, *, connection_name: str | None = None, plan_hash: str | None = None
) -> Generated | NotGenerated:
    """Write the submission script for `plan`.

    Args:
        plan: a complete JobPlan (method submit_file, submit_directory, submit_from_stage or remote).
        connection_name: the Snowflake connection (connections.toml) the script opens; None = the default one.
        plan_hash: the hash the docstring cites, when `plan` is a rewrite of the plan the user confirms (the
            Snowflake equivalent of a local plan); default: `plan`'s own hash.

    Returns:
        `Generated(code, warnings)`: the code opens a Snowpark session, selects the plan's database/schema,
        calls the method with every plan field and prints the job id and status; it always parses.
        `NotGenerated(reason)`: the plan targets the local backend, or a field cannot be written safely
        (invalid identifier, credential in spec_overrides, non-literal values, bad instance counts).
    """
    if plan.backend != "snowflake":
        return NotGenerated(f"the plan targets the {plan.backend!r} backend; mljobs runs it directly, there is no "
                            "snowflake-ml-python code to generate")
    try:
        warnings = _validated(plan)
        if connection_name is not None and not re.fullmatch(r"[A-Za-z0-9_.-]{1,128}", connection_name):
            raise _Unsafe(f"connection name {connection_name!r} must be letters, digits, _ . -")
    except (InvalidIdentifier, _Unsafe) as exc:
        return NotGenerated(str(exc))
    args, reqs, env_vars, secrets = _protect(plan, warnings)
    staged = _staged_payload(plan, warnings)
    if plan.method is SubmitMethod.REMOTE and plan.args:
        warnings.append("the function is called with the plan's args as strings; edit the call to pass typed values")
    if plan.database is None or plan.schema is None:
        warnings.append("no database/schema in the plan: the job uses the connection's defaults")

    call = "submit_directory" if staged is not None else plan.method.value
    lines: list[str] = [
        f'"""Submit job {plan.name} to Snowflake ML Jobs ({plan.method.value}). Generated by mljobs from plan '
        f'{(plan_hash or plan.plan_hash())[:12]}."""',
        "",
    ]
    if secrets:
        lines += ["import os"]
    if plan.method is SubmitMethod.REMOTE:
        lines += ["import runpy"]
    if staged is not None:
        lines += ["import pathlib", "import shutil", "import tempfile"]
    lines += ["import uuid"]
    lines += [
        "",
        "from snowflake.snowpark import Session",
        f"from snowflake.ml.jobs import {'remote' if plan.method is SubmitMethod.REMOTE else call}",
        "",
    ]
    if secrets:
        lines += [
            "",
            "def _secret(name):",
            '    """A credential from the local environment, so it never sits in this file."""',
            "    value = os.environ.get(name)",
            "    if not value:",
            '        raise SystemExit(f"Set the environment variable {name} before running this script.")',
            "    return value",
            "",
            "",
        ]
    if connection_name is not None:
        lines.append(f"session = Session.builder.config('connection_name', {connection_name!r}).create()")
    else:
        lines.append("session = Session.builder.create()  # the default connection")
    if plan.database is not None:
        lines.append(f"session.use_database({plan.database!r})")
    if plan.schema is not None:
        lines.append(f"session.use_schema({plan.schema!r})")
    lines.append("")

    kw = _kwargs(plan, args, reqs, env_vars, staged)
    if staged is not None:
        lines += _staging_lines(staged)
    if plan.method is SubmitMethod.REMOTE:
        lines += [
            "# Load the function from the script without running its __main__ block; loading runs the script's",
            "# top-level code locally. Functions loaded this way are pickled by value, so the job does not need",
            "# the file itself.",
            f"_payload = runpy.run_path({plan.source!r}, run_name='mljobs_remote_payload')",
            f"{plan.function_name}_job = remote(",
            f"    {plan.compute_pool!r},",
        ]
        lines += [f"    {key}={_fmt(value, 4 + len(key) + 1)}," for key, value in kw]
        lines += [
            "    session=session,",
            f")(_payload[{plan.function_name!r}])",
            "",
            f"job = {plan.function_name}_job({', '.join(repr(a) for a in args)})",
        ]
        warnings.append("@remote pickles the function with the local Python; the runtime must match it to unpickle")
    else:
        lines += [
            f"job = {call}(",
            "    payload_dir," if staged is not None else f"    {plan.source!r},",
            f"    {plan.compute_pool!r},",
        ]
        lines += [f"    {key}={_fmt(value, 4 + len(key) + 1)}," for key, value in kw]
        lines += ["    session=session,", ")"]
    lines += [
        "",
        'print("Job ID:", job.id)',
        'print("Status:", job.status)',
        "",
    ]
    code = "\n".join(lines)
    # Sanity checks on our own output: a SyntaxError here is a bug in this module, never the user's input.
    ast.parse(code)
    protected = [v for v in (*plan.args, *plan.pip_requirements, *(v for _, v in plan.env_vars)) if has_secret(v)]
    if any(v in code for v in protected):
        return NotGenerated("internal error: a credential would have been written into the code")
    return Generated(code, tuple(dict.fromkeys(warnings)))
