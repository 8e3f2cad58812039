"""Account types and disabled accounts, and the rule that keeps an administrator.

Once an administrator exists there is always one whose account works: demoting, disabling
(and later deleting) the last one is LAST_ADMINISTRATOR. Each such change is one statement
that checks and changes together, so two administrators demoting each other at once, on
any workers, cannot both succeed:

    WITH admins AS (SELECT id FROM users WHERE <an active administrator> ORDER BY id FOR UPDATE)
    UPDATE users SET ... WHERE id = $1 AND ...
        AND (<the target is no active administrator> OR (SELECT count(*) FROM admins
             WHERE id <> $1) > 0)

A count in the WHERE alone would not do on PostgreSQL: under READ COMMITTED each of two
statements counts the other's target as still an administrator (the other's change is not
committed yet) and both pass. `FOR UPDATE` makes every such statement lock the active
administrators' rows first, in one order; the second waits for the first to commit,
re-reads the rows it waited for, no longer counts the one just demoted, and changes
nothing. SQLite runs one writing statement at a time, so the count is current there.
Called inside the caller's transaction, the lock is held until what the caller does next
(security log, notices, ending sessions) commits with it.
"""

from __future__ import annotations

import functools
from datetime import datetime

from backend.accounts.models import ACCOUNT_TYPES, ADMINISTRATOR, USER, User
from backend.infra import hot_sql
from backend.kernel import clock
from backend.kernel.errors import DomainError, NotFound
from backend.kernel.i18n import N_, Moment

_ACTIVE = (
    f"account_type = '{ADMINISTRATOR}' AND disabled_at IS NULL AND deletion_scheduled_at IS NULL"
)
# $1: the account changed. The others keep working: they need no lock.
_GUARDED = f"""
WITH admins AS (SELECT id FROM users WHERE {_ACTIVE} ORDER BY id {{lock}})
UPDATE users SET {{changes}}
WHERE id = $1 AND {{applies}}
    AND (NOT ({_ACTIVE}) OR (SELECT count(*) FROM admins WHERE id <> $1) > 0)
RETURNING id
"""  # noqa: S608 constant text
_DEMOTE = ("account_type = $2", f"account_type = '{ADMINISTRATOR}'")
_DISABLE = ("disabled_at = $2, disabled_reason = $3", "disabled_at IS NULL")
# An account whose deletion is scheduled no longer counts as a working administrator.
_SCHEDULE_DELETION = (
    "deletion_scheduled_at = $2, deletion_due_at = $3",
    "deletion_scheduled_at IS NULL",
)
# Deleting: the row goes, unless it is the last working administrator's.
_DELETE = f"""
WITH admins AS (SELECT id FROM users WHERE {_ACTIVE} ORDER BY id {{lock}})
DELETE FROM users
WHERE id = $1 AND (NOT ({_ACTIVE}) OR (SELECT count(*) FROM admins WHERE id <> $1) > 0)
RETURNING id
"""  # noqa: S608 constant text
_PROMOTE = f"""
UPDATE users SET account_type = '{ADMINISTRATOR}'
WHERE id = $1 AND account_type <> '{ADMINISTRATOR}' RETURNING id
"""  # noqa: S608 constant text
_ENABLE = (
    "UPDATE users SET disabled_at = NULL, disabled_reason = '' "
    "WHERE id = $1 AND disabled_at IS NOT NULL RETURNING id"
)
MAX_REASON = User._meta.fields_map["disabled_reason"].max_length


class LastAdministrator(DomainError):
    def __init__(self, field: str | None = None) -> None:
        super().__init__(
            "LAST_ADMINISTRATOR",
            N_(
                "This is the last administrator whose account works. Make another "
                "administrator first."
            ),
            field,
        )


class AccountDisabled(DomainError):
    """Told only to whoever gave the right password (or passkey): a wrong one stays
    INVALID_CREDENTIALS, so a guess learns nothing."""

    def __init__(self) -> None:
        super().__init__(
            "ACCOUNT_DISABLED",
            N_("An administrator disabled this account. Contact your administrator."),
        )


class AccountDeletionScheduled(DomainError):
    """Told only to whoever gave the right password (or passkey), with the date."""

    def __init__(self, due_at: datetime, time_zone: str | None = "UTC") -> None:
        super().__init__(
            "ACCOUNT_DELETION_SCHEDULED",
            N_(
                "This account will be deleted on {date}. To keep it, open the link in the "
                "email about its deletion."
            ),
            date=Moment(due_at, time_zone),
        )


def check_account_type(account_type: str, field: str = "account_type") -> str:
    if account_type not in ACCOUNT_TYPES:
        raise DomainError("VALIDATION_FAILED", N_("Choose USER or ADMINISTRATOR."), field)
    return account_type


async def set_account_type(user: User, account_type: str, *, field: str = "account_type") -> bool:
    """Make `user` an administrator or a user; whether anything changed.

    LAST_ADMINISTRATOR when it would leave no working administrator. Inside a transaction,
    the administrators stay locked until it ends (PostgreSQL).
    """
    check_account_type(account_type, field)
    if account_type == ADMINISTRATOR:
        changed = await hot_sql.fetch(User, _PROMOTE, [user.id])
    else:
        changed = await _guarded(User, _DEMOTE, [user.id, USER])
    if changed:
        user.account_type = account_type
        return True
    current = await _current(user.id)
    if current.account_type == account_type:
        return False
    raise LastAdministrator(field)


async def disable(user: User, reason: str) -> bool:
    """Disable the account; whether it was enabled. LAST_ADMINISTRATOR for the last
    working administrator."""
    now = clock.now()
    reason = reason[:MAX_REASON]
    changed = await _guarded(User, _DISABLE, [user.id, now, reason])
    if changed:
        user.disabled_at, user.disabled_reason = now, reason
        return True
    current = await _current(user.id)
    if current.disabled_at is not None:
        user.disabled_at, user.disabled_reason = current.disabled_at, current.disabled_reason
        return False
    raise LastAdministrator()


async def enable(user: User) -> bool:
    """Sign-in works again (nothing that disabling ended comes back); whether it was off."""
    changed = await hot_sql.fetch(User, _ENABLE, [user.id])
    user.disabled_at, user.disabled_reason = None, ""
    if not changed:
        await _current(user.id)  # NOT_FOUND when it is gone
    return bool(changed)


async def refuse_disabled(user_id: int) -> None:
    """ACCOUNT_DISABLED when the account is disabled (ACCOUNT_DELETION_SCHEDULED when its
    deletion is scheduled). Called under the user's row lock (limits.serialise_on_user) by
    what creates a credential, so that one made as a disable or a scheduled deletion
    commits cannot outlive it (and come back with enableUser or the cancel link)."""
    user = await User.get_or_none(id=user_id).only("id", "disabled_at", "deletion_due_at")
    if user is not None and user.disabled_at is not None:
        raise AccountDisabled()
    if user is not None and user.deletion_due_at is not None:
        raise AccountDeletionScheduled(user.deletion_due_at)


async def schedule_deletion(user: User, due_at: datetime) -> bool:
    """Mark the account for deletion at `due_at`; whether it was not marked already.
    LAST_ADMINISTRATOR for the last working administrator."""
    now = clock.now()
    changed = await _guarded(User, _SCHEDULE_DELETION, [user.id, now, due_at])
    if changed:
        user.deletion_scheduled_at, user.deletion_due_at = now, due_at
        return True
    current = await _current(user.id)
    if current.deletion_scheduled_at is not None:
        user.deletion_scheduled_at = current.deletion_scheduled_at
        user.deletion_due_at = current.deletion_due_at
        return False
    raise LastAdministrator()


async def delete(user: User) -> None:
    """Delete the account's row (inside the caller's transaction, after everything that
    references it). LAST_ADMINISTRATOR for the last working administrator."""
    db = hot_sql.client(User)
    lock = "" if db.capabilities.dialect == "sqlite" else "FOR UPDATE"
    if not await hot_sql.fetch(User, _DELETE.replace("{lock}", lock), [user.id]):
        await _current(user.id)  # NOT_FOUND when it is gone already
        raise LastAdministrator()


async def any_administrator() -> bool:
    return await User.filter(
        account_type=ADMINISTRATOR, disabled_at=None, deletion_scheduled_at=None
    ).exists()


async def _guarded(model: type[User], statement: tuple[str, str], params: list) -> list:
    db = hot_sql.client(model)
    sql = _guarded_sql(db.capabilities.dialect, *statement)
    return await hot_sql.fetch(model, sql, params)


@functools.cache
def _guarded_sql(dialect: str, changes: str, applies: str) -> str:
    lock = "" if dialect == "sqlite" else "FOR UPDATE"
    return (
        _GUARDED.replace("{lock}", lock).replace("{changes}", changes).replace("{applies}", applies)
    )


async def _current(user_id: int) -> User:
    user = await User.get_or_none(id=user_id)
    if user is None:
        raise NotFound("user_id")
    return user
