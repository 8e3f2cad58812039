"""Random values and their digests: what the database keeps instead of a secret."""

import hashlib
import hmac
import secrets


def random_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def digest(value: str) -> str:
    """SHA-256 hex digest; random values of 128 bits and more need no salt or stretching."""
    return hashlib.sha256(value.encode()).hexdigest()


def keyed_digest(key: str, purpose: str, value: str) -> str:
    """HMAC-SHA-256 of `value`, separated per purpose so one MAC is never valid for another."""
    return hmac.new(key.encode(), f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
