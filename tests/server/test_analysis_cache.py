"""DiskFileCache: per-file scans survive the process, any key change misses, corrupt files are rebuilt."""

from __future__ import annotations

import os
import sqlite3

import pytest

from mljobs.analyzers.cache import FileKey, FileScan
from mljobs.analyzers.model import Confidence, ImportFinding, ImportKind, Location
from mljobs.server.analysis_cache import DiskFileCache

KEY = FileKey("/proj", "main.py", 10, 123, "ctx")
SCAN = FileScan("main.py", "main", True, imports=(
    ImportFinding(ImportKind.IMPORT, "numpy", (), Location("main.py", 1), "import numpy", Confidence.CERTAIN),))


def test_disk_cache__commit_then_new_instance__hit(tmp_path) -> None:
    """A committed scan is returned, equal, by a fresh cache on the same file."""
    path = tmp_path / "c.sqlite3"
    cache = DiskFileCache(path)
    cache.put(KEY, SCAN)
    cache.close()
    assert DiskFileCache(path).get(KEY) == SCAN


@pytest.mark.parametrize(
    "key",
    [
        pytest.param(KEY._replace(size=11), id="size_changed__miss"),
        pytest.param(KEY._replace(mtime_ns=124), id="mtime_changed__miss"),
        pytest.param(KEY._replace(context="other-rules"), id="rules_changed__miss"),
        pytest.param(KEY._replace(root="/elsewhere"), id="other_root__miss"),
    ],
)
def test_disk_cache__key_differs__miss(tmp_path, key) -> None:
    """Any difference in the key is a miss."""
    cache = DiskFileCache(tmp_path / "c.sqlite3")
    cache.put(KEY, SCAN)
    cache.commit()
    assert DiskFileCache(tmp_path / "c.sqlite3").get(key) is None


def test_disk_cache__corrupt_file__rebuilt_and_usable(tmp_path) -> None:
    """A garbage database file is replaced; lookups miss and new entries are stored."""
    path = tmp_path / "c.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    cache = DiskFileCache(path)
    assert cache.get(KEY) is None
    cache.put(KEY, SCAN)
    cache.close()
    assert DiskFileCache(path).get(KEY) == SCAN


def test_disk_cache__undecodable_entry__miss(tmp_path) -> None:
    """A stored blob that no longer unpickles is a miss, not an error."""
    path = tmp_path / "c.sqlite3"
    cache = DiskFileCache(path)
    cache.put(KEY, SCAN)
    cache.close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE scans SET scan = ?", (b"\x80\x05garbage",))
    assert DiskFileCache(path).get(KEY) is None


def test_disk_cache__unwritable_location__disabled_not_raising(tmp_path) -> None:
    """When the cache folder cannot be created, the cache silently does nothing."""
    blocker = tmp_path / "file"
    blocker.write_text("x")
    cache = DiskFileCache(blocker / "sub" / "c.sqlite3")
    assert cache.get(KEY) is None
    cache.put(KEY, SCAN)
    cache.close()


def test_disk_cache__whole_result__survives_processes_and_misses_on_change(tmp_path_factory, rules, write_tree) -> None:
    """A new DiskFileCache (as a new process sees it) serves an unchanged tree whole; any edit is a miss."""
    from mljobs.analyzers import analyze

    root = write_tree({"train.py": "import sklearn\n"})
    db = tmp_path_factory.mktemp("state") / "cache" / "analysis.sqlite3"  # outside the project, as in use
    first = analyze(root / "train.py", rules=rules, cache=DiskFileCache(db))
    cache = DiskFileCache(db)
    assert analyze(root / "train.py", rules=rules, cache=cache) == first
    assert (cache.hits, cache.misses) == (0, 0)
    (root / "train.py").write_text("import sklearn\nimport catboost\n")
    os.utime(root / "train.py", ns=(5, 5))
    changed = analyze(root / "train.py", rules=rules, cache=DiskFileCache(db))
    assert "catboost" in {p.distribution for p in changed.packages}
