"""WebAuthn challenges kept on the server: random, single use, 5 minutes, bound to a flow.

Only a digest is stored. The browser's answer names the challenge it signed; it is used
up by one conditional UPDATE before anything else is checked, so two answers to one
challenge (a replay, or two parallel finishes) cannot both go on.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from backend import clock
from backend.crypto import same
from backend.twofactor.models import PasskeyChallenge
from backend.twofactor.passkey.ceremonies import Refused

LIFETIME = timedelta(minutes=5)


def _hash(challenge: bytes) -> str:
    return hashlib.sha256(challenge).hexdigest()


async def remember(challenge: bytes, *, binding: str, user_id: int | None) -> None:
    await PasskeyChallenge.create(
        user_id=user_id,
        binding=binding,
        challenge_hash=_hash(challenge),
        expires_at=clock.now() + LIFETIME,
    )


async def use_up(challenge: bytes, *, binding: str) -> None:
    """Use the challenge up for this flow; raise Refused (with the reason) otherwise."""
    row = await PasskeyChallenge.get_or_none(challenge_hash=_hash(challenge))
    if row is None or not same(row.binding, binding):
        raise Refused("unknown_challenge")
    if row.used_at is not None:
        raise Refused("replayed_challenge")
    now = clock.now()
    if row.expires_at <= now:
        raise Refused("expired_challenge")
    used = await PasskeyChallenge.filter(
        id=row.id, used_at=None, expires_at__gt=now
    ).update(used_at=now)
    if not used:  # another request used it first
        raise Refused("replayed_challenge")
