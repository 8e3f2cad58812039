"""Recording security events. Callers never pass secrets in `details`."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from backend.audit.models import SecurityEvent
from backend.client import ClientInfo

if TYPE_CHECKING:
    # Audit sits below accounts: an event points at a user row, it never calls accounts.
    from backend.accounts.models import User

log = logging.getLogger("latchkey.security")


async def record(
    kind: str, *, user: User | None = None, client: ClientInfo | None = None, **details: Any
) -> SecurityEvent:
    client = client or ClientInfo()
    event = await SecurityEvent.create(
        kind=kind,
        user=user,
        ip_address=client.ip_address,
        user_agent=client.user_agent,
        details=details,
    )
    log.info(
        "security event %s",
        kind,
        extra={
            "event": kind,
            "user_id": user.id if user else None,
            "ip": client.ip_address,
            "details": details,
        },
    )
    return event


async def page_for(user_id: int, *, first: int, before_id: int | None) -> list[SecurityEvent]:
    """Up to `first` + 1 events older than `before_id`, newest first (the extra one tells
    whether there is a next page)."""
    query = SecurityEvent.filter(user_id=user_id)
    if before_id is not None:
        query = query.filter(id__lt=before_id)
    return await query.order_by("-id").limit(first + 1)
