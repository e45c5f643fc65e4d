"""Pydantic output models of the MCP tools: their JSON schemas are what the model reads, so every field says what
it means and what to do with it. Values are built from core results in mcp_app.py; nothing here does work.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ------------------------------------------------------------------------------------------------ analysis


class EvidenceOut(_Out):
    """One line of code behind a finding."""

    path: str = Field(description="File, relative to the project root.")
    line: int = Field(description="1-based line number.")
    cell: int | None = Field(default=None, description="Notebook cell index, when the file is a notebook.")
    code: str = Field(description="The code on that line (credentials redacted).")
    reason: str = Field(description="Why this line matters.")


class ComputeOut(_Out):
    recommendation: Literal["CPU", "GPU"] = Field(description="The kind of node the job needs.")
    confidence: str = Field(description="certain | likely | possible: how sure the verdict is.")
    reason: str = Field(description="One sentence explaining the verdict.")
    needs_large_memory: bool = Field(
        description="The code loads data or models that want a high-memory node."
    )
    multi_node_framework: str | None = Field(
        default=None, description="Distributed framework found (ray, torch_distributed, ...), or null."
    )
    suggested_instances: int = Field(
        default=1, description="Nodes the code is written for (1 unless multi-node)."
    )
    evidence: list[EvidenceOut] = Field(default_factory=list, description="Lines that decided the verdict.")


class PackageOut(_Out):
    import_name: str = Field(description="The module the code imports.")
    distribution: str = Field(description="The PyPI distribution that provides it.")
    status: str = Field(
        description="preinstalled (in the runtime image), to_install (goes to pip_requirements), stdlib, local."
    )
    optional: bool = Field(description="Imported inside try/except ImportError: the code runs without it.")
    requirement: str | None = Field(default=None, description="The declared specifier, e.g. 'xgboost>=2.0'.")
    runtime_version: str | None = Field(
        default=None, description="Version in the runtime image, when preinstalled."
    )
    hint: str | None = Field(default=None, description="Install note, when one is known.")
    evidence: list[EvidenceOut] = Field(default_factory=list, description="Where it is imported (first few).")


class NetworkOut(_Out):
    category: str = Field(description="What the access is for: pypi, huggingface, s3, llm_api, url, ...")
    hosts: list[str] = Field(description="Hosts an External Access Integration must allow.")
    confidence: str = Field(description="certain | likely | possible.")
    evidence: list[EvidenceOut] = Field(default_factory=list, description="The calls that need the network.")


class IoOut(_Out):
    output_options: list[str] = Field(
        description="Options the script already has for its output folder (pass $MLRS_STAGE_RESULT_PATH to them)."
    )
    hardcoded_outputs: list[str] = Field(
        description="Output paths written in the code; they are lost unless routed."
    )
    local_inputs: list[str] = Field(
        description="Local files the code reads; they do not exist inside the job."
    )
    sets_return: bool = Field(description="The script assigns __return__, so the job has a result value.")
    uses_snowpark: bool = Field(description="The script opens a Snowpark session.")
    evidence: list[EvidenceOut] = Field(default_factory=list, description="Lines behind the I/O findings.")


class AnalysisOut(_Out):
    """What running the code as an ML Job needs, each finding with the lines that prove it."""

    root: str = Field(description="Absolute path of the project root.")
    entrypoint: str = Field(description="The file the job runs, relative to the root.")
    files: list[str] = Field(description="Files analysed, entrypoint first.")
    compute: ComputeOut
    packages: list[PackageOut] = Field(description="Third-party imports and how each is satisfied.")
    pip_requirements: list[str] = Field(
        description="What must be pip-installed in the job (not in the runtime image)."
    )
    network: list[NetworkOut] = Field(
        description="Outbound access the code needs (pypi included when installing)."
    )
    io: IoOut
    method: str = Field(
        description="Recommended submit method: submit_file | submit_directory | remote | ..."
    )
    method_reason: str = Field(description="Why that method.")
    requirements_file: str | None = Field(
        default=None, description="requirements.txt that travels with the code."
    )
    runtime: str = Field(description="Runtime image package list the packages were checked against.")
    problems: list[str] = Field(
        description="Files that could not be read or parsed (analysis continued without them)."
    )
    next_step: str = Field(description="What to call next.")


# ------------------------------------------------------------------------------------------------ pools


class PoolOut(_Out):
    name: str = Field(description="Compute pool name.")
    instance_family: str = Field(description="Instance family of its nodes.")
    shape: str = Field(description="vCPU/memory/GPUs of one node, '?' when unknown.")
    state: str = Field(description="ACTIVE, IDLE, SUSPENDED, ...")
    idle_nodes: int
    active_nodes: int
    max_nodes: int
    base_score: float = Field(description="The guided skill's formula: idle*10 + (max-active) + state bonus.")
    score: float = Field(description="Base score plus the refinements listed in reasons.")
    usable: bool = Field(description="False when the job cannot run there (reasons say why).")
    chosen: bool = Field(description="The ranking's choice.")
    credits_per_hour: float | None = Field(default=None, description="Indicative credits per node-hour.")
    assumed: bool = Field(description="Not listed by the account: a system-pool fallback.")
    reasons: list[str] = Field(description="Every adjustment and rejection, in order.")


class PoolRankingOut(_Out):
    """Compute pools ranked for this job, best first, with the reasons behind every score."""

    backend: str = Field(description="snowflake or local (the local pool is this machine).")
    needs: str = Field(description="What the job needs from a node, in words.")
    chosen: str | None = Field(description="The best usable pool, or null when none is usable.")
    reason: str = Field(description="Why that pool (or why none).")
    pools: list[PoolOut]
    notes: list[str]
    next_step: str


# ------------------------------------------------------------------------------------------------ network


class HostMatchOut(_Out):
    eai: str = Field(description="External Access Integration that allows the host.")
    rule: str = Field(description="The network rule inside it.")
    value: str = Field(description="The rule entry that matched (proof).")


class HostCoverageOut(_Out):
    host: str = Field(description="host or host:port the code needs.")
    categories: list[str] = Field(description="Why it is needed (pypi, huggingface, ...).")
    status: str = Field(
        description="covered (proven by a rule entry), guessed (an EAI's name suggests it), unverified (rules "
        "unreadable), uncovered (no EAI allows it)."
    )
    reason: str
    matches: list[HostMatchOut] = Field(default_factory=list, description="Proof of coverage.")
    evidence: list[EvidenceOut] = Field(default_factory=list, description="Code that needs this host.")


class CoverageOut(_Out):
    """Which External Access Integrations really allow the hosts the code needs, verified against their rules."""

    backend: str
    complete: bool = Field(description="Every host is proven covered by the suggested (or chosen) EAIs.")
    suggested_eais: list[str] = Field(
        description="Smallest EAI set covering the hosts (or the ones you chose)."
    )
    available_eais: list[str] = Field(description="EAIs visible to this role.")
    hosts: list[HostCoverageOut]
    admin_sql: list[str] = Field(
        description="SQL an admin runs to create and grant what is missing (never run here)."
    )
    alternatives: list[str] = Field(
        description="Other ways, e.g. an artifact repository instead of a PyPI EAI."
    )
    notes: list[str]
    next_step: str


# ------------------------------------------------------------------------------------------------ plan


class PreflightOut(_Out):
    severity: Literal["error", "warning"] = Field(
        description="error: would fail; warning: may not run as meant."
    )
    code: str = Field(description="Stable id, e.g. grant.create_service.")
    message: str
    fix: str = Field(description="The exact fix: SQL or a plan change.")


class ConfirmationOut(_Out):
    """How the user confirms this action: directly (the server asks) or by passing a token back."""

    method: Literal["elicitation", "token"] = Field(
        description="elicitation: the server asks the user itself when you call the action. token: show the user "
        "the settings, and pass `token` to the action only after the user said yes."
    )
    token: str | None = Field(default=None, description="Single-use confirmation token (token method only).")
    expires_in_seconds: int | None = Field(default=None, description="Seconds the token stays valid.")
    bound_to: str = Field(description="What the token authorises: the plan hash or the job id.")


class PlanOut(_Out):
    """A complete job plan: settings, generated code, proposed script edit, preflight, and how to confirm it."""

    plan_hash: str | None = Field(description="Pass this to submit_job. Null when no plan is possible.")
    ready: bool = Field(description="A plan exists and preflight found no error.")
    reason: str | None = Field(default=None, description="Why there is no plan (when plan_hash is null).")
    errors: list[str] = Field(default_factory=list, description="Invalid choices, one per line.")
    settings: dict[str, Any] = Field(
        default_factory=dict,
        description="The plan (credentials redacted; the real plan stays on the server).",
    )
    summary: list[str] = Field(
        default_factory=list, description="The settings to show the user before submitting."
    )
    needs_confirmation: list[str] = Field(
        default_factory=list, description="Decisions the user must make or accept (the STOP points)."
    )
    preflight: list[PreflightOut] = Field(
        default_factory=list, description="Problems found before submission."
    )
    code: str | None = Field(default=None, description="Generated snowflake-ml-python submission code.")
    code_uri: str | None = Field(default=None, description="Resource URI of the generated code.")
    code_note: str | None = Field(default=None, description="Why there is no code, or warnings about it.")
    script_diff: str | None = Field(
        default=None, description="Proposed minimal script edit (unified diff), not applied."
    )
    explanations: list[str] = Field(default_factory=list, description="Every decision and why it was made.")
    confirmation: ConfirmationOut | None = Field(default=None, description="How to confirm the submission.")
    next_step: str


# ------------------------------------------------------------------------------------------------ jobs


class ResultOut(_Out):
    success: bool = Field(description="The job's code finished without an exception.")
    value: Any = Field(default=None, description="The job's __return__ value (JSON form), when it succeeded.")
    value_repr: str | None = Field(default=None, description="repr() of a value that is not JSON.")
    error: str | None = Field(default=None, description="The exception, e.g. ValueError('boom').")
    traceback: str | None = Field(default=None, description="Remote traceback (last lines).")
    artifacts: list[str] = Field(
        default_factory=list, description="Files written to the job's result location."
    )


class SubmitOut(_Out):
    """Outcome of a submission request: submitted with a job id, or not submitted and why."""

    submitted: bool = Field(description="False when the user declined or cancelled: nothing was submitted.")
    job_id: str | None = Field(
        default=None, description="Use with job_status, wait_for_job, job_logs, cancel_job."
    )
    backend: str | None = None
    status: str | None = Field(default=None, description="Status right after submission.")
    plan_hash: str
    confirmed_by: str | None = Field(default=None, description="elicitation or token.")
    message: str
    next_step: str


class JobStatusOut(_Out):
    """A job's live status, the tail of its logs, and its result once it is finished."""

    job_id: str
    backend: str
    status: str = Field(
        description="PENDING, RUNNING, DONE, FAILED, CANCELLING, CANCELLED, INTERNAL_ERROR, DELETED."
    )
    terminal: bool = Field(description="The job will not change any more.")
    name: str | None = None
    compute_pool: str | None = None
    created_at: float | None = Field(default=None, description="Epoch seconds.")
    finished_at: float | None = Field(default=None, description="Epoch seconds.")
    message: str | None = Field(default=None, description="The backend's status message.")
    log_tail: str | None = Field(default=None, description="Last log lines (credentials redacted).")
    result: ResultOut | None = Field(default=None, description="Present once the job is DONE or FAILED.")
    history: list[str] = Field(default_factory=list, description="Status changes seen, oldest first.")
    next_step: str


class WaitOut(_Out):
    """How a bounded wait ended."""

    job_id: str
    status: str
    terminal: bool
    timed_out: bool = Field(
        description="The timeout came first; the job is still going. Call wait_for_job again."
    )
    polls: int = Field(description="Status queries made (they back off from 1 s to 30 s).")
    elapsed_seconds: float
    next_step: str


class LogsOut(_Out):
    job_id: str
    instance_id: int | None = None
    text: str = Field(description="Log text (credentials redacted).")
    lines: int = Field(description="Lines returned.")
    truncated: bool = Field(description="Earlier lines were left out; raise tail_lines to see more.")


class ActionOut(_Out):
    """Outcome of cancel_job or delete_job: done, previewed (needs confirmation), or declined."""

    job_id: str
    action: Literal["cancel", "delete"]
    done: bool = Field(description="The action was carried out.")
    preview: str = Field(description="What the action does (or did) to this job.")
    status: str | None = Field(
        default=None, description="Job status after the action (or now, for a preview)."
    )
    confirmation: ConfirmationOut | None = Field(
        default=None,
        description="Present in a preview: show the preview to the user, pass the token once they agree.",
    )
    next_step: str


class JobSummaryOut(_Out):
    job_id: str
    backend: str
    status: str
    name: str | None = None
    compute_pool: str | None = None
    created_at: float | None = None
    finished_at: float | None = None


class JobsOut(_Out):
    """Jobs this mljobs has submitted, newest first (live status for the unfinished ones)."""

    jobs: list[JobSummaryOut]
    next_step: str


class PlanChangeOut(_Out):
    field: str = Field(description="The plan field to change, or 'admin' for account setup.")
    op: str = Field(description="add | set | run_sql | resubmit")
    value: Any = None
    reason: str


class DiagnosisOut(_Out):
    """Why a job failed and the exact fix, matched against the error catalog."""

    job_id: str
    status: str
    matched: str | None = Field(description="Error catalog id that matched, or null.")
    cause: str
    fix: str
    changes: list[PlanChangeOut] = Field(
        description="Concrete plan edits; pass them to plan_job and submit again."
    )
    evidence: list[str] = Field(description="Log lines that matched.")
    admin_sql: list[str] = Field(description="SQL an admin must run (never run here).")
    next_step: str
