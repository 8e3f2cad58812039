"""The account's sessions and security log as the API shows them, with their viewer fields."""

from __future__ import annotations

import base64
from datetime import datetime

import strawberry

from backend.api.context import Context
from backend.audit import service as audit
from backend.audit.descriptions import describe
from backend.audit.models import SecurityEvent as SecurityEventModel
from backend.auth.factors.registry import KINDS
from backend.auth.sessions import service as sessions
from backend.auth.sessions.models import Session as SessionModel
from backend.kernel.client_info import Browser
from backend.kernel.ids import id_or_none

FACTOR_NAMES = {kind.kind: kind.default_name for kind in KINDS}

MAX_PAGE = 100


@strawberry.type(description="A signed-in browser or client of the account.")
class Session:
    id: strawberry.ID
    current: bool
    created_at: datetime
    last_seen_at: datetime
    ip_address: str
    user_agent: str
    stored_browser: strawberry.Private[Browser]

    @strawberry.field(description="Browser and system in words, in the reader's language.")
    def browser(self, info: strawberry.Info) -> str:
        return self.stored_browser.words(info.context.language)

    @classmethod
    def from_model(cls, session: SessionModel, current_id: int | None) -> Session:
        return cls(
            id=strawberry.ID(str(session.id)),
            current=session.id == current_id,
            created_at=session.created_at,
            last_seen_at=session.last_seen_at,
            ip_address=session.ip_address,
            user_agent=session.user_agent,
            stored_browser=Browser(session.browser_name, session.system_name),
        )


@strawberry.type
class SecurityEvent:
    model: strawberry.Private[SecurityEventModel]
    id: strawberry.ID
    kind: str = strawberry.field(description="Stable name, e.g. sign_in.failed.")
    created_at: datetime
    ip_address: str

    @classmethod
    def from_model(cls, event: SecurityEventModel) -> SecurityEvent:
        return cls(
            id=strawberry.ID(str(event.id)),
            model=event,
            kind=event.kind,
            created_at=event.created_at,
            ip_address=event.ip_address,
        )

    @strawberry.field(description="Browser and system in words, in the reader's language.")
    def browser(self, info: strawberry.Info) -> str:
        event = self.model
        if not event.user_agent:
            return ""
        return Browser(event.browser_name, event.system_name).words(info.context.language)

    @strawberry.field(description="The event in words, in the reader's language.")
    def description(self, info: strawberry.Info) -> str:
        event = self.model
        return describe(event.kind, event.details, FACTOR_NAMES, info.context.language)


@strawberry.type
class SecurityEventEdge:
    cursor: str
    node: SecurityEvent


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class SecurityEventConnection:
    edges: list[SecurityEventEdge]
    page_info: PageInfo


async def viewer_sessions(context: Context, user_id: int) -> list[Session]:
    current = context.identity.session.id if context.identity.session else None
    live = await sessions.list_for(user_id, context.services.session_timeouts)
    # The session in use first: it is the one a user looks for, and it cannot be signed out here.
    live.sort(key=lambda session: session.id != current)
    return [Session.from_model(session, current) for session in live]


async def viewer_security_events(
    user_id: int, first: int, after: str | None
) -> SecurityEventConnection:
    first = max(1, min(first, MAX_PAGE))
    events = await audit.page_for(user_id, first=first, before_id=_decode_cursor(after))
    page = events[:first]
    edges = [
        SecurityEventEdge(cursor=_cursor(e.id), node=SecurityEvent.from_model(e)) for e in page
    ]
    return SecurityEventConnection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=len(events) > first, end_cursor=edges[-1].cursor if edges else None
        ),
    )


def _cursor(event_id: int) -> str:
    return base64.urlsafe_b64encode(f"event:{event_id}".encode()).decode()


def _decode_cursor(cursor: str | None) -> int | None:
    """The event id in a cursor; 0 for a cursor this API never gave out.

    Decision: a cursor that names no event is answered with an empty page, like the page
    after the last event, never with an error; a stale or mangled link shows nothing more.
    """
    if not cursor:
        return None
    try:
        decoded = base64.urlsafe_b64decode(cursor.encode("ascii"))
        prefix, _, event_id = decoded.decode("ascii").partition(":")
    except (ValueError, UnicodeError):  # binascii.Error is a ValueError
        return 0
    number = id_or_none(event_id) if prefix == "event" else None
    return number or 0
