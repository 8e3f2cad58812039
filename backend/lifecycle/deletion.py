"""Deleting an account: scheduled by its user, cancelled by the emailed link, carried out
by the background job once due; or at once by an administrator.

Scheduling ends everything at once, in one transaction: sessions (through
auth/sessions/ending.py, so applications get back-channel logout tokens), tokens, API
credentials, applications' tokens, codes and access, reset links. The row then says when
the account goes (`deletion_due_at`); sign-in answers ACCOUNT_DELETION_SCHEDULED with that
date after the right password, and nothing new can be issued to it (refuse_disabled). The
user is mailed a link that cancels it, stored as its SHA-256 and good once, until then.

The deletion itself (`erase`) runs in one transaction: every row that names the account
is deleted (`ERASED`), its security log rows and the operator log's entries about it are
kept under a pseudonym (an HMAC of its id with the secret key) without address, device or
details (`PSEUDONYMISED`), and deleted by the housekeeping once older than
LATCHKEY_AUDIT_RETENTION_DAYS; its username is held for 90 days (HeldUsername), and
`user.deleted` goes to the platform. Every worker runs the job; each due account is
claimed under its row's lock, which also waits for a cancel in flight, so it is deleted
once and never after a cancel committed.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from tortoise.models import Model
from tortoise.transactions import in_transaction

from backend.accounts import administrators
from backend.accounts import service as accounts
from backend.accounts.models import DeletionCancelLink, EmailChange, HeldUsername, User
from backend.administration.accounts import end_access
from backend.administration.authority import Actor, authorize
from backend.administration.telling import administrator_data
from backend.audit import operator_log
from backend.audit.models import OperatorAction, SecurityEvent
from backend.audit.service import record
from backend.auth import reauthentication
from backend.auth import reset_links as links
from backend.auth.factors.models import (
    Authenticator,
    OneTimeCode,
    PasskeyChallenge,
    PasskeyCredential,
    PendingSetup,
    RecoveryCode,
    SignInChallenge,
    TrustedDevice,
    TwoFactor,
)
from backend.auth.models import PasswordReset, SignInLockout
from backend.auth.services import Services
from backend.auth.sessions import ending
from backend.auth.sessions.models import Session
from backend.auth.throttle.keys import account_key
from backend.auth.throttle.models import ThrottleCounter
from backend.events.emit import emit
from backend.kernel import clock, i18n, link_paths
from backend.kernel.client_info import ClientInfo
from backend.kernel.crypto import digest, keyed_digest, random_token
from backend.kernel.errors import DomainError, NotFound
from backend.kernel.i18n import N_, Moment
from backend.notifications import notices
from backend.notifications.models import OutboxMessage, SecureAccountLink
from backend.oidc.models import (
    ApplicationAccess,
    AuthorizationCode,
    BackchannelLogout,
    OidcRefreshToken,
)
from backend.tokens.models import AccessToken, ApiCredential, RefreshToken

log = logging.getLogger("latchkey.lifecycle")

USERNAME_HELD = timedelta(days=90)
BATCH = 50
PATH = link_paths.ACCOUNT_DELETION_CANCEL

# Every model that names a user, and what deletion does with its rows
# (tests/test_account_deletion.py fails when a model with a user reference is missing).
# Deleted, in this order (what references another row first).
ERASED: tuple[type[Model], ...] = (
    AccessToken,
    RefreshToken,  # its usage days go with it
    ApiCredential,
    AuthorizationCode,
    OidcRefreshToken,
    ApplicationAccess,
    PasskeyCredential,
    PasskeyChallenge,
    Authenticator,
    RecoveryCode,
    TwoFactor,
    PendingSetup,
    SignInChallenge,
    OneTimeCode,
    TrustedDevice,
    PasswordReset,
    SignInLockout,
    SecureAccountLink,
    EmailChange,
    DeletionCancelLink,
)
# Sessions end through ending.py (applications are told), with their applications' rows.
ENDED = (Session,)
# Kept without the user's id, under the pseudonym, for the audit retention.
PSEUDONYMISED = (SecurityEvent, OperatorAction)
# Kept as it is: the `sub` of a logout token owed to an application for a session that
# ended with the account (no name, address or device), deleted 30 days after delivery.
KEPT = (BackchannelLogout,)


class InvalidDeletionToken(DomainError):
    """Unknown, used or expired: one answer, whatever the reason."""

    def __init__(self) -> None:
        super().__init__(
            "INVALID_DELETION_TOKEN",
            N_(
                "This link is not valid: it was used already, the account was deleted, or "
                "it is mistyped."
            ),
            "token",
        )


def pseudonym(services: Services, user_id: int) -> str:
    """What a deleted account's kept log rows name instead of it: the same for all of its
    rows, unreadable without the secret key."""
    return keyed_digest(services.settings.secret_key, "deleted-account", str(user_id))


# -- scheduling -------------------------------------------------------------------------


async def schedule(
    services: Services,
    user: User,
    session: Session | None,
    client: ClientInfo,
    confirmation: str,
) -> datetime:
    """The user's own request: when the account will be deleted (now, with
    LATCHKEY_ACCOUNT_DELETION_DAYS=0, when it is deleted before this returns)."""
    if not services.settings.self_deletion:
        raise DomainError(
            "FORBIDDEN",
            N_("Accounts cannot be deleted by their users here. Ask an administrator."),
        )
    await reauthentication.require(services, user, session)
    if accounts.username_key((confirmation or "").strip()) != user.username_key:
        raise DomainError(
            "VALIDATION_FAILED",
            N_("Type your username to confirm."),
            "confirmation",
        )
    days = services.settings.account_deletion_days
    if days == 0:
        async with in_transaction():
            await erase(services, user, client=client)
        return clock.now()
    due = clock.now() + timedelta(days=days)
    token = random_token()
    async with in_transaction():
        # First: the last-administrator rule locks the administrators until the commit.
        if not await administrators.schedule_deletion(user, due):
            assert user.deletion_due_at is not None
            return user.deletion_due_at
        ended = await ending.end(Session.filter(user_id=user.id))
        counts = await end_access(user)
        await ApplicationAccess.filter(user_id=user.id).delete()
        await links.end_all(user)
        await DeletionCancelLink.create(user=user, token_hash=digest(token), expires_at=due)
        await record(
            "account.deletion_scheduled",
            user=user,
            client=client,
            session_count=len(ended),
            **counts,
        )
        await emit("user.deletion_scheduled", user=user, deletion_at=_iso(due))
    link = f"{services.settings.public_url.rstrip('/')}{PATH}{token}"
    language = i18n.language_of(user)
    subject, text = notices.worded(
        language,
        N_("Your Latchkey account will be deleted"),
        N_(
            "The deletion of your Latchkey account {username} is scheduled for {date}. It "
            "cannot sign in, and its sessions, tokens and API credentials have ended.\n\n"
            "To keep the account, open this link before then:\n{link}\n\n"
            "If you did not ask for this, keep the account and change its password."
        ),
        {"username": user.username, "date": Moment(due, user.time_zone), "link": link},
    )
    await notices.send(services.mailer, user.email, subject, text)
    return due


async def cancel(services: Services, token: str, client: ClientInfo) -> User:
    """The emailed link's answer: the account may sign in again (what ended stays ended)."""
    if not token:
        raise InvalidDeletionToken()
    now = clock.now()
    async with in_transaction():
        found = (
            await DeletionCancelLink.filter(
                token_hash=digest(token), used_at=None, expires_at__gt=now
            )
            .select_related("user")
            .first()
        )
        if found is None:
            raise InvalidDeletionToken()
        # One statement each: of two requests, one sees its update land; and the job's
        # claim of the same row waits for this (or this for it).
        used = await DeletionCancelLink.filter(id=found.id, used_at=None).update(used_at=now)
        kept = await User.filter(id=found.user.id, deletion_due_at__gt=now).update(
            deletion_scheduled_at=None, deletion_due_at=None
        )
        if not used or not kept:
            raise InvalidDeletionToken()
        user = found.user
        user.deletion_scheduled_at = user.deletion_due_at = None
        await DeletionCancelLink.filter(user_id=user.id, used_at=None).update(used_at=now)
        await record("account.deletion_cancelled", user=user, client=client)
        await emit("user.deletion_cancelled", user=user)
    await notices.tell(
        services.mailer,
        user.email,
        N_("Your Latchkey account will not be deleted"),
        N_(
            "The deletion of your Latchkey account {username} was cancelled: it can sign in "
            "again. The sessions, tokens and API credentials that ended stay ended."
        ),
        user=user,
        params={"username": user.username},
    )
    return user


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


# -- deleting ---------------------------------------------------------------------------


async def erase(
    services: Services,
    user: User,
    *,
    client: ClientInfo | None = None,
    actor: Actor | None = None,
) -> None:
    """Inside the caller's transaction: delete the account and every row that names it.
    `actor`: the administrator who deleted it (None: its user, or the job)."""
    now = clock.now()
    name = pseudonym(services, user.id)
    await ending.end(Session.filter(user_id=user.id))
    await OperatorAction.filter(user_id=user.id).update(user_id=None, username=name)
    await OperatorAction.filter(administrator_id=user.id).update(
        administrator_id=None, administrator_name=name
    )
    if actor is not None:
        entry = await operator_log.write(
            "user.deleted", administrator=actor.user, client=actor.client
        )
        await OperatorAction.filter(id=entry.id).update(username=name)
    await SecurityEvent.filter(user_id=user.id).update(
        user_id=None,
        pseudonym=name,
        ip_address="",
        user_agent="",
        browser_name="",
        system_name="",
        details={},
    )
    await SecurityEvent.create(kind="account.deleted", pseudonym=name, created_at=now)
    for model in ERASED:
        await model.filter(user_id=user.id).delete()
    await user.groups.clear()
    await ThrottleCounter.filter(key=account_key(user.username)).delete()
    await OutboxMessage.filter(recipient=user.email).delete()
    await HeldUsername.filter(username_key=user.username_key).delete()
    await HeldUsername.create(username_key=user.username_key, held_until=now + USERNAME_HELD)
    await administrators.delete(user)
    if actor is not None:
        await emit("user.deleted", user=user, administrator=administrator_data(actor))
    else:
        await emit("user.deleted", user=user)
    log.info("account deleted", extra={"pseudonym": name})


async def delete_due(services: Services) -> int:
    """The background job: delete the accounts whose time has come; how many. Each is
    claimed under its row's lock (PostgreSQL; SQLite writes one at a time), so of several
    workers one deletes it, and a cancel that committed first keeps it."""
    now = clock.now()
    due = (
        await User.filter(deletion_due_at__lte=now)
        .order_by("deletion_due_at")
        .limit(BATCH)
        .values_list("id", flat=True)
    )
    deleted = 0
    for user_id in due:
        async with in_transaction():
            user = (
                await User.filter(id=user_id, deletion_due_at__lte=now).select_for_update().first()
            )
            if user is None:  # cancelled, or another worker deleted it
                continue
            await erase(services, user)
            deleted += 1
    return deleted


async def forget_old_log_rows(services: Services) -> int:
    """Housekeeping: a deleted account's security log rows past the audit retention."""
    before = clock.now() - timedelta(days=services.settings.audit_retention_days)
    return await SecurityEvent.filter(
        user_id=None, pseudonym__not_isnull=True, created_at__lte=before
    ).delete()


async def delete_user(services: Services, actor: Actor, user_id: int) -> None:
    """An administrator deletes an account at once, with the same effects.
    LAST_ADMINISTRATOR for the last working administrator (themselves included)."""
    await authorize(services, actor, token_may=False)
    user = await User.get_or_none(id=user_id)
    if user is None:
        raise NotFound("user_id")
    async with in_transaction():
        await erase(services, user, client=actor.client, actor=actor)
