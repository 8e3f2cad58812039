"""Checking a second-factor code for a user, the same way for sign-in and sensitive changes.

The enabled method's code or a recovery code is accepted. Attempts are reserved per
account before any code is checked, so parallel tries across workers share one budget;
failures are logged with their real reason, and the user sees one answer.
"""

from __future__ import annotations

from backend.accounts.models import User
from backend.audit.service import record
from backend.client import ClientInfo, describe_user_agent
from backend.errors import DomainError
from backend.notifications.notices import tell
from backend.services import Services
from backend.throttle import service as throttle
from backend.throttle.keys import second_factor_key
from backend.twofactor import recovery_codes
from backend.twofactor.models import TwoFactor


class InvalidOtp(DomainError):
    def __init__(self, field: str = "code") -> None:
        super().__init__("INVALID_OTP", "That code is not valid. Check it and try again.", field)


# Wrong codes after the right password: the user hears of it once per burst, not per try.
FAILURES_WORTH_A_NOTICE = 3


async def verify(
    services: Services,
    user: User,
    two_factor: TwoFactor,
    code: str,
    *,
    purpose: str,
    client: ClientInfo,
    field: str = "code",
    allow_recovery_code: bool = True,
) -> None:
    """Raise InvalidOtp (or RateLimited) unless `code` proves the second factor."""
    key = second_factor_key(user)
    # Reserved before the code is checked; a success clears it, a failure stays counted.
    attempts = await throttle.reserve(key, throttle.PER_ACCOUNT)
    code = (code or "").strip()
    reason = "missing"
    if code:
        factor = services.second_factors[two_factor.method]
        check = await factor.check(user, two_factor.totp_secret, code, purpose)
        if check.accepted:
            await throttle.clear(key)
            return
        reason = check.reason
        if not allow_recovery_code and recovery_codes.looks_like_one(code):
            reason = "recovery_code_not_accepted"
        elif recovery_codes.looks_like_one(code) and await recovery_codes.consume(
            user, code, services.settings.secret_key
        ):
            await throttle.clear(key)
            await record("recovery_code.used", user=user, client=client, purpose=purpose)
            await _tell_recovery_code_used(services, user)
            return
    if attempts == FAILURES_WORTH_A_NOTICE:
        await _tell_codes_failed(services, user, client)
    await record(
        "second_factor.failed",
        user=user,
        client=client,
        purpose=purpose,
        method=two_factor.method,
        reason=reason,
    )
    raise InvalidOtp(field)


async def _tell_recovery_code_used(services: Services, user: User) -> None:
    left = await recovery_codes.remaining(user.id)
    await tell(
        services.mailer,
        user.email,
        "A recovery code was used",
        f"A recovery code was used for your Latchkey account {user.username}. "
        f"{left} unused recovery code{'' if left == 1 else 's'} left.",
    )


async def _tell_codes_failed(services: Services, user: User, client: ClientInfo) -> None:
    await tell(
        services.mailer,
        user.email,
        "Wrong codes for your account",
        f"Someone entered the right password for your Latchkey account {user.username}, then "
        f"{FAILURES_WORTH_A_NOTICE} wrong second-factor codes in a row, from address "
        f"{client.ip_address} ({describe_user_agent(client.user_agent)}).",
    )
