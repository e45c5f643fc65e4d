"""The plan options a user can choose, once, for both front ends: the MCP `plan_job` tool and the `mljobs` CLI.

`PlanOptions` is the MCP tool's `choices` argument (its JSON schema is what the model reads) and the source of the
CLI's plan flags (`add_cli_options` makes one flag per field, `from_cli` reads them back through the same
validation). So an option, its description and its limits cannot differ between the two; `to_choices` maps it
to the skill's `PlanChoices`. Patterns keep control characters and leading dashes out of anything that reaches a
command line, a path or SQL.
"""

from __future__ import annotations

import argparse
from typing import Annotated, Any, Literal

from mljobs.analyzers.model import SubmitMethod
from mljobs.skill.plan import PlanChoices
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .analysis_json import compact_schema
from .errors import UsageError

IDENT = r"^[A-Za-z_][A-Za-z0-9_$]*$"
STAGE = r"^@?[A-Za-z_][A-Za-z0-9_$.]*(/[A-Za-z0-9_.\-]+)*/?$"
Ident = Annotated[str, Field(max_length=255, pattern=IDENT)]



class Flag:
    """How a field appears in the CLI: its flag (None: not a flag), metavar, and whether the shared account
    option group (`--database`, `--schema`, `--warehouse`) already defines it."""

    def __init__(self, flag: str | None, metavar: str | None = None, *, shared: bool = False) -> None:
        self.flag, self.metavar, self.shared = flag, metavar, shared


#: Field -> CLI flag; tests/server/test_plan_options.py fails when a field has no entry.
CLI_FLAGS: dict[str, Flag] = {
    "pool": Flag("--pool"),
    "eais": Flag("--eai", "NAME"),
    "only_eais": Flag("--only-eais"),
    "args": Flag(None),  # after `--`
    "target_instances": Flag("--nodes", "N"),
    "min_instances": Flag("--min-nodes", "N"),
    "method": Flag("--method"),
    "name": Flag("--name"),
    "stage": Flag("--stage"),
    "source_stage": Flag("--source-stage"),
    "database": Flag("--database", shared=True),
    "schema_": Flag("--schema", shared=True),
    "query_warehouse": Flag("--warehouse", shared=True),
    "extra_pip_requirements": Flag("--pip", "REQ"),
    "env_vars": Flag("--env", "KEY=VALUE"),
    "allow_direct_requirements": Flag("--allow-direct-requirements"),
    "use_artifact_repository": Flag("--artifact-repository"),
    "runtime_environment": Flag("--runtime"),
    "function_name": Flag("--function"),
    "comment": Flag("--comment"),
}


class PlanOptions(BaseModel):
    """What the user chose for the job; every option left out is derived from the analysis and the account."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=compact_schema)

    pool: Ident | None = Field(
        default=None, description="Compute pool (default: the best-ranked usable pool)."
    )
    eais: list[Ident] = Field(
        default_factory=list, max_length=10, description="External Access Integrations to add to the suggestion.",
    )
    only_eais: bool = Field(
        default=False, description="Use exactly the EAIs given, nothing suggested."
    )
    args: list[Annotated[str, Field(max_length=4096)]] | None = Field(
        default=None, max_length=200,
        description="Script arguments (default: derived, e.g. the script's output option pointed at the result "
        "path). In the CLI they go after `--`.",
    )
    target_instances: int | None = Field(
        default=None, ge=1, le=750, description="Nodes."
    )
    min_instances: int | None = Field(
        default=None, ge=1, le=750, description="Nodes needed to start."
    )
    method: Literal["submit_file", "submit_directory", "submit_from_stage", "remote"] | None = Field(
        default=None, description="Submit method (default: the analysis' recommendation).",
    )
    name: str | None = Field(
        default=None, max_length=255, pattern=IDENT, description="Job name (default: from the file name).",
    )
    stage: str | None = Field(
        default=None, max_length=800, pattern=STAGE, description="Payload stage, e.g. @DB.SCHEMA.STAGE.",
    )
    source_stage: str | None = Field(
        default=None, max_length=800, pattern=STAGE,
        description="For method submit_from_stage: the stage folder that already holds the code.",
    )
    database: Ident | None = Field(
        default=None, description="Database for the job and its stage."
    )
    schema_: Ident | None = Field(
        default=None, alias="schema", description="Schema for the job and its stage.",
    )
    query_warehouse: Ident | None = Field(
        default=None, description="Warehouse for SQL the job runs."
    )
    extra_pip_requirements: list[Annotated[str, Field(max_length=300, pattern=r"^[A-Za-z0-9][^\s;]*$")]] = Field(
        default_factory=list, max_length=100, description="Extra pip requirements, e.g. lightgbm==4.5.0.",
    )
    env_vars: dict[Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")],
                   Annotated[str, Field(max_length=4096)]] = Field(
        default_factory=dict,
        description="Environment variables for the job (values stay on the server; redacted in output).",
    )
    allow_direct_requirements: bool = Field(
        default=False,
        description="Accept URL, VCS and file: requirements (extra ones and the requirements file); without it "
        "only package specifiers such as name>=1.0 are accepted.",
    )
    use_artifact_repository: bool = Field(
        default=False, description="Install packages from Snowflake's PyPI artifact repository (no PyPI EAI).",
    )
    runtime_environment: str | None = Field(
        default=None, max_length=500, pattern=r"^[^\s\-][^\s]*$", description="Runtime image tag or URL.",
    )
    function_name: str | None = Field(
        default=None, max_length=255, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="For method remote: the function to run.",
    )
    comment: str | None = Field(
        default=None, max_length=1000, description="Job comment."
    )

    def to_choices(self, *, connection_name: str | None = None, backend: str | None = None) -> PlanChoices:
        """The skill's PlanChoices for these options."""
        return PlanChoices(
            pool=self.pool,
            eais=tuple(self.eais),
            only_eais=self.only_eais,
            args=tuple(self.args) if self.args is not None else None,
            target_instances=self.target_instances,
            min_instances=self.min_instances,
            method=SubmitMethod(self.method) if self.method else None,
            name=self.name,
            stage=self.stage,
            source_stage=self.source_stage,
            database=self.database,
            schema=self.schema_,
            query_warehouse=self.query_warehouse,
            extra_pip_requirements=tuple(self.extra_pip_requirements),
            env_vars=dict(self.env_vars),
            use_artifact_repository=self.use_artifact_repository,
            allow_direct_requirements=self.allow_direct_requirements,
            runtime_environment=self.runtime_environment,
            function_name=self.function_name,
            comment=self.comment,
            connection_name=connection_name,
            backend=backend,
        )

    # ------------------------------------------------------------------------------------------------ CLI

    @classmethod
    def add_cli_options(cls, group: Any) -> None:
        """One flag per field (fields owned by the shared account group, and `args`, are left to their owners)."""
        for name, info in cls.model_fields.items():
            cli = CLI_FLAGS[name]
            if cli.flag is None or cli.shared:
                continue
            kw: dict[str, Any] = {"dest": name, "help": _help(info.description)}
            if cli.metavar:
                kw["metavar"] = cli.metavar
            annotation = str(info.annotation)
            if info.annotation is bool:
                kw["action"] = "store_true"
            elif annotation.startswith(("list", "dict")):
                kw.update(action="append", default=[])
            elif "int" in annotation:
                kw["type"] = int
            elif "Literal" in annotation:
                kw["choices"] = [m.value for m in SubmitMethod]
            group.add_argument(cli.flag, **kw)

    @classmethod
    def from_cli(cls, args: argparse.Namespace) -> PlanOptions:
        """Read the flags back, with the same validation as the MCP tool (a bad value is a UsageError)."""
        data: dict[str, Any] = {}
        for name, info in cls.model_fields.items():
            cli = CLI_FLAGS[name]
            if name == "args":
                script_args = getattr(args, "script_args", None)
                value: Any = list(script_args) if script_args else None
            elif cli.flag is None:
                continue
            else:
                value = getattr(args, cli.flag[2:].replace("-", "_") if cli.shared else name, None)
            if name == "env_vars":
                value = _env_pairs(value or [])
            if value is not None and value is not False and value != [] and value != {}:  # 0 is a value
                data[info.alias or name] = value
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = str(first["loc"][0]) if first["loc"] else ""
            owner = next((n for n, i in cls.model_fields.items() if field in (n, i.alias)), None)
            flag = CLI_FLAGS[owner].flag if owner else None
            raise UsageError(f"{flag or field}: {first['msg']}") from None


def _help(description: str | None) -> str:
    return (description or "").rstrip(".").replace("%", "%%")


def _env_pairs(items: list[str]) -> dict[str, str]:
    env: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"--env expects KEY=VALUE, got {item!r}")
        env[key] = value
    return env
