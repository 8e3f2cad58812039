"""signIn and signOut."""

from __future__ import annotations

import enum

import strawberry
from strawberry.types import Info

from backend.api.context import Context
from backend.api.errors import UserError, unauthenticated, user_errors
from backend.api.types import User
from backend.errors import DomainError
from backend.sessions import service as sessions
from backend.signin import service as signin


@strawberry.enum
class SignInStatus(enum.Enum):
    SIGNED_IN = "SIGNED_IN"
    SECOND_FACTOR_REQUIRED = "SECOND_FACTOR_REQUIRED"


@strawberry.input
class SignInInput:
    username: str
    password: str


@strawberry.type
class SignInPayload:
    status: SignInStatus | None = None
    challenge: str | None = strawberry.field(
        default=None, description="Pass to verifySignIn when a second factor is required."
    )
    viewer: User | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class SignOutInput:
    everywhere: bool = strawberry.field(
        default=False, description="End every session of the account, not only this one."
    )


@strawberry.type
class SignOutPayload:
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class SignInMutations:
    @strawberry.mutation(description="Sign in with username and password; sets the session cookie.")
    async def sign_in(self, info: Info[Context, None], input: SignInInput) -> SignInPayload:
        context = info.context
        try:
            signed_in = await signin.sign_in(
                context.services.hasher, input.username, input.password, context.client
            )
        except DomainError as error:
            return SignInPayload(user_errors=user_errors(error))
        if context.identity.session_token:  # a fresh id at every sign-in
            await sessions.end(context.identity.session_token)
        context.start_session(signed_in.user, signed_in.session, signed_in.session_token)
        return SignInPayload(status=SignInStatus.SIGNED_IN, viewer=User.from_model(signed_in.user))

    @strawberry.mutation(description="End this session (or every session) of the signed-in user.")
    async def sign_out(
        self, info: Info[Context, None], input: SignOutInput | None = None
    ) -> SignOutPayload:
        context = info.context
        if context.identity.session is None:
            return SignOutPayload(user_errors=user_errors(unauthenticated()))
        everywhere = bool(input and input.everywhere)
        await signin.sign_out(
            context.identity.session_token, context.viewer, context.client, everywhere=everywhere
        )
        context.end_session()
        return SignOutPayload()
