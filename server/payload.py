"""What a job ships: the payload folder, filtered and guarded, and a fingerprint of its content.

`snowflake-ml-python`'s `submit_directory` uploads everything under the folder it is given (research
mljobs-api.md §10.3), and a symlink in it is uploaded as the file it points to. So no backend hands the
user's folder over directly: `copy_payload` copies the files that stay inside the folder (through
`analyzers.guarded`, the one guarded read) into a fresh folder, skipping VCS/virtualenv/cache folders and
every symlink that points out, and says what it skipped. Both backends ship that copy.

`fingerprint` is what the confirmation is bound to besides the plan: a hash over every payload file's
path and content hash. Content hashes are cached by (size, mtime, inode, ctime), so re-fingerprinting a
large unchanged project reads nothing; an edit that keeps the length and restores the mtime still
changes ctime (the kernel sets it on every write and it cannot be set back from user space).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import stat
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from mljobs.analyzers import guarded

from .errors import UsageError

#: Folders never shipped (VCS metadata, virtualenvs, caches): they are not the job's code.
SKIPPED_DIRS = frozenset({".git", ".hg", ".svn", ".venv", "__pycache__", "node_modules", ".mypy_cache",
                          ".pytest_cache", ".ruff_cache", ".ipynb_checkpoints"})
#: A payload larger than this many files is refused (a home folder given by mistake).
MAX_PAYLOAD_FILES = 20_000
_CHUNK = 1 << 20


class PayloadError(UsageError):
    """The payload cannot be listed or copied; the message is one line."""


@dataclass(frozen=True, slots=True)
class PayloadListing:
    """Files to ship (relative POSIX paths) and what was left out, each with its reason."""

    root: Path
    files: tuple[str, ...]
    skipped: tuple[str, ...]


def list_payload(source: str | os.PathLike[str], *, max_files: int = MAX_PAYLOAD_FILES) -> PayloadListing:
    """The files of a payload folder (or the single file) that may be shipped.

    Symlinks are followed only when their target stays inside the folder; each real folder is entered
    once (loops end). Raises PayloadError for a missing source or more than `max_files` files.
    """
    src = Path(source)
    try:
        if src.is_file():
            guarded.inside(src, src.parent)
            return PayloadListing(src.parent.resolve(), (src.name,), ())
        if not src.is_dir():
            raise PayloadError(f"payload {guarded.shown(src)} is not a local file or folder")
        root = src.resolve()
    except (OSError, ValueError, RuntimeError, guarded.GuardedReadError) as exc:
        raise PayloadError(f"payload {guarded.shown(src)} is not usable ({_reason(exc)})") from None
    files: list[str] = []
    skipped: list[str] = []
    seen: set[tuple[int, int]] = set()
    stack: list[tuple[Path, str]] = [(root, "")]
    while stack:
        folder, rel_dir = stack.pop()
        try:
            st = folder.stat()
            if (st.st_dev, st.st_ino) in seen:
                skipped.append(f"{rel_dir}/: a second path to a folder already shipped (symlink loop?)")
                continue
            seen.add((st.st_dev, st.st_ino))
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            skipped.append(f"{rel_dir or '.'}/: cannot be listed ({_reason(exc)})")
            continue
        subdirs = []
        for entry in entries:
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            try:
                if entry.is_symlink() and not guarded.is_inside(entry.path, root):
                    skipped.append(f"{rel}: symlink that points outside the payload folder")
                    continue
                is_dir, is_file = entry.is_dir(), entry.is_file()
            except OSError as exc:
                skipped.append(f"{rel}: {_reason(exc)}")
                continue
            if is_dir:
                if entry.name in SKIPPED_DIRS:
                    continue
                subdirs.append((Path(entry.path), rel))
            elif is_file:
                files.append(rel)
                if len(files) > max_files:
                    raise PayloadError(f"payload {root} has more than {max_files} files; "
                                       "pass the project folder, not a parent of it")
            else:
                skipped.append(f"{rel}: not a regular file")
        stack.extend(reversed(subdirs))
    return PayloadListing(root, tuple(sorted(files)), tuple(skipped))


def copy_payload(source: str | os.PathLike[str], dest: Path) -> PayloadListing:
    """Copy the shippable files of `source` into `dest` as regular files (no symlinks survive).

    Raises PayloadError when a listed file cannot be read (the copy is then incomplete: do not ship it).
    """
    listing = list_payload(source)
    for rel in listing.files:
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            real = guarded.inside(listing.root / rel, listing.root)
            shutil.copyfile(real, target)
            shutil.copymode(real, target)
        except (OSError, guarded.GuardedReadError) as exc:
            raise PayloadError(f"cannot copy {rel} into the payload ({_reason(exc)})") from None
    return listing


@contextlib.contextmanager
def shipped_copy(source: str | os.PathLike[str]) -> Iterator[tuple[Path, PayloadListing]]:
    """A temporary filtered copy of a payload folder (same base name), removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="mljobs-payload-") as tmp:
        folder = Path(tmp) / Path(source).name
        folder.mkdir(mode=0o700)
        listing = copy_payload(source, folder)
        yield folder, listing


# ------------------------------------------------------------------------------------------- fingerprint

_cache: dict[tuple[str, int, int, int, int, int], str] = {}
_cache_lock = threading.Lock()
_CACHE_MAX = 200_000


def _file_digest(path: Path) -> str:
    """SHA-256 of one file's content, cached by (path, size, mtime, ctime, inode, device)."""
    st = path.stat()
    if not stat.S_ISREG(st.st_mode):
        raise OSError(f"{path.name} is not a regular file")
    key = (str(path), st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)
    with _cache_lock:
        cached = _cache.get(key)
    if cached is not None:
        return cached
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    value = digest.hexdigest()
    with _cache_lock:
        if len(_cache) >= _CACHE_MAX:
            _cache.clear()
        _cache[key] = value
    return value


def fingerprint(source: str) -> str | None:
    """Hash of every payload file's path and content; None for a stage path or an unreadable payload."""
    if source.startswith("@"):
        return None
    try:
        listing = list_payload(source)
        outer = hashlib.sha256()
        for rel in listing.files:
            real = guarded.inside(listing.root / rel, listing.root)
            outer.update(f"{rel}\0{_file_digest(real)}\n".encode())
        for note in listing.skipped:
            outer.update(f"skipped\0{note}\n".encode())
    except (OSError, PayloadError, guarded.GuardedReadError):
        return None
    return outer.hexdigest()


def _reason(exc: BaseException) -> str:
    if isinstance(exc, guarded.GuardedReadError):
        return exc.message
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return type(exc).__name__
