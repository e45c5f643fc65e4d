"""The `mljobs` command line: the same core functions as the MCP server, for people and scripts.

Exit codes (the only place they are listed):
    0  success (for `wait`: the job finished DONE)
    1  the job FAILED / was CANCELLED / hit INTERNAL_ERROR, `doctor` found a blocking problem, or an
       unexpected fault
    2  bad input: missing path, unreadable project, invalid name or option
    3  Snowflake is not configured, unreachable, or answered with an error
    4  a side effect was not confirmed (declined, no --yes without a terminal, stale token)
    5  timed out waiting for a job
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from ..errors import MljobsError, describe_unexpected

# Each module exposes `register(subparsers)`, adding its verbs with `set_defaults(func=handler)`;
# a handler takes the parsed args and returns an exit code. Modules are imported lazily per run.
COMMAND_MODULES: tuple[str, ...] = (
    "analyze_cmd",
    "plan_cmd",
    "jobs_cmd",
    "pipeline_cmd",
    "local_eais_cmd",
    "doctor_cmd",
    "serve_cmd",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mljobs",
        description="Run a local ML script as a Snowflake ML Job, or on the local pool when no account is set up.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"{__name__}.{name}")
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    script_args: list[str] = []
    if "--" in argv:  # everything after `--` goes to the user's script untouched
        cut = argv.index("--")
        argv, script_args = argv[:cut], argv[cut + 1 :]
    parser = build_parser()
    args = parser.parse_args(argv)
    args.script_args = script_args
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        stream=sys.stderr,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.func(args))
    except MljobsError as exc:
        print(f"mljobs: error: {exc.message}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("mljobs: interrupted", file=sys.stderr)
        return 130
    except (OSError, RecursionError, RuntimeError, ValueError, MemoryError) as exc:
        # Faults no layer turned into an MljobsError still end in one line, not a traceback (-v shows it).
        if args.verbose:
            raise
        print(f"mljobs: error: {describe_unexpected(exc)}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
