"""The account as the API shows it."""

from __future__ import annotations

import asyncio
import enum
from datetime import datetime

import strawberry

from backend.account_settings.email_change import pending_for
from backend.accounts import models
from backend.accounts.groups import joinable_by
from backend.api.activity_types import (
    SecurityEventConnection,
    Session,
    viewer_security_events,
    viewer_sessions,
)
from backend.api.applications import ApplicationAccessGrant, viewer_applications
from backend.api.passkey_types import Passkey, viewer_passkeys
from backend.api.token_types import ApiCredentials, Token, viewer_api_credentials, viewer_tokens
from backend.api.twofactor import (
    TrustedDevice,
    TwoFactor,
    viewer_trusted_devices,
    viewer_two_factor,
)
from backend.auth import reauthentication


@strawberry.enum(description="What an account may do: administrators manage every account.")
class AccountType(enum.Enum):
    USER = models.USER
    ADMINISTRATOR = models.ADMINISTRATOR


@strawberry.type
class Group:
    name: str
    description: str
    self_service: bool = strawberry.field(description="Members may join and leave it themselves.")

    @classmethod
    def from_model(cls, group: models.Group) -> Group:
        return cls(name=group.name, description=group.description, self_service=group.self_service)


@strawberry.type(description="The signed-in user's own account.")
class User:
    model: strawberry.Private[models.User]
    id: strawberry.ID
    username: str
    email: str
    first_name: str
    last_name: str
    description: str
    mobile_phone: str | None = strawberry.field(description="E.164, e.g. +14155552671.")
    time_zone: str = strawberry.field(description="IANA time zone name, e.g. Europe/Berlin.")
    created_at: datetime
    language: str | None = strawberry.field(
        description='The chosen language ("en" or "ja"); null follows the browser.'
    )
    account_type: AccountType
    # The tokens, read once however many aliases of the list a document asks for.
    listed_tokens: strawberry.Private[asyncio.Future[list[Token]] | None] = None

    @strawberry.field(description="Refresh tokens, newest first.")
    async def tokens(self) -> list[Token]:
        if self.listed_tokens is None:
            self.listed_tokens = asyncio.ensure_future(viewer_tokens(self.model.id))
        return await self.listed_tokens

    @strawberry.field(description="Client id for the client_credentials grant, if generated.")
    async def api_credentials(
        self,
    ) -> ApiCredentials | None:
        return await viewer_api_credentials(self.model.id)

    @strawberry.field(description="Two-factor authentication settings.")
    async def two_factor(self) -> TwoFactor:
        return await viewer_two_factor(self.model.id)

    @strawberry.field(description="Passkeys, oldest first.")
    async def passkeys(self) -> list[Passkey]:
        return await viewer_passkeys(self.model.id)

    @strawberry.field(description="Browsers remembered for two-factor sign-in.")
    async def trusted_devices(
        self,
    ) -> list[TrustedDevice]:
        return await viewer_trusted_devices(self.model.id)

    @strawberry.field
    async def groups(self) -> list[Group]:
        groups = await self.model.groups.all().order_by("name")
        return [Group.from_model(group) for group in groups]

    @strawberry.field(description="Self-service groups the user may join.")
    async def joinable_groups(self) -> list[Group]:
        return [Group.from_model(group) for group in await joinable_by(self.model.id)]

    @strawberry.field(description="A new address waiting for its confirmation code.")
    async def pending_email(self) -> str | None:
        change = await pending_for(self.model.id)
        return change.new_email if change else None

    @strawberry.field(description="Signed-in sessions, most recently used first.")
    async def sessions(self, info: strawberry.Info) -> list[Session]:
        return await viewer_sessions(info.context, self.model.id)

    @strawberry.field(
        description="Applications signed in to or allowed through Latchkey, last used first."
    )
    async def applications(self) -> list[ApplicationAccessGrant]:
        return await viewer_applications(self.model.id)

    @strawberry.field(
        description="Until when this session may make sensitive changes without the password "
        "(and code); null when a client should ask for them, and always for a bearer token."
    )
    async def reauthenticated_until(self, info: strawberry.Info) -> datetime | None:
        context = info.context
        session = context.identity.session
        if session is None or session.user_id != self.model.id:
            return None
        return await reauthentication.reauthenticated_until(context.services, self.model, session)

    @strawberry.field(description="The security log, newest first.")
    async def security_events(
        self, first: int = 20, after: str | None = None
    ) -> SecurityEventConnection:
        return await viewer_security_events(self.model.id, first, after)

    @classmethod
    def from_model(cls, user: models.User) -> User:
        return cls(
            model=user,
            id=strawberry.ID(str(user.id)),
            username=user.username,
            email=user.email,
            first_name=user.first_name,
            last_name=user.last_name,
            description=user.description,
            mobile_phone=user.mobile_phone,
            time_zone=user.time_zone,
            created_at=user.created_at,
            language=user.language,
            account_type=AccountType(user.account_type),
        )
