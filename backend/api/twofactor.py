"""Two-factor authentication settings and recognized devices."""

from __future__ import annotations

import enum
from datetime import datetime

import strawberry
from strawberry.types import Info

from backend.account_settings import second_factors as twofactor
from backend.api.context import Context
from backend.api.engine.input_guard import guard_inputs
from backend.api.errors import UserError
from backend.api.reauthentication import AFTER_REAUTH, apply_inline_proof, otp_alias
from backend.auth import challenges
from backend.auth.factors import devices, registry
from backend.auth.factors import models as twofactor_models
from backend.auth.factors.recovery_codes import codes as recovery_codes
from backend.kernel.client_info import Browser
from backend.kernel.errors import DomainError, NotFound
from backend.kernel.ids import parse_id

# One value per kind in the registry, in its order: a new kind needs no line here.
TwoFactorMethod = strawberry.enum(
    enum.Enum("TwoFactorMethod", [(kind.api_name, kind.kind) for kind in registry.KINDS]),
    name="TwoFactorMethod",
)


@strawberry.enum
class TwoFactorPolicy(enum.Enum):
    EVERY_SIGN_IN = "every_sign_in"
    UNRECOGNIZED_DEVICE = "unrecognized_device"


@strawberry.type(description="One second factor of the account.")
class Authenticator:
    id: strawberry.ID
    kind: TwoFactorMethod
    name: str
    created_at: datetime
    last_used_at: datetime | None
    preferred: bool = strawberry.field(description="Sign-in opens on this factor.")

    @classmethod
    def from_model(cls, factor: twofactor_models.Authenticator) -> Authenticator:
        return cls(
            id=strawberry.ID(str(factor.id)),
            kind=TwoFactorMethod(factor.kind),
            name=factor.name,
            created_at=factor.created_at,
            last_used_at=factor.last_used_at,
            preferred=factor.preferred,
        )


@strawberry.type(description="Two-factor authentication of the account.")
class TwoFactor:
    enabled: bool
    method: TwoFactorMethod | None = strawberry.field(
        description="The preferred factor: offered first at sign-in."
    )
    policy: TwoFactorPolicy | None
    recovery_codes_remaining: int
    enabled_at: datetime | None
    authenticators: list[Authenticator] = strawberry.field(
        description="Every second factor, recovery codes included while any other is on."
    )


@strawberry.type(description="A browser the user asked Latchkey to remember.")
class TrustedDevice:
    id: strawberry.ID
    stored_browser: strawberry.Private[Browser]
    ip_address: str
    first_seen_at: datetime
    last_seen_at: datetime
    expires_at: datetime

    @strawberry.field(description="Browser and system in words, in the reader's language.")
    def browser(self, info: strawberry.Info) -> str:
        return self.stored_browser.words(info.context.language)

    @classmethod
    def from_model(cls, device: twofactor_models.TrustedDevice) -> TrustedDevice:
        return cls(
            id=strawberry.ID(str(device.id)),
            stored_browser=Browser(device.browser_name, device.system_name),
            ip_address=device.ip_address,
            first_seen_at=device.created_at,
            last_seen_at=device.last_seen_at,
            expires_at=device.expires_at,
        )


async def viewer_two_factor(user_id: int) -> TwoFactor:
    state = await challenges.status(user_id)
    if state is None:
        return TwoFactor(
            enabled=False,
            method=None,
            policy=None,
            recovery_codes_remaining=0,
            enabled_at=None,
            authenticators=[],
        )
    factors = await challenges.authenticators(user_id)
    preferred = challenges.preferred_kind(factors)
    return TwoFactor(
        enabled=True,
        method=TwoFactorMethod(preferred) if preferred else None,
        policy=TwoFactorPolicy(state.policy),
        recovery_codes_remaining=await recovery_codes.remaining(user_id),
        enabled_at=state.enabled_at,
        authenticators=[Authenticator.from_model(factor) for factor in factors],
    )


async def viewer_trusted_devices(user_id: int) -> list[TrustedDevice]:
    return [TrustedDevice.from_model(device) for device in await devices.list_for(user_id)]


CODE_TO_ADD = (
    "A current code of a factor already on, when two-factor authentication is on; "
    "not a recovery code."
)


@strawberry.input
class StartTotpSetupInput:
    password: str | None = strawberry.field(default=None, description=AFTER_REAUTH)
    code: str | None = strawberry.field(default=None, description=CODE_TO_ADD)
    otp: str | None = otp_alias()


@strawberry.type
class StartTotpSetupPayload:
    secret: str | None = strawberry.field(default=None, description="Base32, to type by hand.")
    otpauth_uri: str | None = None
    qr_code_svg: str | None = strawberry.field(default=None, description="Inline SVG.")
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class ConfirmSetupInput:
    code: str
    name: str | None = strawberry.field(
        default=None, description="What to call this factor, such as the phone the app is on."
    )


@strawberry.type
class RecoveryCodesPayload:
    recovery_codes: list[str] | None = strawberry.field(
        default=None,
        description="Shown only here, only once. Each works once. Null when a factor is "
        "added while two-factor authentication was already on: the codes stay as they were.",
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class StartCodeSetupInput:
    method: TwoFactorMethod = strawberry.field(description="EMAIL or SMS.")
    password: str | None = strawberry.field(default=None, description=AFTER_REAUTH)
    code: str | None = strawberry.field(default=None, description=CODE_TO_ADD)
    otp: str | None = otp_alias()


@strawberry.type
class StartCodeSetupPayload:
    sent: bool = False
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class SetTwoFactorPolicyInput:
    policy: TwoFactorPolicy
    password: str | None = strawberry.field(default=None, description=AFTER_REAUTH)
    code: str | None = strawberry.field(
        default=None, description="A current code, or a recovery code."
    )


@strawberry.type
class TwoFactorPayload:
    two_factor: TwoFactor | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class RemoveAuthenticatorInput:
    id: strawberry.ID
    password: str | None = strawberry.field(default=None, description=AFTER_REAUTH)
    code: str | None = strawberry.field(
        default=None, description="A current code, or a recovery code."
    )


@strawberry.input
class SetPreferredAuthenticatorInput:
    id: strawberry.ID
    password: str | None = strawberry.field(default=None, description=AFTER_REAUTH)
    code: str | None = strawberry.field(
        default=None, description="A current code, or a recovery code."
    )
    otp: str | None = otp_alias()


@strawberry.input
class DisableTwoFactorInput:
    password: str | None = strawberry.field(default=None, description=AFTER_REAUTH)
    code: str | None = strawberry.field(
        default=None, description="A current code, or a recovery code."
    )


@strawberry.input
class RegenerateRecoveryCodesInput:
    password: str | None = strawberry.field(default=None, description=AFTER_REAUTH)
    code: str | None = strawberry.field(
        default=None,
        description="A current code of the second factor; a recovery code is not accepted.",
    )


@strawberry.input
class SendStepUpCodeInput:
    password: str
    method: TwoFactorMethod | None = strawberry.field(
        default=None, description="EMAIL or SMS; the first of them on the account when null."
    )


@strawberry.type
class SendStepUpCodePayload:
    method: TwoFactorMethod | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class ForgetTrustedDeviceInput:
    id: strawberry.ID


@strawberry.input
class ForgetAllTrustedDevicesInput:
    confirm: bool = True


@strawberry.type
class ForgetTrustedDevicesPayload:
    forgotten_count: int = 0
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@guard_inputs
@strawberry.type
class TwoFactorMutations:
    @strawberry.mutation(description="Begin setting up an authenticator app: a secret and QR code.")
    async def start_totp_setup(
        self, info: Info[Context, None], input: StartTotpSetupInput
    ) -> StartTotpSetupPayload:
        context = info.context
        user = context.require_viewer()
        await apply_inline_proof(context, input, allow_recovery_code=False)
        setup = await twofactor.start_setup(
            context.services,
            user,
            context.client,
            method=TwoFactorMethod.TOTP.value,
            session=context.identity.session,
        )
        return StartTotpSetupPayload(
            secret=setup.secret, otpauth_uri=setup.uri, qr_code_svg=setup.qr_code_svg
        )

    @strawberry.mutation(description="Add the authenticator app with a current code.")
    async def confirm_totp_setup(
        self, info: Info[Context, None], input: ConfirmSetupInput
    ) -> RecoveryCodesPayload:
        return await _confirm(info.context, input, TwoFactorMethod.TOTP.value)

    @strawberry.mutation(description="Begin setting up codes by email or SMS: sends a code.")
    async def start_code_setup(
        self, info: Info[Context, None], input: StartCodeSetupInput
    ) -> StartCodeSetupPayload:
        context = info.context
        if not registry.BY_KIND[input.method.value].sends_codes:
            raise DomainError(
                "VALIDATION_FAILED", "That method is set up with its own mutation.", "method"
            )
        user = context.require_viewer()
        await apply_inline_proof(context, input, allow_recovery_code=False)
        await twofactor.start_setup(
            context.services,
            user,
            context.client,
            method=input.method.value,
            session=context.identity.session,
        )
        return StartCodeSetupPayload(sent=True)

    @strawberry.mutation(description="Add codes by email or SMS with the code that was sent.")
    async def confirm_code_setup(
        self, info: Info[Context, None], input: ConfirmSetupInput
    ) -> RecoveryCodesPayload:
        return await _confirm(info.context, input, None)

    @strawberry.mutation(
        description="Ask for the second factor every sign-in, or only from new devices."
    )
    async def set_two_factor_policy(
        self, info: Info[Context, None], input: SetTwoFactorPolicyInput
    ) -> TwoFactorPayload:
        context = info.context
        user = context.require_viewer()
        await apply_inline_proof(context, input)
        await twofactor.set_policy(
            context.services,
            user,
            context.client,
            policy=input.policy.value,
            session=context.identity.session,
        )
        return TwoFactorPayload(two_factor=await viewer_two_factor(user.id))

    @strawberry.mutation(
        description="Remove one second factor; removing the last one turns two-factor "
        "authentication off. Needs a re-authentication with a second factor."
    )
    async def remove_authenticator(
        self, info: Info[Context, None], input: RemoveAuthenticatorInput
    ) -> TwoFactorPayload:
        context = info.context
        user = context.require_viewer()
        await apply_inline_proof(context, input)
        await twofactor.remove(
            context.services,
            user,
            context.client,
            authenticator_id=parse_id(input.id),
            session=context.identity.session,
        )
        return TwoFactorPayload(two_factor=await viewer_two_factor(user.id))

    @strawberry.mutation(
        description="Make one second factor the preferred one: sign-in opens on it. "
        "Recovery codes cannot be preferred."
    )
    async def set_preferred_authenticator(
        self, info: Info[Context, None], input: SetPreferredAuthenticatorInput
    ) -> TwoFactorPayload:
        context = info.context
        user = context.require_viewer()
        await apply_inline_proof(context, input)
        await twofactor.set_preferred(
            context.services,
            user,
            context.client,
            authenticator_id=parse_id(input.id),
            session=context.identity.session,
        )
        return TwoFactorPayload(two_factor=await viewer_two_factor(user.id))

    @strawberry.mutation(
        description="Turn two-factor authentication off; needs a re-authentication with a "
        "second factor that is not a recovery code."
    )
    async def disable_two_factor(
        self, info: Info[Context, None], input: DisableTwoFactorInput
    ) -> TwoFactorPayload:
        context = info.context
        user = context.require_viewer()
        await apply_inline_proof(context, input, allow_recovery_code=False)
        await twofactor.disable(
            context.services,
            user,
            context.client,
            session=context.identity.session,
        )
        return TwoFactorPayload(two_factor=await viewer_two_factor(user.id))

    @strawberry.mutation(
        description="New recovery codes; the old ones stop working. Needs a "
        "re-authentication with a second factor that is not a recovery code."
    )
    async def regenerate_recovery_codes(
        self, info: Info[Context, None], input: RegenerateRecoveryCodesInput
    ) -> RecoveryCodesPayload:
        context = info.context
        user = context.require_viewer()
        await apply_inline_proof(context, input, allow_recovery_code=False)
        codes = await twofactor.regenerate_recovery_codes(
            context.services,
            user,
            context.client,
            session=context.identity.session,
        )
        return RecoveryCodesPayload(recovery_codes=codes)

    @strawberry.mutation(description="Email or text a code to re-authenticate with.")
    async def send_step_up_code(
        self, info: Info[Context, None], input: SendStepUpCodeInput
    ) -> SendStepUpCodePayload:
        context = info.context
        method = await twofactor.send_reauthentication_code(
            context.services,
            context.require_viewer(),
            context.client,
            password=input.password,
            method=input.method.value if input.method else None,
        )
        return SendStepUpCodePayload(method=TwoFactorMethod(method))

    @strawberry.mutation(description="Forget one recognized device.")
    async def forget_trusted_device(
        self, info: Info[Context, None], input: ForgetTrustedDeviceInput
    ) -> ForgetTrustedDevicesPayload:
        context = info.context
        user = context.require_viewer()
        if not await devices.forget(user, parse_id(input.id)):
            raise NotFound()
        return ForgetTrustedDevicesPayload(forgotten_count=1)

    @strawberry.mutation(description="Forget every recognized device.")
    async def forget_all_trusted_devices(
        self, info: Info[Context, None], input: ForgetAllTrustedDevicesInput | None = None
    ) -> ForgetTrustedDevicesPayload:
        context = info.context
        count = await devices.forget_all(context.require_viewer())
        return ForgetTrustedDevicesPayload(forgotten_count=count)


async def _confirm(
    context: Context, input: ConfirmSetupInput, method: str | None
) -> RecoveryCodesPayload:
    codes = await twofactor.confirm_setup(
        context.services,
        context.require_viewer(),
        context.client,
        code=input.code,
        method=method,
        name=input.name,
    )
    return RecoveryCodesPayload(recovery_codes=codes)
