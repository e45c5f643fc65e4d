"""A notebook's code cells as the Python script an ML Job runs, with every line traceable to its cell.

ML Jobs run `.py` entrypoints. `notebook_to_script` turns a notebook into one: code cells in order, each
introduced by a `# %% [cell N]` marker, every cell line kept on one script line (so a traceback's line maps
back to "cell N, line M" through `script_line_to_cell`, from the script text alone). IPython-only syntax
is made plain Python the way a kernel would run it, or commented out with the reason:

- `%pip install` / `!pip install` lines become the plan's pip requirements (the analyzer reads them) and
  are commented out here, so the job never runs pip itself;
- other shell lines (`!ls data`) run through `subprocess` with the shell, as the kernel would, unless they
  use IPython's `{var}` / `$var` expansion; `files = !ls` gets an empty list;
- `%time` / `%timeit` run their statement once; `%cd`, `%env`, `%run` become their Python equivalents;
  display-only magics (`%matplotlib inline`, `%load_ext`, `%config`...) are commented out;
- `%%time`-style cell magics keep their body; `%%writefile` writes its file; other cell magics (`%%bash`,
  `%%html`) are commented out;
- `display()` prints and `get_ipython()` returns an object whose methods do nothing, through a short
  prelude defined only when the notebook uses them; plots render off-screen (MPLBACKEND=Agg).
"""

from __future__ import annotations

import base64
import json
import re
import shlex
from dataclasses import dataclass
from typing import Any

from .notebook import PYTHON_CELL_MAGICS, _cell_source, _is_magic, _language

MARKER = re.compile(r"^# %% \[cell (\d+)\]$")
#: Line magics that only affect display or the interactive session.
_QUIET_MAGICS = frozenset({"matplotlib", "load_ext", "reload_ext", "autoreload", "aimport", "config", "precision",
                           "pylab", "xmode", "pdb", "who", "whos", "history", "lsmagic", "pprint", "notebook",
                           "capture", "store", "reset", "logstart", "colors", "alias", "unalias", "rehashx"})
_PIP_LINE = re.compile(r"^[%!]\s*(?:pip3?|conda|mamba|uv\s+pip|python3?\s+-m\s+pip)\s+install\b")
_ASSIGN = re.compile(r"^(\s*)([A-Za-z_][\w.]*)\s*=\s*[!%]")

_PRELUDE_HEAD = [
    "# Converted by mljobs from {name} for an ML Job: its code cells in order, IPython syntax made plain Python.",
    "# Each '# %% [cell N]' line marks where notebook cell N starts; the lines below it are that cell's lines.",
    "import os as _mljobs_os",
    '_mljobs_os.environ.setdefault("MPLBACKEND", "Agg")  # no screen in a job: plots render off-screen',
]
_PRELUDE_DISPLAY = [
    "",
    "",
    "def display(*objs, **kwargs):  # IPython's display() outside a kernel: print each object",
    "    for obj in objs:",
    "        print(obj)",
]
_PRELUDE_IPYTHON = [
    "",
    "",
    "class _MljobsNoKernel:  # what get_ipython() gives in a job: there is no kernel, so every method does nothing",
    "    def __getattr__(self, name):",
    "        return lambda *args, **kwargs: None",
    "",
    "",
    "def get_ipython():",
    "    return _MljobsNoKernel()",
]


@dataclass(frozen=True, slots=True)
class NotebookScript:
    """The converted script, what happened to IPython-only lines, and the pip lines it took out."""

    script: str
    notes: tuple[str, ...]  # one line per handled magic or dropped cell, naming the cell
    pip_lines: tuple[str, ...]  # the %pip / !pip install lines, as written


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _comment(line: str, why: str) -> str:
    return f"{_indent(line)}pass  # mljobs: {why}: {line.strip()}"


def _shell(line: str, body: str) -> str:
    return f"{_indent(line)}__import__('subprocess').run({body!r}, shell=True, check=False)  # mljobs: was !{body}"


def _line_magic(line: str, text: str, cell: int, notes: list[str]) -> str:
    """One magic line (continuations joined in `text`) as a single Python line."""
    stripped = text.strip()
    if _PIP_LINE.match(stripped):
        return _comment(line, "installed through the job's pip_requirements")
    assigned = _ASSIGN.match(text)
    if assigned:
        notes.append(f"cell {cell}: {stripped!r} has no shell output in a job; {assigned.group(2)} is []")
        return f"{assigned.group(1)}{assigned.group(2)} = []  # mljobs: was {stripped}"
    if stripped.endswith("?") and not stripped.startswith(("%", "!")):
        return _comment(line, "help lookup")
    if stripped.startswith("!"):
        body = stripped[1:].strip()
        if "{" in body or "$" in body:
            notes.append(f"cell {cell}: {stripped!r} uses IPython variable expansion; not run")
            return _comment(line, "shell line with IPython expansion, not run")
        notes.append(f"cell {cell}: {stripped!r} runs in the job's shell")
        return _shell(line, body)
    name, _, arg = stripped.lstrip("%").partition(" ")
    arg = arg.strip()
    if name in {"time", "timeit"} and arg:
        words = arg.split()
        while words and words[0].startswith("-"):  # %timeit -n 10 -r 3 stmt
            words = words[2:] if words[0] in {"-n", "-r"} else words[1:]
        return f"{_indent(line)}{' '.join(words)}  # mljobs: was %{name}"
    if name == "cd" and arg:
        return f"{_indent(line)}_mljobs_os.chdir({arg!r})  # mljobs: was %cd"
    if name in {"env", "set_env"} and ("=" in arg or " " in arg):
        key, _, value = arg.replace("=", " ", 1).partition(" ")
        return f"{_indent(line)}_mljobs_os.environ[{key.strip()!r}] = {value.strip()!r}  # mljobs: was %{name}"
    if name == "run" and arg:
        try:
            parts = shlex.split(arg)
        except ValueError:
            parts = []
        if parts and not parts[0].startswith("-"):
            return (f"{_indent(line)}__import__('runpy').run_path({parts[0]!r}, run_name='__main__')"
                    "  # mljobs: was %run")
    if name in {"sx", "system"} and arg:
        return _shell(line, arg)
    if name in _QUIET_MAGICS:
        return _comment(line, "notebook-only magic")
    notes.append(f"cell {cell}: magic {stripped.split()[0]!r} has no job equivalent; commented out")
    return _comment(line, "no job equivalent")


def _cell_magic(lines: list[str], cell: int, notes: list[str]) -> list[str] | None:
    """A cell starting with `%%name`: its lines converted, or None when its body is ordinary Python."""
    head = lines[0].strip()
    name, _, arg = head[2:].partition(" ")
    if name in PYTHON_CELL_MAGICS:
        return None
    if name == "writefile" and arg.strip():
        try:
            words = shlex.split(arg)
        except ValueError:
            words = []
        append = "-a" in words or "--append" in words
        target = next((w for w in words if not w.startswith("-")), None)
        if target is not None:
            body = "\n".join(lines[1:]) + "\n"
            data = base64.b64encode(body.encode()).decode()
            first = (f"with open({target!r}, {'a' if append else 'w'!r}) as _mljobs_f: _mljobs_f.write(__import__("
                     f"'base64').b64decode({data!r}).decode())  # mljobs: was {head}")
            return [first] + [f"# {text}" for text in lines[1:]]
    notes.append(f"cell {cell}: a {head.split()[0]} cell is not Python; commented out")
    return [f"# mljobs: {head} cell not run"] + [f"# {text}" for text in lines[1:]]


def _convert_cell(source: str, cell: int, notes: list[str], pip: list[str]) -> list[str]:
    lines = source.splitlines()
    if not lines:
        return []
    if lines[0].lstrip().startswith("%%"):
        converted = _cell_magic(lines, cell, notes)
        if converted is not None:
            return converted
        name = lines[0].strip()
        lines = lines[1:]
        out = [f"pass  # mljobs: {name} dropped, the cell body runs as is"]
    else:
        out = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if not _is_magic(line):
            out.append(line)
            i += 1
            continue
        parts = [line.strip()]
        span = 1
        while parts[-1].endswith("\\") and i + span < len(lines):
            parts[-1] = parts[-1][:-1].rstrip()
            parts.append(lines[i + span].strip())
            span += 1
        text = " ".join(p for p in parts if p)
        if _PIP_LINE.match(text.strip()):
            pip.append(text.strip())
        out.append(_line_magic(line, text, cell, notes))
        out.extend("# mljobs: continued above" for _ in range(span - 1))
        i += span
    return out


def notebook_to_script(data: bytes | str, name: str) -> NotebookScript | str:
    """Convert notebook JSON into the script a job runs.

    Args:
        data: the .ipynb content.
        name: the notebook's file name, quoted in the script's header.

    Returns:
        The NotebookScript, or a one-line reason when the data is not a Python notebook (invalid JSON, no
        cell list, another kernel language). Cells that are not code are skipped; a code cell that does not
        parse is kept as written (the job then fails on it, as the notebook would) and named in `notes`.
    """
    try:
        nb: Any = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        return f"{name} is not valid notebook JSON ({exc})"
    cells = nb.get("cells") if isinstance(nb, dict) else None
    if cells is None and isinstance(nb, dict) and isinstance(nb.get("worksheets"), list) and nb["worksheets"]:
        sheet = nb["worksheets"][0]
        cells = sheet.get("cells") if isinstance(sheet, dict) else None
    if not isinstance(cells, list):
        return f"{name} is not a notebook (no list of cells)"
    language = _language(nb)
    if language is not None and language != "python":
        return f"{name} runs a {language} kernel, not Python"
    notes: list[str] = []
    pip: list[str] = []
    body: list[str] = []
    for index, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = _cell_source(cell)
        if source is None or not source.strip():
            continue
        converted = _convert_cell(source, index, notes, pip)
        try:
            compile("\n".join(converted) + "\n", f"{name}[{index}]", "exec", dont_inherit=True)
        except SyntaxError as exc:
            notes.append(f"cell {index}: does not parse after conversion ({exc.msg}, line {exc.lineno}); kept as is")
        except ValueError:
            notes.append(f"cell {index}: cannot be compiled; kept as is")
        body += ["", "", f"# %% [cell {index}]", *converted]
    text = "\n".join(body)
    head = [line.format(name=name) for line in _PRELUDE_HEAD]
    if re.search(r"\bdisplay\s*\(", text) and not re.search(r"\bimport\b[^\n]*\bdisplay\b", text):
        head += _PRELUDE_DISPLAY
    if re.search(r"\bget_ipython\s*\(", text):
        head += _PRELUDE_IPYTHON
    return NotebookScript("\n".join(head + body) + "\n", tuple(notes), tuple(pip))


def script_line_to_cell(script: str, line: int) -> tuple[int, int] | None:
    """(cell, line within the cell) of a 1-based line of a converted script; None in the prelude or a marker."""
    lines = script.splitlines()
    for number in range(min(line, len(lines)), 0, -1):
        match = MARKER.match(lines[number - 1])
        if match:
            return (int(match.group(1)), line - number) if line > number else None
    return None


_FRAME = re.compile(r'(File "(?P<file>[^"]+)", line (?P<line>\d+))')


def map_traceback(text: str, script_name: str, script: str) -> str:
    """Append `[cell N, line M]` to every traceback frame of the converted script in `text` (job logs)."""

    def annotate(match: re.Match[str]) -> str:
        if not match.group("file").replace("\\", "/").endswith("/" + script_name) and \
                match.group("file") != script_name:
            return match.group(0)
        where = script_line_to_cell(script, int(match.group("line")))
        return match.group(0) + (f" [notebook cell {where[0]}, line {where[1]}]" if where else "")

    return _FRAME.sub(annotate, text)
