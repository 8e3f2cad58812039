"""Ending sessions, and telling the parts that must know, in the transaction that ends them.

OpenID Connect's back-channel logout (backend/oidc/) owes every application that signed in
through a session a logout token when someone ends that session: a sign-out, a revocation,
a password change or reset, "This wasn't me", an administrator. It must be written in the
same transaction, so that a change that rolls back sends nothing. OpenID Connect sits above
auth, which may not import it; so every way of ending sessions comes through `end` here,
which locks the sessions, hands them to the listeners registered at start-up
(backend/app/wiring.py), and deletes them, all in one transaction.

Expiry does not come here: nobody ended an expired session, and neither the specification
nor the product sends anything for it. Nor does the per-user cap's eviction of the oldest
session at sign-in, which bounds rows as expiry does.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable

from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from backend.auth.sessions.models import Session


@dataclasses.dataclass(frozen=True)
class EndedSession:
    id: int
    user_id: int


# Called inside the transaction, before the sessions' rows (and what cascades from them)
# are deleted; what a listener writes commits or rolls back with the end itself.
Listener = Callable[[list[EndedSession]], Awaitable[None]]
_listeners: list[Listener] = []


def listen(listener: Listener) -> None:
    """Hear of every session that ends from now on; registering twice changes nothing."""
    if listener not in _listeners:
        _listeners.append(listener)


async def end(sessions: QuerySet[Session]) -> list[EndedSession]:
    """End the sessions `sessions` selects; those that ended (none when already gone)."""
    async with in_transaction():
        # Locked on PostgreSQL, so that what the listeners hear of is what is deleted.
        rows = await sessions.select_for_update().only("id", "user_id")
        ended = [EndedSession(row.id, row.user_id) for row in rows]
        if ended:
            for listener in _listeners:
                await listener(ended)
            await Session.filter(id__in=[session.id for session in ended]).delete()
    return ended
