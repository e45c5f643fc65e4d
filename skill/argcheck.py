"""Check a job's planned arguments against what the script's parser declares, before the job starts.

A job whose arguments its own parser rejects fails in its first second, after the pool has started and the
packages are installed (issue 10: `--save_mode` with `choices=["local", "registry"]` was given the result
path). This walks the argument list the way argparse/click do — options with their values, `--flag=value`,
argparse's unique-prefix abbreviations, flags that take no value, positionals — and reports each value
outside `choices`, text for an `int`/`float`, an undeclared option (only when the parser is known to reject
them), a missing required option and a surplus positional.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from mljobs.analyzers.cliargs import FLAG_ACTIONS
from mljobs.analyzers.model import CliOption, IoReport

_NUMBER = re.compile(r"^-\d+(?:\.\d*)?$|^-\.\d+$")
_ENV = re.compile(r"\$(?:\{MLRS_\w+\}|\(MLRS_\w+\)|MLRS_\w+)")


@dataclass(frozen=True, slots=True)
class ArgIssue:
    """One planned argument the script's parser would reject (`certain`) or that cannot be checked."""

    certain: bool  # True: the parser rejects it (error); False: unverifiable (warning)
    code: str
    message: str
    fix: str


def _render(option: CliOption) -> str:
    names = "/".join(option.flags) or option.dest
    return f"{names} ({option.location.render()})"


def _declared(options: Sequence[CliOption]) -> str:
    names = [o.flags[-1] if o.flags else o.dest for o in options]
    return ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")


def _arity(option: CliOption) -> tuple[int, int | None]:
    """(minimum, maximum) values an option takes; maximum None means "as many as follow"."""
    if option.action in FLAG_ACTIONS:
        return 0, 0
    match option.nargs:
        case None:
            return 1, 1
        case "?":
            return 0, 1
        case "*":
            return 0, None
        case "+":
            return 1, None
        case text if text.isdigit():
            return int(text), int(text)
    return 0, None


def _value_issue(option: CliOption, value: str) -> ArgIssue | None:
    shown = "the result path" if _ENV.search(value) else repr(value)
    if option.choices is not None and value not in option.choices and not _ENV.fullmatch(value):
        return ArgIssue(True, "args.choice", f"{_render(option)} accepts only {', '.join(option.choices)}; the plan "
                        f"passes {shown}", f"pass one of {', '.join(option.choices)} or leave the option out")
    if option.choices is not None and _ENV.search(value):
        return ArgIssue(True, "args.choice", f"{_render(option)} accepts only {', '.join(option.choices)}; the plan "
                        "passes the result path, which the parser rejects",
                        "route the result path to an option that takes a folder, or edit the code to write under "
                        "MLRS_STAGE_RESULT_PATH")
    if option.type in {"int", "float"}:
        try:
            int(value) if option.type == "int" else float(value)
        except ValueError:
            return ArgIssue(True, "args.type", f"{_render(option)} takes an {option.type}; the plan passes {shown}",
                            f"pass a number for {option.flags[-1] if option.flags else option.dest}")
    return None


def _match(token: str, by_flag: dict[str, CliOption], prefixes: bool) -> tuple[CliOption | None, list[str]]:
    """The option a token names (exact, or a unique argparse prefix), and the candidates when ambiguous."""
    if token in by_flag:
        return by_flag[token], []
    if prefixes and token.startswith("--"):
        hits = sorted({f for f in by_flag if f.startswith(token)})
        options = {id(by_flag[f]): by_flag[f] for f in hits}
        if len(options) == 1:
            return next(iter(options.values())), []
        return None, hits
    return None, []


def check_args(args: Sequence[str], io: IoReport) -> list[ArgIssue]:
    """Walk `args` as the script's parser would and report what it rejects.

    Args:
        args: the job's arguments, as the plan passes them.
        io: the analysis' io report: the declared options and whether the parser is closed.

    Returns:
        Issues in argument order. Empty when the script declares no options (nothing to check against) or
        every argument fits. An undeclared option is certain only when `io.cli_closed`; otherwise, and for
        declarations with computed parts, the issue is uncertain.
    """
    options = io.cli_options
    if not options:
        return []
    issues: list[ArgIssue] = []
    by_flag = {f: o for o in options for f in o.flags}
    prefixes = all(o.framework == "argparse" for o in options)
    positionals = [o for o in options if not o.flags]
    number_flags = any(_NUMBER.match(f) for f in by_flag)
    seen: set[int] = set()
    loose: list[str] = []
    i = 0
    tokens = list(args)
    while i < len(tokens):
        token = tokens[i]
        i += 1
        if token == "--":
            loose.extend(tokens[i:])
            break
        if not token.startswith("-") or token == "-" or (_NUMBER.match(token) and not number_flags):
            loose.append(token)
            continue
        if token in {"-h", "--help"}:
            issues.append(ArgIssue(True, "args.help", f"{token} prints the help and exits without training",
                                   f"remove {token}"))
            continue
        name, eq, inline = token.partition("=")
        option, ambiguous = _match(name, by_flag, prefixes)
        if option is None and not name.startswith("--") and len(name) > 2:  # -xVALUE
            option, ambiguous = _match(name[:2], by_flag, False)
            if option is not None:
                inline, eq = name[2:], "="
        if option is None:
            if ambiguous:
                issues.append(ArgIssue(True, "args.ambiguous", f"{name} matches several options: "
                                       f"{', '.join(ambiguous)}", "spell the option out"))
            elif io.cli_closed:
                issues.append(ArgIssue(True, "args.unknown", f"the script declares no option {name}; it declares "
                                       f"{_declared(options)}", f"remove {name} or use one of the declared options"))
            else:
                issues.append(ArgIssue(False, "args.unverified", f"{name} is not among the options mljobs could "
                                       "read, and the script's parser may add more at run time",
                                       "check the script's --help for the option"))
                while not eq and i < len(tokens) and not tokens[i].startswith("-"):
                    i += 1  # its values, whatever their number: nothing to check them against
            continue
        seen.add(id(option))
        low, high = _arity(option)
        values: list[str] = []
        if eq:
            if high == 0:
                issues.append(ArgIssue(True, "args.flag_value", f"{_render(option)} is a flag and takes no value; the "
                                       f"plan passes {name}={inline}", f"pass {name} alone"))
                continue
            values = [inline]
        else:
            while (high is None or len(values) < high) and i < len(tokens) and (
                    not tokens[i].startswith("-") or (_NUMBER.match(tokens[i]) and not number_flags)):
                values.append(tokens[i])
                i += 1
        if len(values) < low:
            issues.append(ArgIssue(True, "args.missing_value", f"{_render(option)} needs a value and the plan gives "
                                   "none", f"pass a value after {name}"))
            continue
        if not option.known:
            issues.append(ArgIssue(False, "args.unverified", f"{_render(option)} is declared with parts computed at "
                                   f"run time (type {option.type or '?'}); its values are not checked",
                                   "check the values against the script"))
            continue
        for value in values:
            issue = _value_issue(option, value)
            if issue is not None:
                issues.append(issue)
    issues += _positional_issues(loose, positionals, io.cli_closed)
    for option in options:
        if option.flags and option.required and option.default is None and id(option) not in seen:
            issues.append(ArgIssue(option.known, "args.required", f"the script requires {_render(option)} and the "
                                   "plan does not pass it", f"add {option.flags[-1]} <value> to args"))
    return issues


def _positional_issues(loose: list[str], positionals: list[CliOption], closed: bool) -> list[ArgIssue]:
    issues: list[ArgIssue] = []
    index = 0
    for option in positionals:
        low, high = _arity(option) if option.nargs is not None else (1, 1)
        if option.framework == "argparse" and option.nargs is None and not option.required:
            low = 0
        take = loose[index:] if high is None else loose[index:index + high]
        if len(take) < low:
            if option.required:
                issues.append(ArgIssue(option.known, "args.required", f"the script requires the positional "
                                       f"{_render(option)} and the plan does not pass it",
                                       f"add a value for {option.dest} to args"))
            continue
        index += len(take)
        if option.known:
            issues.extend(i for i in (_value_issue(option, v) for v in take) if i is not None)
    surplus = loose[index:]
    if surplus:
        issues.append(ArgIssue(closed, "args.unrecognized", f"the parser has no place for {', '.join(surplus[:3])}"
                               + ("" if closed else " (as far as mljobs can read its declarations)"),
                               "remove the extra values or pair them with their option"))
    return issues
