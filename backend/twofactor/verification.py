"""Checking a second-factor code for a user, the same way for sign-in and sensitive changes.

The enabled method's code or a recovery code is accepted. Failures are throttled per
account across workers and logged with their real reason; the user sees one answer.
"""

from __future__ import annotations

from backend.accounts.models import User
from backend.audit.service import record
from backend.client import ClientInfo
from backend.errors import DomainError
from backend.services import Services
from backend.throttle import service as throttle
from backend.twofactor import recovery_codes
from backend.twofactor.models import TwoFactor


class InvalidOtp(DomainError):
    def __init__(self, field: str = "code") -> None:
        super().__init__("INVALID_OTP", "That code is not valid. Check it and try again.", field)


def throttle_key(user: User) -> str:
    return f"second-factor:{user.id}"


async def verify(
    services: Services,
    user: User,
    two_factor: TwoFactor,
    code: str,
    *,
    purpose: str,
    client: ClientInfo,
    field: str = "code",
) -> None:
    """Raise InvalidOtp (or RateLimited) unless `code` proves the second factor."""
    key = throttle_key(user)
    await throttle.check(key)
    code = (code or "").strip()
    reason = "missing"
    if code:
        factor = services.second_factors[two_factor.method]
        check = await factor.check(user, two_factor.totp_secret, code, purpose)
        if check.accepted:
            await throttle.clear(key)
            return
        reason = check.reason
        if recovery_codes.looks_like_one(code) and await recovery_codes.consume(
            user, code, services.settings.secret_key
        ):
            await throttle.clear(key)
            await record("recovery_code.used", user=user, client=client, purpose=purpose)
            return
    await throttle.fail(key, throttle.PER_ACCOUNT)
    await record(
        "second_factor.failed",
        user=user,
        client=client,
        purpose=purpose,
        method=two_factor.method,
        reason=reason,
    )
    raise InvalidOtp(field)
