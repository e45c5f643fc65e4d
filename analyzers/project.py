"""Inputs: a .py file, a .ipynb notebook or a project folder; entrypoint discovery; reading and parsing
each file once; transitive local imports.

Bad content inside the project (syntax errors, Python 2, binary or undecodable files, files over 10 MB,
symlink loops, unreadable folders) becomes a `Problem` and the rest is still analysed. Only an unusable
input as a whole raises `AnalysisInputError` (see `open_project`).
"""

from __future__ import annotations

import ast
import gc
import io
import logging
import os
import re
import stat
import tokenize
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from . import guarded
from .errors import AnalysisInputError
from .model import ImportFinding, ImportKind, Location, Problem
from .notebook import parse_notebook
from .source import SourceFile

log = logging.getLogger(__name__)

#: Larger files are skipped unread: a 50 MB generated module is data, not code worth parsing.
MAX_FILE_BYTES = 10 * 1024 * 1024
#: The tree listing stops here (a script given alone lives in a folder that may be the user's home).
MAX_TREE_FILES = 20_000
#: Folders that never hold the project's own code.
SKIP_DIRS = frozenset({
    ".git", ".hg", ".svn", "__pycache__", "node_modules", ".venv", "venv", ".tox", ".nox", ".mypy_cache",
    ".pytest_cache", ".ruff_cache", ".ipynb_checkpoints", "site-packages", ".eggs", ".idea", ".vscode",
})
#: Conventional entrypoint names, best first, used when `__main__` guards do not decide.
CONVENTIONAL_ENTRYPOINTS = ("train.py", "main.py", "run.py", "app.py", "__main__.py", "cli.py", "script.py")

_MAIN_GUARD = re.compile(rb"""^if\s+__name__\s*==\s*['"]__main__['"]\s*:""", re.MULTILINE)
_CODING_COOKIE = re.compile(rb"^[ \t\f]*#.*?coding[:=]", re.MULTILINE)
_PY2_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^\s*print\s+(?![(=])\S", re.MULTILINE), "print statement"),
    (re.compile(r"^\s*except\s+[\w.]+\s*,\s*\w+\s*:", re.MULTILINE), "`except X, e:`"),
    (re.compile(r"^\s*exec\s+['\"\w]", re.MULTILINE), "exec statement"),
    (re.compile(r"^\s*raise\s+[\w.]+\s*,", re.MULTILINE), "`raise E, msg`"),
    (re.compile(r"\b\d+L\b"), "long integer literal"),
    (re.compile(r"<>"), "`<>` operator"),
)


# --------------------------------------------------------------------------------------------------- tree


@dataclass(frozen=True, slots=True)
class FileEntry:
    """One file of the project tree as listed (no content read)."""

    path: str  # POSIX, relative to the root
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class ProjectTree:
    """The files under a root (bounded listing), with the lookups import resolution needs."""

    root: Path  # resolved
    files: Mapping[str, FileEntry]
    dirs: frozenset[str]  # relative folders that hold at least one .py file (possible namespace packages)
    problems: tuple[Problem, ...] = ()
    truncated: bool = False
    src_layout: bool = field(default=False)

    @property
    def project_files(self) -> frozenset[str]:
        return frozenset(self.files)

    def module_name(self, rel: str) -> str:
        """Dotted module of a .py file (`pkg/util.py` -> `pkg.util`; `src/` dropped in a src layout)."""
        if not rel.endswith(".py"):
            return ""
        parts = rel[:-3].split("/")
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if self.src_layout and parts and parts[0] == "src":
            parts = parts[1:]
        return ".".join(parts)

    def top_level_names(self) -> frozenset[str]:
        """Names importable from the root (or src/): top-level modules and packages of the project."""
        names: set[str] = set()
        for rel in self.files:
            parts = rel.split("/")
            if self.src_layout and parts[0] == "src" and len(parts) > 1:
                parts = parts[1:]
            if len(parts) == 1 and parts[0].endswith(".py"):
                names.add(parts[0][:-3])
            elif len(parts) > 1 and rel.endswith(".py"):
                names.add(parts[0])
        return frozenset(n for n in names if n.isidentifier())


def list_tree(root: Path, max_files: int = MAX_TREE_FILES) -> ProjectTree:
    """List the files under `root` without reading them.

    Symlinks are followed only when they stay inside the root, and each real folder is listed once, so
    symlink loops end. Unreadable folders become Problems. Hidden folders and SKIP_DIRS are not entered.
    The listing stops after `max_files` files (`truncated`).
    """
    root = root.resolve()
    files: dict[str, FileEntry] = {}
    dirs: set[str] = set()
    problems: list[Problem] = []
    root_str = str(root)
    visited: set[tuple[int, int]] = set()
    try:
        st = root.stat()
        visited.add((st.st_dev, st.st_ino))
    except OSError as exc:
        raise AnalysisInputError(f"cannot read {root}: {exc.strerror}") from exc
    stack: list[tuple[str, str]] = [(root_str, "")]
    truncated = False
    while stack and not truncated:
        abs_dir, rel_dir = stack.pop()
        try:
            with os.scandir(abs_dir) as it:
                entries = sorted(it, key=lambda e: e.name)
        except PermissionError:
            problems.append(Problem(Location(rel_dir or ".", 1), "permission denied; folder not analysed"))
            continue
        except OSError as exc:
            problems.append(Problem(Location(rel_dir or ".", 1), f"cannot list folder ({exc.strerror})"))
            continue
        subdirs: list[tuple[str, str]] = []
        for entry in entries:
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            try:
                is_link = entry.is_symlink()
                if is_link:
                    real = os.path.realpath(entry.path)
                    if real != root_str and not real.startswith(root_str + os.sep):
                        problems.append(Problem(Location(rel, 1), "symlink points outside the project folder; "
                                                "not followed, not read and not shipped"))
                        continue
                st = entry.stat()  # follows links (inside the root, checked above)
            except OSError:
                continue  # broken symlink or vanished file
            if stat.S_ISDIR(st.st_mode):
                if entry.name.startswith(".") or entry.name in SKIP_DIRS:
                    continue
                key = (st.st_dev, st.st_ino)
                if key in visited:
                    if is_link:
                        problems.append(Problem(Location(rel, 1), "symlink to a folder already listed (a loop?); not followed"))
                    continue
                visited.add(key)
                subdirs.append((entry.path, rel))
            elif stat.S_ISREG(st.st_mode):
                if len(files) >= max_files:
                    truncated = True
                    problems.append(Problem(Location(".", 1), f"more than {max_files} files; the listing stopped there"))
                    break
                files[rel] = FileEntry(rel, st.st_size, st.st_mtime_ns)
                if rel.endswith(".py") and rel_dir:
                    dirs.add(rel_dir)
        stack.extend(reversed(subdirs))
    # every ancestor of a folder with .py files is a (namespace) package candidate too
    for d in list(dirs):
        while "/" in d:
            d = d.rsplit("/", 1)[0]
            dirs.add(d)
    src_layout = "src" in dirs and "src/__init__.py" not in files
    return ProjectTree(root, files, frozenset(dirs), tuple(problems), truncated, src_layout)


# --------------------------------------------------------------------------------------------------- input


@dataclass(frozen=True)
class ProjectInput:
    """What to analyse: the listed tree and the entrypoint within it ("" only in all-files mode)."""

    tree: ProjectTree
    entrypoint: str
    is_notebook: bool

    @property
    def root(self) -> Path:
        return self.tree.root


def open_project(path: str | os.PathLike[str], entrypoint: str | os.PathLike[str] | None = None, *,
                 all_files: bool = False) -> ProjectInput:
    """Validate the input and find the entrypoint.

    Args:
        path: a `.py` file, a `.ipynb` notebook, or a folder.
        entrypoint: for a folder, the file to run (relative to the folder, or absolute inside it).
            Omitted: the obvious one (see `find_entrypoint`).
        all_files: the whole folder is analysed; a missing entrypoint is then not an error ("").

    Returns:
        The listed tree (rooted at the folder, or at a file's parent) and the entrypoint's relative path.

    Raises:
        AnalysisInputError: the path does not exist, is neither .py/.ipynb nor a folder, the entrypoint is
            outside the root or missing, or no entrypoint can be found in a folder.
    """
    try:
        return _open_project(path, entrypoint, all_files=all_files)
    except AnalysisInputError:
        raise
    except (OSError, ValueError, RuntimeError, RecursionError) as exc:
        # A NUL byte, a 4,096-character component, a symlink loop: one line, never a traceback.
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        if isinstance(exc, RuntimeError) and not isinstance(exc, RecursionError):
            reason = "symlink loop"
        elif isinstance(exc, ValueError):
            reason = "the path holds a NUL byte or other character the OS refuses"
        raise AnalysisInputError(f"{guarded.shown(path)}: not a usable path ({reason})") from None


def _open_project(path: str | os.PathLike[str], entrypoint: str | os.PathLike[str] | None, *,
                  all_files: bool) -> ProjectInput:
    p = Path(path).expanduser()
    if not p.exists():
        raise AnalysisInputError(f"{guarded.shown(path)}: no such file or folder; pass a .py script, a .ipynb notebook "
                                 "or a project folder")
    if p.is_file():
        if entrypoint is not None and Path(entrypoint).name != p.name:
            raise AnalysisInputError(f"--entrypoint is only for folders; {path} is a file (pass its folder instead)")
        if p.suffix not in (".py", ".ipynb"):
            raise AnalysisInputError(f"{path}: not a Python script or notebook; pass a .py or .ipynb file or a folder")
        resolved = p.resolve()
        tree = _ensure_listed(list_tree(resolved.parent), resolved.name)
        return ProjectInput(tree, resolved.name, resolved.suffix == ".ipynb")
    if not p.is_dir():
        raise AnalysisInputError(f"{path}: not a regular file or folder")
    tree = list_tree(p)
    if entrypoint is not None:
        rel = _entry_in_root(tree.root, Path(entrypoint))
        tree = _ensure_listed(tree, rel)
    else:
        rel = find_entrypoint(tree, required=not all_files)
    return ProjectInput(tree, rel, rel.endswith(".ipynb"))


def _ensure_listed(tree: ProjectTree, rel: str) -> ProjectTree:
    """Add the entrypoint to a listing that skipped it (hidden folder, truncated listing)."""
    if rel in tree.files:
        return tree
    try:
        st = (tree.root / rel).stat()
    except OSError as exc:
        raise AnalysisInputError(f"cannot read {tree.root / rel}: {exc.strerror}") from exc
    files = dict(tree.files)
    files[rel] = FileEntry(rel, st.st_size, st.st_mtime_ns)
    return ProjectTree(tree.root, files, tree.dirs, tree.problems, tree.truncated, tree.src_layout)


def _entry_in_root(root: Path, entrypoint: Path) -> str:
    candidate = (entrypoint if entrypoint.is_absolute() else root / entrypoint).resolve()
    try:
        rel = candidate.relative_to(root).as_posix()
    except ValueError:
        raise AnalysisInputError(f"entrypoint {entrypoint} is outside the project folder {root}; "
                                 "pass a file inside it") from None
    if not candidate.is_file():
        raise AnalysisInputError(f"entrypoint {entrypoint} does not exist in {root}; pass a file relative to the folder")
    if candidate.suffix not in (".py", ".ipynb"):
        raise AnalysisInputError(f"entrypoint {entrypoint} is not a .py script or .ipynb notebook")
    return rel


def _has_main_guard(path: Path, size: int, root: Path) -> bool:
    if size > MAX_FILE_BYTES:
        return False
    try:
        return _MAIN_GUARD.search(guarded.read_bytes(path, root, limit=MAX_FILE_BYTES)) is not None
    except guarded.GuardedReadError:
        return False


def find_entrypoint(tree: ProjectTree, *, required: bool = True) -> str:
    """Find the obvious entrypoint among the folder's top-level files.

    Order: the single top-level .py with an `if __name__ == "__main__":` guard; else the first
    conventional name (train.py, main.py, run.py, app.py, ...) among the guarded files, or among all
    top-level files when none is guarded; else the only top-level .py; else the only notebook.

    Returns:
        The entrypoint's relative path; "" when none is found and `required` is False.

    Raises:
        AnalysisInputError: none (or no single one) found and `required`; the message lists candidates.
    """
    top_py = sorted(rel for rel in tree.files if "/" not in rel and rel.endswith(".py"))
    guarded = [rel for rel in top_py if _has_main_guard(tree.root / rel, tree.files[rel].size, tree.root)]
    if len(guarded) == 1:
        return guarded[0]
    for name in CONVENTIONAL_ENTRYPOINTS:
        if name in (guarded or top_py):
            return name
    if len(top_py) == 1:
        return top_py[0]
    notebooks = sorted(rel for rel in tree.files if "/" not in rel and rel.endswith(".ipynb"))
    if not top_py and len(notebooks) == 1:
        return notebooks[0]
    if not required:
        return ""
    candidates = guarded or top_py or notebooks
    if candidates:
        listed = ", ".join(candidates[:8]) + (", ..." if len(candidates) > 8 else "")
        raise AnalysisInputError(f"cannot tell which file in {tree.root} is the entrypoint (candidates: {listed}); "
                                 "pass --entrypoint FILE")
    raise AnalysisInputError(f"no .py script or notebook at the top of {tree.root}; pass --entrypoint FILE "
                             "(e.g. src/pkg/train.py) or the script itself")


# --------------------------------------------------------------------------------------------------- reading


def _python2_hint(text: str, exc: SyntaxError) -> str | None:
    if exc.msg and ("Missing parentheses in call to 'print'" in exc.msg or "Missing parentheses in call to 'exec'" in exc.msg):
        return "print statement"
    for pattern, what in _PY2_PATTERNS:
        if pattern.search(text):
            return what
    return None


def parse_python(text: str, path: str, module: str = "") -> tuple[SourceFile | None, tuple[Problem, ...]]:
    """Parse Python source text into a SourceFile; a syntax error is a Problem (with a Python 2 hint)."""
    gc_was_enabled = gc.isenabled()
    try:
        with warnings.catch_warnings():
            # invalid escape sequences etc. in user code must not reach our stderr
            warnings.simplefilter("ignore")
            # an AST has no reference cycles, so collecting while building it only costs time (~20%)
            gc.disable()
            tree = ast.parse(text, filename=path)
    except SyntaxError as exc:
        line = exc.lineno or 1
        message = f"syntax error: {exc.msg}; file not analysed"
        hint = _python2_hint(text, exc)
        if hint:
            message = f"syntax error: {exc.msg}; looks like Python 2 ({hint}) - port it to Python 3"
        return None, (Problem(Location(path, line, max((exc.offset or 1) - 1, 0)), message),)
    except (ValueError, RecursionError, MemoryError) as exc:
        return None, (Problem(Location(path, 1), f"cannot be parsed ({type(exc).__name__}); file not analysed"),)
    finally:
        if gc_was_enabled:
            gc.enable()
    return SourceFile(path=path, text=text, tree=tree, module=module), ()


def decode_python(data: bytes, path: str) -> tuple[str | None, tuple[Problem, ...]]:
    """Decode source bytes as Python does (PEP 263 cookie or BOM, else UTF-8); failures are Problems."""
    top = Location(path, 1)
    if b"\0" in data:
        return None, (Problem(top, "binary file (contains NUL bytes), not Python source; skipped"),)
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        if _CODING_COOKIE.search(b"\n".join(data.split(b"\n", 2)[:2])):
            return None, (Problem(top, f"bad encoding declaration ({exc.msg}); skipped"),)
        encoding = "utf-8"  # no cookie: the first lines are simply not UTF-8; report where below
    try:
        return data.decode(encoding), ()
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return None, (Problem(Location(path, line), f"not valid {encoding} (byte {exc.start}); add a "
                              "`# -*- coding: <encoding> -*-` line or save the file as UTF-8; skipped"),)


def read_source(root: Path, entry: FileEntry, module: str = "") -> tuple[SourceFile | None, tuple[Problem, ...]]:
    """Read, decode and parse one file (script or notebook) exactly once.

    Returns:
        (source, problems); source is None when the file is too large, unreadable, binary, undecodable,
        or does not parse (notebooks: is not valid notebook JSON). Never raises for file content or OS
        errors.
    """
    top = Location(entry.path, 1)
    if entry.size > MAX_FILE_BYTES:
        mb = entry.size / (1024 * 1024)
        return None, (Problem(top, f"file is {mb:.0f} MB, over the {MAX_FILE_BYTES // (1024 * 1024)} MB limit "
                              "(generated code?); skipped"),)
    try:
        data = guarded.read_bytes(root / entry.path, root, limit=MAX_FILE_BYTES)
    except guarded.GuardedReadError as exc:
        return None, (Problem(top, f"{exc.message}; skipped"),)
    if entry.path.endswith(".ipynb"):
        return parse_notebook(data, entry.path)
    text, problems = decode_python(data, entry.path)
    if text is None:
        return None, problems
    return parse_python(text, entry.path, module)


# --------------------------------------------------------------------------------------------------- imports


class LocalResolver:
    """Resolve import findings of one file to files of the project tree (no disk access: the listing)."""

    def __init__(self, tree: ProjectTree, entrypoint: str) -> None:
        self.tree = tree
        entry_dir = entrypoint.rsplit("/", 1)[0] if "/" in entrypoint else ""
        search = [entry_dir, ""] + (["src"] if tree.src_layout else [])
        self.search_dirs = tuple(dict.fromkeys(search))
        root_name = tree.root.name
        self.root_package = root_name if root_name.isidentifier() else None

    def _lookup(self, base: str) -> str | None:
        """`a/b` -> "a/b.py" | "a/b/__init__.py" | "a/b" (namespace folder) | None."""
        files = self.tree.files
        if base + ".py" in files:
            return base + ".py"
        if base + "/__init__.py" in files:
            return base + "/__init__.py"
        if base in self.tree.dirs:
            return base
        return None

    def resolve_absolute(self, dotted: str) -> str | None:
        path = dotted.replace(".", "/")
        for d in self.search_dirs:
            hit = self._lookup(f"{d}/{path}" if d else path)
            if hit:
                return hit
        if self.root_package and dotted.startswith(self.root_package + "."):
            # the root itself is a package (e.g. a library folder analysed directly)
            return self._lookup(dotted[len(self.root_package) + 1 :].replace(".", "/"))
        return None

    def resolve(self, finding: ImportFinding, from_path: str) -> list[tuple[str, str]]:
        """Local targets of one import: [(dotted name as imported, hit)], hit a file or namespace folder."""
        if finding.kind is ImportKind.PIP_MAGIC:
            return []
        out: list[tuple[str, str]] = []
        if finding.level > 0:
            base_dir = from_path.rsplit("/", 1)[0] if "/" in from_path else ""
            for _ in range(finding.level - 1):
                if not base_dir:
                    return []
                base_dir = base_dir.rsplit("/", 1)[0] if "/" in base_dir else ""
            mod_path = finding.module.replace(".", "/") if finding.module else ""
            base = f"{base_dir}/{mod_path}".strip("/") if mod_path else base_dir
            if mod_path:
                hit = self._lookup(base)
                if hit is None:
                    return []
                out.append((self._dotted(hit), hit))
            for name in finding.names:
                if name != "*":
                    sub = self._lookup(f"{base}/{name}" if base else name)
                    if sub:
                        out.append((self._dotted(sub), sub))
            return out
        parts = finding.module.split(".") if finding.module else []
        for i in range(1, len(parts) + 1):
            dotted = ".".join(parts[:i])
            hit = self.resolve_absolute(dotted)
            if hit is None:
                return out
            out.append((dotted, hit))
        if finding.kind is ImportKind.FROM:
            for name in finding.names:
                if name != "*":
                    sub = self.resolve_absolute(f"{finding.module}.{name}")
                    if sub:
                        out.append((f"{finding.module}.{name}", sub))
        return out

    def _dotted(self, hit: str) -> str:
        return self.tree.module_name(hit) if hit.endswith(".py") else self.tree.module_name(hit + "/__init__.py")


def follow_imports(
    resolver: LocalResolver,
    entrypoint: str,
    imports_of: Callable[[list[str]], Mapping[str, Iterable[ImportFinding]]],
) -> tuple[list[str], set[str]]:
    """Walk local imports breadth-first from the entrypoint.

    Args:
        resolver: the tree's resolver.
        entrypoint: relative path of the first file.
        imports_of: given a batch of newly reached files, their import findings (it reads/parses/scans
            them; a file that cannot be parsed simply has none). One call per breadth-first level, so
            the caller can scan a level in parallel.

    Returns:
        (files in visit order, entrypoint first; dotted local module names imported along the way).
    """
    order = [entrypoint]
    seen = {entrypoint}
    local: set[str] = set()
    level = [entrypoint]
    while level:
        found = imports_of(level)
        nxt: list[str] = []
        for rel in level:
            for finding in found.get(rel, ()):
                for dotted, hit in resolver.resolve(finding, rel):
                    if dotted:
                        local.add(dotted)
                    if hit.endswith(".py") and hit in resolver.tree.files and hit not in seen:
                        seen.add(hit)
                        order.append(hit)
                        nxt.append(hit)
        level = nxt
    return order, local


@dataclass(frozen=True)
class Project:
    """Every file reached from the entrypoint, parsed once (for callers that want the SourceFiles)."""

    root: Path
    entrypoint: str
    sources: tuple[SourceFile, ...]
    local_modules: tuple[str, ...]
    problems: tuple[Problem, ...]


def load_project(path: str | os.PathLike[str], entrypoint: str | None = None) -> Project:
    """Open the input and parse the entrypoint plus every local module it reaches (transitively).

    Raises:
        AnalysisInputError: as `open_project`.
    """
    from .imports import scan_imports  # one level up the pipeline; imported here to keep module order clear

    inp = open_project(path, entrypoint)
    tree = inp.tree
    sources: dict[str, SourceFile] = {}
    problems: list[Problem] = list(tree.problems)

    def imports_of(batch: list[str]) -> dict[str, tuple[ImportFinding, ...]]:
        out = {}
        for rel in batch:
            src, probs = read_source(tree.root, tree.files[rel], tree.module_name(rel))
            problems.extend(probs)
            if src is not None:
                sources[rel] = src
                out[rel] = scan_imports(src)
        return out

    order, local = follow_imports(LocalResolver(tree, inp.entrypoint), inp.entrypoint, imports_of)
    return Project(tree.root, inp.entrypoint, tuple(sources[r] for r in order if r in sources),
                   tuple(sorted(local)), tuple(problems))
