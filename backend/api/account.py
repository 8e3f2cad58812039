"""Editing the account, changing the password, groups, sessions and the security log."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from backend.account_settings import email_change, password_change, profile, session_revocation
from backend.accounts import groups
from backend.api.context import Context
from backend.api.engine.input_guard import guard_inputs
from backend.api.errors import UserError
from backend.api.reauthentication import AFTER_REAUTH, apply_inline_proof, otp_alias
from backend.api.types import Group, User
from backend.kernel.ids import parse_id


@strawberry.input
class UpdateAccountInput:
    email: str | None = strawberry.UNSET
    first_name: str | None = strawberry.UNSET
    last_name: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    mobile_phone: str | None = strawberry.field(
        default=strawberry.UNSET, description="E.164 or with a country code; empty clears it."
    )
    time_zone: str | None = strawberry.UNSET
    language: str | None = strawberry.field(
        default=strawberry.UNSET,
        description='"en" or "ja"; null goes back to following the browser.',
    )
    password: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="Needed to change the email or mobile phone, unless after a recent "
        "reauthenticate.",
    )
    code: str | None = strawberry.field(
        default=None,
        description="With two-factor authentication on, also needed for the email or phone.",
    )
    otp: str | None = otp_alias()


@strawberry.type
class UpdateAccountPayload:
    viewer: User | None = None
    email_verification_sent: bool = strawberry.field(
        default=False,
        description="The new address waits for the code sent to it; see pendingEmail. No code "
        "goes to an address another account uses (its owner is told), and the answer is the same.",
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class VerifyEmailChangeInput:
    code: str


@strawberry.type
class ViewerPayload:
    viewer: User | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class ChangePasswordInput:
    current_password: str | None = strawberry.field(default=None, description=AFTER_REAUTH)
    new_password: str
    new_password_confirmation: str


@strawberry.input
class GroupInput:
    name: str


@strawberry.type
class GroupPayload:
    group: Group | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class RevokeSessionInput:
    id: strawberry.ID
    password: str | None = strawberry.field(default=None, description=AFTER_REAUTH)


@strawberry.type
class RevokeSessionPayload:
    revoked_session_id: strawberry.ID | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class SignOutOtherSessionsInput:
    confirm: bool = True
    password: str | None = strawberry.field(default=None, description=AFTER_REAUTH)


@strawberry.type
class SignOutOtherSessionsPayload:
    signed_out_count: int = 0
    user_errors: list[UserError] = strawberry.field(default_factory=list)


def _given(value: str | None) -> str | None:
    return None if value is strawberry.UNSET else value


@guard_inputs
@strawberry.type
class AccountMutations:
    @strawberry.mutation(description="Change account details; all apply together or none.")
    async def update_account(
        self, info: Info[Context, None], input: UpdateAccountInput
    ) -> UpdateAccountPayload:
        context = info.context
        language = input.language
        changes = profile.ProfileChanges(
            language=profile.KEEP if language is strawberry.UNSET else language,
            **{
                name: _given(getattr(input, name))
                for name in (
                    "email",
                    "first_name",
                    "last_name",
                    "description",
                    "mobile_phone",
                    "time_zone",
                )
            },
        )
        user = context.require_viewer()
        await apply_inline_proof(context, input)
        sent = await profile.update(
            context.services, user, context.identity.session, context.client, changes
        )
        return UpdateAccountPayload(viewer=User.from_model(user), email_verification_sent=sent)

    @strawberry.mutation(description="Apply a new email address with the code sent to it.")
    async def verify_email_change(
        self, info: Info[Context, None], input: VerifyEmailChangeInput
    ) -> ViewerPayload:
        context = info.context
        user = context.require_viewer()
        await email_change.verify(context.services, user, context.client, input.code)
        return ViewerPayload(viewer=User.from_model(user))

    @strawberry.mutation(
        description="Send a new code to the pending email address (pendingEmail); the one sent "
        "before stops working. Counted with the address changes."
    )
    async def resend_email_change_code(self, info: Info[Context, None]) -> ViewerPayload:
        context = info.context
        user = context.require_viewer()
        await email_change.resend(context.services, user, context.client)
        return ViewerPayload(viewer=User.from_model(user))

    @strawberry.mutation(
        description="Forget the pending email address; the current one stays. Nothing to "
        "forget is not an error."
    )
    async def cancel_email_change(self, info: Info[Context, None]) -> ViewerPayload:
        context = info.context
        user = context.require_viewer()
        await email_change.cancel(user, context.client)
        return ViewerPayload(viewer=User.from_model(user))

    @strawberry.mutation(description="Change the password; every other session ends.")
    async def change_password(
        self, info: Info[Context, None], input: ChangePasswordInput
    ) -> ViewerPayload:
        context = info.context
        user = context.require_viewer()
        await apply_inline_proof(context, input, proof_field="current_password")
        session = context.identity.session
        renewed = await password_change.change(
            context.services,
            user,
            session,
            context.client,
            new=input.new_password,
            confirmation=input.new_password_confirmation,
        )
        if session and renewed:
            context.start_session(user, session, renewed)
        return ViewerPayload(viewer=User.from_model(user))

    @strawberry.mutation(description="Join a self-service group.")
    async def join_group(self, info: Info[Context, None], input: GroupInput) -> GroupPayload:
        context = info.context
        group = await groups.join(context.require_viewer(), input.name, context.client)
        return GroupPayload(group=Group.from_model(group))

    @strawberry.mutation(description="Leave a self-service group.")
    async def leave_group(self, info: Info[Context, None], input: GroupInput) -> GroupPayload:
        context = info.context
        group = await groups.leave(context.require_viewer(), input.name, context.client)
        return GroupPayload(group=Group.from_model(group))

    @strawberry.mutation(description="Sign out one session of the account.")
    async def revoke_session(
        self, info: Info[Context, None], input: RevokeSessionInput
    ) -> RevokeSessionPayload:
        context = info.context
        user = context.require_viewer()
        await apply_inline_proof(context, input)
        await session_revocation.revoke(
            context.services,
            user,
            context.identity.session,
            context.client,
            session_id=parse_id(input.id),
        )
        return RevokeSessionPayload(revoked_session_id=input.id)

    @strawberry.mutation(description="Sign out every session but this one.")
    async def sign_out_other_sessions(
        self, info: Info[Context, None], input: SignOutOtherSessionsInput | None = None
    ) -> SignOutOtherSessionsPayload:
        context = info.context
        user = context.require_viewer()
        await apply_inline_proof(context, input)
        count = await session_revocation.sign_out_others(
            context.services, user, context.identity.session, context.client
        )
        return SignOutOtherSessionsPayload(signed_out_count=count)
