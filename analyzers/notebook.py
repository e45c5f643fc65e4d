"""Jupyter notebooks (.ipynb JSON) to one `SourceFile`, without a kernel: code cells joined, magics blanked.

Line numbers are the point: every code cell's lines keep their place in the joined text, so a `Location`
maps back to "cell 3, line 7" exactly as Jupyter shows it. Magic and shell lines (`%pip install x`,
`!ls`, `files = !ls`) and their backslash continuations become empty lines and are kept in `magics`; a
cell magic (`%%bash`) blanks its whole cell, except the ones whose body is still Python (`%%time`).
"""

from __future__ import annotations

import ast
import json
import re
import warnings
from typing import Any

from .model import Location, Problem
from .source import CellSpan, SourceFile

#: Cell magics whose body is ordinary Python that runs in the kernel.
PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun", "debug"})
#: `name = !cmd` / `name = %magic`: IPython assignment from a shell command or line magic.
_ASSIGNED_MAGIC = re.compile(r"^\s*[A-Za-z_][\w.]*\s*=\s*[!%]")
#: `obj?` / `obj??` help lines.
_HELP_LINE = re.compile(r"^\s*[\w.]+\?\??\s*$")


def _is_magic(line: str) -> bool:
    stripped = line.lstrip()
    return stripped.startswith(("%", "!")) or bool(_ASSIGNED_MAGIC.match(line)) or bool(_HELP_LINE.match(line))


def _cell_source(cell: dict[str, Any]) -> str | None:
    source = cell.get("source", cell.get("input", ""))  # "input" is nbformat 3
    if isinstance(source, list) and all(isinstance(s, str) for s in source):
        return "".join(source)
    if isinstance(source, str):
        return source
    return None


def _language(nb: dict[str, Any]) -> str | None:
    """The notebook's language from `language_info.name`, else `kernelspec.language`, else None."""
    meta = nb.get("metadata")
    if not isinstance(meta, dict):
        return None
    info = meta.get("language_info")
    if isinstance(info, dict) and isinstance(info.get("name"), str):
        return info["name"].lower()
    spec = meta.get("kernelspec")
    if isinstance(spec, dict) and isinstance(spec.get("language"), str):
        return spec["language"].lower()
    return None


def _blank_magics(lines: list[str]) -> tuple[list[str], list[tuple[int, str]]]:
    """Blank magic lines (and their `\\` continuations); return the new lines and (index, magic text)."""
    out: list[str] = []
    magics: list[tuple[int, str]] = []
    if lines and lines[0].lstrip().startswith("%%"):
        name = lines[0].lstrip()[2:].split(maxsplit=1)[0] if lines[0].strip() != "%%" else ""
        magics.append((0, lines[0].strip()))
        if name not in PYTHON_CELL_MAGICS:
            return [""] * len(lines), magics
        out.append("")
        lines = lines[1:]
        offset = 1
    else:
        offset = 0
    i = 0
    while i < len(lines):
        line = lines[i]
        if _is_magic(line):
            start = i
            parts = [line.strip()]
            # `pass` at the magic's indentation keeps `if iskaggle:\n    !pip install x` a valid block.
            out.append(line[: len(line) - len(line.lstrip())] + "pass")
            while parts[-1].endswith("\\") and i + 1 < len(lines):
                parts[-1] = parts[-1][:-1].rstrip()
                i += 1
                parts.append(lines[i].strip())
                out.append("")
            magics.append((start + offset, " ".join(p for p in parts if p)))
        else:
            out.append(line)
        i += 1
    return out, magics


#: An `if` test naming a hosted notebook service: its branch runs only there (`if IN_COLAB:`,
#: `if 'google.colab' in sys.modules:`, `iskaggle = os.environ.get('KAGGLE_KERNEL_RUN_TYPE')`).
_ENVIRONMENT_TEST = re.compile(r"colab|kaggle", re.I)


def _environment_branch_lines(tree: ast.Module) -> set[int]:
    """Lines of branches that only a hosted notebook service takes: their shell lines never run in a job."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.If) or not _ENVIRONMENT_TEST.search(ast.unparse(node.test)):
            continue
        negated = isinstance(node.test, ast.UnaryOp) and isinstance(node.test.op, ast.Not)
        branch = node.orelse if negated else node.body
        if branch:
            lines.update(range(branch[0].lineno, (branch[-1].end_lineno or branch[-1].lineno) + 1))
    return lines


#: A real notebook nests about 6 levels deep; 100,000 brackets would exhaust the parser's recursion.
MAX_JSON_DEPTH = 64
_BRACKETS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def _nesting_depth(data: bytes | str) -> int:
    """Deepest bracket nesting outside JSON strings (linear, no recursion), to refuse hostile input early."""
    raw = data.encode("utf-8", "replace") if isinstance(data, str) else data
    depth = deepest = 0
    for match in _BRACKETS.finditer(raw):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_JSON_DEPTH:
                    return deepest
        elif token in (b"]", b"}"):
            depth -= 1
    return deepest


def _parse_quietly(text: str, filename: str) -> ast.Module:
    with warnings.catch_warnings():
        # invalid escape sequences in user code are the user's business, not our stderr's
        warnings.simplefilter("ignore")
        return ast.parse(text, filename=filename)


def parse_notebook(data: bytes | str, path: str) -> tuple[SourceFile | None, tuple[Problem, ...]]:
    """Turn notebook JSON into a `SourceFile` of its code cells.

    Args:
        data: the .ipynb file content.
        path: POSIX path relative to the analysis root, used in every Location.

    Returns:
        (source, problems). `source` is None when the JSON is invalid, is not a notebook (no cell list)
        or the kernel language is not Python; each such case is one Problem. A code cell with a syntax
        error is dropped (blanked in the joined text) with a Problem naming the cell; the others stay.
        A notebook without code cells gives an empty module and no Problem.
    """
    top = Location(path, 1)
    if _nesting_depth(data) > MAX_JSON_DEPTH:
        return None, (Problem(top, f"notebook JSON is nested deeper than {MAX_JSON_DEPTH} levels; "
                              "not a notebook Jupyter writes; not analysed"),)
    try:
        nb = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError is a ValueError
        return None, (Problem(top, f"not valid notebook JSON ({exc}); open and re-save it in Jupyter"),)
    except RecursionError:
        return None, (Problem(top, "notebook JSON is nested too deeply to read; not analysed"),)
    if not isinstance(nb, dict):
        return None, (Problem(top, "not a notebook: the JSON top level is not an object"),)
    cells = nb.get("cells")
    if cells is None and isinstance(nb.get("worksheets"), list) and nb["worksheets"]:
        sheet = nb["worksheets"][0]
        cells = sheet.get("cells") if isinstance(sheet, dict) else None
    if not isinstance(cells, list):
        return None, (Problem(top, "not a notebook: no list of cells"),)
    language = _language(nb)
    if language is not None and language != "python":
        return None, (Problem(top, f"notebook kernel language is {language!r}, not Python; not analysed"),)

    problems: list[Problem] = []
    text_lines: list[str] = []
    spans: list[CellSpan] = []
    magics: list[tuple[int, str]] = []
    body: list[ast.stmt] = []
    for index, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict):
            problems.append(Problem(Location(path, 1, 0, index), "malformed cell (not an object); skipped"))
            continue
        if cell.get("cell_type") != "code":
            continue
        source = _cell_source(cell)
        if source is None:
            problems.append(Problem(Location(path, 1, 0, index), "malformed cell source; skipped"))
            continue
        lines, cell_magics = _blank_magics(source.splitlines())
        if not lines:
            continue
        first = len(text_lines) + 1
        cell_text = "\n".join(lines) + "\n"
        try:
            tree = _parse_quietly(cell_text, f"{path}[{index}]")
        except SyntaxError as exc:
            line = exc.lineno or 1
            problems.append(
                Problem(Location(path, line, max((exc.offset or 1) - 1, 0), index),
                        f"syntax error in cell {index}: {exc.msg}; cell not analysed")
            )
            lines = [""] * len(lines)
        except (ValueError, RecursionError, MemoryError) as exc:
            problems.append(Problem(Location(path, 1, 0, index), f"cell {index} cannot be parsed ({exc}); skipped"))
            lines = [""] * len(lines)
        else:
            ast.increment_lineno(tree, first - 1)
            body.extend(tree.body)
            skipped = _environment_branch_lines(tree)
            cell_magics = [(offset, text) for offset, text in cell_magics if first + offset not in skipped]
        spans.append(CellSpan(index, first, first + len(lines) - 1))
        magics.extend((first + offset, text) for offset, text in cell_magics)
        text_lines.extend(lines)

    module = ast.Module(body=body, type_ignores=[])
    text = "\n".join(text_lines) + ("\n" if text_lines else "")
    src = SourceFile(path=path, text=text, tree=module, module="", cells=tuple(spans), magics=tuple(magics))
    return src, tuple(problems)
