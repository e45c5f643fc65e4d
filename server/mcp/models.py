"""Pydantic output models of the MCP tools: their JSON schemas are what the model reads, so every field says what
it means and what to do with it. Values are built from the domain dataclasses in views.py; nothing here does work.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .. import analysis_json
from ..backends.base import JobStatus


PAYLOAD_FILES_SHOWN = 50

#: What the statuses mean, said once in the job view's schema.
STATUS_HELP = (
    "Snowflake reports PENDING, RUNNING, DONE, FAILED, SUSPENDING, SUSPENDED (waits for its pool), DELETING, DELETED, "
    "INTERNAL_ERROR; a cancelled Snowflake job ends FAILED. CANCELLING and CANCELLED occur on the local pool only."
)


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=analysis_json.compact_schema)


# ------------------------------------------------------------------------------------------------ analysis
# The analysis form is shared with the CLI (`mljobs analyze --json`) and the published JSON schema.
AnalysisOut = analysis_json.AnalysisOut
EvidenceOut = analysis_json.EvidenceOut


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
    chosen: str | None = Field(default=None, description="The best usable pool, or null when none is usable.")
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
    """Hosts that share their categories, status and reason, said once for all of them."""

    hosts: list[str] = Field(description="host or host:port the code needs.")
    categories: list[str] = Field(description="Why it is needed (pypi, huggingface, ...).")
    status: str = Field(
        description="covered (proven by a rule entry), assumed (only a Snowflake-managed rule whose hosts are not "
        "documented allows it), guessed (an EAI's name suggests it), unverified (rules unreadable), uncovered (no EAI "
        "allows it)."
    )
    reason: str
    matches: list[HostMatchOut] = Field(default_factory=list, description="Proof of coverage.")
    evidence: list[EvidenceOut] = Field(default_factory=list, description="Code that needs these hosts.")


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


class PoolChoiceOut(_Out):
    """The pool the plan chose and the usable alternatives (rank_pools has the full table with every reason)."""

    chosen: str | None = Field(default=None, description="The chosen compute pool, or null when none is usable.")
    reason: str = Field(description="Why that pool (or why none).")
    alternatives: list[str] = Field(description="Other usable pools, best first: 'NAME (family, score N)'.")


class CostOut(_Out):
    """What the job costs per hour and how soon it starts (indicative rates)."""

    backend: str
    family: str | None = Field(default=None, description="Instance family the rate is for.")
    nodes: int
    credits_per_node_hour: float | None = Field(default=None, description="Null when the family has no known rate.")
    credits_per_hour: float | None = Field(default=None, description="Rate times nodes.")
    cold_start: bool | None = Field(default=None, description="The pool must start nodes first; null when unknown.")
    start_reason: str = Field(description="Why it starts at once or after a wait.")
    local_seconds: float | None = Field(
        default=None, description="How long the latest local run of the same script took (a hint, not a prediction)."
    )


class PayloadFileOut(_Out):
    path: str = Field(description="Path under the job's app/ folder.")
    size: int = Field(description="Bytes.")
    origin: Literal["file", "generated"] = Field(description="Copied from the user's folder, or written by mljobs.")


class PayloadOut(_Out):
    """Exactly what uploads and how the container's launcher is called."""

    file_count: int
    total_size: int = Field(description="Bytes of all files.")
    files: list[PayloadFileOut] = Field(description=f"The files (the first {PAYLOAD_FILES_SHOWN} when there are more).")
    entrypoint: str = Field(description="Script the launcher runs (its path in the container).")
    args: list[str] = Field(description="Arguments exactly as the launcher receives them.")
    excluded: list[str] = Field(
        default_factory=list, description=f"'path: reason' for what was left out (the first {PAYLOAD_FILES_SHOWN})."
    )
    warnings: list[str] = Field(default_factory=list, description="Large files and other upload concerns.")
    wrapper: str | None = Field(default=None, description="Why an entry wrapper runs before the script, when one does.")


class PlanOut(_Out):
    """A complete job plan: settings, pool choice, external access, generated code, proposed script edit,
    preflight, and how to confirm it. Enough on its own for the common path (no rank/check calls needed)."""

    plan_hash: str | None = Field(default=None, description="Pass this to submit_job. Null when no plan is possible.")
    ready: bool = Field(description="A plan exists and preflight found no error.")
    reason: str | None = Field(default=None, description="Why the plan is not ready, in short (null when ready).")
    errors: list[str] = Field(
        default_factory=list,
        description="What stops it: the invalid choices, or the codes of the preflight errors (details in preflight).",
    )
    settings: dict[str, Any] = Field(
        default_factory=dict,
        description="The plan (credentials redacted; the real plan stays on the server).",
    )
    summary: list[str] = Field(default_factory=list, description="The settings to show the user before submitting.")
    needs_confirmation: list[str] = Field(
        default_factory=list, description="Decisions the user must make or accept (the STOP points)."
    )
    preflight: list[PreflightOut] = Field(default_factory=list, description="Problems found before submission.")
    ranking: PoolChoiceOut | None = Field(default=None, description="The pool choice and its alternatives.")
    coverage: CoverageOut | None = Field(default=None, description="Which EAIs allow which hosts, with proof.")
    admin_sql: list[str] = Field(
        default_factory=list,
        description="SQL an admin runs to create and grant missing access (never run here; listed once).",
    )
    code: str | None = Field(default=None, description="Generated snowflake-ml-python submission code.")
    code_uri: str | None = Field(default=None, description="Resource URI of the generated code.")
    code_note: str | None = Field(default=None, description="Why there is no code, or warnings about it.")
    script_diff: str | None = Field(default=None, description="Proposed minimal script edit (unified diff), not applied.")
    explanations: list[str] = Field(default_factory=list, description="Every decision and why it was made.")
    cost: CostOut | None = Field(default=None, description="Credits per hour and start-up wait.")
    dependencies: dict[str, Any] | None = Field(
        default=None,
        description="Dependency preflight against the runtime image: status, what pip installs (name, version, size, "
        "why), preinstalled packages it would replace (conflicts, each with a fix), download size.",
    )
    payload: PayloadOut | None = Field(default=None, description="What uploads; null when the code is on a stage.")
    notebook_script: str | None = Field(
        default=None, description="For a notebook: the script the job runs (show it to the user before submitting)."
    )
    notebook_notes: list[str] = Field(
        default_factory=list, description="For a notebook: how each magic, shell line or dropped cell was handled."
    )
    confirmation: ConfirmationOut | None = Field(default=None, description="How to confirm the submission.")
    next_step: str


# ------------------------------------------------------------------------------------------------ jobs


class ResultOut(_Out):
    """A finished job's value (a failed job's error is in `error`)."""

    success: bool = Field(description="The job's code finished without an exception.")
    value: Any = Field(default=None, description="The job's __return__ value (JSON form), when it succeeded.")
    value_repr: str | None = Field(default=None, description="repr() of a value that is not JSON.")
    artifacts: list[str] = Field(
        default_factory=list, description="Files written to the job's result location (besides those the value names)."
    )


class JobErrorOut(_Out):
    """Why a job failed, in short: the final exception, where in the user's code, and the traceback once."""

    exception: str = Field(description="The final exception, e.g. ValueError('cannot read data/train.csv').")
    user_frame: str | None = Field(default=None, description="Innermost frame in the user's code: 'path:line in func'.")
    code: str | None = Field(default=None, description="The code on that line.")
    traceback: str | None = Field(default=None, description="The traceback (last lines, credentials redacted).")


class SubmitOut(_Out):
    """Outcome of a submission request: submitted with a job id, or not submitted and why."""

    submitted: bool = Field(description="False when the user declined or cancelled: nothing was submitted.")
    job_id: str | None = Field(default=None, description="Use with wait_for_job, job_status, job_logs, cancel_job.")
    backend: str | None = None
    status: JobStatus | None = Field(default=None, description="Status right after submission.")
    plan_hash: str
    confirmed_by: str | None = Field(default=None, description="elicitation or token.")
    message: str
    warning: str | None = Field(
        default=None,
        description="The job was submitted but something after it failed (e.g. recording it): never submit it again.",
    )
    next_step: str


class JobStatusOut(_Out):
    """A job: live status, times, and once finished its result or its error (the one job view of every tool)."""

    job_id: str
    backend: str
    status: JobStatus = Field(description=STATUS_HELP)
    terminal: bool = Field(description="The job will not change any more.")
    name: str | None = None
    compute_pool: str | None = None
    created_at: float | None = Field(default=None, description="Epoch seconds.")
    finished_at: float | None = Field(default=None, description="Epoch seconds.")
    message: str | None = Field(default=None, description="The backend's status message.")
    log_tail: str | None = Field(
        default=None, description="Last log lines (credentials redacted); left out when `error` has the traceback."
    )
    result: ResultOut | None = Field(default=None, description="Present once the job is DONE.")
    error: JobErrorOut | None = Field(default=None, description="Present when the job FAILED.")
    history: list[str] = Field(default_factory=list, description="Status changes seen, oldest first.")
    next_step: str | None = Field(default=None, description="What to call next (left out in lists).")


class WaitOut(_Out):
    """How a bounded wait ended: the job (with its result or error when finished) and what to call next."""

    job: JobStatusOut
    timed_out: bool = Field(description="The timeout came first; the job is still going (see next_step).")
    polls: int = Field(description="Status queries made (they back off from 1 s to 30 s).")
    elapsed_seconds: float
    diagnosis: DiagnosisOut | None = Field(default=None, description="Cause and fix, when the job failed.")
    next_step: str


class LogsOut(_Out):
    """One page of a job's logs: the tail by default; pass first_line as before_line for the lines before it."""

    job_id: str
    instance_id: int | None = None
    text: str = Field(description="Log lines, oldest first within the page (credentials redacted).")
    lines: int = Field(description="Lines in this page.")
    total_lines: int = Field(description="Lines in the whole log.")
    first_line: int = Field(description="1-based number of the page's first line; 1 means nothing is older.")
    truncated: bool = Field(description="The byte cap cut the page short (its older lines were left out).")


class ActionOut(_Out):
    """Outcome of cancel_job or delete_job: done, previewed (needs confirmation), or declined."""

    job_id: str
    action: Literal["cancel", "delete"]
    done: bool = Field(description="The action was carried out.")
    preview: str = Field(description="What the action does (or did) to this job.")
    status: JobStatus | None = Field(default=None, description="Job status after the action (or now, for a preview).")
    confirmation: ConfirmationOut | None = Field(
        default=None,
        description="Present in a preview: show the preview to the user, pass the token once they agree.",
    )
    next_step: str


class JobsOut(_Out):
    """Jobs this mljobs has submitted, newest first (live status for the unfinished ones)."""

    jobs: list[JobStatusOut] = Field(description="The jobs (without logs, results or history: job_status has them).")
    scope: str = Field(description="Which jobs the list covers and the limit that applied.")
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
    matched: str | None = Field(default=None, description="Error catalog id that matched, or null.")
    cause: str
    fix: str
    changes: list[PlanChangeOut] = Field(description="Concrete plan edits; pass them to plan_job and submit again.")
    evidence: list[str] = Field(description="Log lines that matched.")
    admin_sql: list[str] = Field(description="SQL an admin must run (never run here).")
    next_step: str


# ------------------------------------------------------------------------------------------------ account upkeep


class FixOut(_Out):
    who: Literal["user", "admin"] = Field(description="user: the submitting role runs it; admin: someone else must.")
    sql: list[str] = Field(description="Statements to run (proposed; mljobs never runs them).")
    note: str | None = None


class DoctorCheckOut(_Out):
    code: str = Field(description="Stable id, e.g. schema.grants.")
    title: str
    status: Literal["ok", "warning", "error", "unknown"] = Field(
        description="error: the job cannot be submitted or will fail; warning: it runs but something will hurt; "
        "unknown: the role could not read what the check needs."
    )
    detail: str
    fixes: list[FixOut] = Field(default_factory=list, description="Only for checks that are not ok.")


class DoctorOut(_Out):
    """Read-only checks of what an ML Job needs from the Snowflake account, each failing one with its fix."""

    role: str | None = Field(default=None, description="The role that would own the job.")
    ok: bool = Field(description="No check found a blocking error.")
    checks: list[DoctorCheckOut]
    notes: list[str] = Field(default_factory=list, description="What discovery could not read.")
    next_step: str


class LocalEaiOut(_Out):
    """Outcome of add_local_eai: done, previewed (needs confirmation), declined, or nothing to add."""

    name: str = Field(description="The local EAI (upper-case, as Snowflake resolves an unquoted name).")
    added_hosts: list[str] = Field(description="Hosts this change adds (empty: it allows them already).")
    hosts: list[str] = Field(description="Every host the EAI allows after the change.")
    created: bool = Field(description="A new local EAI (false: hosts added to an existing one).")
    file: str = Field(description="The local EAI file written (or that would be).")
    done: bool = Field(description="The file was written.")
    preview: str = Field(description="What the change does.")
    confirmation: ConfirmationOut | None = Field(
        default=None, description="Present in a preview: show it to the user, pass the token once they agree."
    )
    next_step: str


class OrphanOut(_Out):
    folder: str = Field(description="@DB.SCHEMA.STAGE/NAME_xxxxxxxx")
    files: int
    size: int = Field(description="Bytes.")


class CleanupOut(_Out):
    """Payload folders on the stage whose jobs no longer exist: listed, previewed, or removed."""

    stage: str
    orphans: list[OrphanOut] = Field(description="Folders whose job is gone (what a cleanup removes).")
    live_folders: int = Field(description="Folders of jobs that still exist (always kept).")
    removed: list[str] = Field(default_factory=list, description="Folders removed by this call.")
    done: bool = Field(description="The folders were removed.")
    confirmation: ConfirmationOut | None = Field(
        default=None, description="Present in a preview: show the list to the user, pass the token once they agree."
    )
    next_step: str


WaitOut.model_rebuild()
