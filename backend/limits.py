"""Bounds on what one account may pile up: tokens, sessions, recognized devices.

A count followed by an insert must not interleave with another worker doing the same,
so both run in one transaction that first serialises on the user's row.
"""

from __future__ import annotations

from tortoise.expressions import F
from tortoise.models import Model

from backend.accounts.models import User

MAX_SESSIONS_PER_USER = 100
MAX_TRUSTED_DEVICES_PER_USER = 100


async def serialise_on_user(user_id: int) -> None:
    """Inside a transaction: take the user's row lock, held until commit or rollback.

    A no-op update locks the row on PostgreSQL, where a plain read would not (READ
    COMMITTED); on SQLite it takes the database's single write lock before the
    transaction reads anything, so what is counted next is current on both.
    """
    await User.filter(id=user_id).update(username=F("username"))


async def keep_newest(model: type[Model], user_id: int, keep: int) -> int:
    """Delete the user's oldest rows of `model` beyond the newest `keep`; how many went."""
    stale = (
        await model.filter(user_id=user_id)
        .order_by("-created_at", "-id")
        .offset(keep)
        .limit(1000)  # more than a burst can add between two calls
        .values_list("id", flat=True)
    )
    if not stale:
        return 0
    return await model.filter(id__in=list(stale)).delete()
