"""Options and output helpers shared by the `mljobs` verbs."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ..errors import NotConfirmedError
from ..jsonable import to_jsonable
from ..plan_options import PlanOptions
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
    PlanOptions.add_cli_options(parser.add_argument_group("plan"))  # the same options as MCP plan_job
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
    """The skill's PlanChoices from the plan flags, validated like the MCP tool's `choices`."""
    options = PlanOptions.from_cli(args)
    return options.to_choices(connection_name=args.connection_name, backend=args.backend)


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
