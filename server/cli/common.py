"""Options and output helpers shared by the `mljobs` verbs."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from mljobs.analyzers.model import SubmitMethod

from ..errors import NotConfirmedError, UsageError
from ..jsonable import to_jsonable
from ..service import Service
from ..settings import Settings


def add_backend_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("account")
    group.add_argument("--backend", choices=("local", "snowflake"),
                       help="where jobs run (default: Snowflake if a connection is configured, else the local pool)")
    group.add_argument("--connection-name", help="connection in ~/.snowflake/connections.toml")
    group.add_argument("--database", help="database for the job and its stage")
    group.add_argument("--schema", help="schema for the job and its stage")
    group.add_argument("--warehouse", help="query warehouse for SQL the job runs")
    group.add_argument("--role", help="role to use for discovery and submission")


def add_plan_options(parser: argparse.ArgumentParser) -> None:
    """Plan choices; script arguments go after `--`: `mljobs submit train.py --yes -- --epochs 3`."""
    parser.add_argument("path", help="a .py file, a project folder or a .ipynb notebook")
    parser.add_argument("--entrypoint", help="the main file inside a project folder")
    group = parser.add_argument_group("plan")
    group.add_argument("--pool", help="compute pool (default: the best-ranked usable pool)")
    group.add_argument("--eai", action="append", default=[], metavar="NAME",
                       help="external access integration to add (repeatable)")
    group.add_argument("--only-eais", action="store_true", help="use exactly the --eai list, nothing suggested")
    group.add_argument("--stage", help="payload stage, e.g. @DB.SCHEMA.STAGE")
    group.add_argument("--nodes", type=int, metavar="N", help="target instances (nodes)")
    group.add_argument("--min-nodes", type=int, metavar="N", help="minimum instances to start with")
    group.add_argument("--method", choices=[m.value for m in SubmitMethod], help="submission method")
    group.add_argument("--name", help="job name (a valid identifier; derived from the file name by default)")
    group.add_argument("--env", action="append", default=[], metavar="KEY=VALUE", help="environment variable")
    group.add_argument("--pip", action="append", default=[], metavar="REQ", help="extra pip requirement")
    group.add_argument("--allow-direct-requirements", action="store_true",
                       help="accept URL, VCS and file: requirements (--pip and the requirements file); "
                            "without it only package specifiers such as name>=1.0 are accepted")
    group.add_argument("--artifact-repository", action="store_true",
                       help="install pip requirements from Snowflake's shared PyPI repository instead of an EAI")
    group.add_argument("--runtime", help="runtime_environment (image tag) to pin")
    group.add_argument("--function", help="function to run with --method remote")
    group.add_argument("--source-stage", help="for submit_from_stage: the stage folder holding the code")
    add_backend_options(parser)


def settings_from_args(args: argparse.Namespace) -> Settings:
    return Settings(
        backend=getattr(args, "backend", None),
        connection_name=getattr(args, "connection_name", None),
        database=getattr(args, "database", None),
        schema=getattr(args, "schema", None),
        warehouse=getattr(args, "warehouse", None),
        role=getattr(args, "role", None),
    )


def service_from_args(args: argparse.Namespace) -> Service:
    return Service(settings_from_args(args))


def choices_from_args(args: argparse.Namespace) -> Any:
    from mljobs.skill.plan import PlanChoices

    env: dict[str, str] = {}
    for item in args.env:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"--env expects KEY=VALUE, got {item!r}")
        env[key] = value
    script_args = getattr(args, "script_args", None)
    return PlanChoices(
        pool=args.pool,
        eais=tuple(args.eai),
        only_eais=args.only_eais,
        stage=args.stage,
        database=args.database,
        schema=args.schema,
        args=tuple(script_args) if script_args else None,
        target_instances=args.nodes,
        min_instances=args.min_nodes,
        method=SubmitMethod(args.method) if args.method else None,
        name=args.name,
        env_vars=env,
        runtime_environment=args.runtime,
        backend=args.backend,
        query_warehouse=args.warehouse,
        function_name=args.function,
        source_stage=args.source_stage,
        extra_pip_requirements=tuple(args.pip),
        use_artifact_repository=args.artifact_repository,
        connection_name=args.connection_name,
        allow_direct_requirements=bool(getattr(args, "allow_direct_requirements", False)),
    )


def emit_json(value: Any) -> None:
    json.dump(to_jsonable(value), sys.stdout, indent=2, sort_keys=True, ensure_ascii=False)
    sys.stdout.write("\n")


def confirm(question: str, *, assume_yes: bool) -> str:
    """Return how the user confirmed (`cli_yes` or `cli_prompt`).

    Raises:
        NotConfirmedError: declined, or no terminal to ask and no --yes.
    """
    if assume_yes:
        return "cli_yes"
    if not sys.stdin.isatty():
        raise NotConfirmedError(f"{question} needs confirmation: pass --yes (no terminal to ask on)")
    answer = input(f"{question} [y/N] ").strip().lower()
    if answer not in {"y", "yes"}:
        raise NotConfirmedError("not confirmed; nothing was done")
    return "cli_prompt"
