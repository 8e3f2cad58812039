"""The second step of signing in, and what the account's factors are.

Each kind is reached only through its strategy (registry.py). The settings that change
the factors are in backend/account_settings/second_factors.py, above the re-authentication check.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from backend.accounts.models import User
from backend.auth import verification
from backend.auth.factors import devices
from backend.auth.factors.models import Authenticator, SignInChallenge, TwoFactor
from backend.auth.factors.proof import Proof
from backend.auth.factors.registry import ORDER, PASSKEY
from backend.auth.services import Services
from backend.kernel import clock
from backend.kernel.client_info import ClientInfo
from backend.kernel.crypto import digest, random_token
from backend.kernel.errors import DomainError

log = logging.getLogger("latchkey.twofactor")

CHALLENGE_LIFETIME = timedelta(minutes=5)

# What a sign-in with the right password still needs, or what let it through.
PASSWORD_ONLY, RECOGNIZED_DEVICE, SECOND_FACTOR = "password", "password+recognized_device", None


async def status(user_id: int) -> TwoFactor | None:
    return await TwoFactor.get_or_none(user_id=user_id)


async def authenticators(user_id: int) -> list[Authenticator]:
    return await Authenticator.filter(user_id=user_id).order_by("id")


async def methods(user_id: int) -> list[str]:
    """The kinds on the account, the preferred one first, then in the registry's order."""
    return kinds_of(await authenticators(user_id))


def kinds_of(factors: list[Authenticator]) -> list[str]:
    kinds = {factor.kind for factor in factors}
    preferred = [factor.kind for factor in factors if factor.preferred]
    return list(dict.fromkeys(preferred + [kind for kind in ORDER if kind in kinds]))


def preferred_kind(factors: list[Authenticator]) -> str | None:
    """The kind of the preferred factor; sign-in opens on it."""
    kinds = kinds_of(factors)
    return kinds[0] if kinds else None


async def after_password(
    services: Services, user: User, device_cookie: str, policy: str | None
) -> str | None:
    """PASSWORD_ONLY or RECOGNIZED_DEVICE (the session's factors), or SECOND_FACTOR.

    `policy`: the account's two-factor policy (`TwoFactor.policy`), None while it is off;
    sign-in reads it with the account. A recognized device is not an authenticator: the
    session it allows is recorded as such, and sensitive changes still ask for a code.
    """
    if policy is None:
        return PASSWORD_ONLY
    trusts_devices = remembers_devices(policy) and device_cookie
    secret_key = services.settings.secret_key
    if trusts_devices and await devices.recognizes(user, device_cookie, secret_key):
        return RECOGNIZED_DEVICE
    return SECOND_FACTOR


def remembers_devices(policy: str | None) -> bool:
    """Whether the account skips the code on a device it remembers: only then does
    "Remember this device" change anything at sign-in."""
    return policy == "unrecognized_device"


async def start_challenge(services: Services, user: User) -> tuple[str, list[str]]:
    """A short-lived, single-use challenge and the account's methods, the preferred first.

    When the preferred factor sends codes, its code goes out now.
    """
    token = random_token()
    challenge = await SignInChallenge.create(
        user=user, token_hash=digest(token), expires_at=clock.now() + CHALLENGE_LIFETIME
    )
    kinds = await methods(user.id)
    if kinds and services.second_factors[kinds[0]].sends_codes:
        await _send_quietly(services, user, kinds[0], _sign_in_purpose(challenge))
    return token, kinds


async def passkey_options(services: Services, token: str) -> str | None:
    """Request options for the user's passkeys, bound to this sign-in; None without any."""
    challenge = await live_challenge(token)
    if challenge is None:
        return None
    return await services.second_factors[PASSKEY].begin_challenge(
        challenge.user, _sign_in_purpose(challenge)
    )


async def live_challenge(token: str) -> SignInChallenge | None:
    return await SignInChallenge.get_or_none(
        token_hash=digest(token or ""), used_at=None, expires_at__gt=clock.now()
    ).select_related("user")


async def complete_challenge(
    services: Services,
    challenge: SignInChallenge,
    proof: Proof | None,
    client: ClientInfo,
    *,
    method: str | None = None,
) -> str:
    """Check the proof and use the challenge up; returns the kind of factor that was used."""
    user = challenge.user
    if not await TwoFactor.filter(user=user).exists():
        raise challenge_expired()
    factor = await verification.verify(
        services, user, proof, purpose=_sign_in_purpose(challenge), client=client, method=method
    )
    used = await SignInChallenge.filter(id=challenge.id, used_at=None).update(used_at=clock.now())
    if not used:
        raise challenge_expired()
    return factor.kind


async def resend_challenge_code(
    services: Services, challenge: SignInChallenge, method: str | None = None
) -> str:
    """Send the code of `method` (the first factor that sends codes when None); returns it."""
    kind = await sending_kind(services, challenge.user, method)
    await services.second_factors[kind].begin_challenge(challenge.user, _sign_in_purpose(challenge))
    return kind


async def sending_kind(services: Services, user: User, method: str | None) -> str:
    sending = [k for k in await methods(user.id) if services.second_factors[k].sends_codes]
    if method in sending:
        return method
    if method is None and sending:
        return sending[0]
    raise DomainError("VALIDATION_FAILED", "Use the code from your authenticator app.", "method")


def _sign_in_purpose(challenge: SignInChallenge) -> str:
    return f"sign-in:{challenge.id}"


def challenge_expired() -> DomainError:
    return DomainError("CHALLENGE_EXPIRED", "The sign-in took too long. Start again.", "challenge")


async def _send_quietly(services: Services, user: User, method: str, purpose: str) -> None:
    """Send a sign-in code; a delivery failure must not reveal the password was right."""
    try:
        await services.second_factors[method].begin_challenge(user, purpose)
    except Exception:  # the user can resend, or use another factor
        log.exception("could not send a sign-in code", extra={"user_id": user.id})
