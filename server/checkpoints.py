"""Confirmation checkpoints: nothing with a side effect runs without the user's yes.

Where the MCP client supports elicitation the server asks the user directly. Otherwise a preview
returns a short-lived, single-use token that is bound (HMAC) to the action and to the exact subject:
the plan hash for submit, the job id for cancel/delete. Any change to the plan changes its hash, so an
old token no longer fits. Spent tokens are recorded in the job store, so single use holds across
processes.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigurationError, NotConfirmedError
from .settings import ensure_private_dir
from .store import JobStore

DEFAULT_TTL_SECONDS = 600.0
ACTIONS = frozenset({"submit", "cancel", "delete", "create_stage", "deploy_pipeline", "run_pipeline", "add_local_eai",
                     "cleanup"})


@dataclass(frozen=True, slots=True)
class Confirmation:
    """How and when a side effect was confirmed; stored with the job."""

    action: str
    subject: str
    method: str  # elicitation | token | cli_yes | cli_prompt | auto_accept
    at: float

    def to_dict(self) -> dict[str, object]:
        return {"action": self.action, "subject": self.subject, "method": self.method, "at": self.at}


def subject_digest(subject: str) -> str:
    return hashlib.sha256(subject.encode("utf-8")).hexdigest()


class Checkpoints:
    """Issues and redeems confirmation tokens.

    Args:
        store: where spent tokens are recorded (single use across processes).
        secret: HMAC key; by default read from (or created in) `<state dir>/checkpoint.key`, mode 0600.
        ttl: seconds a token stays valid.
        now: injected clock.
    """

    def __init__(
        self,
        store: JobStore,
        *,
        secret: bytes | None = None,
        secret_path: Path | None = None,
        ttl: float = DEFAULT_TTL_SECONDS,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._ttl = ttl
        self._now = now
        if secret is not None and len(secret) < MIN_KEY_BYTES:
            raise ValueError(f"a confirmation key must be at least {MIN_KEY_BYTES} bytes")
        self._secret = secret if secret is not None else _load_or_create_secret(
            secret_path or store.path.parent / "checkpoint.key"
        )

    def issue(self, action: str, subject: str) -> str:
        """A token that authorises `action` on exactly `subject` (plan hash or job id) until it expires."""
        if action not in ACTIONS:
            raise ValueError(f"unknown action {action!r}")
        payload = {
            "a": action,
            "s": subject_digest(subject),
            "e": round(self._now() + self._ttl, 3),
            "n": secrets.token_hex(8),
        }
        body = _b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
        return f"{body}.{_b64(self._sign(body))}"

    def redeem(self, token: str | None, action: str, subject: str) -> Confirmation:
        """Spend `token` for `action` on `subject`.

        Raises:
            NotConfirmedError: missing, malformed, forged, expired, already used, or issued for another
                action or another plan/job. The message says to preview again to get a fresh token.
        """
        again = "preview the action again to get a fresh confirmation token"
        if not token:
            raise NotConfirmedError(f"{action} needs the user's confirmation; {again}")
        try:
            body, signature = token.split(".", 1)
            expected = self._sign(body)
            if not hmac.compare_digest(_unb64(signature), expected):
                raise NotConfirmedError(f"confirmation token is not valid; {again}")
            payload = json.loads(_unb64(body))
        except NotConfirmedError:
            raise
        except (ValueError, TypeError) as exc:
            raise NotConfirmedError(f"confirmation token is malformed; {again}") from exc
        if payload.get("a") != action:
            raise NotConfirmedError(f"confirmation token was issued for {payload.get('a')!r}, not {action!r}; {again}")
        if payload.get("s") != subject_digest(subject):
            raise NotConfirmedError(
                f"confirmation token does not match this {'plan' if action == 'submit' else 'job'} "
                f"(it changed since the preview); {again}"
            )
        if float(payload.get("e", 0)) < self._now():
            raise NotConfirmedError(f"confirmation token expired; {again}")
        if not self._store.mark_token_used(str(payload.get("n")) + ":" + body[-16:]):
            raise NotConfirmedError(f"confirmation token was already used; {again}")
        return Confirmation(action=action, subject=subject, method="token", at=self._now())

    def record(self, action: str, subject: str, method: str) -> Confirmation:
        """A confirmation obtained another way (elicitation accepted, --yes, interactive prompt)."""
        return Confirmation(action=action, subject=subject, method=method, at=self._now())

    def _sign(self, body: str) -> bytes:
        return hmac.new(self._secret, body.encode("ascii"), hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


MIN_KEY_BYTES = 32


def _load_or_create_secret(path: Path) -> bytes:
    """The HMAC key at `path`, created when missing; a key under 32 bytes is never used.

    The key is written atomically (temp file, fsync, link into place), so a full disk or a crash leaves
    either no key or a whole one, never the 0-byte file an interrupted write would. A short key found on
    disk (from an older version, or tampering) is replaced, not trusted: a token signed with an empty key
    would otherwise verify.

    Raises:
        ConfigurationError: the key cannot be read or written (the message names the file, not the key).
    """
    for _attempt in range(3):
        data = _read_key(path)
        if data is not None and len(data) >= MIN_KEY_BYTES:
            return data
        _write_key_atomically(path, replace=data is not None)
    raise ConfigurationError(f"the confirmation key {path} keeps coming back shorter than {MIN_KEY_BYTES} bytes; "
                             "remove it and make sure the state folder is writable")


def _read_key(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigurationError(f"cannot read the confirmation key {path} ({exc.strerror}); "
                                 "check the state folder's permissions") from None


def _write_key_atomically(path: Path, *, replace: bool) -> None:
    """Write a fresh key next to `path` and move it into place: `link` when none exists (another process
    that created one first wins, so both agree), `rename` over a short key."""
    ensure_private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            view = memoryview(secrets.token_bytes(MIN_KEY_BYTES))
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        if replace:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass  # another process won the race: its key is used (read again by the caller)
        _fsync_dir(path.parent)
    except OSError as exc:
        raise ConfigurationError(f"cannot write the confirmation key {path} ({exc.strerror}); "
                                 "free some disk space or fix the state folder's permissions") from None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
