"""doctor: read-only checks of the Snowflake account for ML Jobs, each failing check with its fix as SQL.

Thin over Service.doctor (server/doctor.py); the fixes are proposed, never run.
"""

from typing import Annotated

import anyio.to_thread
from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult
from pydantic import Field

from ..common import JOB_READS, answer, tool, tool_errors
from ..inputs import EaiList, Entrypoint, Identifier, Path_
from ..models import DoctorOut
from ..state import state_of
from ..views import doctor_out, doctor_text


def register(server: MCPServer) -> None:
    @tool(server, title="Check the Snowflake account for ML Jobs", annotations=JOB_READS)
    async def doctor(
        ctx: Context,
        path: Annotated[
            Path_ | None, Field(description="A script or project whose plan decides pool, nodes and EAIs.")
        ] = None,
        entrypoint: Entrypoint = None,
        pool: Annotated[Identifier | None, Field(description="Compute pool to check (default: the plan's).")] = None,
        target_instances: Annotated[int | None, Field(description="Nodes the job will need.", ge=1, le=750)] = None,
        eais: EaiList = None,
    ) -> Annotated[CallToolResult, DoctorOut]:
        """Read-only checks of what an ML Job needs from the Snowflake account: the role (not ACCOUNTADMIN),
        schema grants, the pool (usable, enough nodes), EAIs (visible, enabled, PyPI), image repository, event
        table (logs that outlive the job), warehouse. Each failing check carries its fix as SQL, split into what
        the user runs and what an admin runs; nothing is ever executed. With `path`, the script's plan decides
        pool, nodes and EAIs. Needs a Snowflake connection."""
        with tool_errors("doctor"):
            state = state_of(ctx)
            resolved = state.resolve_path(path) if path else None
            report = await anyio.to_thread.run_sync(
                lambda: state.svc.doctor(
                    resolved, entrypoint, pool=pool, target_instances=target_instances, eais=tuple(eais or ())
                )
            )
            out = doctor_out(report)
            return answer(out, doctor_text(out))
