"""analyze_script, rank_pools, check_external_access: reads of the user's code and of the account.

plan_job does all three on its own; these answer when the user wants one step in detail. Within a request chain
they share one analysis per unchanged source (AppState.analyze).
"""

from typing import Annotated

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult
from mljobs.analyzers.report import render_text
from pydantic import Field

from ..common import LOCAL_READS, answer, tool, tool_errors
from ..inputs import Backend, EaiList, Entrypoint, Path_
from ..models import AnalysisOut, CoverageOut, PoolRankingOut
from ..state import state_of
from ..views import EVIDENCE_PER_FINDING, coverage_out, coverage_text, ranking_out


def register(server: MCPServer) -> None:
    @tool(server, title="Analyze a script for ML Jobs", annotations=LOCAL_READS)
    def analyze_script(ctx: Context, path: Path_, entrypoint: Entrypoint = None) -> Annotated[CallToolResult, AnalysisOut]:
        """Statically analyse a Python script, notebook or project folder (nothing is run): GPU or CPU,
        packages to install vs. preinstalled in the runtime image, outbound network hosts, output paths,
        __return__, and the submit method. Every finding cites file, line and code."""
        with tool_errors("analyze_script"):
            state = state_of(ctx)
            analysis = state.analyze(state.resolve_path(path), entrypoint)
            out = AnalysisOut.from_analysis(
                analysis,
                evidence_limit=EVIDENCE_PER_FINDING,
                next_step="call plan_job with the same path: it ranks the pools and checks external access too",
            )
            return answer(out, render_text(analysis))

    @tool(server, title="Rank compute pools", annotations=LOCAL_READS)
    def rank_pools(
        ctx: Context,
        path: Path_,
        entrypoint: Entrypoint = None,
        target_instances: Annotated[int | None, Field(description="Nodes the job needs.", ge=1, le=750)] = None,
        backend: Backend = None,
    ) -> Annotated[CallToolResult, PoolRankingOut]:
        """Rank the account's compute pools (or the local pool) for this code: usable pools first, each with a
        score (the guided skill's formula plus fit, memory, GPU, cost and cold-start adjustments) and reasons.
        plan_job already picks the best one; call this to show the full table."""
        with tool_errors("rank_pools"):
            state = state_of(ctx)
            resolved = state.resolve_path(path)
            _, ranking = state.svc.rank_pools(
                resolved, entrypoint, target_instances=target_instances, backend=backend,
                analysis=state.analyze(resolved, entrypoint),
            )
            out = ranking_out(
                ranking, backend or state.svc.default_backend_name(),
                "confirm the pool with the user (STOP), then plan_job with pool=<name>",
            )
            return answer(out, ranking.render_table())

    @tool(server, title="Check External Access Integrations", annotations=LOCAL_READS)
    def check_external_access(
        ctx: Context, path: Path_, entrypoint: Entrypoint = None, eais: EaiList = None, backend: Backend = None
    ) -> Annotated[CallToolResult, CoverageOut]:
        """Check which External Access Integrations really allow every host the code needs (PyPI when packages
        must be installed, Hugging Face, cloud storage, APIs...), proven by their network rule entries; propose
        the smallest set, and admin SQL for what no EAI covers. Pass `eais` to check the user's own choice.
        plan_job already includes this check."""
        with tool_errors("check_external_access"):
            state = state_of(ctx)
            resolved = state.resolve_path(path)
            _, cov = state.svc.check_eais(
                resolved, entrypoint, chosen=eais, backend=backend, analysis=state.analyze(resolved, entrypoint)
            )
            out = coverage_out(
                cov, state.svc.facts(backend),
                "confirm the EAIs with the user (STOP), then plan_job with eais=[...]"
                if cov.hosts else "no network access needed; call plan_job",
            )
            return answer(out, coverage_text(cov))
