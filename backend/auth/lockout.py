"""The lock on password sign-in: after 100 failures in a row, or "This wasn't me".

NIST SP 800-63B caps failed sign-ins at 100 per account. The throttle slows guessing
down; this count never forgets: a successful sign-in resets it, and at the cap password
sign-in stops, even with the right password, until the password is reset (or changed in
a live session). The count is one SQL statement, so parallel failures on any worker can
neither skip the cap nor both be the one that reaches it (and send the email).

"This wasn't me" locks password sign-in the same way (FREEZE_REASONS), since whoever
caused it may know the password; when the old and new email address disagree, only an
operator lifts the lock (see docs/security.md).

Only browsers that signed in to the account before are told ACCOUNT_LOCKED; anyone else
gets the answer of a wrong password, so a lock never tells a stranger the account exists.
Passkeys are not guessable and keep signing in.
"""

from __future__ import annotations

import logging

from tortoise.transactions import in_transaction

from backend.accounts.models import User
from backend.audit.service import record
from backend.auth import reset_links as links
from backend.auth.models import SignInLockout
from backend.auth.services import Services
from backend.events.emit import emit
from backend.infra import hot_sql, metrics
from backend.kernel import clock
from backend.kernel.client_info import ClientInfo
from backend.kernel.errors import DomainError
from backend.kernel.i18n import N_
from backend.notifications.notices import tell

log = logging.getLogger("latchkey.recovery")

MAX_FAILURES = 100

# Why an account is locked. Each is lifted by a password reset; FAILURES also by a
# password change in a live session (its owner knows the password).
FAILURES = "failures"
SECURED = "secured"  # "This wasn't me": the password may be known to someone else
DISPUTED = "disputed"  # the old address says a change of address was not the owner's

# Parameter 1: the user id. Returns the count, this failure included.
_COUNT = """
INSERT INTO sign_in_lockouts (user_id, failures, reason) VALUES ({1}, 1, 'failures')
ON CONFLICT (user_id) DO UPDATE SET failures = sign_in_lockouts.failures + 1
RETURNING failures
"""
# Parameters: user id, the cap, now, the reason, DISPUTED. One statement, so two freezes
# at once cannot collide on the row.
_FREEZE = """
INSERT INTO sign_in_lockouts (user_id, failures, locked_at, reason) VALUES ($1, $2, $3, $4)
ON CONFLICT (user_id) DO UPDATE SET
    failures = $2,
    locked_at = $3,
    reason = CASE WHEN sign_in_lockouts.reason = $5 THEN $5 ELSE $4 END
"""
_RESET = "DELETE FROM sign_in_lockouts WHERE user_id = $1 AND failures < $2"


_REFUSALS = {
    FAILURES: N_(
        "This account is locked after too many failed sign-ins. Reset your password to unlock it."
    ),
    SECURED: N_(
        "This account was secured at your request. Choose a new password with the link we "
        "emailed, or ask for a new one."
    ),
    DISPUTED: N_(
        "This account is locked because a change of its email address was reported. "
        "Contact your administrator to restore it."
    ),
}


class AccountLocked(DomainError):
    def __init__(self, reason: str = FAILURES) -> None:
        super().__init__("ACCOUNT_LOCKED", _REFUSALS.get(reason, _REFUSALS[FAILURES]))


async def is_locked(user: User) -> bool:
    return await SignInLockout.filter(user_id=user.id, failures__gte=MAX_FAILURES).exists()


async def is_disputed(user: User) -> bool:
    """Self-service resets wait for an operator while the account's address is disputed."""
    return await SignInLockout.filter(user_id=user.id, reason=DISPUTED).exists()


async def freeze(user: User, reason: str) -> None:
    """Lock password sign-in until a reset; a dispute is never softened to another reason."""
    await hot_sql.execute(
        SignInLockout, _FREEZE, [user.id, MAX_FAILURES, clock.now(), reason, DISPUTED]
    )


async def count_failure(services: Services, user: User, client: ClientInfo) -> None:
    """Count a wrong password; the failure that reaches the cap locks and tells the user."""
    failures = await _count(user.id)
    if failures != MAX_FAILURES:
        return
    async with in_transaction():
        await SignInLockout.filter(user_id=user.id).update(locked_at=clock.now())
        await record("account.locked", user=user, client=client, failures=failures)
        await emit("user.locked", user=user, reason="failures")
    metrics.account_locked()
    link = await links.mint(services, user)
    await tell(
        services.mailer,
        user.email,
        N_("Your account is locked"),
        N_(
            "After {count} failed sign-ins in a row, your Latchkey account "
            "{username} is locked: it cannot sign in, even with the right password, until "
            "its password is reset. Sessions already signed in keep working.\n\n"
            "To choose a new password, open this link within {valid_for}; it "
            "works once:\n{link}\n\n"
            'Later, ask for a new link on the sign-in page ("Forgot your password?").'
        ),
        user=user,
        params={
            "count": MAX_FAILURES,
            "username": user.username,
            "valid_for": links.valid_for(services),
            "link": link,
        },
    )


def reset_statement(user_id: int) -> hot_sql.Statement:
    """A successful sign-in starts the count afresh (a locked account never gets here)."""
    return _RESET, [user_id, MAX_FAILURES]


async def unlock(user: User) -> None:
    """The password was reset (call inside its transaction)."""
    if await SignInLockout.filter(user_id=user.id, locked_at__not_isnull=True).exists():
        await emit("user.unlocked", user=user)
    await SignInLockout.filter(user_id=user.id).delete()


async def unlock_after_change(user: User) -> None:
    """The password was changed in a live session: the cap's lock ends, not a freeze."""
    await SignInLockout.filter(user_id=user.id, reason=FAILURES).delete()


async def _count(user_id: int) -> int:
    db = SignInLockout._meta.db
    mark = "?1" if db.capabilities.dialect == "sqlite" else "$1"
    rows = await db.execute_query_dict(_COUNT.replace("{1}", mark), [user_id])
    return int(rows[0]["failures"])
