"""Refresh tokens and API credentials as the API shows them, with their viewer fields."""

from __future__ import annotations

import enum
from datetime import datetime

import strawberry

from backend import clock
from backend.tokens import credentials as api_credentials
from backend.tokens import models
from backend.tokens import service as tokens


@strawberry.enum
class TokenStatus(enum.Enum):
    ACTIVE = "ACTIVE"
    EXPIRED = "EXPIRED"


@strawberry.type(description="A refresh token; its secret was shown once, when it was issued.")
class Token:
    id: strawberry.ID
    name: str
    created_at: datetime
    expires_at: datetime | None = strawberry.field(description="Null: it never expires.")
    last_used_at: datetime | None = strawberry.field(
        description="When it was last exchanged for an access token (to the minute)."
    )
    status: TokenStatus

    @classmethod
    def from_model(cls, token: models.RefreshToken) -> Token:
        expired = token.expires_at is not None and token.expires_at <= clock.now()
        return cls(
            id=strawberry.ID(str(token.id)),
            name=token.name,
            created_at=token.created_at,
            expires_at=token.expires_at,
            last_used_at=token.last_used_at,
            status=TokenStatus.EXPIRED if expired else TokenStatus.ACTIVE,
        )


@strawberry.type(
    description="The client id for the client_credentials grant; the secret is not kept."
)
class ApiCredentials:
    client_id: str
    created_at: datetime
    last_used_at: datetime | None

    @classmethod
    def from_model(cls, credential: models.ApiCredential) -> ApiCredentials:
        return cls(
            client_id=credential.client_id,
            created_at=credential.created_at,
            last_used_at=credential.last_used_at,
        )


async def viewer_tokens(user_id: int) -> list[Token]:
    return [Token.from_model(token) for token in await tokens.list_for(user_id)]


async def viewer_api_credentials(user_id: int) -> ApiCredentials | None:
    credential = await api_credentials.get_for(user_id)
    return ApiCredentials.from_model(credential) if credential else None
