"""The payload: exactly the files a job uploads, as a value the plan reports and every backend uses.

snowflake-ml-python's `submit_directory` uploads every file under the folder, hidden ones included
(`payload_utils._upload_directory`): `.git/`, virtualenvs, `node_modules/`, `.env` with its keys. So the
folder is filtered here first, and the Snowflake and local backends both upload this list (server/payloads.py
writes it out). Filtered always: `.git` (and other VCS folders), any folder holding `pyvenv.cfg` or
`conda-meta` (a Python environment, whatever its name), `node_modules`, `__pycache__`, `.ipynb_checkpoints`,
`.env` / `.env.*`, private keys (by name, and by a PEM `PRIVATE KEY` header); then `.gitignore` files (each
applies to its folder, as git does) and a `.mljobsignore` at the root, with git's own matching (`pathspec`).

Generated files are part of the payload too: `requirements.txt` written from pip_requirements (the library
writes it over any user file of that name) and the entry wrapper (skill/entry.py) when args carry `$MLRS_*`.

Pure: reads the user's files and nothing else.
"""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pathspec

from mljobs.analyzers import guarded
from mljobs.analyzers.model import SubmitMethod

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
_PEM_PRIVATE = b"PRIVATE KEY-----"


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


class _Ignores:
    """The .gitignore files met on the way down (deepest wins, like git) plus the root .mljobsignore."""

    def __init__(self, root: Path) -> None:
        self._specs: list[tuple[str, pathspec.GitIgnoreSpec]] = []
        self.root = root
        extra = root / ROOT_IGNORE
        if extra.is_file():
            self._add("", extra)

    def _add(self, rel_dir: str, path: Path) -> None:
        try:
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return
        self._specs.append((rel_dir, pathspec.GitIgnoreSpec.from_lines(lines)))

    def enter(self, rel_dir: str) -> None:
        for name in IGNORE_FILES:
            path = self.root / rel_dir / name
            if path.is_file():
                self._add(rel_dir, path)

    def ignored(self, rel: str, is_dir: bool) -> bool:
        for base, spec in sorted(self._specs, key=lambda s: -s[0].count("/") - bool(s[0])):
            if base and not (rel == base or rel.startswith(base + "/")):
                continue
            sub = rel[len(base) + 1 :] if base else rel
            result = spec.check_file(sub + ("/" if is_dir else ""))
            if result.include is not None:
                return bool(result.include)
        return False


def _is_private_key(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError:
        return False
    return head.lstrip().startswith(b"-----BEGIN") and _PEM_PRIVATE in head


def list_folder(root: Path) -> tuple[list[PayloadFile], list[tuple[str, str]]]:
    """Every file under `root` that uploads, and what was excluded (folder or file, with the reason)."""
    root = root.resolve()
    ignores = _Ignores(root)
    files: list[PayloadFile] = []
    excluded: list[tuple[str, str]] = []
    for current, dirs, names in os.walk(root, followlinks=False):
        rel_dir = Path(current).relative_to(root).as_posix()
        rel_dir = "" if rel_dir == "." else rel_dir
        ignores.enter(rel_dir)
        keep = []
        for d in sorted(dirs):
            rel = posixpath.join(rel_dir, d) if rel_dir else d
            full = Path(current) / d
            if d in ALWAYS_EXCLUDED_DIRS:
                excluded.append((rel + "/", f"{d} is never uploaded"))
            elif any((full / m).exists() for m in ENV_MARKERS):
                excluded.append((rel + "/", "a Python environment (pyvenv.cfg or conda-meta)"))
            elif full.is_symlink():
                excluded.append((rel + "/", "a symlinked folder (not followed)"))
            elif ignores.ignored(rel, True):
                excluded.append((rel + "/", "ignored by .gitignore/.mljobsignore"))
            else:
                keep.append(d)
        dirs[:] = keep
        for name in sorted(names):
            rel = posixpath.join(rel_dir, name) if rel_dir else name
            full = Path(current) / name
            if full.is_symlink() and not guarded.is_inside(full, root):
                excluded.append((rel, "a symlink that points outside the payload folder"))
            elif SECRET_NAMES.match_file(name):
                excluded.append((rel, "may hold secrets (.env or key file)"))
            elif ignores.ignored(rel, False):
                excluded.append((rel, "ignored by .gitignore/.mljobsignore"))
            elif not full.is_file():
                excluded.append((rel, "not a regular file"))
            elif _is_private_key(full):
                excluded.append((rel, "a private key (PEM)"))
            else:
                files.append(PayloadFile(rel, full.stat().st_size, "file", str(full)))
    return files, excluded


def build_payload(
    *,
    source: str,
    method: SubmitMethod,
    entrypoint: str,
    args: tuple[str, ...],
    pip_requirements: tuple[str, ...] = (),
    function_name: str | None = None,
    wrapper: tuple[str, str] | None = None,
) -> Payload | None:
    """The payload of a plan (None for submit_from_stage: the code is already on a stage).

    `wrapper` is (file name, text) of an entry wrapper to run first: the launcher then gets the wrapper as
    its script and the user's entrypoint as the wrapper's first argument.
    """
    if method is SubmitMethod.SUBMIT_FROM_STAGE or source.startswith("@"):
        return None
    src = Path(source)
    if src.is_file():
        files = [PayloadFile(src.name, src.stat().st_size, "file", str(src.resolve()))]
        excluded: list[tuple[str, str]] = []
        root = str(src.resolve().parent)
    else:
        files, excluded = list_folder(src)
        root = str(src.resolve())
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
    """The payload a plan uploads: its files, generated requirements.txt, and the entry wrapper when the plan
    asks for it and an arg names `$MLRS_*` (never for @remote, whose args are the function's arguments)."""
    wrap = plan.entry_wrapper and plan.method is not SubmitMethod.REMOTE and needs_wrapper(plan.args)
    return build_payload(
        source=plan.source,
        method=plan.method,
        entrypoint=plan.entrypoint,
        args=plan.args,
        pip_requirements=plan.pip_requirements,
        function_name=plan.function_name,
        wrapper=(WRAPPER_NAME, WRAPPER_TEXT) if wrap else None,
    )
