"""Editing the account, changing the password, groups, sessions and the security log."""

from __future__ import annotations

import base64
from datetime import datetime

import strawberry
from strawberry.types import Info

from backend.account_settings import email_change, password_change, profile
from backend.accounts import groups
from backend.api.context import Context
from backend.api.errors import UserError
from backend.api.input_guard import guard_inputs
from backend.api.types import Group, User
from backend.audit import service as audit
from backend.audit.descriptions import describe
from backend.audit.models import SecurityEvent as SecurityEventModel
from backend.client import describe_user_agent
from backend.ids import id_or_none, parse_id
from backend.sessions import service as sessions
from backend.sessions.models import Session as SessionModel

MAX_PAGE = 100


@strawberry.type(description="A signed-in browser or client of the account.")
class Session:
    id: strawberry.ID
    current: bool
    created_at: datetime
    last_seen_at: datetime
    ip_address: str
    user_agent: str
    browser: str = strawberry.field(description="Browser and system in words.")

    @classmethod
    def from_model(cls, session: SessionModel, current_id: int | None) -> Session:
        return cls(
            id=strawberry.ID(str(session.id)),
            current=session.id == current_id,
            created_at=session.created_at,
            last_seen_at=session.last_seen_at,
            ip_address=session.ip_address,
            user_agent=session.user_agent,
            browser=describe_user_agent(session.user_agent),
        )


@strawberry.type
class SecurityEvent:
    id: strawberry.ID
    kind: str = strawberry.field(description="Stable name, e.g. sign_in.failed.")
    description: str
    created_at: datetime
    ip_address: str
    browser: str

    @classmethod
    def from_model(cls, event: SecurityEventModel) -> SecurityEvent:
        return cls(
            id=strawberry.ID(str(event.id)),
            kind=event.kind,
            description=describe(event.kind),
            created_at=event.created_at,
            ip_address=event.ip_address,
            browser=describe_user_agent(event.user_agent) if event.user_agent else "",
        )


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


@strawberry.input
class UpdateAccountInput:
    email: str | None = strawberry.UNSET
    first_name: str | None = strawberry.UNSET
    last_name: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    mobile_phone: str | None = strawberry.field(
        default=strawberry.UNSET, description="E.164 or with a country code; empty clears it."
    )
    time_zone: str | None = strawberry.UNSET
    password: str | None = strawberry.field(
        default=strawberry.UNSET, description="Needed to change the email or mobile phone."
    )
    otp: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="With two-factor authentication on, also needed for the email or phone.",
    )


@strawberry.type
class UpdateAccountPayload:
    viewer: User | None = None
    email_verification_sent: bool = strawberry.field(
        default=False, description="A code went to the new address; see pendingEmail."
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class VerifyEmailChangeInput:
    code: str


@strawberry.type
class ViewerPayload:
    viewer: User | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class ChangePasswordInput:
    current_password: str
    new_password: str
    new_password_confirmation: str


@strawberry.input
class GroupInput:
    name: str


@strawberry.type
class GroupPayload:
    group: Group | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class RevokeSessionInput:
    id: strawberry.ID


@strawberry.type
class RevokeSessionPayload:
    revoked_session_id: strawberry.ID | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class SignOutOtherSessionsInput:
    confirm: bool = True


@strawberry.type
class SignOutOtherSessionsPayload:
    signed_out_count: int = 0
    user_errors: list[UserError] = strawberry.field(default_factory=list)


def _given(value: str | None) -> str | None:
    return None if value is strawberry.UNSET else value


@guard_inputs
@strawberry.type
class AccountMutations:
    @strawberry.mutation(description="Change account details; all apply together or none.")
    async def update_account(
        self, info: Info[Context, None], input: UpdateAccountInput
    ) -> UpdateAccountPayload:
        context = info.context
        changes = profile.ProfileChanges(
            **{
                name: _given(getattr(input, name))
                for name in (
                    "email",
                    "first_name",
                    "last_name",
                    "description",
                    "mobile_phone",
                    "time_zone",
                    "password",
                    "otp",
                )
            }
        )
        user = context.require_viewer()
        sent = await profile.update(context.services, user, context.client, changes)
        return UpdateAccountPayload(viewer=User.from_model(user), email_verification_sent=sent)

    @strawberry.mutation(description="Apply a new email address with the code sent to it.")
    async def verify_email_change(
        self, info: Info[Context, None], input: VerifyEmailChangeInput
    ) -> ViewerPayload:
        context = info.context
        user = context.require_viewer()
        await email_change.verify(context.services, user, context.client, input.code)
        return ViewerPayload(viewer=User.from_model(user))

    @strawberry.mutation(description="Change the password; every other session ends.")
    async def change_password(
        self, info: Info[Context, None], input: ChangePasswordInput
    ) -> ViewerPayload:
        context = info.context
        user = context.require_viewer()
        session = context.identity.session
        renewed = await password_change.change(
            context.services,
            user,
            session,
            context.client,
            current=input.current_password,
            new=input.new_password,
            confirmation=input.new_password_confirmation,
        )
        if session and renewed:
            context.start_session(user, session, renewed)
        return ViewerPayload(viewer=User.from_model(user))

    @strawberry.mutation(description="Join a self-service group.")
    async def join_group(self, info: Info[Context, None], input: GroupInput) -> GroupPayload:
        context = info.context
        group = await groups.join(context.require_viewer(), input.name, context.client)
        return GroupPayload(group=Group.from_model(group))

    @strawberry.mutation(description="Leave a self-service group.")
    async def leave_group(self, info: Info[Context, None], input: GroupInput) -> GroupPayload:
        context = info.context
        group = await groups.leave(context.require_viewer(), input.name, context.client)
        return GroupPayload(group=Group.from_model(group))

    @strawberry.mutation(description="Sign out one session of the account.")
    async def revoke_session(
        self, info: Info[Context, None], input: RevokeSessionInput
    ) -> RevokeSessionPayload:
        context = info.context
        await sessions.revoke(context.require_viewer(), parse_id(input.id), context.client)
        return RevokeSessionPayload(revoked_session_id=input.id)

    @strawberry.mutation(description="Sign out every session but this one.")
    async def sign_out_other_sessions(
        self, info: Info[Context, None], input: SignOutOtherSessionsInput | None = None
    ) -> SignOutOtherSessionsPayload:
        context = info.context
        current = context.identity.session
        count = await sessions.sign_out_others(
            context.require_viewer(), current.id if current else 0, context.client
        )
        return SignOutOtherSessionsPayload(signed_out_count=count)
