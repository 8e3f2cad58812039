"""Accounts, groups and the operator log as administrators see them: never a secret.

Nothing here reads a password hash, a second factor's secret, a code or a token's
secret: the types have no field for one, and the lists are the ones the user's own
pages show (tokens and credentials as metadata, factors as kinds).
"""

from __future__ import annotations

import base64
import enum
from datetime import datetime

import strawberry

from backend.accounts import models
from backend.administration import directory
from backend.administration import groups as group_admin
from backend.api.activity_types import PageInfo, SecurityEventConnection, viewer_security_events
from backend.api.activity_types import Session as SessionType
from backend.api.token_types import ApiCredentials, Token, viewer_api_credentials, viewer_tokens
from backend.api.twofactor import TwoFactorMethod
from backend.api.types import AccountType, Group
from backend.audit import operator_log
from backend.audit.descriptions import describe_operator_action
from backend.audit.models import OperatorAction
from backend.auth import challenges
from backend.auth.sessions import service as sessions
from backend.kernel.ids import id_or_none, parse_id

MAX_PAGE = 100


@strawberry.enum(description="Whether an account can sign in, and if not why.")
class AccountStatus(enum.Enum):
    ACTIVE = "ACTIVE"
    DISABLED = "DISABLED"
    LOCKED = "LOCKED"
    DELETION_SCHEDULED = "DELETION_SCHEDULED"


@strawberry.type(description="An account as administrators see it; no secret of it.")
class AdminUser:
    model: strawberry.Private[models.User]
    id: strawberry.ID
    username: str
    email: str
    first_name: str
    last_name: str
    mobile_phone: str | None
    time_zone: str
    language: str | None
    created_at: datetime
    account_type: AccountType
    status: AccountStatus = strawberry.field(
        description="DISABLED by an administrator; LOCKED: password sign-in is locked "
        "(failures, or the user secured the account) until a reset or unlockUser."
    )
    disabled_at: datetime | None
    disabled_reason: str | None = strawberry.field(
        description="What the administrator who disabled it gave as the reason."
    )

    @strawberry.field(description="Its groups, self-service or not.")
    async def groups(self) -> list[Group]:
        found = await self.model.groups.all().order_by("name")
        return [Group.from_model(group) for group in found]

    @strawberry.field(
        description="The kinds of second factor on the account, the preferred one first; "
        "empty with two-factor authentication off."
    )
    async def second_factors(self) -> list[TwoFactorMethod]:
        return [TwoFactorMethod(kind) for kind in await challenges.methods(self.model.id)]

    @strawberry.field(description="Its signed-in sessions, most recently used first.")
    async def sessions(self, info: strawberry.Info) -> list[SessionType]:
        live = await sessions.list_for(self.model.id, info.context.services.session_timeouts)
        return [SessionType.from_model(session, None) for session in live]

    @strawberry.field(description="Its refresh tokens (never their secrets), newest first.")
    async def tokens(self) -> list[Token]:
        return await viewer_tokens(self.model.id)

    @strawberry.field(description="Its API credentials' client id, if generated.")
    async def api_credentials(self) -> ApiCredentials | None:
        return await viewer_api_credentials(self.model.id)

    @strawberry.field(description="Its security log, newest first.")
    async def security_events(
        self, first: int = 20, after: str | None = None
    ) -> SecurityEventConnection:
        return await viewer_security_events(self.model.id, first, after)

    @classmethod
    def of(cls, listed: directory.Listed) -> AdminUser:
        user = listed.user
        return cls(
            model=user,
            id=strawberry.ID(str(user.id)),
            username=user.username,
            email=user.email,
            first_name=user.first_name,
            last_name=user.last_name,
            mobile_phone=user.mobile_phone,
            time_zone=user.time_zone,
            language=user.language,
            created_at=user.created_at,
            account_type=AccountType(user.account_type),
            status=AccountStatus(listed.status.value),
            disabled_at=user.disabled_at,
            disabled_reason=user.disabled_reason or None,
        )


@strawberry.type
class AdminUserEdge:
    cursor: str
    node: AdminUser


@strawberry.type
class AdminUserConnection:
    edges: list[AdminUserEdge]
    page_info: PageInfo


@strawberry.type(description="A group and its size.")
class AdminGroup:
    name: str
    description: str
    self_service: bool = strawberry.field(description="Members may join and leave it themselves.")
    member_count: int

    @classmethod
    def of(cls, group: models.Group, member_count: int) -> AdminGroup:
        return cls(
            name=group.name,
            description=group.description,
            self_service=group.self_service,
            member_count=member_count,
        )


@strawberry.type(description="What an administrator did, to whom, when.")
class OperatorLogEntry:
    model: strawberry.Private[OperatorAction]
    id: strawberry.ID
    created_at: datetime
    action: str = strawberry.field(description="Stable name, e.g. user.disabled.")
    administrator: str | None = strawberry.field(
        description="The administrator's username; null for a command on the server."
    )
    user_id: strawberry.ID | None = strawberry.field(
        description="The account acted on; null for a group's change or an account gone."
    )
    username: str | None
    ip_address: str

    @strawberry.field(description="The action in words, in the reader's language.")
    def description(self, info: strawberry.Info) -> str:
        entry = self.model
        return describe_operator_action(
            entry.action,
            entry.administrator_name,
            entry.username,
            entry.details,
            info.context.language,
        )

    @classmethod
    def of(cls, entry: OperatorAction) -> OperatorLogEntry:
        return cls(
            model=entry,
            id=strawberry.ID(str(entry.id)),
            created_at=entry.created_at,
            action=entry.action,
            administrator=entry.administrator_name or None,
            user_id=strawberry.ID(str(entry.user_id)) if entry.user_id else None,
            username=entry.username or None,
            ip_address=entry.ip_address,
        )


@strawberry.type
class OperatorLogEdge:
    cursor: str
    node: OperatorLogEntry


@strawberry.type
class OperatorLogConnection:
    edges: list[OperatorLogEdge]
    page_info: PageInfo


@strawberry.type(
    description="What administrators see: every account, the groups and the operator log."
)
class Administration:
    @strawberry.field(
        description="Accounts by username, a page at a time. `search` matches the start of "
        "the username, email address, first or last name, case-insensitively; several "
        "words must each match one of them."
    )
    async def users(
        self,
        search: str | None = None,
        status: AccountStatus | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> AdminUserConnection:
        found = await directory.page(
            search=search,
            status=directory.Status(status.value) if status else None,
            first=first,
            after=after,
        )
        edges = [
            AdminUserEdge(cursor=directory.cursor_of(listed.user), node=AdminUser.of(listed))
            for listed in found.accounts
        ]
        return AdminUserConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=found.has_next_page,
                end_cursor=edges[-1].cursor if edges else None,
            ),
        )

    @strawberry.field(description="One account; null when there is none with this id.")
    async def user(self, id: strawberry.ID) -> AdminUser | None:
        number = id_or_none(str(id))
        listed = await directory.find(number) if number else None
        return AdminUser.of(listed) if listed else None

    @strawberry.field(description="Every group, by name, self-service or not.")
    async def groups(self) -> list[AdminGroup]:
        return [AdminGroup.of(row.group, row.member_count) for row in await group_admin.listed()]

    @strawberry.field(description="The operator log, newest first.")
    async def log(self, first: int = 20, after: str | None = None) -> OperatorLogConnection:
        first = max(1, min(first, MAX_PAGE))
        entries = await operator_log.page(first=first, before_id=_log_cursor_id(after))
        edges = [
            OperatorLogEdge(cursor=_log_cursor(entry.id), node=OperatorLogEntry.of(entry))
            for entry in entries[:first]
        ]
        return OperatorLogConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=len(entries) > first,
                end_cursor=edges[-1].cursor if edges else None,
            ),
        )


def _log_cursor(entry_id: int) -> str:
    return base64.urlsafe_b64encode(f"action:{entry_id}".encode()).decode()


def _log_cursor_id(cursor: str | None) -> int | None:
    """The entry id in a cursor; 0 (an empty page) for one this API never gave out."""
    if not cursor:
        return None
    try:
        prefix, _, number = base64.urlsafe_b64decode(cursor.encode("ascii")).decode().partition(":")
    except (ValueError, UnicodeError):
        return 0
    return (id_or_none(number) if prefix == "action" else None) or 0


def user_id_of(value: strawberry.ID) -> int:
    return parse_id(str(value), "user_id")
