"""How many ended refresh tokens (expired or deleted) one account keeps, and for how long.

Expired tokens stay listed so that their owners can see and regenerate them, and deleted
ones stay unlisted so that a later use shows in the security log as a revoked token's.
Neither counts toward the live limit, so without a bound an account could pile up any
number of them (a token issued to expire a second later) and make every list of its tokens
as long. Each issue keeps the account's newest ended tokens and drops older ones, in the
transaction that holds the user's row lock for the live limit, so an account never holds
more than the live limit plus KEPT_ENDED tokens, however many requests arrive at once.
Housekeeping drops tokens that expired long ago.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from backend.infra import hot_sql
from backend.tokens.models import RefreshToken

# Ended tokens an account keeps, the most recently issued ones; the list shows the expired
# ones among them.
KEPT_ENDED = 20
# A token expired this long ago goes, whatever the account holds.
KEPT_FOR = timedelta(days=90)

_ENDED = "(revoked_at IS NOT NULL OR expires_at <= $2)"
# Every ended token of the user but the newest KEPT_ENDED; what they were exchanged for and
# their activity go with them (ON DELETE CASCADE). The count comes from the code.
_DROP_OLDER_ENDED = f"""
DELETE FROM refresh_tokens WHERE user_id = $1 AND {_ENDED} AND id NOT IN (
    SELECT id FROM refresh_tokens WHERE user_id = $1 AND {_ENDED}
    ORDER BY created_at DESC, id DESC LIMIT {int(KEPT_ENDED)}
)
"""  # noqa: S608 constant text


async def drop_older_ended(user_id: int, now: datetime) -> None:
    """Inside the transaction that serialises on the user: keep KEPT_ENDED ended tokens."""
    await hot_sql.execute(RefreshToken, _DROP_OLDER_ENDED, [user_id, now])


async def forget_long_expired(now: datetime) -> int:
    """Delete every token that expired more than KEPT_FOR ago; how many."""
    return await RefreshToken.filter(expires_at__lte=now - KEPT_FOR).delete()
