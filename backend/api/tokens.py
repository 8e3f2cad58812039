"""Refresh tokens and API credentials: types, viewer fields and mutations."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from backend.api.context import Context
from backend.api.engine.input_guard import guard_inputs
from backend.api.errors import UserError
from backend.api.reauthentication import AFTER_REAUTH, apply_inline_proof, otp_alias
from backend.api.token_types import ApiCredentials, Token
from backend.kernel.ids import parse_id
from backend.tokens import credentials as api_credentials
from backend.tokens import service as tokens


@strawberry.input
class IssueTokenInput:
    name: str
    expires_at: datetime | None = strawberry.field(
        description="Required unless the server allows tokens without expiry."
    )
    password: str | None = strawberry.field(default=None, description=AFTER_REAUTH)
    code: str | None = strawberry.field(
        default=None, description="A current code, when two-factor authentication is on."
    )
    otp: str | None = otp_alias()
    scopes: list[str] | None = strawberry.field(
        default=None,
        description="Names from tokenScopes; omitted: the server's default scopes.",
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
class RegenerateTokenInput:
    id: strawberry.ID
    expires_at: datetime | None = strawberry.field(
        description="The new secret's expiry; required unless the server allows none."
    )
    password: str | None = strawberry.field(default=None, description=AFTER_REAUTH)
    code: str | None = strawberry.field(
        default=None, description="A current code, when two-factor authentication is on."
    )
    otp: str | None = otp_alias()


@strawberry.input
class GenerateApiCredentialsInput:
    password: str | None = strawberry.field(default=None, description=AFTER_REAUTH)
    code: str | None = strawberry.field(
        default=None, description="A current code, when two-factor authentication is on."
    )
    otp: str | None = otp_alias()
    scopes: list[str] | None = strawberry.field(
        default=None,
        description="Names from tokenScopes; omitted: the server's default scopes.",
    )


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
        description="Issue a refresh token; needs a recent re-authentication, or the "
        "password (and a code with 2FA) inline."
    )
    async def issue_token(
        self, info: Info[Context, None], input: IssueTokenInput
    ) -> IssueTokenPayload:
        context = info.context
        user = context.require_viewer()
        await apply_inline_proof(context, input)
        issued = await tokens.issue(
            context.services,
            user,
            context.client,
            name=input.name,
            expires_at=input.expires_at,
            session=context.identity.session,
            scopes=input.scopes,
        )
        return IssueTokenPayload(token=Token.from_model(issued.token), secret=issued.secret)

    @strawberry.mutation(
        description="A new secret for a token, same name and scopes; the previous secret "
        "keeps working for the rotation grace period (never past its own expiry)."
    )
    async def regenerate_token(
        self, info: Info[Context, None], input: RegenerateTokenInput
    ) -> IssueTokenPayload:
        context = info.context
        user = context.require_viewer()
        await apply_inline_proof(context, input)
        issued = await tokens.regenerate(
            context.services,
            user,
            context.client,
            token_id=parse_id(input.id),
            expires_at=input.expires_at,
            session=context.identity.session,
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
        user = context.require_viewer()
        await apply_inline_proof(context, input)
        generated = await api_credentials.generate_for(
            context.services,
            user,
            context.client,
            session=context.identity.session,
            scopes=input.scopes,
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
