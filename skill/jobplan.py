"""The JobPlan: every decision about one job, as a value with a canonical JSON form and a stable hash.

The hash is what a confirmation is bound to: change any field (pool, EAIs, args, requirements...)
and a token issued for the old plan no longer fits.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from mljobs.analyzers.model import SubmitMethod

from .redact import REDACTED, redact
from .runner_inputs import escaped, runner_env_reason

PLAN_VERSION = 1


@dataclass(frozen=True)
class JobPlan:
    """A complete, validated description of one ML Job submission.

    `source` is the absolute local path of the file or folder (or the stage path for submit_from_stage);
    `entrypoint` is relative to a folder source (the file name for submit_file).
    """

    backend: str  # "snowflake" | "local"
    method: SubmitMethod
    source: str
    entrypoint: str
    compute_pool: str
    stage_name: str  # fully qualified: @DB.SCHEMA.STAGE
    name: str  # job name, a valid identifier
    database: str | None = None
    schema: str | None = None
    instance_family: str | None = None
    args: tuple[str, ...] = ()
    pip_requirements: tuple[str, ...] = ()
    external_access_integrations: tuple[str, ...] = ()
    env_vars: tuple[tuple[str, str], ...] = ()  # sorted (name, value) pairs
    target_instances: int = 1
    min_instances: int = 1
    spec_overrides: dict[str, Any] | None = field(default=None, hash=False)
    runtime_environment: str | None = None
    query_warehouse: str | None = None
    function_name: str | None = None  # for method=remote: the function to run
    requirements_file: str | None = None  # a requirements.txt inside the source folder that travels with it
    artifact_repositories: tuple[str, ...] = ()
    comment: str | None = None
    #: The notebook the entrypoint is converted from (the file name for submit_file, else relative to the
    #: source folder); None for scripts. The payload gets the converted script as `entrypoint` at submission.
    notebook: str | None = None
    # Run the payload's entry wrapper (skill/entry.py) first, which expands $MLRS_* in the args in the
    # container; set when the planner routes outputs through an arg. Args given by the user pass verbatim.
    entry_wrapper: bool = False
    version: int = PLAN_VERSION

    def to_dict(self, *, redacted: bool = False) -> dict[str, Any]:
        """Plain JSON-able dict. With `redacted`, credentials in any string value are replaced by ***, and
        every env var value is (a variable such as HF_TOKEN is a secret whatever its value looks like)."""
        data = asdict(self)
        data["method"] = self.method.value
        data["env_vars"] = {k: (REDACTED if redacted else v) for k, v in self.env_vars}
        for key in ("args", "pip_requirements", "external_access_integrations", "artifact_repositories"):
            data[key] = list(data[key])
        return _redact_tree(data) if redacted else data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> JobPlan:
        """Inverse of `to_dict` (unknown keys are rejected so a typo cannot silently drop a setting).

        Raises:
            ValueError: unknown keys or a bad method.
        """
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown plan fields: {', '.join(sorted(unknown))}")
        values = dict(data)
        values["method"] = SubmitMethod(values["method"])
        env = values.get("env_vars") or {}
        values["env_vars"] = tuple(sorted(env.items() if isinstance(env, dict) else (tuple(p) for p in env)))
        for key in ("args", "pip_requirements", "external_access_integrations", "artifact_repositories"):
            values[key] = tuple(values.get(key) or ())
        return cls(**values)

    def canonical_json(self) -> str:
        """Sorted-key, compact JSON of the full (unredacted) plan: the input of `plan_hash`."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=True)

    def plan_hash(self) -> str:
        """SHA-256 hex of the canonical JSON; equal plans hash equal across processes and runs."""
        return hashlib.sha256(self.canonical_json().encode("ascii")).hexdigest()


def _redact_tree(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: _redact_tree(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_redact_tree(v) for v in value]
    return value


def summary_lines(plan: JobPlan, notes: Sequence[str] = ()) -> list[str]:
    """The settings a person confirms: the guided skill's checklist, `notes` (cost, start, dependency
    preflight: see `mljobs.skill.plan.confirmation_summary`) and the plan hash."""
    d = plan.to_dict(redacted=True)
    script = (
        d["source"]
        if plan.method in (SubmitMethod.SUBMIT_FILE, SubmitMethod.REMOTE)
        else (f"{d['source']} (entrypoint {d['entrypoint']})")
    )
    if plan.notebook:
        script += f" (notebook {plan.notebook} runs as the converted script {plan.entrypoint})"
    nodes = f"{plan.target_instances}" + (
        f" (at least {plan.min_instances})" if plan.min_instances != plan.target_instances else ""
    )
    return [
        f"Script: {script}",
        f"Backend: {plan.backend}" + (" (this machine; no credits)" if plan.backend == "local" else ""),
        f"Compute pool: {plan.compute_pool}",
        f"Instance family: {plan.instance_family or 'unknown'}",
        "Dependencies: "
        + (
            ", ".join(escaped(r) for r in d["pip_requirements"])
            or (
                f"{plan.requirements_file} (travels with the code)"
                if plan.requirements_file
                else "none to install"
            )
        ),
        "External access: " + (", ".join(plan.external_access_integrations) or "none"),
        "Environment: " + (", ".join(f"{escaped(k)}={REDACTED}" for k, _ in plan.env_vars) or "none"),
        *(f"WARNING: env var {escaped(k)} {reason}" for k, _ in plan.env_vars
          if (reason := runner_env_reason(k))),
        f"Nodes: {nodes}",
        f"Method: {plan.method.value}" + (f" ({plan.function_name})" if plan.function_name else ""),
        "Args: " + (" ".join(d["args"]) or "none")
        + (" (passed through the payload's entry wrapper, which expands $MLRS_* in the container)"
           if plan.entry_wrapper else ""),
        f"Job name: {plan.name}; payload stage: {plan.stage_name}",
        *notes,
        f"Plan hash: {plan.plan_hash()[:12]}",
    ]
