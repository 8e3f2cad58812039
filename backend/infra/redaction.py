"""Keeping secrets and oversized values out of what we say back and what we log."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

MARKER = "[redacted]"

# A name whose words include one of these holds a secret: password, newPasswordConfirmation,
# otp, otpauthUri, code, recoveryCodes, secret, clientSecret, refreshToken, credential,
# challenge, authorization, cookie.
_SECRET_WORDS = re.compile(r"password|otp|code|secret|token|credential|challenge|auth|cookie")
# ...unless its last word says it names or counts the secret rather than holding it.
_NOT_SECRET_LAST_WORDS = {"id", "ids", "name", "names", "count", "at", "kind", "method"}
_WORD = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")


def is_secret_name(name: str) -> bool:
    words = [word.lower() for word in _WORD.findall(name)]
    if not words or words[-1] in _NOT_SECRET_LAST_WORDS:
        return False
    return any(_SECRET_WORDS.search(word) for word in words)


def redact(value: Any) -> Any:
    """The value with everything under a secret-looking key replaced by MARKER."""
    if isinstance(value, Mapping):
        return {
            key: MARKER if is_secret_name(str(key)) else redact(item) for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(item) for item in value]
    return value


def shorten(text: str, limit: int) -> str:
    """At most about `limit` characters, saying how many were cut."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}...[{len(text) - limit} more characters]"
