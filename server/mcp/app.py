"""build_server: the mljobs MCP server made of its tool modules, over one shared state.

Each module in `tools/` registers its own tools, each tool function next to its decorator; a new tool is one
small module added to TOOL_MODULES. Side-effect tools are registered only when the server is not read-only.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import anyio.to_thread
from mcp.server.mcpserver import MCPServer
from mljobs import __version__

from ..errors import MljobsError
from ..service import Service
from .common import Server
from ..settings import Settings
from .state import AppState
from .tools import account, actions, analysis, jobs, pipeline, plan, resources, upkeep

log = logging.getLogger(__name__)

SERVER_NAME = "mljobs"

INSTRUCTIONS = """\
mljobs turns a local Python ML script, project folder or notebook into a Snowflake ML Job (or a run on the
local pool, this machine, when no Snowflake account is configured). The common path is four calls:
1. plan_job(path): analysis (GPU/CPU, packages, network, outputs; every finding cites file:line), pool ranking,
   External Access check, settings, generated code, preflight. Show its `summary` and `needs_confirmation` to
   the user and STOP until they decide; re-plan with their choices. (analyze_script, rank_pools and
   check_external_access show one of those steps in detail.)
2. submit_job(plan_hash): the server asks the user to confirm. If plan_job returned a confirmation token instead,
   pass it only after the user said yes. A local-pool run first is free; Snowflake runs cost credits.
3. wait_for_job(job_id): answers within 30 s; call it again while next_step says so. A finished job comes with
   its result, or its error and diagnosis. job_logs pages the output.
cancel_job, delete_job, add_local_eai (let local-pool jobs reach a host) and cleanup_payloads also need the
user's confirmation. doctor checks a Snowflake account read-only. Admin SQL (EAIs, grants) is only ever proposed
to the user, never run."""

#: Modules whose `register(server)` adds read-only tools, resources and the prompt.
TOOL_MODULES = (analysis, plan, jobs, account, pipeline, resources)


def build_server(
    settings: Settings, *, service: Service | None = None, roots: Sequence[str | Path] = ()
) -> MCPServer:
    """Build the mljobs MCP server.

    Args:
        settings: backend, state dir, connection name, read-only switch.
        service: the core service (tests inject one); by default the lifespan creates it. It opens no Snowflake
            session and imports no snowflake-ml-python until a Snowflake operation runs.
        roots: when given, paths must resolve inside one of these folders.
    """
    state = AppState(
        settings=settings, service=service, roots=tuple(Path(r).expanduser().resolve() for r in roots)
    )

    @asynccontextmanager
    async def lifespan(_server: MCPServer) -> AsyncIterator[AppState]:
        if state.service is None:
            state.service = Service(settings)
        try:  # adopt local jobs a crash left out of the store (a folder read; Snowflake is not listed here)
            adopted = await anyio.to_thread.run_sync(state.service.reconcile)
        except MljobsError as exc:
            log.warning("could not reconcile local jobs with the job store: %s", exc)
        else:
            if adopted:
                log.info("adopted %d local job(s) missing from the job store: %s", len(adopted), ", ".join(adopted))
        log.info(
            "mljobs MCP server ready (backend %s, state %s, read-only %s)",
            settings.backend or "auto", settings.state_dir, settings.read_only,
        )
        yield state

    server = Server(SERVER_NAME, version=__version__, instructions=INSTRUCTIONS, lifespan=lifespan)
    for module in TOOL_MODULES:
        module.register(server)
    actions.register(server, settings)  # submit, cancel, delete: left out of a read-only server
    upkeep.register(server, settings)  # add_local_eai, cleanup_payloads: the same
    return server
