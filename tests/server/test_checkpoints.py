"""Confirmation tokens: bound to action and exact subject, short-lived, single-use, unforgeable."""

from __future__ import annotations

from pathlib import Path

import pytest

from mljobs.server.checkpoints import Checkpoints
from mljobs.server.errors import NotConfirmedError
from mljobs.server.store import JobStore


class Clock:
    def __init__(self) -> None:
        self.t = 10_000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def checkpoints(tmp_path: Path, clock: Clock) -> Checkpoints:
    return Checkpoints(JobStore(tmp_path / "jobs.sqlite3"), ttl=300, now=clock)


def test_token__redeemed_for_its_plan__confirms_once(checkpoints: Checkpoints) -> None:
    """A fresh token for the same action and plan hash is accepted once, then refused."""
    token = checkpoints.issue("submit", "hash-1")
    confirmation = checkpoints.redeem(token, "submit", "hash-1")
    assert (confirmation.method, confirmation.subject) == ("token", "hash-1")
    with pytest.raises(NotConfirmedError, match="already used"):
        checkpoints.redeem(token, "submit", "hash-1")


def test_token__for_a_changed_plan__is_refused(checkpoints: Checkpoints) -> None:
    """Any change to the plan changes its hash, so the old token no longer fits."""
    token = checkpoints.issue("submit", "hash-1")
    with pytest.raises(NotConfirmedError, match="changed since the preview"):
        checkpoints.redeem(token, "submit", "hash-2")


def test_token__for_another_action__is_refused(checkpoints: Checkpoints) -> None:
    """A cancel token cannot delete."""
    token = checkpoints.issue("cancel", "JOB")
    with pytest.raises(NotConfirmedError, match="issued for 'cancel'"):
        checkpoints.redeem(token, "delete", "JOB")


def test_token__after_ttl__is_expired(checkpoints: Checkpoints, clock: Clock) -> None:
    """Tokens are short-lived."""
    token = checkpoints.issue("submit", "h")
    clock.t += 301
    with pytest.raises(NotConfirmedError, match="expired"):
        checkpoints.redeem(token, "submit", "h")


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"), id="signature_tampered"),
        pytest.param(lambda t: "x" + t, id="body_tampered"),
        pytest.param(lambda t: "garbage", id="malformed"),
        pytest.param(lambda t: "", id="empty"),
    ],
)
def test_token__tampered__is_refused(checkpoints: Checkpoints, mangle) -> None:
    """A token whose body or signature changed is not accepted."""
    with pytest.raises(NotConfirmedError):
        checkpoints.redeem(mangle(checkpoints.issue("submit", "h")), "submit", "h")


def test_token__from_another_key__is_refused(tmp_path: Path, clock: Clock) -> None:
    """Tokens are signed with the state dir's key; another key's token is forged."""
    store = JobStore(tmp_path / "jobs.sqlite3")
    other = Checkpoints(store, secret=b"k" * 32, now=clock)
    mine = Checkpoints(store, secret=b"m" * 32, now=clock)
    with pytest.raises(NotConfirmedError, match="not valid"):
        mine.redeem(other.issue("submit", "h"), "submit", "h")


def test_secret__shared_by_processes_using_one_state_dir(tmp_path: Path, clock: Clock) -> None:
    """Two Checkpoints on the same state dir agree on the key, so a token issued by one is valid in the other."""
    a = Checkpoints(JobStore(tmp_path / "jobs.sqlite3"), now=clock)
    b = Checkpoints(JobStore(tmp_path / "jobs.sqlite3"), now=clock)
    b.redeem(a.issue("delete", "J"), "delete", "J")
    assert (tmp_path / "checkpoint.key").stat().st_mode & 0o777 == 0o600
