"""Shipping the payload (skill/payload.py) and fingerprinting it: one copy, one fingerprint, one listing.

The listing is the skill's `payload_for_plan`: exactly the files the plan reports, after the filters
(secrets, environments, caches, ignore files, symlinks that point out). Everything here works on that value:

- `export_payload` is the one guarded copy. `plan --export-payload`, the local pool's job `app/` folder and
  the folder the Snowflake backend hands to snowflake-ml-python (`staged_copy`) are all written by it.
  Each file is re-checked at copy time (`analyzers.guarded`): a file that became a symlink out of the folder
  since it was listed aborts the copy with a one-line error naming it, and no symlink survives into what is
  shipped (files are written as regular files).
- `fingerprint_for_plan` is what a confirmation is bound to besides the plan: a hash over each payload
  file's path and content hash (generated files by their text). A file outside the payload (`.env`, an
  ignored log) does not move it. Content hashes are cached by (size, mtime, ctime, inode, device), so
  re-fingerprinting a large unchanged project reads nothing; an edit that keeps the length and restores the
  mtime still changes ctime (the kernel sets it on every write and it cannot be set back from user space).
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
from typing import BinaryIO
from pathlib import Path

from mljobs.analyzers import guarded
from mljobs.skill import payload as skill_payload
from mljobs.skill.jobplan import JobPlan
from mljobs.skill.payload import Payload, PayloadFile

from .errors import UsageError

_CHUNK = 1 << 20
_NOFOLLOW = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)


class PayloadError(UsageError):
    """The payload cannot be built, copied or written; the message is one line."""


def payload_for_plan(plan: JobPlan) -> Payload | None:
    """The skill's payload of `plan`, with its errors as PayloadError (a UsageError) for the server's callers."""
    try:
        return skill_payload.payload_for_plan(plan)
    except skill_payload.PayloadError as exc:
        raise PayloadError(str(exc)) from None


# ------------------------------------------------------------------------------------------------ copy

def export_payload(payload: Payload, dest: Path, *, allow_existing: bool = False) -> list[Path]:
    """Write exactly the payload's files under `dest` (regular files only) and return their paths.

    Raises:
        UsageError: `dest` exists and is not empty (nothing is overwritten).
        PayloadError: a file left the payload folder since it was listed, or could not be read or written.
    """
    dest = Path(dest)
    if dest.exists() and not allow_existing and (not dest.is_dir() or any(dest.iterdir())):
        raise UsageError(f"{dest} exists and is not empty; export the payload into a new or empty folder")
    written = []
    for f in payload.files:
        target = dest / f.path
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            if f.origin == "generated":
                target.write_text(f.content or "", encoding="utf-8")
            else:
                _copy_guarded(f, payload.root, target)
        except guarded.GuardedReadError as exc:
            raise PayloadError(f"cannot copy into the payload: {exc.message}") from None
        except OSError as exc:
            raise PayloadError(f"could not write {f.path} of the payload to {dest}: {exc.strerror or exc}") from None
        written.append(target)
    return written


def _copy_guarded(f: PayloadFile, root: str, target: Path) -> None:
    """Copy one listed file: resolved and still inside `root`, opened without following a link swapped in
    since, a regular file (a FIFO would block), mode bits kept."""
    real = guarded.inside(Path(str(f.source)), root)
    try:
        fd = os.open(real, _NOFOLLOW)
    except OSError as exc:
        raise guarded.GuardedReadError(f"cannot read {guarded.shown(f.path)} ({exc.strerror or exc})") from None
    with os.fdopen(fd, "rb") as src:
        st = os.fstat(src.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise guarded.GuardedReadError(f"{guarded.shown(f.path)} is not a regular file; not copied")
        with open(target, "wb") as out:
            _send(src, out)
    os.chmod(target, stat.S_IMODE(st.st_mode))


def _send(src: BinaryIO, out: BinaryIO) -> None:
    """Copy an open file's bytes in the kernel (sendfile, as `shutil.copyfile` does on Linux), else by chunks."""
    offset = 0
    try:
        while sent := os.sendfile(out.fileno(), src.fileno(), offset, _CHUNK * 8):
            offset += sent
    except (AttributeError, OSError):
        if offset:  # failed half-way: start over in user space
            out.seek(0)
            out.truncate()
        src.seek(0)
        shutil.copyfileobj(src, out, _CHUNK)


@contextlib.contextmanager
def staged_copy(payload: Payload) -> Iterator[Path]:
    """The payload copied (`export_payload`) into a fresh private temporary folder, removed afterwards: what the
    Snowflake backend hands to snowflake-ml-python instead of the user's file or folder, which the library
    would upload whole (.env, .git, virtualenvs, the targets of symlinks that point out)."""
    with tempfile.TemporaryDirectory(prefix="mljobs_payload_") as tmp:
        export_payload(payload, Path(tmp), allow_existing=True)
        yield Path(tmp)


# ----------------------------------------------------------------------------------------- fingerprint

_cache: dict[tuple[str, int, int, int, int, int], str] = {}
_cache_lock = threading.Lock()
_CACHE_MAX = 200_000


def _file_digest(path: str) -> str:
    """SHA-256 of one file's content, cached by (path, size, mtime, ctime, inode, device).

    Raises:
        OSError: not a regular file, or unreadable (a symlink at `path` fails: callers resolve links first).
    """
    st = os.stat(path)
    if not stat.S_ISREG(st.st_mode):
        raise OSError(f"{os.path.basename(path)} is not a regular file")
    key = (path, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)
    with _cache_lock:
        cached = _cache.get(key)
    if cached is not None:
        return cached
    digest = hashlib.sha256()
    with os.fdopen(os.open(path, _NOFOLLOW), "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            raise OSError(f"{os.path.basename(path)} is not a regular file")
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    value = digest.hexdigest()
    with _cache_lock:
        if len(_cache) >= _CACHE_MAX:
            _cache.clear()
        _cache[key] = value
    return value


def fingerprint_payload(payload: Payload) -> str:
    """Hash of every payload file's path and content (a listed file's bytes, a generated file's text).

    Raises:
        OSError / guarded.GuardedReadError: a listed file is gone, unreadable, or now points out.
    """
    outer = hashlib.sha256()
    for f in payload.files:
        if f.origin == "generated":
            digest = hashlib.sha256((f.content or "").encode()).hexdigest()
        else:
            source = str(f.source)
            # A link (listed because it stays inside) is hashed as its resolved, re-checked target; any other
            # file as itself, opened without following a link swapped in since it was listed.
            digest = _file_digest(str(guarded.inside(source, payload.root)) if os.path.islink(source) else source)
        outer.update(f"{f.path}\0{f.origin}\0{digest}\n".encode())
    return outer.hexdigest()


def fingerprint_for_plan(plan: JobPlan) -> str | None:
    """What the plan would ship now, as one hash: compare the value at planning with the value at submission.

    None when there is nothing local to compare (a stage source) or the payload cannot be built or read
    now; a caller that had a fingerprint at planning treats None as changed.
    """
    try:
        payload = skill_payload.payload_for_plan(plan)
        return None if payload is None else fingerprint_payload(payload)
    except (OSError, skill_payload.PayloadError, guarded.GuardedReadError):
        return None
