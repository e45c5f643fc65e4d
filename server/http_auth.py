"""HTTP beyond loopback: Host/Origin checks with an explicit allow-list, and a bearer token on every request.

On loopback the SDK turns DNS-rebinding protection on by itself. For any other bind address it turns it
off, and the server has no login of its own, so `mljobs serve --allow-remote` used to expose every tool to
whoever could reach the port. Now `--allow-remote` needs:

- `--allowed-host HOST[:PORT]` (repeatable): the Host header values clients will send (the SDK's
  `TransportSecuritySettings`, with DNS-rebinding protection on); `--allowed-origin` likewise for browsers;
- a bearer token of at least 32 characters in `$MLJOBS_HTTP_TOKEN` (an environment variable, not an
  argument: arguments are visible to every user in `ps`). Each request must carry
  `Authorization: Bearer <token>`; it is compared in constant time and never logged.
"""

from __future__ import annotations

import hmac
import json
import os
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from mcp.server.transport_security import TransportSecuritySettings

from .errors import UsageError

TOKEN_ENV = "MLJOBS_HTTP_TOKEN"
MIN_TOKEN_CHARS = 32

Scope = Mapping[str, Any]
Receive = Callable[[], Awaitable[Mapping[str, Any]]]
Send = Callable[[Mapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def remote_security(allowed_hosts: Sequence[str], allowed_origins: Sequence[str]) -> TransportSecuritySettings:
    """The SDK's Host/Origin checks for a non-loopback bind.

    Raises:
        UsageError: no allowed host was named, or a value holds whitespace or control characters.
    """
    if not allowed_hosts:
        raise UsageError("--allow-remote needs at least one --allowed-host HOST[:PORT] (the name clients use "
                         "to reach this server); Host headers not on the list are refused")
    for value in (*allowed_hosts, *allowed_origins):
        if not value or not value.isprintable() or any(ch.isspace() for ch in value):
            raise UsageError("--allowed-host/--allowed-origin values must be single host[:port] or origin words")
    hosts = [h if ":" in h.rsplit("]", 1)[-1] else f"{h}:*" for h in allowed_hosts]
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=list(allowed_origins)
    )


def token_from_env(environ: Mapping[str, str] | None = None) -> str:
    """The bearer token from `$MLJOBS_HTTP_TOKEN`.

    Raises:
        UsageError: unset or shorter than 32 characters (the message never shows the value).
    """
    token = (environ if environ is not None else os.environ).get(TOKEN_ENV, "")
    if len(token) < MIN_TOKEN_CHARS or not token.isprintable() or any(ch.isspace() for ch in token):
        raise UsageError(
            f"--allow-remote needs a bearer token of at least {MIN_TOKEN_CHARS} printable characters in "
            f"${TOKEN_ENV} (e.g. `export {TOKEN_ENV}=$(python -c 'import secrets; print(secrets.token_urlsafe(32))')`)"
        )
    return token


class BearerAuth:
    """ASGI middleware: every HTTP request needs `Authorization: Bearer <token>`; others get 401."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        if len(token) < MIN_TOKEN_CHARS:
            raise ValueError(f"the bearer token must be at least {MIN_TOKEN_CHARS} characters")
        self._app = app
        self._expected = f"Bearer {token}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") != "http":  # lifespan events carry no headers
            await self._app(scope, receive, send)
            return
        given = b""
        for name, value in scope.get("headers") or ():
            if name.lower() == b"authorization":
                given = value
                break
        if not hmac.compare_digest(given, self._expected):
            body = json.dumps({"error": "unauthorized", "detail": "send Authorization: Bearer <token>"}).encode()
            await send({"type": "http.response.start", "status": 401, "headers": [
                (b"content-type", b"application/json"), (b"www-authenticate", b'Bearer realm="mljobs"'),
                (b"content-length", str(len(body)).encode()),
            ]})
            await send({"type": "http.response.body", "body": body})
            return
        await self._app(scope, receive, send)


def remote_app(server: Any, *, host: str, allowed_hosts: Sequence[str], allowed_origins: Sequence[str],
               token: str) -> BearerAuth:
    """The SDK's streamable-HTTP app with the allow-list, wrapped in the bearer check."""
    app = server.streamable_http_app(transport_security=remote_security(allowed_hosts, allowed_origins), host=host)
    return BearerAuth(app, token)
