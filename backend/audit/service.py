"""Recording security events. Callers never pass secrets in `details`."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any, Protocol

from backend.audit.models import SecurityEvent
from backend.infra import hot_sql
from backend.kernel import clock
from backend.kernel.client_info import ClientInfo

log = logging.getLogger("latchkey.security")


class User(Protocol):
    """Whom an event is about. Audit sits below accounts (whose use cases record events), so
    it names only what it reads of a user row."""

    @property
    def id(self) -> int: ...


_INSERT = """
INSERT INTO security_events (user_id, kind, created_at, ip_address, user_agent,
    browser_name, system_name, details)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
"""


async def record(
    kind: str, *, user: User | None = None, client: ClientInfo | None = None, **details: Any
) -> None:
    event = Event(kind, user, client or ClientInfo(), details)
    await hot_sql.execute(SecurityEvent, *event.statement())
    event.log()


@dataclasses.dataclass(frozen=True)
class Event:
    """An event written with other statements: `statement()` among them, `log()` once they
    are committed."""

    kind: str
    user: User | None
    client: ClientInfo = dataclasses.field(default_factory=ClientInfo)
    details: dict[str, Any] = dataclasses.field(default_factory=dict)

    def statement(self) -> hot_sql.Statement:
        details = _DETAILS.to_db_value(self.details, SecurityEvent)
        user_id = self.user.id if self.user else None
        client = self.client
        return _INSERT, [
            user_id,
            self.kind,
            clock.now(),
            client.ip_address,
            client.user_agent,
            client.browser.name,
            client.browser.system,
            details,
        ]

    def log(self) -> None:
        log.info(
            "security event %s",
            self.kind,
            extra={
                "event": self.kind,
                "user_id": self.user.id if self.user else None,
                "ip": self.client.ip_address,
                "details": self.details,
            },
        )


_DETAILS = SecurityEvent._meta.fields_map["details"]


async def page_for(user_id: int, *, first: int, before_id: int | None) -> list[SecurityEvent]:
    """Up to `first` + 1 events older than `before_id`, newest first (the extra one tells
    whether there is a next page)."""
    query = SecurityEvent.filter(user_id=user_id)
    if before_id is not None:
        query = query.filter(id__lt=before_id)
    return await query.order_by("-id").limit(first + 1)
