"""The administrators' API: `admin` on Query, and the mutations on other accounts.

Every mutation answers the account (`user`) and `userErrors`: FORBIDDEN for anyone but
an administrator, REAUTHENTICATION_REQUIRED (or OTP_REQUIRED) until the administrator's
session re-authenticated, as for their own sensitive changes; a bearer token needs
`admin:write`, and only for what a provisioning script does (scopes.MUTATION_SCOPES).
"""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from backend.administration import accounts as administration
from backend.administration import directory
from backend.administration import groups as group_admin
from backend.administration.authority import Actor
from backend.api.admin_types import AdminGroup, Administration, AdminUser, user_id_of
from backend.api.context import Context
from backend.api.engine.input_guard import guard_inputs
from backend.api.errors import UserError
from backend.api.types import AccountType
from backend.kernel.errors import NotFound
from backend.lifecycle import deletion


def admin(info: Info[Context, None]) -> Administration | None:
    """Null unless the viewer is an administrator whose account works."""
    viewer = info.context.viewer
    return Administration() if viewer is not None and viewer.is_administrator else None


def _actor(context: Context) -> Actor:
    identity = context.identity
    return Actor(
        user=context.require_viewer(),
        session=identity.session,
        scopes=identity.scopes,
        client=context.client,
    )


async def _answer(user_id: int) -> AdminUser:
    listed = await directory.find(user_id)
    if listed is None:  # deleted in the meantime
        raise NotFound("user_id")
    return AdminUser.of(listed)


@strawberry.input
class CreateUserInput:
    username: str
    email: str
    first_name: str = ""
    last_name: str = ""
    account_type: AccountType = AccountType.USER
    groups: list[str] | None = strawberry.field(
        default=None, description="Names of groups to add the account to, self-service or not."
    )
    send_invitation: bool = strawberry.field(
        default=False,
        description="Email the user a link to choose a password (valid 7 days). Without "
        "it, the user chooses one with \u201cForgot your password?\u201d.",
    )


@strawberry.input
class UpdateUserInput:
    user_id: strawberry.ID
    email: str | None = strawberry.field(
        default=None, description="Set at once, without a code; the notice goes to the old one."
    )
    first_name: str | None = None
    last_name: str | None = None
    mobile_phone: str | None = strawberry.field(
        default=None, description="E.164 or with a country code; empty clears it."
    )
    account_type: AccountType | None = strawberry.field(
        default=None,
        description="Needs an administrator's re-authenticated session, never a token.",
    )
    groups: list[str] | None = strawberry.field(
        default=None,
        description="The account's groups by name, all of them: it leaves the others.",
    )


@strawberry.input
class DisableUserInput:
    user_id: strawberry.ID
    reason: str = strawberry.field(default="", description="Shown to the user and administrators.")


@strawberry.input
class DeleteUserInput:
    user_id: strawberry.ID


@strawberry.type
class DeleteUserPayload:
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class EnableUserInput:
    user_id: strawberry.ID


@strawberry.input
class UnlockUserInput:
    user_id: strawberry.ID


@strawberry.input
class ResetUserTwoFactorInput:
    user_id: strawberry.ID


@strawberry.input
class SendPasswordResetLinkInput:
    user_id: strawberry.ID


@strawberry.input
class EndUserSessionsInput:
    user_id: strawberry.ID


@strawberry.type
class AdminUserPayload:
    user: AdminUser | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class EndUserSessionsPayload:
    user: AdminUser | None = None
    ended_session_count: int = 0
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class CreateGroupInput:
    name: str
    description: str = ""
    self_service: bool = strawberry.field(
        default=False, description="Members may join and leave it themselves."
    )


@strawberry.input
class UpdateGroupInput:
    name: str
    description: str | None = None
    self_service: bool | None = None


@strawberry.type
class AdminGroupPayload:
    group: AdminGroup | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@guard_inputs
@strawberry.type
class AdminMutations:
    @strawberry.mutation(description="Create an account (without a password). Administrators.")
    async def create_user(
        self, info: Info[Context, None], input: CreateUserInput
    ) -> AdminUserPayload:
        context = info.context
        user = await administration.create_user(
            context.services,
            _actor(context),
            administration.NewAccount(
                username=input.username,
                email=input.email,
                first_name=input.first_name,
                last_name=input.last_name,
                account_type=input.account_type.value,
                groups=input.groups,
                send_invitation=input.send_invitation,
            ),
        )
        return AdminUserPayload(user=await _answer(user.id))

    @strawberry.mutation(description="Change an account; all apply together or none.")
    async def update_user(
        self, info: Info[Context, None], input: UpdateUserInput
    ) -> AdminUserPayload:
        context = info.context
        actor = _actor(context)
        user_id = user_id_of(input.user_id)
        changes = administration.Changes(
            email=input.email,
            first_name=input.first_name,
            last_name=input.last_name,
            mobile_phone=input.mobile_phone,
            account_type=input.account_type.value if input.account_type else None,
            groups=input.groups,
        )
        await administration.update_user(context.services, actor, user_id, changes)
        return AdminUserPayload(user=await _answer(user_id))

    @strawberry.mutation(
        description="Disable an account: it cannot sign in, and its sessions, tokens and "
        "credentials end at once. LAST_ADMINISTRATOR for the last administrator."
    )
    async def disable_user(
        self, info: Info[Context, None], input: DisableUserInput
    ) -> AdminUserPayload:
        context = info.context
        user_id = user_id_of(input.user_id)
        await administration.disable_user(context.services, _actor(context), user_id, input.reason)
        if context.identity.user is not None and context.identity.user.id == user_id:
            context.end_session()  # an administrator who disabled their own account
        return AdminUserPayload(user=await _answer(user_id))

    @strawberry.mutation(description="Let a disabled account sign in again.")
    async def enable_user(
        self, info: Info[Context, None], input: EnableUserInput
    ) -> AdminUserPayload:
        context = info.context
        user_id = user_id_of(input.user_id)
        await administration.enable_user(context.services, _actor(context), user_id)
        return AdminUserPayload(user=await _answer(user_id))

    @strawberry.mutation(description="End the lock on password sign-in.")
    async def unlock_user(
        self, info: Info[Context, None], input: UnlockUserInput
    ) -> AdminUserPayload:
        context = info.context
        user_id = user_id_of(input.user_id)
        await administration.unlock_user(context.services, _actor(context), user_id)
        return AdminUserPayload(user=await _answer(user_id))

    @strawberry.mutation(
        description="Delete an account at once, with everything that names it (its security "
        "log kept under a pseudonym); its username is held for 90 days. Needs an "
        "administrator's re-authenticated session. LAST_ADMINISTRATOR for the last "
        "administrator."
    )
    async def delete_user(
        self, info: Info[Context, None], input: DeleteUserInput
    ) -> DeleteUserPayload:
        context = info.context
        user_id = user_id_of(input.user_id)
        await deletion.delete_user(context.services, _actor(context), user_id)
        if context.identity.user is not None and context.identity.user.id == user_id:
            context.end_session()  # an administrator who deleted their own account
        return DeleteUserPayload()

    @strawberry.mutation(
        description="Turn off two-factor authentication, for a user who lost every factor. "
        "Needs an administrator's re-authenticated session."
    )
    async def reset_user_two_factor(
        self, info: Info[Context, None], input: ResetUserTwoFactorInput
    ) -> AdminUserPayload:
        context = info.context
        user_id = user_id_of(input.user_id)
        await administration.reset_two_factor(context.services, _actor(context), user_id)
        return AdminUserPayload(user=await _answer(user_id))

    @strawberry.mutation(
        description="Email the user a link to choose a new password. Needs an "
        "administrator's re-authenticated session."
    )
    async def send_password_reset_link(
        self, info: Info[Context, None], input: SendPasswordResetLinkInput
    ) -> AdminUserPayload:
        context = info.context
        user_id = user_id_of(input.user_id)
        await administration.send_password_reset_link(context.services, _actor(context), user_id)
        return AdminUserPayload(user=await _answer(user_id))

    @strawberry.mutation(description="Sign the user out of every session.")
    async def end_user_sessions(
        self, info: Info[Context, None], input: EndUserSessionsInput
    ) -> EndUserSessionsPayload:
        context = info.context
        user_id = user_id_of(input.user_id)
        count = await administration.end_user_sessions(context.services, _actor(context), user_id)
        if context.identity.user is not None and context.identity.user.id == user_id:
            context.end_session()  # the administrator's own session ended too
        return EndUserSessionsPayload(user=await _answer(user_id), ended_session_count=count)

    @strawberry.mutation(description="Create a group. Administrators.")
    async def create_group(
        self, info: Info[Context, None], input: CreateGroupInput
    ) -> AdminGroupPayload:
        context = info.context
        group = await group_admin.create(
            context.services,
            _actor(context),
            input.name,
            description=input.description,
            self_service=input.self_service,
        )
        return AdminGroupPayload(group=AdminGroup.of(group, 0))

    @strawberry.mutation(
        description="Change a group's description, or whether members join and leave it "
        "themselves. Administrators."
    )
    async def update_group(
        self, info: Info[Context, None], input: UpdateGroupInput
    ) -> AdminGroupPayload:
        context = info.context
        group = await group_admin.update(
            context.services,
            _actor(context),
            input.name,
            description=input.description,
            self_service=input.self_service,
        )
        count = await group.members.all().count()
        return AdminGroupPayload(group=AdminGroup.of(group, count))
