"""WebAuthn challenges kept on the server: random, single use, 5 minutes, bound to a flow.

Only a digest is stored. The browser's answer names the challenge it signed; it is used
up by one conditional UPDATE before anything else is checked, so two answers to one
challenge (a replay, or two parallel finishes) cannot both go on.

Challenges of nobody yet (a passkey sign-in without a username) are asked for by anyone:
they are bounded in number, the oldest pruned as new ones come (anonymous_statements).
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from backend.auth.factors.models import PasskeyChallenge
from backend.auth.factors.passkey.ceremonies import Refused
from backend.infra import hot_sql
from backend.kernel import clock
from backend.kernel.crypto import same

LIFETIME = timedelta(minutes=5)
# Challenges of nobody kept at once: far more sign-ins than are under way in five minutes,
# and a bound on what strangers can store (each row is about 200 bytes).
MAX_ANONYMOUS = 10_000

_INSERT_ANONYMOUS = """
INSERT INTO passkey_challenges (user_id, binding, challenge_hash, created_at, expires_at)
VALUES (NULL, $1, $2, $3, $4)
RETURNING id
"""
# Ids only grow, so at most MAX_ANONYMOUS rows of any kind are newer than the newest id
# minus MAX_ANONYMOUS: whatever anonymous row is older goes, found through the primary key
# (the newest id is one index look-up), without counting rows.
_PRUNE_ANONYMOUS = """
DELETE FROM passkey_challenges
WHERE user_id IS NULL AND id <= (SELECT MAX(id) FROM passkey_challenges) - {keep}
""".replace("{keep}", str(MAX_ANONYMOUS))


def _hash(challenge: bytes) -> str:
    return hashlib.sha256(challenge).hexdigest()


async def remember(challenge: bytes, *, binding: str, user_id: int | None) -> None:
    await PasskeyChallenge.create(
        user_id=user_id,
        binding=binding,
        challenge_hash=_hash(challenge),
        expires_at=clock.now() + LIFETIME,
    )


def anonymous_statements(challenge: bytes, *, binding: str) -> list[hot_sql.Statement]:
    """Remember a challenge of nobody yet and prune the oldest beyond MAX_ANONYMOUS, as
    statements to run with others (the insert returns a row)."""
    now = clock.now()
    insert = _INSERT_ANONYMOUS, [binding, _hash(challenge), now, now + LIFETIME]
    return [insert, (_PRUNE_ANONYMOUS, [])]


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
    used = await PasskeyChallenge.filter(id=row.id, used_at=None, expires_at__gt=now).update(
        used_at=now
    )
    if not used:  # another request used it first
        raise Refused("replayed_challenge")
