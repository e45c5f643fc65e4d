"""Reproductions 2 and 6 (at rest): an empty or short signing key never signs; the state folder is private."""

from __future__ import annotations

import base64
import errno
import hashlib
import hmac
import json
import os
import stat
from pathlib import Path

import pytest

from mljobs.server.checkpoints import Checkpoints
from mljobs.server.errors import ConfigurationError, NotConfirmedError
from mljobs.server.service import Service
from mljobs.server.settings import Settings
from mljobs.server.store import JobStore


def _forge(key: bytes, action: str, subject: str) -> str:
    """A token built exactly as the issue's reproduction built it, signed with `key`."""
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    payload = {"a": action, "s": hashlib.sha256(subject.encode()).hexdigest(), "e": 9e12, "n": "00" * 8}
    body = b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
    return f"{body}.{b64(hmac.new(key, body.encode(), hashlib.sha256).digest())}"


@pytest.mark.parametrize("content", [b"", b"short", b"x" * 31])
def test_short_key_on_disk__replaced_and_forgery_refused(tmp_path: Path, content: bytes) -> None:
    store = JobStore(tmp_path / "jobs.sqlite3")
    key = tmp_path / "checkpoint.key"
    key.write_bytes(content)
    checkpoints = Checkpoints(store)
    assert len(key.read_bytes()) >= 32 and key.read_bytes() != content
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    with pytest.raises(NotConfirmedError):
        checkpoints.redeem(_forge(content, "submit", "plan-hash"), "submit", "plan-hash")
    good = checkpoints.issue("submit", "plan-hash")
    assert checkpoints.redeem(good, "submit", "plan-hash").method == "token"


def test_full_disk__no_partial_key_left_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = JobStore(tmp_path / "jobs.sqlite3")
    real_write = os.write

    def full(fd: int, data: bytes) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "write", full)
    with pytest.raises(ConfigurationError) as info:
        Checkpoints(store)
    assert "checkpoint.key" in str(info.value) and "\n" not in str(info.value)
    assert not (tmp_path / "checkpoint.key").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
    monkeypatch.setattr(os, "write", real_write)
    Checkpoints(store)  # once the disk has room, a whole key is written
    assert len((tmp_path / "checkpoint.key").read_bytes()) == 32


def test_injected_short_secret__refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        Checkpoints(JobStore(tmp_path / "j.sqlite3"), secret=b"")


def test_state_dir__0700_before_cache_files_0600(tmp_path: Path, write_tree) -> None:
    state = tmp_path / "state"
    service = Service(Settings(state_dir=state))
    root = write_tree({"proj/train.py": "import numpy\n"})
    service.analyze(root / "proj" / "train.py")  # the analysis cache used to create the state dir 0755
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    service.checkpoints.issue("submit", "x")
    service.store.list()
    assert stat.S_IMODE((state / "jobs.sqlite3").stat().st_mode) == 0o600
    assert stat.S_IMODE((state / "checkpoint.key").stat().st_mode) == 0o600
    for extra in ("jobs.sqlite3-wal", "jobs.sqlite3-shm"):
        if (state / extra).exists():
            assert stat.S_IMODE((state / extra).stat().st_mode) == 0o600


def test_existing_open_state_dir__tightened(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir(mode=0o755)
    os.chmod(state, 0o755)
    Settings(state_dir=state).ensure_state_dir()
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
