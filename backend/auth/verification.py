"""Checking a second factor's proof for a user, the same way for sign-in and sensitive changes.

A proof is offered to the user's factors whose kind accepts it (proof.py): a typed code
from any of them (or from the one the user chose), a recovery code unless the change
forbids it, a passkey's assertion to the passkeys. Attempts are reserved per account before any
code is checked, so parallel tries across workers share one budget; failures are logged
with their real reason, and the user sees one answer.
"""

from __future__ import annotations

from tortoise.transactions import in_transaction

from backend.accounts.models import User
from backend.audit.service import record
from backend.auth.factors.models import Authenticator
from backend.auth.factors.proof import Proof
from backend.auth.factors.recovery_codes import codes as recovery_codes
from backend.auth.factors.registry import BACKUP, RECOVERY_CODE, is_backup
from backend.auth.services import Services
from backend.auth.throttle import service as throttle
from backend.auth.throttle.keys import second_factor_key
from backend.kernel import clock, i18n
from backend.kernel.client_info import ClientInfo
from backend.kernel.errors import DomainError
from backend.kernel.i18n import N_
from backend.notifications.notices import tell


class InvalidOtp(DomainError):
    def __init__(self, field: str = "code") -> None:
        message = N_("That code is not valid. Check it and try again.")
        super().__init__("INVALID_OTP", message, field)


# Wrong codes after the right password: the user hears of it once per burst, not per try.
FAILURES_WORTH_A_NOTICE = 3


async def verify(
    services: Services,
    user: User,
    proof: Proof | None,
    *,
    purpose: str,
    client: ClientInfo,
    allow_recovery_code: bool = True,
    method: str | None = None,
    field: str = "code",
) -> Authenticator:
    """The factor `proof` proves; else raise InvalidOtp on the proof's field (or RateLimited).

    `field`: where a missing proof (None) belongs.

    `method`, when given, limits the factors tried to that kind; a recovery code is
    tried whatever the method, unless `allow_recovery_code` is False.
    """
    key = second_factor_key(user)
    # Reserved before the proof is checked; a success clears it, a failure stays counted.
    attempts = await throttle.reserve(key, throttle.PER_ACCOUNT)
    reason = "missing"
    if proof is not None:
        reason = "not_accepted"  # no factor of the account checks proofs of this sort
        for authenticator in await _candidates(user, method, allow_recovery_code):
            strategy = services.second_factors[authenticator.kind]
            if not strategy.accepts(proof):
                continue
            check = await strategy.verify(user, authenticator, proof, purpose)
            if check.accepted:
                await throttle.clear(key)
                await _used(services, user, authenticator, client, purpose)
                return authenticator
            # An empty reason: the proof was not for this factor (another passkey's).
            if check.reason and (reason == "not_accepted" or not is_backup(authenticator.kind)):
                reason = check.reason
        backup = [services.second_factors[kind] for kind in BACKUP]
        if not allow_recovery_code and any(kind.accepts(proof) for kind in backup):
            reason = "recovery_code_not_accepted"
    if attempts == FAILURES_WORTH_A_NOTICE:
        await _tell_codes_failed(services, user, client)
    await record(
        "second_factor.failed",
        user=user,
        client=client,
        purpose=purpose,
        method=method or "any",
        reason=reason,
    )
    raise InvalidOtp(proof.field if proof is not None else field)


async def _candidates(
    user: User, method: str | None, allow_recovery_code: bool
) -> list[Authenticator]:
    """The factors to try, recovery codes last: one is spent only when no other factor fits."""
    factors = await Authenticator.filter(user=user).order_by("id")
    chosen = [f for f in factors if not is_backup(f.kind) and method in (None, f.kind)]
    backup = [f for f in factors if is_backup(f.kind) and allow_recovery_code]
    return chosen + backup


async def _used(
    services: Services, user: User, authenticator: Authenticator, client: ClientInfo, purpose: str
) -> None:
    now = clock.now()
    async with in_transaction():
        await Authenticator.filter(id=authenticator.id).update(last_used_at=now)
        if authenticator.kind == RECOVERY_CODE:
            await record("recovery_code.used", user=user, client=client, purpose=purpose)
    authenticator.last_used_at = now
    if authenticator.kind == RECOVERY_CODE:
        await _tell_recovery_code_used(services, user)


async def _tell_recovery_code_used(services: Services, user: User) -> None:
    left = await recovery_codes.remaining(user.id)
    await tell(
        services.mailer,
        user.email,
        N_("A recovery code was used"),
        N_(
            "A recovery code was used for your Latchkey account {username}. "
            "1 unused recovery code left."
        )
        if left == 1
        else N_(
            "A recovery code was used for your Latchkey account {username}. "
            "{left} unused recovery codes left."
        ),
        user=user,
        params={"username": user.username, "left": left},
    )


async def _tell_codes_failed(services: Services, user: User, client: ClientInfo) -> None:
    await tell(
        services.mailer,
        user.email,
        N_("Wrong codes for your account"),
        N_(
            "Someone entered the right password for your Latchkey account {username}, then "
            "{count} wrong second-factor codes in a row, from address {address} ({browser})."
        ),
        user=user,
        params={
            "username": user.username,
            "count": FAILURES_WORTH_A_NOTICE,
            "address": client.ip_address,
            "browser": client.browser.words(i18n.language_of(user)),
        },
    )
