"""The MCP server: thin, typed tools over `Service`, confirmation checkpoints, resources and a guided prompt.

Every tool validates its input, calls one core operation and maps the result to a pydantic model (structured
output) plus a short text. Side effects (submit, cancel, delete) need the user's yes: asked directly through
elicitation (`Resolve`/`Elicit`, which works on both protocol eras) when the client can, otherwise through a
single-use token from `plan_job` or from a preview. The real plan never leaves the server: the model only sees a
redacted copy and passes back its hash.

No `from __future__ import annotations` here: the SDK reads the `Resolve(...)` markers from evaluated annotations,
and the resolvers are closures.
"""

import hashlib
import inspect
import json
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import anyio.to_thread
from mcp.server.mcpserver import (
    AcceptedElicitation,
    Context,
    Elicit,
    ElicitationResult,
    MCPServer,
    Resolve,
)
from mcp.server.mcpserver.exceptions import ResourceError, ToolError
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from mljobs.analyzers.model import SubmitMethod
from mljobs.analyzers.report import analysis_to_dict, render_text
from mljobs.skill.jobplan import JobPlan, summary_lines
from mljobs.skill.knowledge import load_table
from mljobs.skill.redact import redact
from pydantic import BaseModel, Field

from . import mcp_models as m
from .backends.base import JobResult
from .checkpoints import DEFAULT_TTL_SECONDS
from .errors import (
    ConfigurationError,
    ConnectionError,
    JobNotFoundError,
    MljobsError,
    NotConfirmedError,
    SnowflakeError,
    UsageError,
)
from .jsonable import to_jsonable
from .service import Service
from .settings import Settings
from .waiting import WaitProgress, wait_for_job_async

log = logging.getLogger(__name__)

SERVER_NAME = "mljobs"
MAX_PLANS = 64  # plans kept server-side (LRU); a plan older than that must be planned again
MAX_WAIT_SECONDS = 1800
EVIDENCE_PER_FINDING = 3
SKIPPED_DIRS = frozenset({".git", ".venv", "__pycache__", "node_modules"})
MAX_FINGERPRINT_FILES = 20_000

#: URI name -> knowledge table (skill/data/<table>.yaml).
CATALOGS = {
    "gpu-patterns": "gpu_patterns",
    "network": "network_catalog",
    "runtime-packages": "runtime_packages",
    "instance-families": "instance_families",
    "errors": "error_catalog",
}

INSTRUCTIONS = """\
mljobs turns a local Python ML script, project folder or notebook into a Snowflake ML Job (or a run on the
local pool, this machine, when no Snowflake account is configured). Workflow, one tool per step:
1. analyze_script: GPU/CPU, packages, network, outputs, method; every finding cites file:line. Never guess.
2. rank_pools, 3. check_external_access: pools ranked with reasons; EAIs verified against their rules.
4. plan_job: settings, generated code, proposed script diff, preflight. Show its `summary` and
   `needs_confirmation` to the user and STOP until they decide; re-plan with their choices.
5. submit_job(plan_hash): the server asks the user to confirm. If it returns a confirmation token instead,
   pass the token only after the user said yes. A local-pool run first is free; Snowflake runs cost credits.
6. wait_for_job / job_status / job_logs; diagnose_job when a job fails; cancel_job and delete_job also
   need the user's confirmation. Admin SQL (EAIs, grants) is only ever proposed to the user, never run."""

# ------------------------------------------------------------------------------------------------ input types

Path_ = Annotated[
    str,
    Field(
        description="Absolute path of a .py script, a .ipynb notebook or a project folder.",
        min_length=1,
        max_length=4096,
        pattern=r"^[^\x00-\x1f\-][^\x00-\x1f]*$",
    ),
]
Entrypoint = Annotated[
    str | None,
    Field(
        description="For a folder: the file to run, relative to it (default: the obvious one).",
        max_length=1024,
        pattern=r"^[^\x00-\x1f\-/][^\x00-\x1f]*$",
    ),
]
Backend = Annotated[
    Literal["local", "snowflake"] | None,
    Field(
        description="local (this machine) or snowflake; default: Snowflake when a connection is configured."
    ),
]
JobId = Annotated[
    str,
    Field(
        description="Job id as returned by submit_job or list_jobs, e.g. DB.SCHEMA.TRAIN_1A2B3C4D.",
        max_length=770,
        pattern=r"^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*){0,2}$",
    ),
]
PlanHash = Annotated[str, Field(description="plan_hash returned by plan_job.", pattern=r"^[0-9a-f]{64}$")]
Token = Annotated[
    str | None,
    Field(
        description="Confirmation token from plan_job or from a preview. Pass it only after the user said yes. "
        "Leave it out when the client can ask the user directly.",
        max_length=1024,
        pattern=r"^[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+$",
    ),
]
Identifier = Annotated[
    str | None,
    Field(description="A Snowflake identifier.", max_length=255, pattern=r"^[A-Za-z_][A-Za-z0-9_$]*$"),
]
EaiList = Annotated[
    list[Annotated[str, Field(max_length=255, pattern=r"^[A-Za-z_][A-Za-z0-9_$]*$")]] | None,
    Field(description="External Access Integration names.", max_length=10),
]


class SubmitConfirmation(BaseModel):
    """What the user answers when asked to submit (flat, so every client can render it)."""

    confirm: bool = Field(description="Submit this job now?")


class ActionConfirmation(BaseModel):
    confirm: bool = Field(description="Go ahead?")


# ------------------------------------------------------------------------------------------------ server state


@dataclass
class _PlanEntry:
    """A plan as planned (unredacted), what the user will see, and the source fingerprint it was planned from."""

    plan: JobPlan | None
    ready: bool
    output: m.PlanOut
    code: str | None
    fingerprint: str | None
    created: float = field(default_factory=time.time)


class PlanRegistry:
    """The real plans, by hash, so secrets never travel to the model and back. Thread-safe, bounded (LRU)."""

    def __init__(self, limit: int = MAX_PLANS) -> None:
        self._plans: OrderedDict[str, _PlanEntry] = OrderedDict()
        self._lock = threading.Lock()
        self._limit = limit

    def put(self, plan_hash: str, entry: _PlanEntry) -> None:
        with self._lock:
            self._plans[plan_hash] = entry
            self._plans.move_to_end(plan_hash)
            while len(self._plans) > self._limit:
                self._plans.popitem(last=False)

    def get(self, plan_hash: str) -> _PlanEntry | None:
        with self._lock:
            entry = self._plans.get(plan_hash)
            if entry is not None:
                self._plans.move_to_end(plan_hash)
            return entry


@dataclass
class AppState:
    """What the tools share: the settings, the core service (made in `lifespan`) and the plan registry."""

    settings: Settings
    service: Service | None = None
    plans: PlanRegistry = field(default_factory=PlanRegistry)
    roots: tuple[Path, ...] = ()

    @property
    def svc(self) -> Service:
        if self.service is None:  # only before lifespan ran (direct calls in tests)
            self.service = Service(self.settings)
        return self.service


# ------------------------------------------------------------------------------------------------ helpers


def _result(model: BaseModel, text: str) -> CallToolResult:
    """Structured content for programs, a short text for people and models that read text."""
    return CallToolResult(
        content=[TextContent(type="text", text=text)], structured_content=model.model_dump(mode="json")
    )


_NEXT = {
    JobNotFoundError: "call list_jobs to see the job ids mljobs knows",
    NotConfirmedError: "ask the user again (plan_job for submit, a preview for cancel/delete)",
    ConfigurationError: "configure a Snowflake connection (connections.toml) or use backend='local'",
    ConnectionError: "check the Snowflake connection and login, or use backend='local'",
    SnowflakeError: "check the names and the role's privileges (the message says which)",
    UsageError: "fix the input and call the tool again",
}


@contextmanager
def _tool_errors(tool: str) -> Iterator[None]:
    """Expected faults -> ToolError('<what>; <next>'); anything else -> a redacted one-liner, traceback on stderr."""
    try:
        yield
    except ToolError:
        raise
    except MljobsError as exc:
        message = redact(exc.message)
        hint = next((v for k, v in _NEXT.items() if isinstance(exc, k)), "")
        raise ToolError(message if (";" in message or not hint) else f"{message}; {hint}") from None
    except Exception as exc:
        log.exception("%s failed unexpectedly", tool)
        first = redact(str(exc)).splitlines()[0][:300] if str(exc) else ""
        raise ToolError(
            f"{tool} failed unexpectedly ({type(exc).__name__}: {first}); the server log (stderr) has the details"
        ) from None


def _can_elicit(ctx: Context) -> bool:
    """The client declared form elicitation (the same test the SDK applies before it asks)."""
    caps = ctx.client_capabilities
    elicitation = caps.elicitation if caps is not None else None
    return elicitation is not None and (elicitation.form is not None or elicitation.url is None)


def _resolve_path(state: AppState, path: str) -> str:
    """Absolute path; inside one of the allowed roots when the server was started with roots."""
    p = Path(path).expanduser()
    if not p.is_absolute():
        p = (state.roots[0] if state.roots else Path.cwd()) / p
    p = p.resolve()
    if state.roots and not any(p == r or p.is_relative_to(r) for r in state.roots):
        raise ToolError(
            f"{path} is outside the folders this server may read ({', '.join(map(str, state.roots))}); "
            "pass a path inside them or restart mljobs serve with another --root"
        )
    return str(p)


def _fingerprint(source: str) -> str | None:
    """What the user's code looked like when planned: a file's bytes, or a folder's names, sizes and mtimes."""
    p = Path(source)
    digest = hashlib.sha256()
    try:
        if p.is_file():
            digest.update(p.read_bytes())
        elif p.is_dir():
            count = 0
            for base, dirs, files in os.walk(p):
                dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS)
                for name in sorted(files):
                    st = os.stat(os.path.join(base, name))
                    rel = os.path.relpath(os.path.join(base, name), p)
                    digest.update(f"{rel}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
                    count += 1
                    if count >= MAX_FINGERPRINT_FILES:
                        break
        else:
            return None  # a stage path (submit_from_stage): nothing local to compare
    except OSError:
        return None
    return digest.hexdigest()


def _evidence(items: list[dict[str, Any]], limit: int = EVIDENCE_PER_FINDING) -> list[m.EvidenceOut]:
    return [
        m.EvidenceOut(path=e["path"], line=e["line"], cell=e.get("cell"), code=e["code"], reason=e["reason"])
        for e in items[:limit]
    ]


def _analysis_out(analysis: Any) -> m.AnalysisOut:
    d = analysis_to_dict(analysis)  # already redacted
    c, io = d["compute"], d["io"]
    multi = c.get("multi_node") or {}
    packages = [
        m.PackageOut(
            import_name=p["import_name"],
            distribution=p["distribution"],
            status=p["status"],
            optional=p["optional"],
            requirement=p.get("requirement"),
            runtime_version=p.get("runtime_version"),
            hint=p.get("hint"),
            evidence=_evidence(p["evidence"]),
        )
        for p in d["packages"]
    ]
    to_install = [
        p.requirement or p.distribution for p in packages if p.status == "to_install" and not p.optional
    ]
    io_evidence = [*io["output_args"], *io["hardcoded_outputs"], *io["local_inputs"], *io["return_evidence"]]
    return m.AnalysisOut(
        root=d["root"],
        entrypoint=d["entrypoint"],
        files=d["files"],
        compute=m.ComputeOut(
            recommendation=c["recommendation"],
            confidence=c["confidence"],
            reason=c["reason"],
            needs_large_memory=c["needs_large_memory"],
            multi_node_framework=multi.get("framework"),
            suggested_instances=multi.get("suggested_instances", 1),
            evidence=_evidence(c["evidence"], 5),
        ),
        packages=packages,
        pip_requirements=list(dict.fromkeys(to_install)),
        network=[
            m.NetworkOut(
                category=n["category"],
                hosts=n["hosts"],
                confidence=n["confidence"],
                evidence=_evidence(n["evidence"]),
            )
            for n in d["network"]
        ],
        io=m.IoOut(
            output_options=[f["detail"] for f in io["output_args"]],
            hardcoded_outputs=[f["detail"] for f in io["hardcoded_outputs"]],
            local_inputs=[f["detail"] for f in io["local_inputs"]],
            sets_return=io["sets_return"],
            uses_snowpark=io["uses_snowpark"],
            evidence=_evidence([{**f, "reason": f.get("hint") or f["kind"]} for f in io_evidence], 6),
        ),
        method=d["method"]["method"],
        method_reason=d["method"]["reason"],
        requirements_file=d.get("requirements_file"),
        runtime=d.get("runtime") or "",
        problems=[f"{p['path']}:{p['line']}: {p['message']}" for p in d["problems"]],
        next_step="call rank_pools and check_external_access with the same path, then plan_job",
    )


def _needs_confirmation(result: Any) -> list[str]:
    plan: JobPlan = result.plan
    out: list[str] = []
    if result.ranking is not None and result.ranking.chosen is not None:
        out.append(
            f"Compute pool {plan.compute_pool}: accept, or name another (rank_pools shows the ranking)"
        )
    if plan.pip_requirements:
        out.append(
            "Packages to install: "
            + ", ".join(redact(r) for r in plan.pip_requirements)
            + " (needs PyPI access); add or pin versions?"
        )
    coverage = result.coverage
    if coverage is not None and coverage.hosts:
        missing = [h.address for h in coverage.hosts if h.status.value != "covered"]
        out.append(
            "External access: "
            + (", ".join(plan.external_access_integrations) or "none")
            + (
                f"; NOT proven for {', '.join(missing)} (ask an admin to run the admin SQL, or accept "
                "that these calls fail)"
                if missing
                else "; every host is covered"
            )
        )
    if result.script_edit is not None and result.script_edit.changed:
        out.append("Proposed script edit (script_diff): apply it yourself, or leave the script as it is")
    if plan.target_instances > 1:
        out.append(
            f"{plan.target_instances} nodes: the code is written for multi-node; confirm the node count"
        )
    for issue in result.preflight:
        out.append(f"Preflight {issue.severity.value}: {issue.message} -> {issue.fix}")
    out.append("Submit this exact plan? (the MANDATORY confirmation; nothing runs before the user says yes)")
    return out


def _result_out(result: JobResult | None) -> m.ResultOut | None:
    if result is None:
        return None
    value, value_repr = result.value, None
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        value, value_repr = None, redact(repr(result.value))[:4000]
    tb = redact(result.traceback)[-4000:] if result.traceback else None
    return m.ResultOut(
        success=result.success,
        value=value,
        value_repr=value_repr,
        error=redact(result.error) if result.error else None,
        traceback=tb,
        artifacts=list(result.artifacts),
    )


def _status_next(status: str, terminal: bool, job_id: str) -> str:
    if not terminal:
        return f"call wait_for_job('{job_id}') to follow it, or job_status later"
    if status == "DONE":
        return (
            "the result is in `result`; job_logs shows the output; delete_job cleans up when the user is done"
        )
    if status in ("FAILED", "INTERNAL_ERROR"):
        return f"call diagnose_job('{job_id}') for the cause and the fix"
    return "nothing more to follow"


# ------------------------------------------------------------------------------------------------ the server


def build_server(
    settings: Settings, *, service: Service | None = None, roots: Sequence[str | Path] = ()
) -> MCPServer:
    """Build the mljobs MCP server.

    Args:
        settings: backend, state dir, connection name, read-only switch.
        service: the core service (tests inject one); by default `lifespan` creates it. It opens no Snowflake
            session and imports no snowflake-ml-python until a Snowflake operation runs.
        roots: when given, paths must resolve inside one of these folders.

    Returns:
        An `MCPServer` with about a dozen tools (side-effect tools left out when `settings.read_only`), the job,
        catalog and plan-code resources and the `convert_script` prompt.
    """
    state = AppState(
        settings=settings, service=service, roots=tuple(Path(r).expanduser().resolve() for r in roots)
    )

    @asynccontextmanager
    async def lifespan(_server: MCPServer) -> AsyncIterator[AppState]:
        if state.service is None:
            state.service = Service(settings)
        log.info(
            "mljobs MCP server ready (backend %s, state %s, read-only %s)",
            settings.backend or "auto",
            settings.state_dir,
            settings.read_only,
        )
        yield state

    server = MCPServer(SERVER_NAME, instructions=INSTRUCTIONS, lifespan=lifespan)

    def tool(name: str | None = None, **kw: Any) -> Any:
        """server.tool with the docstring's indentation removed (the description is what the model reads)."""

        def register(fn: Any) -> Any:
            return server.tool(name=name, description=inspect.cleandoc(fn.__doc__ or ""), **kw)(fn)

        return register

    analysis_hints = ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False)
    job_reads = ToolAnnotations(read_only_hint=True, open_world_hint=True)

    # ---------------------------------------------------------------- analysis and planning
    @tool(title="Analyze a script for ML Jobs", annotations=analysis_hints)
    def analyze_script(
        path: Path_, entrypoint: Entrypoint = None
    ) -> Annotated[CallToolResult, m.AnalysisOut]:
        """Statically analyse a Python script, notebook or project folder (nothing is run): GPU or CPU,
        packages to install vs. preinstalled in the runtime image, outbound network hosts, output paths,
        __return__, and the submit method. Every finding cites file, line and code. Start here."""
        with _tool_errors("analyze_script"):
            analysis = state.svc.analyze(_resolve_path(state, path), entrypoint)
            return _result(_analysis_out(analysis), render_text(analysis))

    @tool(title="Rank compute pools", annotations=analysis_hints)
    def rank_pools(
        path: Path_,
        entrypoint: Entrypoint = None,
        target_instances: Annotated[
            int | None, Field(description="Nodes the job needs.", ge=1, le=750)
        ] = None,
        backend: Backend = None,
    ) -> Annotated[CallToolResult, m.PoolRankingOut]:
        """Rank the account's compute pools (or the local pool) for this code: usable pools first, each with a
        score (the guided skill's formula plus fit, memory, GPU, cost and cold-start adjustments) and reasons."""
        with _tool_errors("rank_pools"):
            _analysis, ranking = state.svc.rank_pools(
                _resolve_path(state, path), entrypoint, target_instances=target_instances, backend=backend
            )
            chosen = ranking.chosen.name if ranking.chosen else None
            out = m.PoolRankingOut(
                backend=backend or state.svc.default_backend_name(),
                needs=ranking.needs.why or ("GPU" if ranking.needs.wants_gpu else "CPU"),
                chosen=chosen,
                reason=ranking.reason,
                pools=[
                    m.PoolOut(
                        name=c.name,
                        instance_family=c.instance_family,
                        shape=c.shape(),
                        state=c.state,
                        idle_nodes=c.idle_nodes,
                        active_nodes=c.active_nodes,
                        max_nodes=c.max_nodes,
                        base_score=c.base_score,
                        score=c.score,
                        usable=c.usable,
                        chosen=c.name == chosen,
                        credits_per_hour=c.credits_per_hour,
                        assumed=c.assumed,
                        reasons=list(c.reasons),
                    )
                    for c in ranking.candidates
                ],
                notes=list(ranking.notes),
                next_step="confirm the pool with the user (STOP), then check_external_access",
            )
            return _result(out, ranking.render_table())

    @tool(title="Check External Access Integrations", annotations=analysis_hints)
    def check_external_access(
        path: Path_, entrypoint: Entrypoint = None, eais: EaiList = None, backend: Backend = None
    ) -> Annotated[CallToolResult, m.CoverageOut]:
        """Check which External Access Integrations really allow every host the code needs (PyPI when packages
        must be installed, Hugging Face, cloud storage, APIs...), proven by their network rule entries; propose
        the smallest set, and admin SQL for what no EAI covers. Pass `eais` to check the user's own choice."""
        with _tool_errors("check_external_access"):
            svc = state.svc
            _analysis, cov = svc.check_eais(
                _resolve_path(state, path), entrypoint, chosen=eais, backend=backend
            )
            facts = svc.facts(backend)
            out = m.CoverageOut(
                backend=facts.backend,
                complete=cov.complete,
                suggested_eais=list(cov.suggested_eais),
                available_eais=[e.name for e in facts.eais if e.enabled],
                hosts=[
                    m.HostCoverageOut(
                        host=h.address,
                        categories=list(h.categories),
                        status=h.status.value,
                        reason=h.reason,
                        matches=[
                            m.HostMatchOut(eai=x.eai, rule=x.rule, value=x.value) for x in h.matches[:3]
                        ],
                        evidence=[
                            m.EvidenceOut(
                                path=e.location.path,
                                line=e.location.line,
                                cell=e.location.cell,
                                code=redact(e.code),
                                reason=redact(e.reason),
                            )
                            for e in h.evidence[:EVIDENCE_PER_FINDING]
                        ],
                    )
                    for h in cov.hosts
                ],
                admin_sql=list(cov.admin_sql),
                alternatives=list(cov.alternatives),
                notes=list(cov.notes),
                next_step=(
                    "confirm the EAIs with the user (STOP), then plan_job with eais=[...]"
                    if cov.hosts
                    else "no network access needed; call plan_job"
                ),
            )
            lines = [f"{h.address}: {h.status.value} - {h.reason}" for h in cov.hosts] or [
                "no outbound access needed"
            ]
            lines.append("Suggested EAIs: " + (", ".join(cov.suggested_eais) or "none"))
            if cov.admin_sql:
                lines.append("Admin SQL (for an admin; never run by mljobs):\n" + "\n".join(cov.admin_sql))
            return _result(out, "\n".join(lines))

    @tool(title="Plan a job", annotations=analysis_hints)
    async def plan_job(
        ctx: Context,
        path: Path_,
        entrypoint: Entrypoint = None,
        pool: Annotated[
            Identifier, Field(description="Compute pool chosen by the user (default: the best ranked).")
        ] = None,
        eais: EaiList = None,
        only_eais: Annotated[
            bool, Field(description="Use exactly `eais` instead of adding them to the suggestion.")
        ] = False,
        args: Annotated[
            list[Annotated[str, Field(max_length=4096)]] | None,
            Field(
                description="Script arguments (default: derived, e.g. --output-dir $MLRS_STAGE_RESULT_PATH).",
                max_length=200,
            ),
        ] = None,
        target_instances: Annotated[int | None, Field(description="Nodes.", ge=1, le=750)] = None,
        min_instances: Annotated[
            int | None, Field(description="Nodes needed to start.", ge=1, le=750)
        ] = None,
        method: Annotated[
            Literal["submit_file", "submit_directory", "submit_from_stage", "remote"] | None,
            Field(description="Submit method (default: the analysis' recommendation)."),
        ] = None,
        name: Annotated[
            str | None,
            Field(description="Job name.", max_length=255, pattern=r"^[A-Za-z_][A-Za-z0-9_$]*$"),
        ] = None,
        stage: Annotated[
            str | None,
            Field(
                description="Payload stage, e.g. @DB.SCHEMA.STAGE.",
                max_length=800,
                pattern=r"^@?[A-Za-z_][A-Za-z0-9_$.]*(/[A-Za-z0-9_.\-]+)*/?$",
            ),
        ] = None,
        database: Identifier = None,
        schema: Identifier = None,
        extra_pip_requirements: Annotated[
            list[Annotated[str, Field(max_length=300, pattern=r"^[A-Za-z0-9][^\s;]*$")]] | None,
            Field(description="Extra pip requirements, e.g. ['lightgbm==4.5.0'].", max_length=100),
        ] = None,
        env_vars: Annotated[
            dict[
                Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")],
                Annotated[str, Field(max_length=4096)],
            ]
            | None,
            Field(
                description="Environment variables for the job (values stay on the server; redacted in output)."
            ),
        ] = None,
        use_artifact_repository: Annotated[
            bool,
            Field(description="Install packages from Snowflake's PyPI artifact repository (no PyPI EAI)."),
        ] = False,
        runtime_environment: Annotated[
            str | None,
            Field(description="Runtime image tag or URL.", max_length=500, pattern=r"^[^\s\-][^\s]*$"),
        ] = None,
        query_warehouse: Identifier = None,
        function_name: Annotated[
            str | None,
            Field(
                description="For method=remote: the function to run.",
                max_length=255,
                pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
            ),
        ] = None,
        comment: Annotated[str | None, Field(description="Job comment.", max_length=1000)] = None,
        backend: Backend = None,
    ) -> Annotated[CallToolResult, m.PlanOut]:
        """Plan the job: every setting decided and explained (pool, EAIs, args, packages, method, nodes), the
        generated snowflake-ml-python submission code, a proposed minimal script edit (diff, not applied),
        preflight checks (grants, fit, network) and what the user must confirm. Nothing is submitted. Returns
        `plan_hash` for submit_job, and a confirmation token when this client cannot ask the user itself."""
        from mljobs.skill.plan import PlanChoices

        with _tool_errors("plan_job"):
            svc = state.svc
            choices = PlanChoices(
                pool=pool,
                eais=tuple(eais or ()),
                only_eais=only_eais,
                args=tuple(args) if args is not None else None,
                target_instances=target_instances,
                min_instances=min_instances,
                method=SubmitMethod(method) if method else None,
                name=name,
                stage=stage,
                database=database,
                schema=schema,
                extra_pip_requirements=tuple(extra_pip_requirements or ()),
                env_vars=dict(env_vars or {}),
                use_artifact_repository=use_artifact_repository,
                runtime_environment=runtime_environment,
                query_warehouse=query_warehouse,
                function_name=function_name,
                comment=comment,
                connection_name=settings.connection_name,
            )
            resolved = _resolve_path(state, path)
            result = await anyio.to_thread.run_sync(
                lambda: svc.plan(resolved, entrypoint, choices=choices, backend=backend)
            )
            out, text = await anyio.to_thread.run_sync(_plan_output, result)
            if out.plan_hash and out.ready and not settings.read_only:
                if _can_elicit(ctx):
                    out.confirmation = m.ConfirmationOut(method="elicitation", bound_to=out.plan_hash)
                else:
                    token = svc.issue_token("submit", out.plan_hash)
                    out.confirmation = m.ConfirmationOut(
                        method="token",
                        token=token,
                        expires_in_seconds=int(DEFAULT_TTL_SECONDS),
                        bound_to=out.plan_hash,
                    )
                    text += (
                        "\n\nThis client cannot ask the user directly: show the summary above, and only after "
                        "the user says yes call submit_job with plan_hash and confirmation_token."
                    )
            elif settings.read_only and out.plan_hash:
                out.next_step = (
                    "this server is read-only: the user can submit with `mljobs submit PATH` or restart "
                    "the server without --read-only"
                )
            return _result(out, text)

    def _plan_output(result: Any) -> tuple[m.PlanOut, str]:
        """Map a PlanResult; keep the unredacted plan (and its code) in the registry under its hash."""
        if result.plan is None:
            out = m.PlanOut(
                plan_hash=None,
                ready=False,
                reason=redact(result.reason or "no plan"),
                errors=[redact(e) for e in result.errors],
                explanations=[redact(e) for e in result.explanations],
                next_step="fix the reason above (change the choices) and call plan_job again",
            )
            return out, f"No plan: {out.reason}"
        plan: JobPlan = result.plan
        plan_hash = plan.plan_hash()
        code = code_note = None
        if result.code is not None and hasattr(result.code, "code"):
            code = result.code.code
            code_note = "; ".join(result.code.warnings) or None
        elif result.code is not None:
            code_note = result.code.reason
        else:
            code_note = (
                f"the {plan.backend} backend runs the plan directly; there is no snowflake-ml-python code "
                "(plan with backend='snowflake' to get it)"
            )
        edit = result.script_edit
        diff = edit.diff if edit is not None and edit.changed else None
        out = m.PlanOut(
            plan_hash=plan_hash,
            ready=result.ready,
            settings=plan.to_dict(redacted=True),
            summary=summary_lines(plan),
            needs_confirmation=_needs_confirmation(result),
            preflight=[
                m.PreflightOut(
                    severity=i.severity.value, code=i.code, message=redact(i.message), fix=redact(i.fix)
                )
                for i in result.preflight
            ],
            code=code,
            code_uri=f"mljobs://plans/{plan_hash}/code" if code else None,
            code_note=code_note,
            script_diff=diff,
            explanations=[redact(e) for e in result.explanations],
            next_step=(
                "show `summary` and `needs_confirmation` to the user and STOP; when they agree, call "
                f"submit_job(plan_hash='{plan_hash}')"
                if result.ready
                else "fix the preflight errors (change the choices, or have an admin run the fix) and plan again"
            ),
        )
        state.plans.put(
            plan_hash,
            _PlanEntry(
                plan=plan, ready=result.ready, output=out, code=code, fingerprint=_fingerprint(plan.source)
            ),
        )
        lines = [
            "Plan " + plan_hash[:12] + (" (ready)" if result.ready else " (NOT ready: preflight errors)"),
            *(f"  {s}" for s in out.summary),
        ]
        lines += [f"  ! {p.severity}: {p.message} -> {p.fix}" for p in out.preflight]
        if diff:
            lines.append("Proposed script edit (not applied):\n" + diff)
        return out, "\n".join(lines)

    # ---------------------------------------------------------------- checkpoints
    def _entry(plan_hash: str) -> _PlanEntry:
        entry = state.plans.get(plan_hash)
        if entry is None or entry.plan is None:
            raise ToolError(
                f"unknown plan {plan_hash[:12]} (plans live only in this server process); "
                "call plan_job again and confirm the new plan"
            )
        return entry

    def _stale(entry: _PlanEntry) -> str | None:
        assert entry.plan is not None
        if entry.fingerprint is not None and _fingerprint(entry.plan.source) != entry.fingerprint:
            return (
                f"{entry.plan.source} changed since it was planned, so the user confirmed other code; "
                "call plan_job again and confirm the new plan"
            )
        return None

    async def ask_submit(
        plan_hash: str, confirmation_token: str | None, ctx: Context
    ) -> SubmitConfirmation | Elicit[SubmitConfirmation]:
        """Ask the user only when there is no token, the client can ask, and the plan is known, ready and fresh."""
        entry = state.plans.get(plan_hash)
        if (
            confirmation_token
            or not _can_elicit(ctx)
            or entry is None
            or entry.plan is None
            or not entry.ready
        ):
            return SubmitConfirmation(confirm=False)
        if await anyio.to_thread.run_sync(_stale, entry):
            return SubmitConfirmation(confirm=False)
        lines = "\n".join(summary_lines(entry.plan))
        return Elicit(f"Submit this ML Job?\n{lines}\nNothing runs unless you confirm.", SubmitConfirmation)

    submit_hints = ToolAnnotations(destructive_hint=False, idempotent_hint=False, open_world_hint=True)

    async def submit_job(
        ctx: Context,
        plan_hash: PlanHash,
        answer: Annotated[ElicitationResult[SubmitConfirmation], Resolve(ask_submit)],
        confirmation_token: Token = None,
    ) -> Annotated[CallToolResult, m.SubmitOut]:
        """Submit a planned job, only with the user's confirmation: the server asks the user (showing the exact
        script, pool, instance family, dependencies, EAIs, nodes, method and plan hash) when the client supports
        it; otherwise pass the confirmation_token from plan_job, after the user said yes. Declined = nothing
        submitted. Returns the job id."""
        with _tool_errors("submit_job"):
            svc = state.svc
            entry = _entry(plan_hash)
            if not entry.ready:
                raise ToolError(
                    "this plan has preflight errors, so it cannot be submitted; fix them and call "
                    "plan_job again"
                )
            stale = await anyio.to_thread.run_sync(_stale, entry)
            if stale:
                raise ToolError(stale)
            if confirmation_token:
                confirmation = await anyio.to_thread.run_sync(
                    lambda: svc.confirm("submit", plan_hash, token=confirmation_token)
                )
            elif _can_elicit(ctx):
                if not (isinstance(answer, AcceptedElicitation) and answer.data.confirm):
                    out = m.SubmitOut(
                        submitted=False,
                        plan_hash=plan_hash,
                        message=f"not submitted: the user {_outcome(answer)}",
                        next_step="ask the user what to change, plan_job again, or stop here",
                    )
                    return _result(out, out.message)
                confirmation = svc.confirm("submit", plan_hash, method="elicitation")
            else:
                raise ToolError(
                    "submit_job needs the user's confirmation and this client cannot ask them; show "
                    "the user plan_job's summary and, once they agree, call submit_job again with "
                    "the confirmation_token plan_job returned"
                )
            assert entry.plan is not None
            sub = await anyio.to_thread.run_sync(svc.submit, entry.plan, confirmation)
            out = m.SubmitOut(
                submitted=True,
                job_id=sub.job_id,
                backend=sub.backend,
                status=sub.status.value,
                plan_hash=plan_hash,
                confirmed_by=confirmation.method,
                message=f"submitted {sub.job_id} on {sub.backend} ({sub.status.value})",
                next_step=f"call wait_for_job('{sub.job_id}') or job_status('{sub.job_id}')",
            )
            return _result(out, out.message)

    def _preview(action: Literal["cancel", "delete"], job_id: str) -> tuple[str, str, bool]:
        """(what the action would do, current status, whether it applies at all)."""
        view = state.svc.status(job_id, with_logs=False)
        label = f"job {job_id}" + (f" ({view.name})" if view.name else "") + f" on {view.backend}"
        label += f", pool {view.compute_pool}" if view.compute_pool else ""
        status = view.status.value
        if action == "cancel":
            if view.status.terminal:
                return f"{label} is already {status}; there is nothing to cancel", status, False
            return (
                f"Cancel {label} (now {status}): its processes stop; logs stay readable; it cannot be resumed",
                status,
                True,
            )
        if not view.status.terminal:
            return f"{label} is still {status}; cancel it first (cancel_job), then delete it", status, False
        text = f"Delete {label} (now {status}): removes the job, its logs, result and payload; this cannot be undone"
        return text, status, True

    def _make_action(action: Literal["cancel", "delete"]) -> Any:
        async def ask(
            job_id: str, confirmation_token: str | None, ctx: Context
        ) -> ActionConfirmation | Elicit[ActionConfirmation]:
            if confirmation_token or not _can_elicit(ctx):
                return ActionConfirmation(confirm=False)
            try:
                text, _status, applies = await anyio.to_thread.run_sync(_preview, action, job_id)
            except MljobsError:
                return ActionConfirmation(confirm=False)  # the tool body reports the error
            if not applies:
                return ActionConfirmation(confirm=False)
            return Elicit(f"{text.rstrip('.')}.\nGo ahead?", ActionConfirmation)

        ask.__name__ = ask.__qualname__ = f"ask_{action}"

        async def act(
            ctx: Context,
            job_id: JobId,
            answer: Annotated[ElicitationResult[ActionConfirmation], Resolve(ask)],
            confirmation_token: Token = None,
        ) -> Annotated[CallToolResult, m.ActionOut]:
            with _tool_errors(f"{action}_job"):
                svc = state.svc
                text, status, applies = await anyio.to_thread.run_sync(_preview, action, job_id)
                if not applies:
                    out = m.ActionOut(
                        job_id=job_id,
                        action=action,
                        done=False,
                        preview=text,
                        status=status,
                        next_step="cancel_job first" if action == "delete" else "nothing to do",
                    )
                    return _result(out, text)
                if confirmation_token:
                    confirmation = await anyio.to_thread.run_sync(
                        lambda: svc.confirm(action, job_id, token=confirmation_token)
                    )
                elif _can_elicit(ctx):
                    if not (isinstance(answer, AcceptedElicitation) and answer.data.confirm):
                        out = m.ActionOut(
                            job_id=job_id,
                            action=action,
                            done=False,
                            preview=text,
                            status=status,
                            next_step=f"the user {_outcome(answer)}; nothing was done",
                        )
                        return _result(out, f"Not done: the user {_outcome(answer)}.")
                    confirmation = svc.confirm(action, job_id, method="elicitation")
                else:
                    token = svc.issue_token(action, job_id)
                    out = m.ActionOut(
                        job_id=job_id,
                        action=action,
                        done=False,
                        preview=text,
                        status=status,
                        confirmation=m.ConfirmationOut(
                            method="token",
                            token=token,
                            bound_to=job_id,
                            expires_in_seconds=int(DEFAULT_TTL_SECONDS),
                        ),
                        next_step=(
                            f"show the preview to the user; only if they agree call {action}_job("
                            f"job_id='{job_id}', confirmation_token=<token>)"
                        ),
                    )
                    return _result(out, f"Preview (nothing done yet): {text}.")
                if action == "cancel":
                    new = await anyio.to_thread.run_sync(svc.cancel, job_id, confirmation)
                    out = m.ActionOut(
                        job_id=job_id,
                        action=action,
                        done=True,
                        preview=text,
                        status=new.value,
                        next_step=f"job_status('{job_id}') shows when it is CANCELLED",
                    )
                    return _result(out, f"Cancelled {job_id} (now {new.value}).")
                await anyio.to_thread.run_sync(svc.delete, job_id, confirmation)
                out = m.ActionOut(
                    job_id=job_id,
                    action=action,
                    done=True,
                    preview=text,
                    status="DELETED",
                    next_step="nothing more to do",
                )
                return _result(out, f"Deleted {job_id}.")

        return act

    cancel_job = _make_action("cancel")
    cancel_job.__doc__ = (
        "Cancel a running or pending job, only with the user's confirmation: the server asks the user when the "
        "client supports it; otherwise the first call (without a token) returns a preview and a token, and the "
        "second call with that token cancels. Declined = nothing done."
    )
    delete_job = _make_action("delete")
    delete_job.__doc__ = (
        "Delete a job with its logs, result and payload (cannot be undone), only with the user's confirmation: "
        "asked directly when the client supports it, otherwise preview first (returns a token), then call again "
        "with the token."
    )

    if not settings.read_only:
        tool(name="submit_job", title="Submit a job (asks the user)", annotations=submit_hints)(submit_job)
        tool(
            name="cancel_job",
            title="Cancel a job (asks the user)",
            annotations=ToolAnnotations(destructive_hint=True, idempotent_hint=True, open_world_hint=True),
        )(cancel_job)
        tool(
            name="delete_job",
            title="Delete a job (asks the user)",
            annotations=ToolAnnotations(destructive_hint=True, idempotent_hint=True, open_world_hint=True),
        )(delete_job)

    # ---------------------------------------------------------------- follow-up
    @tool(title="Job status", annotations=job_reads)
    def job_status(job_id: JobId) -> Annotated[CallToolResult, m.JobStatusOut]:
        """Live status of a job, the last lines of its logs, and its result (the __return__ value, or the error
        and traceback) once it is DONE or FAILED."""
        with _tool_errors("job_status"):
            v = state.svc.status(job_id)
            status = v.status.value
            out = m.JobStatusOut(
                job_id=v.job_id,
                backend=v.backend,
                status=status,
                terminal=v.status.terminal,
                name=v.name,
                compute_pool=v.compute_pool,
                created_at=v.created_at,
                finished_at=v.finished_at,
                message=redact(v.message) if v.message else None,
                log_tail=v.log_tail,
                result=_result_out(v.result),
                history=[
                    f"{s} at {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(at))}" for s, at in v.history
                ],
                next_step=_status_next(status, v.status.terminal, v.job_id),
            )
            text = f"{v.job_id}: {status}"
            if out.result is not None:
                text += (
                    f"\nresult: {json.dumps(out.result.value) if out.result.success else out.result.error}"
                )
            if v.log_tail:
                text += "\n--- log tail ---\n" + "\n".join(v.log_tail.splitlines()[-10:])
            return _result(out, text)

    @tool(title="Wait for a job", annotations=job_reads)
    async def wait_for_job(
        ctx: Context,
        job_id: JobId,
        timeout_seconds: Annotated[
            int,
            Field(
                description=f"Stop waiting after this long (the job keeps running); at most {MAX_WAIT_SECONDS}.",
                ge=0,
                le=MAX_WAIT_SECONDS,
            ),
        ] = 300,
    ) -> Annotated[CallToolResult, m.WaitOut]:
        """Wait until a job finishes or the timeout passes, with progress notifications; polls back off from 1 s
        to 30 s. A timeout does not stop the job: call again, or job_status later."""
        with _tool_errors("wait_for_job"):
            svc = state.svc
            last = -1.0

            async def get_status() -> Any:
                return await anyio.to_thread.run_sync(svc.refresh_status, job_id)

            async def on_progress(p: WaitProgress) -> None:
                nonlocal last
                value = max(min(p.elapsed, float(timeout_seconds)), last + 0.001)
                last = value
                await ctx.report_progress(
                    value,
                    float(timeout_seconds) or None,
                    f"{p.status.value} after {p.elapsed:.0f}s ({p.polls} checks)",
                )

            outcome = await wait_for_job_async(
                get_status, sleep=anyio.sleep, timeout=float(timeout_seconds), on_progress=on_progress
            )
            status = outcome.status.value
            out = m.WaitOut(
                job_id=job_id,
                status=status,
                terminal=outcome.status.terminal,
                timed_out=outcome.timed_out,
                polls=outcome.polls,
                elapsed_seconds=round(outcome.elapsed, 3),
                next_step=(
                    f"still {status}: call wait_for_job again or job_status later"
                    if outcome.timed_out
                    else f"call job_status('{job_id}') for the result and log tail"
                    + (f", or diagnose_job('{job_id}')" if status in ("FAILED", "INTERNAL_ERROR") else "")
                ),
            )
            text = (
                f"{job_id}: still {status} after {outcome.elapsed:.0f}s (timed out; the job keeps running)"
                if outcome.timed_out
                else f"{job_id}: {status} after {outcome.elapsed:.0f}s"
            )
            return _result(out, text)

    @tool(title="Job logs", annotations=job_reads)
    def job_logs(
        job_id: JobId,
        tail_lines: Annotated[int, Field(description="Last lines to return.", ge=1, le=5000)] = 200,
        instance_id: Annotated[
            int | None, Field(description="Node of a multi-node job (0 = head).", ge=0)
        ] = None,
        verbose: Annotated[
            bool, Field(description="Include the setup phase (pip install) before the user code.")
        ] = False,
    ) -> Annotated[CallToolResult, m.LogsOut]:
        """The job's log output (credentials redacted), last `tail_lines` lines; per node for multi-node jobs;
        `verbose` adds the setup phase, where install and network failures show up."""
        with _tool_errors("job_logs"):
            text = state.svc.logs(job_id, instance_id=instance_id, verbose=verbose)
            lines = text.splitlines()
            kept = lines[-tail_lines:]
            out = m.LogsOut(
                job_id=job_id,
                instance_id=instance_id,
                text="\n".join(kept),
                lines=len(kept),
                truncated=len(lines) > len(kept),
            )
            return _result(out, out.text or "(no log output yet)")

    @tool(title="List jobs", annotations=job_reads)
    def list_jobs(
        limit: Annotated[int, Field(description="Most recent jobs to list.", ge=1, le=500)] = 20,
    ) -> Annotated[CallToolResult, m.JobsOut]:
        """Jobs submitted through mljobs, newest first, with live status for unfinished ones."""
        with _tool_errors("list_jobs"):
            views = state.svc.jobs(limit)
            out = m.JobsOut(
                jobs=[
                    m.JobSummaryOut(
                        job_id=v.job_id,
                        backend=v.backend,
                        status=v.status.value,
                        name=v.name,
                        compute_pool=v.compute_pool,
                        created_at=v.created_at,
                        finished_at=v.finished_at,
                    )
                    for v in views
                ],
                next_step="job_status(job_id) for details"
                if views
                else "no jobs yet: analyze_script to start",
            )
            text = "\n".join(f"{v.job_id}  {v.status.value}  {v.backend}" for v in views) or "no jobs"
            return _result(out, text)

    @tool(title="Diagnose a failed job", annotations=job_reads)
    def diagnose_job(job_id: JobId) -> Annotated[CallToolResult, m.DiagnosisOut]:
        """Why a job failed and the exact fix: its status and verbose logs matched against the error catalog
        (missing package, no network access, out of memory, missing grants, ...), with concrete plan changes and
        admin SQL."""
        with _tool_errors("diagnose_job"):
            d = state.svc.diagnose(job_id)
            out = m.DiagnosisOut(
                job_id=job_id,
                status=d.status,
                matched=d.matched,
                cause=redact(d.cause),
                fix=redact(d.fix),
                changes=[
                    m.PlanChangeOut(field=c.field, op=c.op, value=_jsonable(c.value), reason=redact(c.reason))
                    for c in d.changes
                ],
                evidence=list(d.evidence),
                admin_sql=list(d.admin_sql),
                next_step=(
                    "apply the changes with plan_job (same path plus the changed choices), confirm with the "
                    "user, submit again"
                    if d.changes
                    else "follow `fix`"
                ),
            )
            return _result(out, f"{d.status}: {out.cause}\nFix: {out.fix}")

    # ---------------------------------------------------------------- pipelines (another module owns them)
    try:
        from .mcp_pipeline import register_pipeline_tools
    except ImportError as exc:
        log.info("pipeline tools not available: %s", exc)
    else:
        register_pipeline_tools(server)

    if settings.read_only:
        # A safety net for tools registered elsewhere: a read-only server serves only read-only tools.
        manager = getattr(server, "_tool_manager", None)
        for registered in list(manager.list_tools()) if manager is not None else []:
            if not (registered.annotations and registered.annotations.read_only_hint):
                server.remove_tool(registered.name)

    # ---------------------------------------------------------------- resources and prompt
    @server.resource(
        "mljobs://jobs/{job_id}",
        name="job",
        mime_type="application/json",
        description="A job record: plan (redacted), status history, confirmation, payload location.",
    )
    def job_resource(job_id: str) -> str:
        svc = state.svc
        record = svc.store.find(job_id)
        if record is None:
            raise ResourceError(f"no job {job_id} in the job store; list_jobs shows the known ids")
        data = {**to_jsonable(record), "history": to_jsonable(svc.store.history(job_id))}
        return json.dumps(data, indent=2)

    for uri_name, table in CATALOGS.items():
        server.resource(
            f"mljobs://catalogs/{uri_name}",
            name=f"catalog-{uri_name}",
            mime_type="application/json",
            description=f"mljobs knowledge table {table} (skill/data/{table}.yaml).",
        )(_catalog_reader(table))

    @server.resource(
        "mljobs://plans/{plan_hash}/code",
        name="plan-code",
        mime_type="text/x-python",
        description="The generated snowflake-ml-python submission code of a plan from plan_job.",
    )
    def plan_code(plan_hash: str) -> str:
        entry = state.plans.get(plan_hash)
        if entry is None:
            raise ResourceError(f"unknown plan {plan_hash[:12]}; call plan_job again")
        if entry.code is None:
            raise ResourceError(f"plan {plan_hash[:12]} has no code: {entry.output.code_note}")
        return entry.code

    @server.prompt(title="Convert a script into an ML Job")
    def convert_script(path: str) -> str:
        """Guided conversion of a local script, notebook or project into a Snowflake ML Job, with STOP points."""
        return (
            f"Convert {path} into a Snowflake ML Job with the mljobs tools, step by step.\n"
            f"1. analyze_script(path='{path}'). Tell me GPU/CPU, packages to install, network hosts and outputs, "
            "quoting the file:line evidence. STOP: ask me whether anything is missing.\n"
            "2. rank_pools: show the ranking table and the choice. STOP: I pick the pool.\n"
            "3. check_external_access: show which EAIs cover which hosts (proven, guessed, uncovered) and any "
            "admin SQL. STOP: I pick the EAIs.\n"
            "4. plan_job with my choices: show `summary`, `needs_confirmation`, preflight, the script diff and "
            "the code. Offer a free dry run on the local pool (backend='local') before spending credits. "
            "STOP: this is the MANDATORY confirmation.\n"
            "5. submit_job(plan_hash) only after I said yes (pass the confirmation token only then).\n"
            "6. wait_for_job, then job_status for the result and job_logs for the output; on failure "
            "diagnose_job and propose the fix as a new plan.\n"
            "Never invent a setting, never run admin SQL, never submit without my yes."
        )

    return server


def _catalog_reader(table: str) -> Any:
    def read_catalog() -> str:
        return json.dumps(load_table(table), indent=2, default=str)

    read_catalog.__name__ = f"catalog_{table}"
    return read_catalog


def _outcome(answer: Any) -> str:
    kind = type(answer).__name__
    if kind.startswith("Declined"):
        return "declined"
    if kind.startswith("Cancelled"):
        return "cancelled the question"
    return "did not confirm"


def _jsonable(value: Any) -> Any:
    try:
        json.dumps(value)
        return value
    except (TypeError, ValueError):
        return redact(repr(value))
