"""Input types of the MCP tools: each an annotated type whose description and limits the model reads.

Patterns keep control characters and leading dashes out of anything that reaches a path, a command line or SQL.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

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
EaiList = Annotated[
    list[Annotated[str, Field(max_length=255, pattern=r"^[A-Za-z_][A-Za-z0-9_$]*$")]] | None,
    Field(description="External Access Integration names.", max_length=10),
]
#: A plain (unquoted) Snowflake identifier; each use site says what it names.
Identifier = Annotated[str, Field(max_length=255, pattern=r"^[A-Za-z_][A-Za-z0-9_$]*$")]
Stage = Annotated[
    str | None,
    Field(
        description="Payload stage, e.g. @MLJOBS_PAYLOAD or @DB.SCHEMA.STAGE (default: the planner's payload stage "
        "in the session's database and schema).",
        max_length=770,
        pattern=r"^@?[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*){0,2}$",
    ),
]
Host = Annotated[
    str,
    Field(description="host or host:port in Snowflake's HOST_PORT syntax (e.g. api.example.com, *.example.com:443).",
          min_length=1, max_length=255, pattern=r"^[A-Za-z0-9*][A-Za-z0-9.*:\-]*$"),
]
