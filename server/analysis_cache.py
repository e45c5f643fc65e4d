"""A disk-backed `FileCache` for the analyzer: per-file scan results in SQLite under the state dir's cache.

One row per (project root, file path) holding the file's size, mtime, context fingerprint and the pickled
`FileScan`. All rows of a root are read with one query on the first lookup, so re-analysing an unchanged
tree costs one SELECT plus a stat per file. Storage faults never fail an analysis: a corrupt or unreadable
database is removed and rebuilt once, and if that fails too the cache turns itself off (every lookup misses).
The pickles are only ever read back from the user's own state directory.
"""

from __future__ import annotations

import dataclasses
import io
import logging
import pickle
import sqlite3
from pathlib import Path
from typing import Any

from mljobs.analyzers.cache import FileKey, FileScan

from .settings import Settings

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS scans (
    root TEXT NOT NULL,
    path TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    context TEXT NOT NULL,
    scan BLOB NOT NULL,
    PRIMARY KEY (root, path)
);
CREATE TABLE IF NOT EXISTS results (
    slot TEXT PRIMARY KEY,
    key TEXT NOT NULL,
    analysis BLOB NOT NULL
)
"""


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _restore(cls: type, values: tuple[Any, ...]) -> Any:
    """Rebuild a slotted dataclass from its field values (what the cache pickles instead of __getstate__)."""
    obj: Any = object.__new__(cls)
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in dataclasses.fields(cls))
    for name, value in zip(names, values, strict=False):
        object.__setattr__(obj, name, value)
    return obj


class _ScanPickler(pickle.Pickler):
    """Pickles slotted dataclasses as (class, field values): loading skips dataclasses' generic
    __setstate__, which looks the fields up again for every object (1.5x faster loads of big trees)."""

    def reducer_override(self, obj: Any) -> Any:
        cls = type(obj)
        if "__slots__" in cls.__dict__ and dataclasses.is_dataclass(cls):
            return (_restore, (cls, tuple(getattr(obj, f.name) for f in dataclasses.fields(cls))))
        return NotImplemented


def _dumps(scan: FileScan) -> bytes:
    buffer = io.BytesIO()
    _ScanPickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(scan)
    return buffer.getvalue()


class DiskFileCache:
    """FileCache in `<cache_dir>/analysis.sqlite3`; writes are batched until `commit()`."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path if path is not None else Settings().cache_dir / "analysis.sqlite3"
        self._conn: sqlite3.Connection | None = None
        self._disabled = False
        self._rows: dict[str, dict[str, tuple[int, int, str, bytes]]] = {}
        self._pending: dict[tuple[str, str], tuple[FileKey, bytes]] = {}
        self._pending_results: dict[str, tuple[str, bytes]] = {}
        self.hits = 0
        self.misses = 0

    # ------------------------------------------------------------------------------ connection

    def _open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        conn = sqlite3.connect(self.path, timeout=5.0)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.executescript(_SCHEMA)
        conn.execute("SELECT count(*) FROM scans WHERE 0").fetchall()  # fails on a corrupt file
        return conn

    def _connection(self) -> sqlite3.Connection | None:
        if self._conn is not None or self._disabled:
            return self._conn
        try:
            self._conn = self._open()
        except sqlite3.DatabaseError as exc:
            log.warning("analysis cache %s is unreadable (%s); rebuilding it", self.path, exc)
            self._conn = self._rebuild()
        except OSError as exc:
            log.warning("analysis cache disabled: %s", exc)
            self._disabled = True
        return self._conn

    def _rebuild(self) -> sqlite3.Connection | None:
        for suffix in ("", "-wal", "-shm"):
            try:
                Path(str(self.path) + suffix).unlink(missing_ok=True)
            except OSError:
                pass
        try:
            return self._open()
        except (sqlite3.DatabaseError, OSError) as exc:
            log.warning("analysis cache disabled: %s", exc)
            self._disabled = True
            return None

    def _load_root(self, root: str) -> dict[str, tuple[int, int, str, bytes]]:
        rows = self._rows.get(root)
        if rows is not None:
            return rows
        rows = {}
        conn = self._connection()
        if conn is not None:
            try:
                for path, size, mtime_ns, context, blob in conn.execute(
                    "SELECT path, size, mtime_ns, context, scan FROM scans WHERE root = ?", (root,)
                ):
                    rows[path] = (size, mtime_ns, context, blob)
            except sqlite3.DatabaseError as exc:
                log.warning("analysis cache %s is unreadable (%s); rebuilding it", self.path, exc)
                self._close_quietly()
                self._conn = self._rebuild()
                rows = {}
        self._rows[root] = rows
        return rows

    def _close_quietly(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except sqlite3.Error:
                pass
            self._conn = None

    # ------------------------------------------------------------------------------ FileCache

    def get(self, key: FileKey) -> FileScan | None:
        """The stored scan for exactly this key, or None (also for entries that no longer unpickle)."""
        row = self._load_root(key.root).get(key.path)
        if row is None or row[:3] != (key.size, key.mtime_ns, key.context):
            self.misses += 1
            return None
        try:
            scan = pickle.loads(row[3])  # noqa: S301 - our own cache in the user's private state dir
        except Exception:  # noqa: BLE001 - any unpickling failure (renamed class, truncated blob) is a miss
            self.misses += 1
            return None
        if not isinstance(scan, FileScan):
            self.misses += 1
            return None
        self.hits += 1
        return scan

    def put(self, key: FileKey, scan: FileScan) -> None:
        blob = _dumps(scan)
        self._pending[(key.root, key.path)] = (key, blob)
        self._load_root(key.root)[key.path] = (key.size, key.mtime_ns, key.context, blob)

    def get_result(self, key: str) -> Any:
        """The whole Analysis stored under exactly this key (an unchanged tree), or None."""
        conn = self._connection()
        if conn is None:
            return None
        try:
            row = conn.execute("SELECT analysis FROM results WHERE key = ?", (key,)).fetchone()
        except sqlite3.DatabaseError as exc:
            log.warning("analysis cache %s: results unreadable (%s)", self.path, exc)
            return None
        if row is None:
            return None
        try:
            return pickle.loads(row[0])  # noqa: S301 - our own cache in the user's private state dir
        except Exception:  # noqa: BLE001 - an entry from an older mljobs is simply a miss
            return None

    def put_result(self, key: str, analysis: Any) -> None:
        """Keep one whole result per (root, entrypoint): a newer analysis of it replaces the older one."""
        slot = f"{getattr(analysis, 'root', '')}\0{getattr(analysis, 'entrypoint', '')}"
        self._pending_results[slot] = (key, pickle.dumps(analysis, protocol=pickle.HIGHEST_PROTOCOL))

    def commit(self) -> None:
        """Write pending entries in one transaction; storage faults are logged, never raised."""
        if not self._pending and not self._pending_results:
            return
        conn = self._connection()
        if conn is None:
            self._pending.clear()
            self._pending_results.clear()
            return
        rows = [(k.root, k.path, k.size, k.mtime_ns, k.context, blob) for k, blob in self._pending.values()]
        results = [(slot, key, blob) for slot, (key, blob) in self._pending_results.items()]
        try:
            with conn:
                conn.executemany("INSERT OR REPLACE INTO scans VALUES (?, ?, ?, ?, ?, ?)", rows)
                conn.executemany("INSERT OR REPLACE INTO results VALUES (?, ?, ?)", results)
        except sqlite3.DatabaseError as exc:
            log.warning("analysis cache not written (%s)", exc)
        self._pending.clear()
        self._pending_results.clear()

    def close(self) -> None:
        self.commit()
        self._close_quietly()
