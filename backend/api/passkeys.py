"""Passkeys: adding, listing, renaming and deleting them, and signing in with one alone.

Options and credentials travel as strings holding the WebAuthn Level 3 JSON forms.
"""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from backend.account_settings import passkeys
from backend.api.context import Context
from backend.api.engine.input_guard import guard_inputs
from backend.api.errors import UserError
from backend.api.passkey_types import Passkey
from backend.api.reauthentication import AFTER_REAUTH, apply_inline_proof, otp_alias
from backend.api.signin import SignInStatus, start_session
from backend.api.types import User
from backend.auth.signin import passkeys as passkey_sign_in
from backend.kernel.ids import parse_id

CREDENTIAL = "The browser's PublicKeyCredential.toJSON(), as a JSON string."


@strawberry.input
class StartPasskeyRegistrationInput:
    password: str | None = strawberry.field(default=None, description=AFTER_REAUTH)
    code: str | None = strawberry.field(
        default=None,
        description="A current code, when two-factor authentication is on; not a recovery code.",
    )
    otp: str | None = otp_alias()


@strawberry.type
class StartPasskeyRegistrationPayload:
    options: str | None = strawberry.field(
        default=None,
        description="PublicKeyCredentialCreationOptionsJSON for navigator.credentials.create.",
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class FinishPasskeyRegistrationInput:
    credential: str = strawberry.field(description=CREDENTIAL)
    name: str | None = strawberry.field(
        default=None, description="What to call it, such as the device it is on."
    )


@strawberry.type
class FinishPasskeyRegistrationPayload:
    passkey: Passkey | None = None
    recovery_codes: list[str] | None = strawberry.field(
        default=None,
        description="When this passkey turned two-factor authentication on: shown only "
        "here, only once. Null otherwise: the codes stay as they were.",
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class RenamePasskeyInput:
    id: strawberry.ID
    name: str


@strawberry.type
class PasskeyPayload:
    passkey: Passkey | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class DeletePasskeyInput:
    id: strawberry.ID
    password: str | None = strawberry.field(default=None, description=AFTER_REAUTH)
    code: str | None = strawberry.field(
        default=None, description="A current code, or a recovery code."
    )
    otp: str | None = otp_alias()


@strawberry.type
class DeletePasskeyPayload:
    two_factor_enabled: bool | None = strawberry.field(
        default=None, description="False when this was the last second factor."
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class StartPasskeySignInInput:
    confirm: bool = True


@strawberry.type
class StartPasskeySignInPayload:
    challenge: str | None = strawberry.field(
        default=None, description="Pass to finishPasskeySignIn."
    )
    options: str | None = strawberry.field(
        default=None,
        description="PublicKeyCredentialRequestOptionsJSON for navigator.credentials.get: "
        "any passkey of this site, user verification required.",
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class FinishPasskeySignInInput:
    challenge: str
    credential: str = strawberry.field(description=CREDENTIAL)
    remember_device: bool = strawberry.field(
        default=False, description="Skip the second factor on this device after a password."
    )


@strawberry.type
class FinishPasskeySignInPayload:
    status: SignInStatus | None = None
    viewer: User | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@guard_inputs
@strawberry.type
class PasskeyMutations:
    @strawberry.mutation(
        description="Begin adding a passkey: creation options. Needs a recent "
        "re-authentication, or the password (and a code with 2FA on) inline."
    )
    async def start_passkey_registration(
        self, info: Info[Context, None], input: StartPasskeyRegistrationInput | None = None
    ) -> StartPasskeyRegistrationPayload:
        context = info.context
        user = context.require_viewer()
        await apply_inline_proof(context, input, allow_recovery_code=False)
        options = await passkeys.start_registration(
            context.services, user, context.client, session=context.identity.session
        )
        return StartPasskeyRegistrationPayload(options=options)

    @strawberry.mutation(description="Add the passkey the browser created.")
    async def finish_passkey_registration(
        self, info: Info[Context, None], input: FinishPasskeyRegistrationInput
    ) -> FinishPasskeyRegistrationPayload:
        context = info.context
        added = await passkeys.finish_registration(
            context.services,
            context.require_viewer(),
            context.client,
            session=context.identity.session,
            name=input.name,
            credential=input.credential,
        )
        return FinishPasskeyRegistrationPayload(
            passkey=Passkey.from_model(added.passkey), recovery_codes=added.recovery_codes
        )

    @strawberry.mutation(description="Give a passkey another name.")
    async def rename_passkey(
        self, info: Info[Context, None], input: RenamePasskeyInput
    ) -> PasskeyPayload:
        context = info.context
        factor = await passkeys.rename(
            context.require_viewer(), context.client, passkey_id=parse_id(input.id), name=input.name
        )
        return PasskeyPayload(passkey=Passkey.from_model(factor))

    @strawberry.mutation(
        description="Delete a passkey; it stops working at once. Deleting the last second "
        "factor turns two-factor authentication off."
    )
    async def delete_passkey(
        self, info: Info[Context, None], input: DeletePasskeyInput
    ) -> DeletePasskeyPayload:
        context = info.context
        user = context.require_viewer()
        await apply_inline_proof(context, input)
        still_on = await passkeys.delete(
            context.services,
            user,
            context.client,
            passkey_id=parse_id(input.id),
            session=context.identity.session,
        )
        return DeletePasskeyPayload(two_factor_enabled=still_on)

    @strawberry.mutation(description="Begin signing in with a passkey alone.")
    async def start_passkey_sign_in(
        self, info: Info[Context, None], input: StartPasskeySignInInput | None = None
    ) -> StartPasskeySignInPayload:
        context = info.context
        challenge, options = await passkey_sign_in.start(context.services, context.client)
        return StartPasskeySignInPayload(challenge=challenge, options=options)

    @strawberry.mutation(
        description="Sign in with a passkey that verified its user; sets the session cookie."
    )
    async def finish_passkey_sign_in(
        self, info: Info[Context, None], input: FinishPasskeySignInInput
    ) -> FinishPasskeySignInPayload:
        context = info.context
        signed_in = await passkey_sign_in.finish(
            context.services,
            input.challenge,
            input.credential,
            context.client,
            remember_device=input.remember_device,
            replacing=context.identity.session_token,
        )
        await start_session(context, signed_in)
        return FinishPasskeySignInPayload(
            status=SignInStatus.SIGNED_IN, viewer=User.from_model(signed_in.user)
        )
