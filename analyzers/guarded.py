"""One guarded way to read the user's files: nothing is read from outside the project folder.

Every file mljobs reads around a script (the script itself, project files, requirements.txt and its `-r`
includes, pyproject.toml, notebooks) and every file it ships as a payload passes through `inside` first. A
symlink that points out of the project is never followed: the read is refused with a `GuardedReadError`
that names the link (relative to the root) and never its target's content. Path oddities the OS rejects
(a NUL byte, a 4,096-character component, a symlink loop) become the same one-line error instead of a
`ValueError`/`OSError`/`RuntimeError` escaping to the caller.

Why here (the analyzers layer): the analyzers read the files first, and skill/ and server/ import this
module, so there is exactly one implementation of "is this path still ours".
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

#: Files larger than this are not read by the guarded readers (callers may pass a smaller limit).
MAX_READ_BYTES = 10 * 1024 * 1024


class GuardedReadError(Exception):
    """A file that may not or cannot be read; `message` is one line safe to show (no file content)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _real(path: str | os.PathLike[str]) -> str:
    """`os.path.realpath` with the OS's odd cases as GuardedReadError (loops, NUL, over-long names)."""
    try:
        return os.path.realpath(os.fspath(path), strict=False)
    except ValueError as exc:  # embedded NUL
        raise GuardedReadError(f"{shown(path)}: not a usable path ({exc})") from None
    except OSError as exc:
        raise GuardedReadError(f"{shown(path)}: not a usable path ({exc.strerror or exc})") from None
    except RuntimeError:  # symlink loop on some Python versions
        raise GuardedReadError(f"{shown(path)}: symlink loop") from None


def shown(path: str | os.PathLike[str]) -> str:
    """The path as shown in a message: printable, and at most 200 characters."""
    text = os.fspath(path)
    text = text if isinstance(text, str) else text.decode("utf-8", "replace")
    text = "".join(ch if ch.isprintable() else "?" for ch in text)
    return text if len(text) <= 200 else text[:197] + "..."


def is_inside(path: str | os.PathLike[str], root: str | os.PathLike[str]) -> bool:
    """Whether `path`, with every symlink resolved, is `root` or lies under it (False on unusable paths)."""
    try:
        real, base = _real(path), _real(root)
    except GuardedReadError:
        return False
    return real == base or real.startswith(base.rstrip(os.sep) + os.sep)


def inside(path: str | os.PathLike[str], root: str | os.PathLike[str]) -> Path:
    """The resolved `path`, when it (and whatever symlink it is) stays inside `root`.

    Raises:
        GuardedReadError: the path leaves the root (directly, by `..`, or through a symlink anywhere
            along it), or it cannot be resolved (loop, NUL byte, name too long).
    """
    base = _real(root)
    candidate = Path(path) if Path(path).is_absolute() else Path(root) / path
    real = _real(candidate)
    if real != base and not real.startswith(base.rstrip(os.sep) + os.sep):
        rel = _relative_text(candidate, root)
        what = "a symlink that points" if _any_link(candidate, root) else "a path"
        raise GuardedReadError(f"{rel} is {what} outside the project folder; not read")
    return Path(real)


def _relative_text(path: Path, root: str | os.PathLike[str]) -> str:
    try:
        return shown(os.path.relpath(os.fspath(path), os.fspath(root)))
    except ValueError:
        return shown(path)


def _any_link(path: Path, root: str | os.PathLike[str]) -> bool:
    """Whether some component of `path` below `root` is a symlink (for a precise message only)."""
    try:
        rel = Path(os.path.relpath(os.fspath(path), os.fspath(root)))
    except ValueError:
        return False
    current = Path(root)
    for part in rel.parts:
        current = current / part
        try:
            if current.is_symlink():
                return True
        except OSError:
            return False
    return False


def read_bytes(path: str | os.PathLike[str], root: str | os.PathLike[str], *, limit: int = MAX_READ_BYTES) -> bytes:
    """The bytes of a regular file inside `root`, at most `limit` of them.

    Raises:
        GuardedReadError: outside the root (see `inside`), not a regular file (a FIFO or device would
            block or never end), larger than `limit`, or unreadable. The message names the file relative
            to the root and never shows its content.
    """
    real = inside(path, root)

    def rel() -> str:  # for messages only: not computed for the (usual) successful read
        return _relative_text(Path(path) if Path(path).is_absolute() else Path(root) / path, root)

    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(real, flags)  # the resolved path: a symlink swapped in since `inside` fails here
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise GuardedReadError(f"{rel()} changed into a symlink while being read; not read") from None
        raise GuardedReadError(f"cannot read {rel()} ({exc.strerror or exc})") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise GuardedReadError(f"{rel()} is not a regular file; not read")
        if st.st_size > limit:
            raise GuardedReadError(f"{rel()} is {st.st_size} bytes, over the {limit}-byte limit; not read")
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        raise GuardedReadError(f"cannot read {rel()} ({exc.strerror or exc})") from None
    finally:
        os.close(fd)
    if len(data) > limit:
        raise GuardedReadError(f"{rel()} grew over the {limit}-byte limit while being read; not read")
    return data


def read_text(path: str | os.PathLike[str], root: str | os.PathLike[str], *, limit: int = MAX_READ_BYTES,
              encoding: str = "utf-8-sig") -> str:
    """`read_bytes` decoded; undecodable text is a GuardedReadError (the bytes are never shown)."""
    data = read_bytes(path, root, limit=limit)
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        rel = _relative_text(Path(path) if Path(path).is_absolute() else Path(root) / path, root)
        raise GuardedReadError(f"{rel} is not UTF-8 text; not read") from None
