"""Turning two-factor authentication on and off, and the sign-in challenge."""

from __future__ import annotations

import dataclasses
import logging
from datetime import timedelta

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from backend import clock, stepup
from backend.accounts.models import User
from backend.audit.service import record
from backend.client import ClientInfo
from backend.crypto import digest, random_token
from backend.errors import DomainError
from backend.notifications.notices import tell
from backend.services import Services
from backend.twofactor import devices, recovery_codes, totp, verification
from backend.twofactor.factors import EMAIL, SMS, TOTP
from backend.twofactor.models import (
    OneTimeCode,
    PendingSetup,
    RecoveryCode,
    SignInChallenge,
    TrustedDevice,
    TwoFactor,
)

log = logging.getLogger("latchkey.twofactor")

SETUP_LIFETIME = timedelta(minutes=10)
CHALLENGE_LIFETIME = timedelta(minutes=5)
SETUP_PURPOSE = "setup"
POLICIES = ("every_sign_in", "unrecognized_device")


@dataclasses.dataclass(frozen=True)
class TotpSetup:
    secret: str
    uri: str
    qr_code_svg: str


async def status(user_id: int) -> TwoFactor | None:
    return await TwoFactor.get_or_none(user_id=user_id)


# -- setup ---------------------------------------------------------------------------


async def start_totp_setup(
    services: Services, user: User, client: ClientInfo, *, password: str
) -> TotpSetup:
    await _refuse_when_on(user)
    await stepup.confirm_password(
        services, user, client, password=password, purpose="twofactor.setup"
    )
    secret = totp.new_secret()
    await _replace_pending(user, TOTP, services.secret_box.seal(secret, bound_to=str(user.id)))
    uri = totp.provisioning_uri(secret, username=user.username, issuer=services.settings.issuer)
    return TotpSetup(secret, uri, totp.qr_code_svg(uri))


async def start_code_setup(
    services: Services, user: User, client: ClientInfo, *, method: str, password: str
) -> None:
    """Email or SMS: send a code to the address or number, to prove it reaches the user."""
    await _refuse_when_on(user)
    if method == EMAIL and not user.email:
        raise DomainError("EMAIL_REQUIRED", "Add an email address to your account first.", "method")
    if method == SMS and not user.mobile_phone:
        raise DomainError(
            "PHONE_REQUIRED_FOR_SMS", "Add a mobile phone number to your account first.", "method"
        )
    await stepup.confirm_password(
        services, user, client, password=password, purpose="twofactor.setup"
    )
    await _replace_pending(user, method, None)
    await OneTimeCode.filter(user=user, purpose=SETUP_PURPOSE).delete()
    await services.second_factors[method].send(user, SETUP_PURPOSE)


async def confirm_setup(
    services: Services, user: User, client: ClientInfo, *, code: str, method: str | None = None
) -> list[str]:
    """Check the first code; turn two-factor authentication on; return new recovery codes."""
    pending = await PendingSetup.get_or_none(user=user)
    if (
        pending is None
        or pending.expires_at <= clock.now()
        or (method and pending.method != method)
    ):
        raise DomainError("SETUP_EXPIRED", "The setup expired. Start it again.", "code")
    timecode = await _check_setup_code(services, user, pending, code, client)
    codes = recovery_codes.generate()
    try:
        async with in_transaction():
            await TwoFactor.create(
                user=user,
                method=pending.method,
                totp_secret=pending.totp_secret,
                last_timecode=timecode,
            )
            await PendingSetup.filter(id=pending.id).delete()
            await recovery_codes.replace_all(user, codes, services.settings.secret_key)
            await record("twofactor.enabled", user=user, client=client, method=pending.method)
    except IntegrityError:  # a concurrent confirmation won
        raise DomainError("CONFLICT", "Two-factor authentication is already on.") from None
    await _tell(
        services,
        user,
        "Two-factor authentication is on",
        f"Two-factor authentication ({_method_name(pending.method)}) was turned on "
        "for your account.",
    )
    return codes


async def _check_setup_code(
    services: Services, user: User, pending: PendingSetup, code: str, client: ClientInfo
) -> int:
    """The TOTP time step of the code (so it cannot be reused to sign in), or 0."""
    if pending.method == TOTP:
        secret = services.secret_box.open(pending.totp_secret or "", bound_to=str(user.id))
        timecode = totp.matching_timecode(secret, code)
        if timecode is not None:
            return timecode
    else:
        check = await services.second_factors[pending.method].check(user, None, code, SETUP_PURPOSE)
        if check.accepted:
            return 0
    await record(
        "second_factor.failed",
        user=user,
        client=client,
        purpose="setup",
        method=pending.method,
        reason="wrong",
    )
    raise verification.InvalidOtp()


# -- changes once on ----------------------------------------------------------------


async def set_policy(
    services: Services,
    user: User,
    client: ClientInfo,
    *,
    policy: str,
    password: str,
    code: str,
) -> TwoFactor:
    if policy not in POLICIES:
        raise DomainError("VALIDATION_FAILED", "Unknown policy.", "policy")
    two_factor = await _require_on(user)
    await stepup.confirm(
        services, user, client, password=password, otp=code, purpose="twofactor.policy"
    )
    async with in_transaction():
        await TwoFactor.filter(id=two_factor.id).update(policy=policy)
        await record("twofactor.policy_changed", user=user, client=client, policy=policy)
    two_factor.policy = policy
    when = {
        "every_sign_in": "at every sign-in",
        "unrecognized_device": "only when you sign in from a device it does not recognize",
    }[policy]
    await _tell(
        services,
        user,
        "Two-factor authentication settings changed",
        f"Latchkey now asks for your second factor {when}.",
    )
    return two_factor


async def disable(
    services: Services, user: User, client: ClientInfo, *, password: str, code: str
) -> None:
    await _require_on(user)
    await stepup.confirm(
        services, user, client, password=password, otp=code, purpose="twofactor.disable"
    )
    async with in_transaction():
        await _remove_everything(user)
        await record("twofactor.disabled", user=user, client=client)
    await _tell(
        services,
        user,
        "Two-factor authentication is off",
        "Two-factor authentication was turned off for your account, and every "
        "recognized device was forgotten.",
    )


async def regenerate_recovery_codes(
    services: Services, user: User, client: ClientInfo, *, password: str, code: str | None
) -> list[str]:
    """New codes, for the password and a current code of the method itself.

    Never for a recovery code: a stolen session, the password and one recovery code
    would otherwise mint a fresh set.
    """
    await _require_on(user)
    await stepup.confirm(
        services,
        user,
        client,
        password=password,
        otp=code,
        purpose="recovery_codes.regenerate",
        allow_recovery_code=False,
    )
    codes = recovery_codes.generate()
    async with in_transaction():
        await recovery_codes.replace_all(user, codes, services.settings.secret_key)
        await devices.forget_all(user)  # trust was granted under the old codes
        await record("recovery_codes.regenerated", user=user, client=client)
    await _tell(
        services,
        user,
        "New recovery codes",
        "New recovery codes were generated for your account; the old ones no longer work, "
        "and every recognized device was forgotten.",
    )
    return codes


async def reset_by_operator(services: Services, user: User) -> bool:
    """`latchkey user reset-2fa`: for a user who lost every factor."""
    async with in_transaction():
        was_on = await TwoFactor.filter(user=user).exists()
        await _remove_everything(user)
        await record("twofactor.reset_by_operator", user=user, was_on=was_on)
    await _tell(
        services,
        user,
        "Two-factor authentication was reset",
        "An administrator turned off two-factor authentication for your account. "
        "Sign in and set it up again.",
    )
    return was_on


async def _remove_everything(user: User) -> None:
    await TwoFactor.filter(user=user).delete()
    await PendingSetup.filter(user=user).delete()
    await RecoveryCode.filter(user=user).delete()
    await OneTimeCode.filter(user=user).delete()
    await TrustedDevice.filter(user=user).delete()


# -- sign-in ------------------------------------------------------------------------


# What a sign-in with the right password still needs, or what let it through.
PASSWORD_ONLY, RECOGNIZED_DEVICE, SECOND_FACTOR = "password", "password+recognized_device", None


async def after_password(services: Services, user: User, device_cookie: str) -> str | None:
    """PASSWORD_ONLY or RECOGNIZED_DEVICE (the session's factors), or SECOND_FACTOR.

    A recognized device is not an authenticator: the session it allows is recorded as
    such, and sensitive changes still ask for a code.
    """
    two_factor = await TwoFactor.get_or_none(user=user)
    if two_factor is None:
        return PASSWORD_ONLY
    trusts_devices = two_factor.policy == "unrecognized_device" and device_cookie
    secret_key = services.settings.secret_key
    if trusts_devices and await devices.recognizes(user, device_cookie, secret_key):
        return RECOGNIZED_DEVICE
    return SECOND_FACTOR


async def start_challenge(services: Services, user: User) -> tuple[str, str]:
    """A short-lived, single-use challenge; email and SMS users get their code now."""
    token = random_token()
    challenge = await SignInChallenge.create(
        user=user, token_hash=digest(token), expires_at=clock.now() + CHALLENGE_LIFETIME
    )
    two_factor = await TwoFactor.get(user=user)
    await _send_quietly(services, user, two_factor.method, f"sign-in:{challenge.id}")
    return token, two_factor.method


async def live_challenge(token: str) -> SignInChallenge | None:
    return await SignInChallenge.get_or_none(
        token_hash=digest(token or ""), used_at=None, expires_at__gt=clock.now()
    ).select_related("user")


async def complete_challenge(
    services: Services, challenge: SignInChallenge, code: str, client: ClientInfo
) -> str:
    """Check the code and use the challenge up; returns the method that was used."""
    user = challenge.user
    two_factor = await TwoFactor.get_or_none(user=user)
    if two_factor is None:
        raise challenge_expired()
    await verification.verify(
        services, user, two_factor, code, purpose=f"sign-in:{challenge.id}", client=client
    )
    used = await SignInChallenge.filter(id=challenge.id, used_at=None).update(used_at=clock.now())
    if not used:
        raise challenge_expired()
    return two_factor.method


async def resend_challenge_code(services: Services, challenge: SignInChallenge) -> None:
    two_factor = await TwoFactor.get_or_none(user=challenge.user)
    if two_factor is None or two_factor.method == TOTP:
        raise DomainError("VALIDATION_FAILED", "Use the code from your authenticator app.")
    await services.second_factors[two_factor.method].send(challenge.user, f"sign-in:{challenge.id}")


def challenge_expired() -> DomainError:
    return DomainError("CHALLENGE_EXPIRED", "The sign-in took too long. Start again.", "challenge")


# -- helpers ------------------------------------------------------------------------


async def _refuse_when_on(user: User) -> None:
    if await TwoFactor.filter(user=user).exists():
        raise DomainError(
            "CONFLICT",
            "Two-factor authentication is already on. Turn it off first to change the method.",
        )


async def _require_on(user: User) -> TwoFactor:
    two_factor = await TwoFactor.get_or_none(user=user)
    if two_factor is None:
        raise DomainError("VALIDATION_FAILED", "Two-factor authentication is off.")
    return two_factor


async def _replace_pending(user: User, method: str, sealed_secret: str | None) -> None:
    await PendingSetup.filter(user=user).delete()
    await PendingSetup.create(
        user=user, method=method, totp_secret=sealed_secret, expires_at=clock.now() + SETUP_LIFETIME
    )


async def _send_quietly(services: Services, user: User, method: str, purpose: str) -> None:
    """Send a sign-in code; a delivery failure must not reveal the password was right."""
    try:
        await services.second_factors[method].send(user, purpose)
    except Exception:  # the user can resend, or use a recovery code
        log.exception("could not send a sign-in code", extra={"user_id": user.id})


async def _tell(services: Services, user: User, subject: str, text: str) -> None:
    await tell(services.mailer, user.email, subject, text)


def _method_name(method: str) -> str:
    return {TOTP: "authenticator app", EMAIL: "code by email", SMS: "code by SMS"}[method]
