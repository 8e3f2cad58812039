"""signIn, verifySignIn, resendSignInCode and signOut."""

from __future__ import annotations

import enum

import strawberry
from strawberry.types import Info

from backend.api.context import Context
from backend.api.engine.input_guard import ANY_TEXT, guard_inputs
from backend.api.errors import UserError, user_errors
from backend.api.reauthentication import second_factor_proof
from backend.api.twofactor import TwoFactorMethod
from backend.api.types import User
from backend.auth.signin import service as signin
from backend.kernel.errors import DomainError


@strawberry.enum
class SignInStatus(enum.Enum):
    SIGNED_IN = "SIGNED_IN"
    SECOND_FACTOR_REQUIRED = "SECOND_FACTOR_REQUIRED"


@strawberry.input
class SignInInput:
    # Any text: a username nobody can have is simply an unknown user (see guard_inputs).
    username: str = strawberry.field(metadata=ANY_TEXT)
    password: str = strawberry.field(metadata=ANY_TEXT)


@strawberry.type
class SignInPayload:
    status: SignInStatus | None = None
    challenge: str | None = strawberry.field(
        default=None, description="Pass to verifySignIn when a second factor is required."
    )
    viewer: User | None = None
    second_factor_method: TwoFactorMethod | None = strawberry.field(
        default=None, description="The preferred factor, when one is required."
    )
    methods: list[TwoFactorMethod] | None = strawberry.field(
        default=None,
        description="The factors on the account, the preferred one first; any of them will do.",
    )
    passkey_options: str | None = strawberry.field(
        default=None,
        description="PublicKeyCredentialRequestOptionsJSON for the account's passkeys, when "
        "it has any; answer verifySignIn with the credential.",
    )
    can_remember_device: bool | None = strawberry.field(
        default=None,
        description="When a second factor is required: whether verifySignIn's rememberDevice "
        "has an effect (the account skips the code on devices it remembers).",
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class VerifySignInInput:
    challenge: str
    code: str | None = strawberry.field(
        default=None,
        description="From the authenticator app, the email or SMS, or a recovery code.",
    )
    credential: str | None = strawberry.field(
        default=None,
        description="Instead of a code: a passkey's assertion, the browser's "
        "PublicKeyCredential.toJSON() as a JSON string.",
    )
    remember_device: bool = strawberry.field(
        default=False,
        description="Skip the code on this device while the policy allows it.",
    )
    method: TwoFactorMethod | None = strawberry.field(
        default=None,
        description="The factor the code comes from; any factor when null. A recovery code "
        "is accepted either way.",
    )


@strawberry.type
class VerifySignInPayload:
    status: SignInStatus | None = None
    viewer: User | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class ResendSignInCodeInput:
    challenge: str
    method: TwoFactorMethod | None = strawberry.field(
        default=None, description="EMAIL or SMS; the first of them on the account when null."
    )


@strawberry.type
class ResendSignInCodePayload:
    sent: bool = False
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class SignOutInput:
    everywhere: bool = strawberry.field(
        default=False, description="End every session of the account, not only this one."
    )


@strawberry.type
class SignOutPayload:
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@guard_inputs
@strawberry.type
class SignInMutations:
    @strawberry.mutation(description="Sign in with username and password; sets the session cookie.")
    async def sign_in(self, info: Info[Context, None], input: SignInInput) -> SignInPayload:
        context = info.context
        outcome = await signin.sign_in(
            context.services,
            input.username,
            input.password,
            context.client,
            context.device_cookie,
            replacing=context.identity.session_token,
            known_browser=context.known_browser,
        )
        if isinstance(outcome, signin.SecondFactorRequired):
            context.account_language = outcome.language
            return SignInPayload(
                status=SignInStatus.SECOND_FACTOR_REQUIRED,
                challenge=outcome.challenge,
                second_factor_method=TwoFactorMethod(outcome.methods[0]),
                methods=[TwoFactorMethod(kind) for kind in outcome.methods],
                passkey_options=outcome.passkey_options,
                can_remember_device=outcome.can_remember_device,
            )
        await start_session(context, outcome)
        return SignInPayload(status=SignInStatus.SIGNED_IN, viewer=User.from_model(outcome.user))

    @strawberry.mutation(description="The second step of signing in; sets the session cookie.")
    async def verify_sign_in(
        self, info: Info[Context, None], input: VerifySignInInput
    ) -> VerifySignInPayload:
        context = info.context
        signed_in = await signin.verify_sign_in(
            context.services,
            input.challenge,
            second_factor_proof(input),
            context.client,
            remember_device=input.remember_device,
            method=input.method.value if input.method else None,
            replacing=context.identity.session_token,
        )
        await start_session(context, signed_in)
        return VerifySignInPayload(
            status=SignInStatus.SIGNED_IN, viewer=User.from_model(signed_in.user)
        )

    @strawberry.mutation(description="Send the email or SMS code of a sign-in (again).")
    async def resend_sign_in_code(
        self, info: Info[Context, None], input: ResendSignInCodeInput
    ) -> ResendSignInCodePayload:
        await signin.resend_code(
            info.context.services,
            input.challenge,
            input.method.value if input.method else None,
        )
        return ResendSignInCodePayload(sent=True)

    @strawberry.mutation(description="End this session (or every session) of the signed-in user.")
    async def sign_out(
        self, info: Info[Context, None], input: SignOutInput | None = None
    ) -> SignOutPayload:
        context = info.context
        if context.identity.session is None:  # a bearer token has no session to end
            return SignOutPayload(
                user_errors=user_errors(
                    DomainError("UNAUTHENTICATED", "Sign in first."), context.language
                )
            )
        everywhere = bool(input and input.everywhere)
        await signin.sign_out(
            context.identity.session_token, context.viewer, context.client, everywhere=everywhere
        )
        context.end_session()
        return SignOutPayload()


async def start_session(context: Context, signed_in: signin.SignedIn) -> None:
    context.start_session(signed_in.user, signed_in.session, signed_in.session_token)
    context.outcome.browser_known(signed_in.known_browser)
    if signed_in.device_cookie:
        context.remember_device(signed_in.device_cookie)
