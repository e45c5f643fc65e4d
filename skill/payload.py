"""The payload: exactly the files a job uploads, as one value that planning, export, every backend and the
confirmation fingerprint (server/payload.py) all use.

snowflake-ml-python's `submit_directory` uploads every file under the folder, hidden ones included
(`payload_utils._upload_directory`): `.git/`, virtualenvs, `node_modules/`, `.env` with its keys, and a symlink
as the file it points to. So the folder is filtered here first, and the Snowflake and local backends both ship
this list, copied through one guarded copy (server/payload.py). Filtered always: `.git` (and other VCS
folders), any folder holding `pyvenv.cfg` or `conda-meta` (a Python environment, whatever its name),
`node_modules`, `__pycache__`, `.ipynb_checkpoints`, `.env` / `.env.*`, private keys (by name, and by a PEM
`PRIVATE KEY` header), and every symlink that points out of the folder (named, never followed); then
`.gitignore` files (each applies to its folder, as git does) and a `.mljobsignore` at the root, with git's own
matching (`pathspec`). A symlinked folder that stays inside is followed unless it loops back above itself.

Generated files are part of the payload too: `requirements.txt` written from pip_requirements (the library
writes it over any user file of that name), the entry wrapper (skill/entry.py) when args carry `$MLRS_*`, and
for a notebook plan the converted script `<stem>.py` the launcher runs, in place of the `.ipynb`.

Pure: reads the user's files and nothing else. What it learns from a file (a PEM header, ignore rules) is
remembered by the file's size, mtime, ctime and inode, so listing an unchanged project again opens no file.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pathspec

from mljobs.analyzers import guarded
from mljobs.analyzers.model import SubmitMethod
from mljobs.analyzers.nbscript import notebook_to_script

from .entry import WRAPPER_NAME, WRAPPER_TEXT, needs_wrapper
from .jobplan import JobPlan

CONTAINER_APP = "/mnt/job_stage/app"  # constants.STAGE_VOLUME_MOUNT_PATH / APP_STAGE_SUBPATH
ALWAYS_EXCLUDED_DIRS = frozenset({".git", ".hg", ".svn", "node_modules", "__pycache__", ".ipynb_checkpoints",
                                  ".mypy_cache", ".pytest_cache", ".ruff_cache"})
ENV_MARKERS = ("pyvenv.cfg", "conda-meta")
SECRET_NAMES = pathspec.GitIgnoreSpec.from_lines([
    ".env", ".env.*", "*.pem", "*.key", "*.p8", "*.p12", "*.pfx", "id_rsa", "id_dsa", "id_ecdsa", "id_ed25519",
    ".netrc", ".pypirc", "connections.toml",
])
IGNORE_FILES = (".gitignore",)
ROOT_IGNORE = ".mljobsignore"
LARGE_FILE_BYTES = 50 * 1024 * 1024
#: A folder with more files than this is refused (a home folder given by mistake), before it is all listed.
MAX_PAYLOAD_FILES = 20_000
OUTSIDE = "a symlink that points outside the payload folder"
_PEM_PRIVATE = b"PRIVATE KEY-----"
_MEMO_MAX = 100_000
_T = TypeVar("_T")
_memo: dict[tuple[Any, ...], Any] = {}


class PayloadError(ValueError):
    """The payload cannot be built: too many files, or a notebook that can no longer be read or converted."""


@dataclass(frozen=True, slots=True)
class PayloadFile:
    """One uploaded file: `path` relative to the payload root (posix); `content` only for generated files."""

    path: str
    size: int
    origin: str = "file"  # "file" (copied from `source`) | "generated"
    source: str | None = None  # absolute local path for origin "file"
    content: str | None = None


@dataclass(frozen=True, slots=True)
class Payload:
    """What the container gets under `app/`, and how its launcher is called.

    `entrypoint` and `args` are exactly what `mljob_launcher.py` receives (the container path of the script,
    then the args verbatim); `excluded` names what was filtered and why; `warnings` names large files.
    """

    root: str
    files: tuple[PayloadFile, ...]
    entrypoint: str
    args: tuple[str, ...]
    excluded: tuple[tuple[str, str], ...] = ()
    warnings: tuple[str, ...] = ()
    wrapper: str | None = None  # why an entry wrapper runs first, when one does
    notes: tuple[str, ...] = field(default=())

    @property
    def total_size(self) -> int:
        return sum(f.size for f in self.files)

    def to_dict(self) -> dict[str, Any]:
        return {
            "root": self.root,
            "files": [{"path": f.path, "size": f.size, "origin": f.origin} for f in self.files],
            "file_count": len(self.files),
            "total_size": self.total_size,
            "entrypoint": self.entrypoint,
            "args": list(self.args),
            "excluded": [{"path": p, "reason": r} for p, r in self.excluded],
            "warnings": list(self.warnings),
            "wrapper": self.wrapper,
        }


def _by_stat(kind: str, path: str | Path, st: os.stat_result, compute: Callable[[], _T]) -> _T:
    """`compute()` for this file, remembered while its size, mtime, ctime, inode and device stay the same (an
    edit always moves ctime, which user space cannot set back)."""
    key = (kind, str(path), st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)
    if key in _memo:
        return _memo[key]
    value = compute()
    if len(_memo) >= _MEMO_MAX:
        _memo.clear()
    _memo[key] = value
    return value


class _Ignores:
    """The .gitignore files met on the way down (deepest wins, like git) plus the root .mljobsignore."""

    def __init__(self, root: Path) -> None:
        self._specs: list[tuple[str, pathspec.GitIgnoreSpec]] = []
        self.root = root
        self._add("", root / ROOT_IGNORE)

    def _add(self, rel_dir: str, path: Path) -> None:
        try:
            st = path.stat()
            if not path.is_file():
                return
            # The guarded read: an ignore file that is a symlink out of the folder is not read.
            text = _by_stat("ignore", path, st, lambda: guarded.read_text(path, self.root))
        except (OSError, guarded.GuardedReadError):
            return
        self._specs.append((rel_dir, pathspec.GitIgnoreSpec.from_lines(text.splitlines())))
        self._specs.sort(key=lambda s: -s[0].count("/") - bool(s[0]))

    def enter(self, rel_dir: str) -> None:
        for name in IGNORE_FILES:
            self._add(rel_dir, self.root / rel_dir / name)

    def ignored(self, rel: str, is_dir: bool) -> bool:
        for base, spec in self._specs:
            if base and not (rel == base or rel.startswith(base + "/")):
                continue
            sub = rel[len(base) + 1 :] if base else rel
            result = spec.check_file(sub + ("/" if is_dir else ""))
            if result.include is not None:
                return bool(result.include)
        return False


def _is_private_key(path: str) -> bool:
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError:
        return False
    return head.lstrip().startswith(b"-----BEGIN") and _PEM_PRIVATE in head


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def list_folder(root: Path, *, max_files: int = MAX_PAYLOAD_FILES) -> tuple[list[PayloadFile], list[tuple[str, str]]]:
    """Every file under `root` that uploads, and what was excluded (folder or file, with the reason).

    Raises:
        PayloadError: more than `max_files` files would upload.
    """
    try:
        base = Path(root).resolve()
        if not base.is_dir():
            return [], []
    except (OSError, RuntimeError, ValueError):
        return [], []
    ignores = _Ignores(base)
    files: list[PayloadFile] = []
    excluded: list[tuple[str, str]] = []
    # (folder, its path relative to the root, the real paths of it and the folders above it: a link loops
    # when it points at one of them)
    stack: list[tuple[Path, str, tuple[str, ...]]] = [(base, "", (str(base),))]
    while stack:
        folder, rel_dir, chain = stack.pop()
        ignores.enter(rel_dir)
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            excluded.append((f"{rel_dir or '.'}/", f"cannot be listed ({_reason(exc)})"))
            continue
        subdirs: list[tuple[Path, str, tuple[str, ...]]] = []
        for entry in entries:
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            full = entry.path  # strings, not Path objects: this loop runs once per file of the project
            try:
                link = entry.is_symlink()
                is_dir = entry.is_dir()
                if link and not guarded.is_inside(full, base):
                    excluded.append((rel + ("/" if is_dir else ""), OUTSIDE))
                    continue
                real = os.path.realpath(full) if link else os.path.join(chain[-1], entry.name)
                if is_dir:
                    why = _folder_excluded(entry.name, full, rel, real, chain, ignores)
                    if why is None:
                        subdirs.append((Path(full), rel, (*chain, real)))
                    else:
                        excluded.append((rel + "/", why))
                    continue
                why = _file_excluded(entry, rel, real if link else None, ignores)
                if why is None:
                    st = entry.stat()
                    if _by_stat("pem", full, st, lambda f=full: _is_private_key(f)):  # type: ignore[misc]
                        why = "a private key (PEM)"
            except OSError as exc:
                excluded.append((rel, f"cannot be read ({_reason(exc)})"))
                continue
            if why is not None:
                excluded.append((rel, why))
                continue
            files.append(PayloadFile(rel, st.st_size, "file", full))
            if len(files) > max_files:
                raise PayloadError(f"{guarded.shown(base)} has more than {max_files} files to upload; pass the "
                                   "project folder, not a parent of it, or list the rest in .mljobsignore")
        stack.extend(reversed(subdirs))
    return files, excluded


def _folder_excluded(name: str, full: str, rel: str, real: str, chain: tuple[str, ...],
                     ignores: _Ignores) -> str | None:
    """Why a folder is not uploaded, or None to enter it."""
    if name in ALWAYS_EXCLUDED_DIRS:
        return f"{name} is never uploaded"
    if any(os.path.lexists(os.path.join(full, m)) for m in ENV_MARKERS):
        return "a Python environment (pyvenv.cfg or conda-meta)"
    if ignores.ignored(rel, True):
        return "ignored by .gitignore/.mljobsignore"
    if real in chain:
        return "a symlink back to a folder above it (a loop; not followed)"
    return None


def _file_excluded(entry: os.DirEntry[str], rel: str, target: str | None, ignores: _Ignores) -> str | None:
    """Why a file is not uploaded (before its content is looked at), or None; `target` is a link's real path."""
    if not entry.is_file():
        return "not a regular file"
    # A link is judged by its target's name too: `config.txt -> .env` would ship the .env.
    if SECRET_NAMES.match_file(entry.name) or (target and SECRET_NAMES.match_file(os.path.basename(target))):
        return "may hold secrets (.env or key file)"
    if ignores.ignored(rel, False):
        return "ignored by .gitignore/.mljobsignore"
    return None


def converted_notebook(source: str, notebook: str, method: SubmitMethod) -> str:
    """The script a notebook plan runs: the notebook's code cells, read through the guarded read.

    `notebook` is the plan's: the file name beside `source` for submit_file, else relative to the folder.

    Raises:
        PayloadError: the notebook can no longer be read or converted (moved, edited into invalid JSON).
    """
    if method is SubmitMethod.SUBMIT_FILE:
        path = Path(source).with_name(posixpath.basename(notebook))
        root = path.parent
    else:
        root = Path(source)
        path = root / notebook
    try:
        data = guarded.read_bytes(path, root)
    except guarded.GuardedReadError as exc:
        raise PayloadError(f"cannot read the notebook: {exc.message}; plan again") from None
    converted = notebook_to_script(data, path.name)
    if isinstance(converted, str):
        raise PayloadError(f"{converted}; plan again after fixing the notebook")
    return converted.script


def build_payload(
    *,
    source: str,
    method: SubmitMethod,
    entrypoint: str,
    args: tuple[str, ...],
    pip_requirements: tuple[str, ...] = (),
    function_name: str | None = None,
    wrapper: tuple[str, str] | None = None,
    notebook: str | None = None,
) -> Payload | None:
    """The payload of a plan (None for submit_from_stage: the code is already on a stage).

    `wrapper` is (file name, text) of an entry wrapper to run first: the launcher then gets the wrapper as
    its script and the user's entrypoint as the wrapper's first argument. `notebook` (the plan's) puts the
    converted script at `entrypoint` in place of the notebook.

    Raises:
        PayloadError: see `list_folder` and `converted_notebook`.
    """
    if method is SubmitMethod.SUBMIT_FROM_STAGE or source.startswith("@"):
        return None
    src = Path(source)
    excluded: list[tuple[str, str]] = []
    if src.is_file() or method is SubmitMethod.SUBMIT_FILE:
        # One file; a notebook plan's script need not exist yet (the payload generates it from the notebook).
        files = [PayloadFile(src.name, src.stat().st_size, "file", str(src.resolve()))] if src.is_file() else []
        root = str(src.resolve().parent)
    else:
        files, excluded = list_folder(src)
        root = str(src.resolve())
    if notebook is not None:
        script = converted_notebook(source, notebook, method)
        shown = posixpath.basename(notebook) if method is SubmitMethod.SUBMIT_FILE else notebook
        files = [f for f in files if f.path not in (shown, entrypoint)]
        files.append(PayloadFile(entrypoint, len(script.encode()), "generated", content=script))
        excluded.append((shown, f"the notebook runs as its converted script {entrypoint}"))
    if pip_requirements:
        text = "\n".join(pip_requirements)
        files = [f for f in files if f.path != "requirements.txt"]
        files.append(PayloadFile("requirements.txt", len(text.encode()), "generated", content=text))
    why = None
    entry_path = f"{CONTAINER_APP}/{entrypoint}"
    launcher_args: tuple[str, ...] = tuple(args)
    if method is SubmitMethod.REMOTE and function_name:
        launcher_args = ("--script_main_func", function_name, *args)
    if wrapper is not None:
        name, text = wrapper
        files = [f for f in files if f.path != name]
        files.append(PayloadFile(name, len(text.encode()), "generated", content=text))
        launcher_args = (entry_path, *launcher_args)
        entry_path = f"{CONTAINER_APP}/{name}"
        why = (f"{name} expands $MLRS_* in the args from the container's environment, then runs {entrypoint}: "
               "Snowflake passes args verbatim, so a bare $MLRS_STAGE_RESULT_PATH would reach the script as text")
    files.sort(key=lambda f: f.path)
    warnings = tuple(
        f"{f.path} is {f.size / 1024 / 1024:.0f} MB: it is uploaded with every submission; "
        "read it from a stage or add it to .mljobsignore"
        for f in files if f.size >= LARGE_FILE_BYTES
    )
    return Payload(root, tuple(files), entry_path, launcher_args, tuple(excluded), warnings, why)


def payload_for_plan(plan: JobPlan) -> Payload | None:
    """The payload a plan uploads: its files, generated requirements.txt, a notebook's converted script, and
    the entry wrapper when the plan asks for it and an arg names `$MLRS_*` (never for @remote, whose args are
    the function's arguments).

    Raises:
        PayloadError: the folder is too large, or the plan's notebook no longer converts.
    """
    wrap = plan.entry_wrapper and plan.method is not SubmitMethod.REMOTE and needs_wrapper(plan.args)
    return build_payload(
        source=plan.source,
        method=plan.method,
        entrypoint=plan.entrypoint,
        args=plan.args,
        pip_requirements=plan.pip_requirements,
        function_name=plan.function_name,
        wrapper=(WRAPPER_NAME, WRAPPER_TEXT) if wrap else None,
        notebook=plan.notebook,
    )
