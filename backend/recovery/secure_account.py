""" "This wasn't me": the link in a security notice locks every door at once.

Opening the link changes nothing (mail scanners follow links); confirming it, in one
transaction, ends every session, deletes every token and the API credentials, forgets
every recognized device, removes the second factors that may be someone else's (those
added, or pointed elsewhere, since the earliest change a still-valid link reports), and
locks password sign-in until a reset, since whoever made the change may know the password.

The reset link goes to the address the notice went to. When that is no longer the
account's address (the old address disputes a change of address), neither mailbox may
recover the account alone: no link goes to either, self-service resets stop, and an
operator restores the account (`latchkey user reset-password USERNAME --email ADDRESS`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from tortoise.transactions import in_transaction

from backend.accounts.models import User
from backend.accounts.service import email_key
from backend.audit.service import record
from backend.auth import lockout
from backend.auth import reset_links as links
from backend.auth.factors import devices, removal
from backend.auth.reset_links import InvalidResetToken
from backend.auth.services import Services
from backend.auth.sessions import service as sessions
from backend.events.emit import emit
from backend.kernel import clock, i18n
from backend.kernel.client_info import ClientInfo
from backend.kernel.i18n import N_
from backend.notifications import notices, secure_links
from backend.notifications.models import OutboxMessage, SecureAccountLink
from backend.tokens.models import AccessToken, ApiCredential, RefreshToken

# A notice's link is minted moments after the change it reports commits; this bounds it
# widely, so the change itself falls after the moment from which factors are doubted.
NOTICE_DELAY = timedelta(minutes=5)


async def secure(services: Services, token: str, client: ClientInfo) -> User:
    """Confirm a "This wasn't me" link; whose account it was. A link works once."""
    async with in_transaction():
        link = await secure_links.consume(token)
        if link is None:
            raise InvalidResetToken()
        user = await User.get(id=link.user_id)
        since = await _doubtful_since(link)
        ended = await sessions.end_all(user)
        tokens = await RefreshToken.filter(user_id=user.id, revoked_at=None).update(
            revoked_at=clock.now()
        )
        await AccessToken.filter(user_id=user.id).delete()
        credentials = await ApiCredential.filter(user_id=user.id).delete()
        forgotten = await devices.forget_all(user)
        factors = await removal.remove_added_since(user, since)
        disputed = email_key(link.recipient) != user.email_key
        await lockout.freeze(user, lockout.DISPUTED if disputed else lockout.SECURED)
        await record(
            "account.secured",
            user=user,
            client=client,
            session_count=ended,
            token_count=tokens,
            api_credential_count=credentials,
            device_count=forgotten,
            factor_count=factors,
            disputed=disputed,
        )
        await emit("account.secured", user=user)
        await emit("user.locked", user=user, reason="disputed" if disputed else "secured")
        if disputed:
            await links.end_all(user)
            messages = await _queue_dispute(user, link.recipient)
        else:
            messages = [await _queue_reset(services, user, link.recipient)]
    for message in messages:
        await notices.deliver(services.mailer, message)
    return user


async def _doubtful_since(link: SecureAccountLink) -> datetime:
    """The earliest change a link still valid reports: the owner disputes this one, and
    whoever made it may have made the others (each notice has its own link)."""
    earliest = await (
        SecureAccountLink.filter(user_id=link.user_id, expires_at__gt=clock.now())
        .order_by("created_at")
        .limit(1)
        .values_list("created_at", flat=True)
    )
    return min([link.created_at, *earliest]) - NOTICE_DELAY


async def _queue_reset(services: Services, user: User, recipient: str) -> OutboxMessage:
    reset_link = await links.mint(services, user)
    subject, body = notices.worded(
        i18n.language_of(user),
        N_("Your account was secured"),
        N_(
            "As you asked, every session of your Latchkey account {username} was signed "
            "out, its tokens and API credentials were deleted, its recognized devices "
            "forgotten, and the second factors added since the change you reported "
            "removed. Signing in with the password is locked until you choose a new one.\n\n"
            "Choose a new password now: open this link within {valid_for}; it works "
            "once:\n{link}\n\n"
            "Then sign in, check your second factors and make new recovery codes."
        ),
        {"username": user.username, "valid_for": links.valid_for(services), "link": reset_link},
    )
    return await notices.queue(recipient, subject, body)


async def _queue_dispute(user: User, old_address: str) -> list[OutboxMessage]:
    """Both addresses hear why the account is locked and who can restore it."""
    language = i18n.language_of(user)
    params = {"username": user.username}
    subject, to_old = notices.worded(
        language,
        N_("Your account was locked"),
        N_(
            "As you asked, every session of the Latchkey account {username} was signed out, "
            "its tokens and API credentials were deleted and signing in with its password "
            "locked. Its email address had been changed to another address, so no reset link "
            "is sent to either address: contact your administrator, who will check who you "
            "are and restore the account."
        ),
        params,
    )
    _, to_new = notices.worded(
        language,
        N_("Your account was locked"),
        N_(
            "The previous email address of the Latchkey account {username} reported that "
            "the change of address was not made by the account's owner. Every session was "
            "signed out and signing in with the password is locked until your administrator "
            "restores the account."
        ),
        params,
    )
    return [
        await notices.queue(old_address, subject, to_old),
        await notices.queue(user.email, subject, to_new),
    ]
