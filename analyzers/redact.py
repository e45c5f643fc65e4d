"""Redaction of credentials in text: user:token@ in URLs, and token-like query parameters.

Private package indexes are configured with URLs such as
`https://user:TOKEN@pkgs.example.com/simple`; such values must never reach output, logs or the store.
"""

from __future__ import annotations

import re

REDACTED = "***"
_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)(?P<userinfo>[^/\s@'\"]+)@")
_QUERY_SECRET = re.compile(
    r"(?P<key>[?&](?:token|access_token|api_key|apikey|key|password|secret|sig|signature)=)[^&\s'\"]+",
    re.IGNORECASE,
)


def redact(text: str) -> str:
    """Replace URL credentials and secret query parameters with ***; other text is unchanged."""
    text = _USERINFO.sub(lambda m: f"{m.group('scheme')}{REDACTED}@", text)
    return _QUERY_SECRET.sub(lambda m: f"{m.group('key')}{REDACTED}", text)


def has_secret(text: str) -> bool:
    return redact(text) != text
