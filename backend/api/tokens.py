"""Refresh tokens and API credentials: types, viewer fields and mutations."""

from __future__ import annotations

import enum
from datetime import datetime

import strawberry
from strawberry.types import Info

from backend import clock
from backend.api.context import Context
from backend.api.errors import UserError
from backend.api.input_guard import guard_inputs
from backend.ids import parse_id
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


@strawberry.input
class IssueTokenInput:
    name: str
    expires_at: datetime | None = strawberry.field(
        description="Required unless the server allows tokens without expiry."
    )
    password: str
    otp: str | None = strawberry.field(
        default=None, description="A current code, when two-factor authentication is on."
    )


@strawberry.type
class IssueTokenPayload:
    token: Token | None = None
    secret: str | None = strawberry.field(
        default=None, description="The token itself. Shown only here, only once."
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class DeleteTokenInput:
    id: strawberry.ID


@strawberry.type
class DeleteTokenPayload:
    deleted_token_id: strawberry.ID | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class GenerateApiCredentialsInput:
    password: str
    otp: str | None = None


@strawberry.type
class GenerateApiCredentialsPayload:
    api_credentials: ApiCredentials | None = None
    client_id: str | None = None
    client_secret: str | None = strawberry.field(
        default=None, description="Shown only here, only once. Regenerating replaces it."
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class RemoveApiCredentialsInput:
    client_id: str


@strawberry.type
class RemoveApiCredentialsPayload:
    removed_client_id: str | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@guard_inputs
@strawberry.type
class TokenMutations:
    @strawberry.mutation(
        description="Issue a refresh token; needs the password (and a code with 2FA)."
    )
    async def issue_token(
        self, info: Info[Context, None], input: IssueTokenInput
    ) -> IssueTokenPayload:
        context = info.context
        user = context.require_viewer()
        issued = await tokens.issue(
            context.services,
            user,
            context.client,
            name=input.name,
            expires_at=input.expires_at,
            password=input.password,
            otp=input.otp,
        )
        return IssueTokenPayload(token=Token.from_model(issued.token), secret=issued.secret)

    @strawberry.mutation(
        description="Delete a refresh token; its access tokens stop working at once."
    )
    async def delete_token(
        self, info: Info[Context, None], input: DeleteTokenInput
    ) -> DeleteTokenPayload:
        context = info.context
        await tokens.delete(context.require_viewer(), parse_id(input.id), context.client)
        return DeleteTokenPayload(deleted_token_id=input.id)

    @strawberry.mutation(description="Create API credentials, or replace their secret.")
    async def generate_api_credentials(
        self, info: Info[Context, None], input: GenerateApiCredentialsInput
    ) -> GenerateApiCredentialsPayload:
        context = info.context
        generated = await api_credentials.generate_for(
            context.services,
            context.require_viewer(),
            context.client,
            password=input.password,
            otp=input.otp,
        )
        credential = generated.credential
        return GenerateApiCredentialsPayload(
            api_credentials=ApiCredentials.from_model(credential),
            client_id=credential.client_id,
            client_secret=generated.secret,
        )

    @strawberry.mutation(
        description="Remove the API credentials; their access tokens stop working."
    )
    async def remove_api_credentials(
        self, info: Info[Context, None], input: RemoveApiCredentialsInput
    ) -> RemoveApiCredentialsPayload:
        context = info.context
        await api_credentials.remove(context.require_viewer(), input.client_id, context.client)
        return RemoveApiCredentialsPayload(removed_client_id=input.client_id)
