"""Refresh tokens and API credentials as the API shows them, with their viewer fields."""

from __future__ import annotations

import asyncio
import enum
from datetime import datetime

import strawberry
from strawberry.types import Info

from backend.kernel import clock
from backend.tokens import credentials as api_credentials
from backend.tokens import models, usage
from backend.tokens import scopes as scope_catalog
from backend.tokens import service as tokens


@strawberry.enum
class TokenStatus(enum.Enum):
    ACTIVE = "ACTIVE"
    EXPIRED = "EXPIRED"


class _Activity:
    """Exchange counts for a list of tokens, read once for all of them, only when asked."""

    def __init__(self, token_ids: list[int]) -> None:
        self.token_ids = token_ids
        self.counts: dict[int, int] | None = None
        # The list's items are resolved at once: without it, each would read the counts.
        self.reading = asyncio.Lock()

    async def of(self, token_id: int) -> int:
        async with self.reading:
            if self.counts is None:
                self.counts = await usage.recent_exchanges(self.token_ids, clock.now())
        return self.counts.get(token_id, 0)


@strawberry.type(description="A refresh token; its secret was shown once, when it was issued.")
class Token:
    model: strawberry.Private[models.RefreshToken | tokens.ListedToken]
    activity: strawberry.Private[_Activity]
    id: strawberry.ID
    name: str
    created_at: datetime
    expires_at: datetime | None = strawberry.field(description="Null: it never expires.")
    last_used_at: datetime | None = strawberry.field(
        description="When it was last exchanged for an access token (to the minute)."
    )
    last_used_ip_address: str | None = strawberry.field(
        description="The address it was last exchanged from."
    )
    status: TokenStatus
    scopes: list[str] = strawberry.field(description="What its access tokens may do.")
    regenerated_at: datetime | None = strawberry.field(
        description="When its secret was last replaced by regenerateToken."
    )
    previous_secret_valid_until: datetime | None = strawberry.field(
        description="After a regeneration: until when the previous secret still works. "
        "Null when it no longer does."
    )

    @strawberry.field(description="How many times it was exchanged in the last 30 days.")
    async def exchanges_last_30_days(self) -> int:
        return await self.activity.of(self.model.id)

    @classmethod
    def from_model(
        cls,
        token: models.RefreshToken | tokens.ListedToken,
        activity: _Activity | None = None,
    ) -> Token:
        expired = token.expires_at is not None and token.expires_at <= clock.now()
        return cls(
            model=token,
            activity=activity or _Activity([token.id]),
            id=strawberry.ID(str(token.id)),
            name=token.name,
            created_at=token.created_at,
            expires_at=token.expires_at,
            last_used_at=token.last_used_at,
            last_used_ip_address=token.last_used_ip or None,
            status=TokenStatus.EXPIRED if expired else TokenStatus.ACTIVE,
            scopes=list(scope_catalog.split(token.scopes)),
            regenerated_at=token.regenerated_at,
            previous_secret_valid_until=tokens.previous_secret_valid_until(token),
        )


@strawberry.type(description="A scope a token or API credentials may be given.")
class TokenScope:
    name: str
    description: str
    built_in: bool = strawberry.field(
        description="Latchkey's own; the others are the platform's, set by the operator."
    )
    default: bool = strawberry.field(description="Given when a client names no scopes.")


def available_scopes(info: Info) -> list[TokenScope]:
    """The scopes the viewer may give a token: an administrator's only to administrators."""
    catalog = scope_catalog.for_settings(info.context.services.settings)
    viewer = info.context.viewer
    administrator = viewer is not None and viewer.is_administrator
    return [
        TokenScope(
            name=scope.name,
            description=scope.description,
            built_in=scope.built_in,
            default=scope.name in catalog.default,
        )
        for scope in catalog.scopes
        if administrator or scope.name not in scope_catalog.ADMIN_SCOPES
    ]


@strawberry.type(
    description="The client id for the client_credentials grant; the secret is not kept."
)
class ApiCredentials:
    client_id: str
    created_at: datetime
    last_used_at: datetime | None
    scopes: list[str] = strawberry.field(description="What its access tokens may do.")

    @classmethod
    def from_model(cls, credential: models.ApiCredential) -> ApiCredentials:
        return cls(
            client_id=credential.client_id,
            created_at=credential.created_at,
            last_used_at=credential.last_used_at,
            scopes=list(scope_catalog.split(credential.scopes)),
        )


async def viewer_tokens(user_id: int) -> list[Token]:
    found = await tokens.list_for(user_id)
    activity = _Activity([token.id for token in found])
    return [Token.from_model(token, activity) for token in found]


async def viewer_api_credentials(user_id: int) -> ApiCredentials | None:
    credential = await api_credentials.get_for(user_id)
    return ApiCredentials.from_model(credential) if credential else None
