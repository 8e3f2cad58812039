"""Browsers an account signed in from before: OWASP's "device cookies".

A stranger who knows a username can keep the per-account throttle locked with a guess now
and then. A browser that once signed in to the account carries a signed cookie naming
the account; its attempts are throttled on a key of their own (the cookie's nonce), so
the stranger's lock never reaches it, while strangers stay throttled as before.

The cookie proves only that this browser signed in before, never who is at it: it
grants nothing but a throttle of its own, and the password is still checked.
"""

from __future__ import annotations

from backend.accounts.service import username_key
from backend.kernel.crypto import keyed_digest, random_token, same

_PURPOSE = "known-browser"
LIFETIME_DAYS = 365


def mint(secret_key: str, username: str) -> str:
    """A new cookie value for a browser that just signed in to `username`."""
    nonce = random_token(16)
    return f"{nonce}.{_signature(secret_key, username, nonce)}"


def vouched_nonce(cookie: str, secret_key: str, username: str) -> str | None:
    """The cookie's nonce when it was minted for this account, else None."""
    nonce, _, signature = cookie.partition(".")
    if not nonce or len(cookie) > 128:
        return None
    if not same(signature, _signature(secret_key, username, nonce)):
        return None
    return nonce


def _signature(secret_key: str, username: str, nonce: str) -> str:
    return keyed_digest(secret_key, _PURPOSE, f"{username_key(username)}:{nonce}")[:32]
