"""What a script's command-line parser declares: argparse `add_argument`, click options and typer parameters.

The io pass calls these readers on the declaration nodes it meets, so the planner can route the job's
result folder only to an option that takes a path, and preflight can check every planned argument against
the parser (a value outside `choices`, text for an `int`, a value after a `store_true` flag, an undeclared
flag) before the job crashes in its first second. Only literals are read; anything computed makes the
declaration `known=False`, which turns a check against it into a warning instead of a verdict.
"""

from __future__ import annotations

import ast
import re

from .model import CliOption, Location
from .names import Names, argument, literal_str

#: Actions after which the flag takes no value.
FLAG_ACTIONS = frozenset({"store_true", "store_false", "store_const", "append_const", "count", "version", "help",
                          "flag", "boolean_optional"})
_SIMPLE_TYPES = {"int": "int", "float": "float", "str": "str", "bool": "bool", "pathlib.Path": "path",
                 "Path": "path", "os.fspath": "path", "click.INT": "int", "click.FLOAT": "float",
                 "click.BOOL": "bool", "click.STRING": "str", "click.Path": "path", "click.File": "file",
                 "argparse.FileType": "file", "click.IntRange": "int", "click.FloatRange": "float",
                 "typer.FileText": "file", "typer.FileBinaryWrite": "file", "click.UNPROCESSED": "str"}
#: Longest literal `range(...)` expanded into choices.
_MAX_RANGE = 1000


def _literal(node: ast.expr | None) -> str | None:
    """The text of a literal str/int/float/bool constant (`-1` included), else None."""
    if node is None:
        return None
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant) \
            and isinstance(node.operand.value, (int, float)) and not isinstance(node.operand.value, bool):
        return "-" + str(node.operand.value)
    if isinstance(node, ast.Constant) and isinstance(node.value, (str, int, float, bool)):
        return str(node.value)
    return literal_str(node)


def _choices(node: ast.expr, names: Names) -> tuple[tuple[str, ...] | None, bool]:
    """(choices, known) of a `choices=` value: a literal list/tuple/set, or `range()` with literal bounds."""
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        values = [_literal(e) for e in node.elts]
        if all(v is not None for v in values):
            return tuple(v for v in values if v is not None), True
        return None, False
    if isinstance(node, ast.Call) and (names.qualname(node.func) or "") in {"range", "builtins.range"}:
        bounds = [int(v) for v in (_literal(a) for a in node.args) if v is not None and re.fullmatch(r"-?\d+", v)]
        if len(bounds) == len(node.args) and 1 <= len(bounds) <= 3:
            numbers = range(*bounds)
            if len(numbers) <= _MAX_RANGE:
                return tuple(str(v) for v in numbers), True
    return None, False


def _type_name(node: ast.expr | None, names: Names) -> tuple[str | None, tuple[str, ...] | None, bool]:
    """(type, choices, known) from a `type=` value (click.Choice carries the choices)."""
    if node is None:
        return None, None, True
    target = node.func if isinstance(node, ast.Call) else node
    qual = names.qualname(target) or (target.id if isinstance(target, ast.Name) else "")
    if qual == "click.Choice" and isinstance(node, ast.Call) and node.args:
        choices, known = _choices(node.args[0], names)
        return "choice", choices, known
    simple = _SIMPLE_TYPES.get(qual)
    if simple is not None:
        return simple, None, True
    label = qual.rsplit(".", 1)[-1] if qual else ast.unparse(target)[:40]
    return label or None, None, False


def option_dest(call: ast.Call) -> str | None:
    """The attribute an `add_argument` call stores into: `dest=`, else the positional name, else the first long
    flag, else the first flag (dashes to underscores), as argparse derives it; None when it names no literal
    flag. The one derivation the CLI reader, the bindings (`argparse:<dest>`) and the compute pass share."""
    dest = literal_str(argument(call, None, "dest"))
    if dest:
        return dest
    strings = [s for s in (literal_str(a) for a in call.args) if s]
    if not strings:
        return None
    return _dest([s for s in strings if s.startswith("-")], [s for s in strings if not s.startswith("-")])


def _dest(flags: list[str], bare: list[str]) -> str:
    if bare:
        return bare[0]
    long_flags = [f for f in flags if f.startswith("--")]
    flag = (long_flags or flags or ["?"])[0]
    return flag.split("/", 1)[0].lstrip("-").replace("-", "_")


def argparse_option(node: ast.Call, names: Names, loc: Location, evidence: str) -> tuple[CliOption, bool]:
    """Read one `parser.add_argument(...)` call.

    Returns:
        (option, literal_flags): `literal_flags` is False when a flag or name is computed (`*names`, a
        variable), which means the parser's set of options is not fully known.
    """
    strings = [literal_str(a) for a in node.args]
    literal_flags = all(s is not None for s in strings) and not any(isinstance(a, ast.Starred) for a in node.args)
    flags = [s for s in strings if s and s.startswith("-")]
    known = literal_flags and not any(k.arg is None for k in node.keywords)
    action_node = argument(node, None, "action")
    action = literal_str(action_node) if action_node is not None else None
    if action_node is not None and action is None:
        qual = names.qualname(action_node) or ""
        action = "boolean_optional" if qual.endswith("BooleanOptionalAction") else None
        known = known and action is not None
    typ, choices, type_known = _type_name(argument(node, None, "type"), names)
    choices_node = argument(node, None, "choices")
    if choices_node is not None:
        choices, choices_known = _choices(choices_node, names)
        known = known and choices_known
    known = known and type_known
    nargs = _literal(argument(node, None, "nargs"))
    required_node = argument(node, None, "required")
    required = (_literal(required_node) == "True") if required_node is not None else (not flags and nargs not in
                                                                                        {"?", "*"})
    dest = option_dest(node) or "?"
    option = CliOption("argparse", tuple(flags), dest, loc, evidence, typ, choices, nargs,
                       _literal(argument(node, None, "default")), action, required, known)
    return option, literal_flags


def click_option(node: ast.Call, callee: str, names: Names, loc: Location, evidence: str) -> CliOption:
    """Read one `@click.option(...)` / `@click.argument(...)` decorator call."""
    strings = [literal_str(a) for a in node.args]
    known = all(s is not None for s in strings)
    flags: list[str] = []
    for s in strings:
        if s and s.startswith("-"):
            flags.extend(part for part in s.split("/") if part)  # "--shout/--no-shout"
    bare = [s for s in strings if s and not s.startswith("-")]
    typ, choices, type_known = _type_name(argument(node, None, "type"), names)
    is_flag = _literal(argument(node, None, "is_flag")) == "True" or any("/" in (s or "") for s in strings)
    multiple = _literal(argument(node, None, "multiple")) == "True"
    action = "flag" if is_flag else "append" if multiple else None
    nargs = _literal(argument(node, None, "nargs"))
    positional = callee.endswith("argument")
    required_node = argument(node, None, "required")
    required = (_literal(required_node) == "True") if required_node is not None else positional
    if argument(node, None, "default") is not None and required_node is None:
        required = False
    return CliOption("click", tuple(flags), _dest(flags, bare), loc, evidence, typ, choices, nargs,
                     _literal(argument(node, None, "default")), action, required, known and type_known)


def typer_option(arg: ast.arg, default: ast.expr | None, marker: ast.Call | None, names: Names, loc: Location,
                 evidence: str) -> CliOption:
    """Read one parameter of a typer command: `name: int = 3` or `name: Annotated[str, typer.Option(...)]`.

    typer makes a parameter without a default a positional argument, and one with a default an option
    `--name-with-dashes`; `bool` options become `--name/--no-name` flags.
    """
    annotation = arg.annotation
    if isinstance(annotation, ast.Subscript) and (names.qualname(annotation.value) or "").endswith("Annotated"):
        annotation = annotation.slice.elts[0] if isinstance(annotation.slice, ast.Tuple) else annotation.slice
    typ, choices, known = _type_name(annotation, names) if annotation is not None else (None, None, True)
    is_argument = marker is not None and (names.qualname(marker.func) or "").endswith("Argument")
    value: ast.expr | None = default
    if marker is not None:
        first = argument(marker, 0, "default")
        value = first if first is not None and not (literal_str(first) or "").startswith("-") else None
        if marker is default:
            default = value
    required = value is None or (isinstance(value, ast.Constant) and value.value is ...)
    if default is None and marker is None:
        is_argument = True
    flags: tuple[str, ...] = ()
    if not is_argument:
        declared = [s for s in (literal_str(a) for a in (marker.args if marker else [])) if s and s.startswith("-")]
        flags = tuple(declared) or ("--" + arg.arg.replace("_", "-"),)
        if typ == "bool":
            flags = (*flags, "--no-" + flags[0].lstrip("-"))
    literal = _literal(value) if value is not None and not (isinstance(value, ast.Constant) and value.value is ...) \
        else None
    return CliOption("typer", flags, arg.arg, loc, evidence, typ, choices, None, literal,
                     "flag" if typ == "bool" and not is_argument else None, required, known)
