"""requestPasswordReset, passwordResetLink, resetPassword and secureAccount: recovery without
signing in."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from backend.accounts.models import User
from backend.api.context import Context
from backend.api.engine.input_guard import guard_inputs
from backend.api.errors import UserError
from backend.auth.signin import known_browsers
from backend.recovery import password_reset, secure_account


@strawberry.input
class RequestPasswordResetInput:
    login: str = strawberry.field(description="The username or the email address.")


@strawberry.type
class RequestPasswordResetPayload:
    """The same for every login: whether an account exists is never told."""

    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class ResetPasswordInput:
    token: str = strawberry.field(description="From the link in the email.")
    new_password: str
    new_password_confirmation: str


@strawberry.type
class ResetPasswordPayload:
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(description="A password reset link that still works.")
class PasswordResetLink:
    expires_at: datetime


async def password_reset_link(token: str) -> PasswordResetLink | None:
    """The link of `token`; null when it is unknown, used or expired."""
    expires_at = await password_reset.link_expiry(token)
    return PasswordResetLink(expires_at=expires_at) if expires_at else None


@strawberry.input
class SecureAccountInput:
    token: str = strawberry.field(description="From the link in a security notice.")


@strawberry.type
class SecureAccountPayload:
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@guard_inputs
@strawberry.type
class RecoveryMutations:
    @strawberry.mutation(
        description="Email a password reset link when the login names an account; the "
        "answer is the same either way."
    )
    async def request_password_reset(
        self, info: Info[Context, None], input: RequestPasswordResetInput
    ) -> RequestPasswordResetPayload:
        context = info.context
        await password_reset.request(context.services, input.login, context.client)
        return RequestPasswordResetPayload()

    @strawberry.mutation(
        description="Set a new password with a reset link: every session ends; it does not "
        "sign in, and two-factor authentication stays on."
    )
    async def reset_password(
        self, info: Info[Context, None], input: ResetPasswordInput
    ) -> ResetPasswordPayload:
        context = info.context
        user = await password_reset.reset(
            context.services,
            input.token,
            input.new_password,
            input.new_password_confirmation,
            context.client,
        )
        _forget_session_of(context, user)
        # This browser proved the mailbox: a stranger's lock on the account must not keep
        # its owner from signing in with the new password (auth/signin/known_browsers.py).
        context.outcome.browser_known(
            known_browsers.mint(context.services.settings.secret_key, user.username)
        )
        return ResetPasswordPayload()

    @strawberry.mutation(
        description='"This wasn\'t me": end every session, delete every token and the API '
        "credentials, forget every device, and email a reset link."
    )
    async def secure_account(
        self, info: Info[Context, None], input: SecureAccountInput
    ) -> SecureAccountPayload:
        context = info.context
        user = await secure_account.secure(context.services, input.token, context.client)
        _forget_session_of(context, user)
        return SecureAccountPayload()


def _forget_session_of(context: Context, user: User) -> None:
    """The browser's session of this account has just ended: clear its cookie too."""
    if context.viewer is not None and context.viewer.id == user.id:
        context.end_session()
