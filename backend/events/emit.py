"""Writing an event: called by the domain inside the transaction of the change it reports,
so an event is sent exactly when its change is committed."""

from __future__ import annotations

import json
import secrets
from typing import Any, Protocol

from backend.events.catalog import TYPES, selects
from backend.events.models import WebhookDelivery, WebhookEndpoint
from backend.kernel import clock


class User(Protocol):
    """Whom an event is about: `data.user` is its id (the future OpenID Connect `sub`) and
    username. Events sit below accounts, whose use cases emit them."""

    @property
    def id(self) -> int: ...

    @property
    def username(self) -> str: ...


async def emit(kind: str, *, user: User | None = None, **data: Any) -> int:
    """One delivery of `kind` to every enabled endpoint that hears it; how many. `data`
    never holds a secret, code, hash or password (tests scan every type's payload)."""
    if kind not in TYPES:
        raise ValueError(f"unknown event type {kind!r}")
    endpoints = await WebhookEndpoint.filter(disabled_at=None).only("id", "events")
    hearing = [endpoint for endpoint in endpoints if selects(endpoint.events.split(","), kind)]
    if not hearing:
        return 0
    if user is not None:
        data = {"user": {"id": str(user.id), "username": user.username}, **data}
    await write(kind, data, hearing)
    return len(hearing)


async def write(
    kind: str, data: dict[str, Any], endpoints: list[WebhookEndpoint], *, claimed: bool = False
) -> list[WebhookDelivery]:
    """`claimed`: written as attempted once already, by the caller, who sends it now."""
    now = clock.now()
    body = json.dumps(
        {"type": kind, "timestamp": now.isoformat().replace("+00:00", "Z"), "data": data},
        separators=(",", ":"),
        ensure_ascii=False,
    )
    deliveries = [
        WebhookDelivery(
            endpoint_id=endpoint.id,
            message_id=message_id(),
            type=kind,
            payload=body,
            created_at=now,
            attempts=1 if claimed else 0,
            next_attempt_at=None if claimed else now,
        )
        for endpoint in endpoints
    ]
    if claimed:  # the caller sends them next: their ids are needed
        for row in deliveries:
            await row.save()
    else:
        await WebhookDelivery.bulk_create(deliveries)
    return deliveries


def message_id() -> str:
    """The `webhook-id` of a delivery, the same for each of its attempts."""
    return f"msg_{secrets.token_hex(16)}"
