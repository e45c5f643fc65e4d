"""Credential redaction for skill/ and server/ (the implementation lives in analyzers, the lowest layer)."""

from mljobs.analyzers.redact import REDACTED, has_secret, redact

__all__ = ["REDACTED", "has_secret", "redact"]
