"""Minimal script edits for ML Jobs, as libcst codemods that keep comments and formatting.

Two edits exist: capture the entry point's return value in `__return__` (what `job.result()` returns), and
route a hard-coded output location through `MLRS_STAGE_RESULT_PATH` with the original path as the local
fallback. Each returns the changed text plus a unified diff, or a skip with the reason; nothing is written to
disk here (the server applies edits on request). When a script already takes an output option, plan.py passes
that option instead of editing code.
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor

from .script_edit import RESULT_ENV, CodemodResult, unified_diff


def _parse(source: str) -> cst.Module | str:
    try:
        return cst.parse_module(source)
    except cst.ParserSyntaxError as exc:
        return f"the script does not parse ({str(exc).splitlines()[0]}); fix it before editing"


# ------------------------------------------------------------------------------------------------ __return__


def _is_main_guard(test: cst.BaseExpression) -> bool:
    if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
        return False
    target = test.comparisons[0]
    if not isinstance(target.operator, cst.Equal):
        return False
    sides = [test.left, target.comparator]
    names = [s for s in sides if isinstance(s, cst.Name) and s.value == "__name__"]
    strings = [s for s in sides if isinstance(s, cst.SimpleString) and s.evaluated_value == "__main__"]
    return len(names) == 1 and len(strings) == 1


def _assigns_return(module: cst.Module) -> bool:
    found = False

    class Finder(cst.CSTVisitor):
        def visit_Name(self, node: cst.Name) -> None:
            nonlocal found
            if node.value == "__return__":
                found = True

    module.visit(Finder())
    return found


def _returns_value(module: cst.Module, name: str) -> bool | None:
    """Whether the module-level function `name` has a `return <value>` in its own body (not in nested
    functions, lambdas or classes; `return None` does not count; a generator never counts).

    Returns None when no module-level `def name` exists (imported or built at run time: unknown).
    """
    fn = next((s for s in module.body if isinstance(s, cst.FunctionDef) and s.name.value == name), None)
    if fn is None:
        return None
    state = {"value": False, "generator": False}

    class Finder(cst.CSTVisitor):
        def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
            return node is fn

        def visit_ClassDef(self, node: cst.ClassDef) -> bool:
            return False

        def visit_Lambda(self, node: cst.Lambda) -> bool:
            return False

        def visit_Yield(self, node: cst.Yield) -> None:
            state["generator"] = True

        def visit_Return(self, node: cst.Return) -> None:
            value = node.value
            if value is not None and not (isinstance(value, cst.Name) and value.value == "None"):
                state["value"] = True

    fn.visit(Finder())
    return state["value"] and not state["generator"]


def _call_name(call: cst.Call) -> str:
    func = call.func
    parts = []
    while isinstance(func, cst.Attribute):
        parts.append(func.attr.value)
        func = func.value
    if isinstance(func, cst.Name):
        parts.append(func.value)
    return ".".join(reversed(parts)) or "<call>"


def _entry_of(line: cst.BaseStatement) -> str | None:
    """The called function's last name in `f(...)`, `x = f(...)` or `asyncio.run(f())` (innermost call)."""
    if not isinstance(line, cst.SimpleStatementLine):
        return None
    small = line.body[0]
    call = small.value if isinstance(small, (cst.Expr, cst.Assign)) else None
    while isinstance(call, cst.Call):
        inner = call.args[0].value if call.args and isinstance(call.args[0].value, cst.Call) else None
        if inner is None:
            return _call_name(call).rsplit(".", 1)[-1]
        call = inner
    return None


def capture_return(source: str, path: str = "script.py", entry: str | None = None) -> CodemodResult:
    """Make the entry point's result the job result: `main()` -> `__return__ = main()` under the main guard.

    Handles `if __name__ == "__main__":` with, as a direct statement of its body, a bare call (`main()`,
    `asyncio.run(main())`) or a single-name assignment (`result = main()` -> adds `__return__ = result`).
    With several calls, `entry` (the analyzer's entry-point function name), then `main`, picks one.

    Returns:
        A changed `CodemodResult`, or a skip when: the script does not parse; it already sets `__return__`;
        the called function returns nothing, or is not defined in the file and its result is not assigned
        (`result = train()` shows the author uses the value, so it is captured); there is no main guard; the call is the exit code (`sys.exit(main())`) or nested in try/with/for;
        the guard has no call or several candidate calls.
    """
    module = _parse(source)
    if isinstance(module, str):
        return CodemodResult(source, skipped=module)
    if _assigns_return(module):
        return CodemodResult(source, skipped="the script already sets __return__; nothing to do")
    guards = [(i, s) for i, s in enumerate(module.body) if isinstance(s, cst.If) and _is_main_guard(s.test)]
    if not guards:
        return CodemodResult(source, skipped="no `if __name__ == \"__main__\":` block at module level; assign "
                                             "__return__ = <value> at the end of the script yourself")
    if len(guards) > 1:
        return CodemodResult(source, skipped="several `if __name__ == \"__main__\":` blocks; not guessing which")
    gi, guard = guards[0]
    if not isinstance(guard.body, cst.IndentedBlock):
        return CodemodResult(source, skipped="the main guard is a one-line `if`; rewrite it as a block first")
    body = list(guard.body.body)
    candidates: list[tuple[int, str]] = []  # (index, kind) with kind "call" | "assign"
    for i, stmt in enumerate(body):
        if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1:
            continue
        small = stmt.body[0]
        if isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
            name = _call_name(small.value)
            if name in {"sys.exit", "exit", "quit", "raise SystemExit"}:
                return CodemodResult(source, skipped=f"the entry point's result is the exit code ({name}(...)); "
                                                     "return a value from main and assign __return__ explicitly")
            if name not in {"print", "logging.basicConfig", "warnings.filterwarnings"}:
                candidates.append((i, "call"))
        elif (isinstance(small, cst.Assign) and len(small.targets) == 1
              and isinstance(small.targets[0].target, cst.Name) and isinstance(small.value, cst.Call)):
            candidates.append((i, "assign"))
    if not candidates:
        nested = any(isinstance(s, (cst.Try, cst.With, cst.For, cst.While, cst.If)) for s in body)
        return CodemodResult(source, skipped="no entry-point call directly under the main guard"
                             + (" (it is nested in try/with/loop/if; not rewritten)" if nested else ""))
    if len(candidates) > 1:
        # Several calls: take the one the analyzer named as the entry point, else the one calling `main`.
        for want in (entry, "main"):
            named = [c for c in candidates if want and _entry_of(body[c[0]]) == want]
            if len(named) == 1:
                candidates = named
                break
        else:
            return CodemodResult(source, skipped="several calls under the main guard; not guessing which one "
                                                 "is the entry point (pass its function name)")
    index, kind = candidates[0]
    line = body[index]
    assert isinstance(line, cst.SimpleStatementLine)  # noqa: S101 - sanity check: candidates are single lines
    called = _entry_of(line)
    returns = _returns_value(module, called) if called else None
    if returns is False:
        return CodemodResult(source, skipped=f"{called}() returns nothing (no `return <value>` in its body), so "
                                             "__return__ would be None; route its outputs to "
                                             "MLRS_STAGE_RESULT_PATH instead")
    if returns is None and kind == "call":
        return CodemodResult(source, skipped=f"{called or 'the entry point'}() is not defined in this file; not "
                                             "capturing a value that may not exist")
    small = line.body[0]
    if kind == "call":
        assert isinstance(small, cst.Expr)  # noqa: S101 - sanity check
        new_stmt = cst.Assign(targets=[cst.AssignTarget(cst.Name("__return__"))], value=small.value)
        body[index] = line.with_changes(body=[new_stmt])
        assert isinstance(small.value, cst.Call)  # noqa: S101 - candidates are calls
        change = f"`{_call_name(small.value)}(...)` under the main guard now assigns __return__"
    else:
        assert isinstance(small, cst.Assign)  # noqa: S101 - sanity check
        target = small.targets[0].target
        assert isinstance(target, cst.Name)  # noqa: S101 - sanity check
        assert isinstance(small.value, cst.Call)  # noqa: S101 - candidates assign a call
        extra = cst.SimpleStatementLine(body=[cst.Assign(
            targets=[cst.AssignTarget(cst.Name("__return__"))], value=cst.Name(target.value))])
        body.insert(index + 1, extra)
        change = f"added `__return__ = {target.value}` after `{target.value} = {_call_name(small.value)}(...)`"
    new_guard = guard.with_changes(body=guard.body.with_changes(body=body))
    new_module = module.with_changes(body=[*module.body[:gi], new_guard, *module.body[gi + 1:]])
    code = new_module.code
    return CodemodResult(code, unified_diff(source, code, path), (change,))


# ------------------------------------------------------------------------------------------------ outputs


def _env_get(fallback: str) -> cst.Call:
    return cst.parse_expression(f"os.environ.get({RESULT_ENV!r}, {fallback!r})")  # type: ignore[return-value]


def _replacement(literal: str) -> cst.BaseExpression:
    """`os.environ.get(ENV, dir)` for a directory; `os.path.join(os.environ.get(ENV, dir), name)` for a file."""
    stripped = literal.rstrip("/")
    head, tail = posixpath.split(stripped)
    is_file = "." in tail.strip(".") and not literal.endswith("/")
    if not is_file:
        return _env_get(literal)
    return cst.parse_expression(f"os.path.join(os.environ.get({RESULT_ENV!r}, {head or '.'!r}), {tail!r})")


class _RouteOutputs(cst.CSTTransformer):
    def __init__(self, literals: set[str]) -> None:
        self.literals = literals
        self.replaced: dict[str, int] = {}
        self.left_alone: list[str] = []
        self._protected = 0  # depth inside concatenations / f-strings / docstring statements

    def visit_ConcatenatedString(self, node: cst.ConcatenatedString) -> None:
        self._protected += 1

    def leave_ConcatenatedString(self, original: cst.ConcatenatedString, updated: cst.ConcatenatedString
                                 ) -> cst.BaseExpression:
        self._protected -= 1
        return updated

    def visit_Expr(self, node: cst.Expr) -> None:
        self._protected += isinstance(node.value, cst.SimpleString)

    def leave_Expr(self, original: cst.Expr, updated: cst.Expr) -> cst.Expr:
        self._protected -= isinstance(original.value, cst.SimpleString)
        return updated

    def leave_SimpleString(self, original: cst.SimpleString, updated: cst.SimpleString) -> cst.BaseExpression:
        value = original.evaluated_value
        # The analyzer reports normalised paths ("./output" -> "output"); the fallback keeps the text as written.
        if not isinstance(value, str) or not value or (
                value not in self.literals and posixpath.normpath(value) not in self.literals):
            return updated
        if self._protected:
            self.left_alone.append(f"{value!r} inside a concatenated string or docstring was left alone")
            return updated
        key = value if value in self.literals else posixpath.normpath(value)
        self.replaced[key] = self.replaced.get(key, 0) + 1
        return _replacement(value)


def route_outputs(source: str, literals: Sequence[str], path: str = "script.py") -> CodemodResult:
    """Replace each hard-coded output path literal with a read of MLRS_STAGE_RESULT_PATH, keeping it as fallback.

    A directory literal `"./output"` becomes `os.environ.get("MLRS_STAGE_RESULT_PATH", "./output")`; a file
    literal `"out/model.pkl"` becomes `os.path.join(os.environ.get("MLRS_STAGE_RESULT_PATH", "out"), "model.pkl")`,
    so the script still writes where it did when run locally. `import os` is added when missing. A literal
    matches as written or after `posixpath.normpath` (the analyzer's form); paths with unknown parts (`{}`) are
    ignored.

    Returns:
        A changed `CodemodResult`, or a skip when the script does not parse, no literal was given, or none of the
        literals occurs as a plain string (occurrences in f-strings, concatenations and docstrings are left
        alone and reported as warnings).
    """
    wanted = {lit for lit in literals if isinstance(lit, str) and lit and "{}" not in lit}
    if not wanted:
        return CodemodResult(source, skipped="no output path to route")
    module = _parse(source)
    if isinstance(module, str):
        return CodemodResult(source, skipped=module)
    transformer = _RouteOutputs(wanted)
    new_module = module.visit(transformer)
    warnings = tuple(dict.fromkeys(transformer.left_alone))
    if not transformer.replaced:
        return CodemodResult(source, warnings=warnings, skipped="none of the output paths "
                             f"{sorted(wanted)} occurs as a plain string literal; nothing rewritten")
    context = CodemodContext()
    AddImportsVisitor.add_needed_import(context, "os")
    new_module = AddImportsVisitor(context).transform_module(new_module)
    code = new_module.code
    changes = tuple(
        f"{lit!r} ({n} occurrence{'s' if n > 1 else ''}) now goes to ${RESULT_ENV} in a job, and stays {lit!r} locally"
        for lit, n in sorted(transformer.replaced.items())
    )
    missing = sorted(wanted - set(transformer.replaced))
    if missing:
        warnings += (f"not found as plain string literals: {missing}",)
    return CodemodResult(code, unified_diff(source, code, path), changes, warnings)


def apply_codemods(source: str, *, capture: bool = True, output_literals: Sequence[str] = (),
                   path: str = "script.py", entry: str | None = None) -> CodemodResult:
    """Run the requested edits in order (outputs, then `__return__`) and return one combined result.

    Returns:
        The combined code and a single diff against `source`; `skipped` joins the skip reasons when no edit
        applied. An edit that skips does not stop the others; its reason lands in `warnings`.
    """
    code = source
    changes: list[str] = []
    warnings: list[str] = []
    skips: list[str] = []
    steps = []
    if output_literals:
        steps.append(lambda text: route_outputs(text, output_literals, path))
    if capture:
        steps.append(lambda text: capture_return(text, path, entry))
    for step in steps:
        result = step(code)
        warnings.extend(result.warnings)
        if result.changed:
            code = result.code
            changes.extend(result.changes)
        elif result.skipped:
            skips.append(result.skipped)
    if not changes:
        return CodemodResult(source, warnings=tuple(warnings), skipped="; ".join(skips) or "nothing requested")
    return CodemodResult(code, unified_diff(source, code, path), tuple(changes), tuple(warnings + skips))
