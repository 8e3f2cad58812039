"""`reauthenticate`: prove presence once, then make sensitive changes without asking again."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from backend import stepup
from backend.api.context import Context
from backend.api.errors import UserError
from backend.api.input_guard import guard_inputs


@strawberry.input
class ReauthenticateInput:
    password: str
    code: str | None = strawberry.field(
        default=None,
        description="With two-factor authentication on: a current code or a recovery code.",
    )
    credential: str | None = strawberry.field(
        default=None,
        description="Instead of a code: a passkey's assertion for the options of "
        "startPasskeyReauthentication (the browser's PublicKeyCredential.toJSON()).",
    )


@strawberry.type
class ReauthenticatePayload:
    reauthenticated_until: datetime | None = strawberry.field(
        default=None, description="Sensitive changes need no password until then."
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class StartPasskeyReauthenticationPayload:
    options: str | None = strawberry.field(
        default=None,
        description="PublicKeyCredentialRequestOptionsJSON for the account's passkeys.",
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@guard_inputs
@strawberry.type
class ReauthenticationMutations:
    @strawberry.mutation(
        description="Options to answer reauthenticate with a passkey instead of a code."
    )
    async def start_passkey_reauthentication(
        self, info: Info[Context, None]
    ) -> StartPasskeyReauthenticationPayload:
        context = info.context
        options = await stepup.passkey_challenge(
            context.services, context.require_viewer(), context.identity.session
        )
        return StartPasskeyReauthenticationPayload(options=options)

    @strawberry.mutation(
        description="Confirm access for this session: the password, and a code with 2FA on. "
        "Only a signed-in session can; never a bearer token."
    )
    async def reauthenticate(
        self, info: Info[Context, None], input: ReauthenticateInput
    ) -> ReauthenticatePayload:
        context = info.context
        user = context.require_viewer()
        session = context.identity.session
        until, token = await stepup.reauthenticate(
            context.services,
            user,
            session,
            context.client,
            password=input.password,
            code=input.code,
            credential=input.credential,
        )
        context.start_session(user, session, token)
        return ReauthenticatePayload(reauthenticated_until=until)
