"""Re-authentication before a sensitive change: issuing tokens and credentials, 2FA changes.

The password is always asked again, and it counts toward the same throttle as sign-in.
When two-factor authentication is on, a current code is needed too; a recognized device
never replaces it.
"""

from __future__ import annotations

from backend.accounts.models import User
from backend.audit.service import record
from backend.client import ClientInfo
from backend.errors import DomainError, InvalidCredentials
from backend.services import Services
from backend.throttle import service as throttle
from backend.throttle.keys import account_key, step_up_key
from backend.twofactor import verification
from backend.twofactor.models import TwoFactor

STEP_UP = "step-up"


async def confirm(
    services: Services,
    user: User,
    client: ClientInfo,
    *,
    password: str,
    otp: str | None,
    purpose: str,
    allow_recovery_code: bool = True,
) -> None:
    """Raise unless `password` (and `otp` when 2FA is on) prove the user is present."""
    await confirm_password(services, user, client, password=password, purpose=purpose)
    await verify_second_factor(
        services, user, client, otp=otp, purpose=purpose, allow_recovery_code=allow_recovery_code
    )


async def confirm_password(
    services: Services, user: User, client: ClientInfo, *, password: str, purpose: str
) -> None:
    """The password alone, with a lock of its own that also feeds the sign-in lock.

    Wrong passwords here count toward signing in too, so a stolen session is no
    guessing oracle. But a sign-in lock an attacker caused does not stop the user who
    is already signed in from changing the password.
    """
    key = step_up_key(user)
    await throttle.reserve(key, throttle.PER_ACCOUNT)
    if not await services.hasher.verify(user.password_hash, password):
        await throttle.count_failure(account_key(user.username), throttle.PER_ACCOUNT)
        await record(f"{purpose}.failed", user=user, client=client, reason="password")
        raise InvalidCredentials(field="password")
    await throttle.clear(key)


async def verify_second_factor(
    services: Services,
    user: User,
    client: ClientInfo,
    *,
    otp: str | None,
    purpose: str,
    allow_recovery_code: bool = True,
) -> None:
    """With two-factor authentication on: OTP_REQUIRED without a code, INVALID_OTP for a bad one.

    A recognized device never stands in for the code here. A code of any factor will do
    (email and SMS codes are asked for first: flows.send_step_up_code); a recovery code
    too, unless the change would let it mint new ones (`allow_recovery_code=False`).
    """
    if not await TwoFactor.filter(user=user).exists():
        return
    if not (otp or "").strip():
        raise DomainError("OTP_REQUIRED", "Enter a code from your second factor.", "otp")
    await verification.verify(
        services,
        user,
        otp or "",
        purpose=STEP_UP,
        client=client,
        field="otp",
        allow_recovery_code=allow_recovery_code,
    )
