"""The cap on failed sign-ins in a row (NIST SP 800-63B: at most 100 per account).

The throttle slows guessing down; this count never forgets: a successful sign-in resets
it, and at the cap the account answers ACCOUNT_LOCKED, even to the right password, until
its password is reset. The count is one SQL statement, so parallel failures on any worker
can neither skip the cap nor both be the one that reaches it (and send the email).
"""

from __future__ import annotations

import logging

from backend import clock, hot_sql
from backend.accounts.models import User
from backend.audit.service import record
from backend.client import ClientInfo
from backend.errors import DomainError
from backend.i18n import N_
from backend.notifications.notices import tell
from backend.recovery import links
from backend.recovery.models import SignInLockout
from backend.services import Services

log = logging.getLogger("latchkey.recovery")

MAX_FAILURES = 100

# Parameter 1: the user id. Returns the count, this failure included.
_COUNT = """
INSERT INTO sign_in_lockouts (user_id, failures) VALUES ({1}, 1)
ON CONFLICT (user_id) DO UPDATE SET failures = sign_in_lockouts.failures + 1
RETURNING failures
"""
_RESET = "DELETE FROM sign_in_lockouts WHERE user_id = $1 AND failures < $2"


class AccountLocked(DomainError):
    def __init__(self) -> None:
        super().__init__(
            "ACCOUNT_LOCKED",
            N_(
                "This account is locked after too many failed sign-ins. "
                "Reset your password to unlock it."
            ),
        )


async def is_locked(user: User) -> bool:
    return await SignInLockout.filter(user_id=user.id, failures__gte=MAX_FAILURES).exists()


async def count_failure(services: Services, user: User, client: ClientInfo) -> None:
    """Count a wrong password; the failure that reaches the cap locks and tells the user."""
    failures = await _count(user.id)
    if failures != MAX_FAILURES:
        return
    await SignInLockout.filter(user_id=user.id).update(locked_at=clock.now())
    await record("account.locked", user=user, client=client, failures=failures)
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
    """The password was reset."""
    await SignInLockout.filter(user_id=user.id).delete()


async def _count(user_id: int) -> int:
    db = SignInLockout._meta.db
    mark = "?1" if db.capabilities.dialect == "sqlite" else "$1"
    rows = await db.execute_query_dict(_COUNT.replace("{1}", mark), [user_id])
    return int(rows[0]["failures"])
