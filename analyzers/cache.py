"""Per-file scan results and the cache that lets an unchanged file skip reading, parsing and scanning.

`analyze` runs every per-file pass once per file and keeps the results in a `FileScan`. A `FileCache`
stores FileScans keyed by `FileKey`: the project root, the file's relative path, its size and mtime, and a
context fingerprint (scanner version + rules + the project's file list, which `scan_io` consults). Any
change to one of these is a miss, so a hit is always safe to reuse. The disk-backed implementation lives in
`mljobs.server.analysis_cache` (analyzers do no I/O of their own beyond reading the user's files).
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import hashlib
import os
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, runtime_checkable

from .model import ImportFinding, Location, NetworkFinding, Problem

if TYPE_CHECKING:
    from .compute import ComputeScan
    from .io import IoScan
    from .removed_apis import ApiUse

#: Bump when FileScan or any per-file pass changes what it produces: old cache entries then miss.
SCANNER_VERSION = "7"  # 2: api_uses; 3: IoScan CLI declarations, constants; 4: ComputeScan.models, command lines; 5: ComputeScan in compute_rules; 6: network and io read the shared bindings; 7: api_uses of the extras table


class FileKey(NamedTuple):
    """Identity of one file's scan: same key, same FileScan."""

    root: str  # absolute, resolved project root
    path: str  # POSIX, relative to root
    size: int
    mtime_ns: int
    context: str  # fingerprint of scanner version, rules and project file list (see `context_fingerprint`)


@dataclass(frozen=True, slots=True)
class FileScan:
    """Every per-file pass's result for one file. Picklable, so it can be cached and built in a process pool.

    `parsed` is False when the file could not be read or parsed; then the pass results are empty and
    `problems` says why. `magics` are a notebook's `%`/`!` lines (for `%pip install` requirements).
    """

    path: str
    module: str
    parsed: bool
    imports: tuple[ImportFinding, ...] = ()
    compute: ComputeScan | None = None
    network: tuple[NetworkFinding, ...] = ()
    io: IoScan | None = None
    magics: tuple[tuple[Location, str], ...] = ()
    problems: tuple[Problem, ...] = ()
    is_notebook: bool = False
    api_uses: tuple[ApiUse, ...] = ()


@runtime_checkable
class FileCache(Protocol):
    """Where FileScans are kept between analyses. Implementations must tolerate any key (a miss is fine)."""

    def get(self, key: FileKey) -> FileScan | None:
        """The FileScan stored under exactly this key, or None."""

    def put(self, key: FileKey, scan: FileScan) -> None:
        """Store a scan; it may replace an older scan of the same (root, path)."""

    def commit(self) -> None:
        """Persist what `put` stored (a no-op for in-memory caches). Never raises for storage faults."""

    def get_result(self, key: str) -> Any:
        """A whole Analysis stored under `key` (see `result_key`), or None."""

    def put_result(self, key: str, analysis: Any) -> None:
        """Store a whole Analysis; the next `commit()` persists it."""


class MemoryFileCache:
    """A FileCache in a dict, one entry per (root, path): a new put replaces the file's previous scan."""

    def __init__(self) -> None:
        self._entries: dict[tuple[str, str], tuple[FileKey, FileScan]] = {}
        self._results: dict[str, Any] = {}
        self.hits = 0
        self.misses = 0

    def get(self, key: FileKey) -> FileScan | None:
        entry = self._entries.get((key.root, key.path))
        if entry is not None and entry[0] == key:
            self.hits += 1
            return entry[1]
        self.misses += 1
        return None

    def put(self, key: FileKey, scan: FileScan) -> None:
        self._entries[(key.root, key.path)] = (key, scan)

    def commit(self) -> None:
        return None

    def get_result(self, key: str) -> Any:
        return self._results.get(key)

    def put_result(self, key: str, analysis: Any) -> None:
        self._results[key] = analysis

    def __len__(self) -> int:
        return len(self._entries)


_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
_FINGERPRINTS: dict[int, tuple[Any, str]] = {}


def _canonical(value: Any, out: list[str]) -> None:
    """Append a process-independent text form of a rules value: sets and mapping keys sorted (their
    iteration order depends on string hash randomisation), functions by qualified name."""
    if value is None or isinstance(value, (bool, int, float, str, bytes)):
        out.append(repr(value))
    elif isinstance(value, enum.Enum):
        out.append(f"{type(value).__qualname__}.{value.name}")
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        out.append(type(value).__qualname__ + "(")
        for f in dataclasses.fields(value):
            out.append(f.name + "=")
            _canonical(getattr(value, f.name), out)
            out.append(",")
        out.append(")")
    elif isinstance(value, Mapping):
        items = []
        for key, item in value.items():
            parts: list[str] = []
            _canonical(key, parts)
            parts.append(":")
            _canonical(item, parts)
            items.append("".join(parts))
        out.append("{" + ",".join(sorted(items)) + "}")
    elif isinstance(value, (set, frozenset)):
        members = []
        for item in value:
            parts = []
            _canonical(item, parts)
            members.append("".join(parts))
        out.append("set(" + ",".join(sorted(members)) + ")")
    elif isinstance(value, (list, tuple)):
        out.append("[")
        for item in value:
            _canonical(item, out)
            out.append(",")
        out.append("]")
    elif isinstance(value, re.Pattern):
        out.append(f"re({value.pattern!r},{value.flags})")
    elif callable(value) and hasattr(value, "__qualname__"):
        out.append(f"{getattr(value, '__module__', '')}.{value.__qualname__}")
    else:
        out.append(_ADDRESS.sub("", repr(value)))


def rules_fingerprint(rules: Any) -> str:
    """A digest of a Rules value that is the same in every process (memoised per object)."""
    memo = _FINGERPRINTS.get(id(rules))
    if memo is not None and memo[0] is rules:
        return memo[1]
    parts: list[str] = []
    _canonical(rules, parts)
    digest = hashlib.sha1("".join(parts).encode("utf-8", "surrogatepass")).hexdigest()
    _FINGERPRINTS.clear()  # keep only the latest: rules are loaded once per process
    _FINGERPRINTS[id(rules)] = (rules, digest)
    return digest


@functools.lru_cache(maxsize=1)
def _io_tables_digest() -> str:
    from .io import IO_APIS

    try:
        return hashlib.sha1(IO_APIS.read_bytes()).hexdigest()
    except OSError:
        return ""


@functools.lru_cache(maxsize=1)
def _code_digest() -> str:
    """Digest of the analyzer's own source: a whole Analysis is cached by this context, and aggregation steps
    (the verdict, packages, io merging) change without any per-file scan changing, so SCANNER_VERSION alone
    would serve an upgraded mljobs the old answer."""
    h = hashlib.sha1()
    for path in sorted(Path(__file__).resolve().parent.glob("*.py")):
        try:
            h.update(path.name.encode() + b"\0" + path.read_bytes())
        except OSError:
            h.update(path.name.encode())
    return h.hexdigest()


def context_fingerprint(rules: Any, project_files: Iterable[str]) -> str:
    """The `FileKey.context` for one analysis: scanner version, analyzer code and rules digests, and the sorted
    file list."""
    h = hashlib.sha1(SCANNER_VERSION.encode())
    h.update(_code_digest().encode())
    h.update(rules_fingerprint(rules).encode())
    h.update(_io_tables_digest().encode())  # the io pass reads its API tables itself
    for name in sorted(project_files):
        h.update(b"\0" + name.encode("utf-8", "surrogatepass"))
    return h.hexdigest()


def environment_fingerprint() -> str:
    """Modification times of the import path's folders: installing or removing a distribution changes its
    site-packages folder, and installed metadata is one source of import -> distribution answers."""
    stamps = []
    for entry in sys.path:
        try:
            stamps.append(f"{entry}:{os.stat(entry or '.').st_mtime_ns}")
        except OSError:
            continue
    return "|".join(stamps)


def result_key(root: str, entrypoint: str, files: Iterable[Any], *, context: str, options: str) -> str:
    """Key of a whole analysis: every listed file's (path, size, mtime), the entrypoint, the options
    (all_files, python), the rules/project context and the environment. Any change gives a new key."""
    digest = hashlib.sha256()
    for part in (root, entrypoint, options, context, environment_fingerprint()):
        digest.update(part.encode("utf-8", "surrogateescape") + b"\0")
    for entry in sorted(files, key=lambda e: e.path):
        digest.update(f"{entry.path}\0{entry.size}\0{entry.mtime_ns}\n".encode("utf-8", "surrogateescape"))
    return digest.hexdigest()
