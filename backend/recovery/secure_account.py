""" "This wasn't me": the link in a security notice locks every door at once.

Opening the link changes nothing (mail scanners follow links); confirming it ends every
session, deletes every token and the API credentials, forgets every recognized device
and mails a reset link to the address the notice went to, in one transaction.
"""

from __future__ import annotations

from tortoise.transactions import in_transaction

from backend import clock, i18n
from backend.accounts.models import User
from backend.audit.service import record
from backend.client import ClientInfo
from backend.i18n import N_
from backend.notifications import notices, secure_links
from backend.recovery import links
from backend.recovery.links import InvalidResetToken
from backend.services import Services
from backend.sessions import service as sessions
from backend.tokens.models import AccessToken, ApiCredential, RefreshToken
from backend.twofactor import devices


async def secure(services: Services, token: str, client: ClientInfo) -> User:
    """Confirm a "This wasn't me" link; whose account it was. A link works once."""
    async with in_transaction():
        link = await secure_links.consume(token)
        if link is None:
            raise InvalidResetToken()
        user = await User.get(id=link.user_id)
        ended = await sessions.end_all(user)
        tokens = await RefreshToken.filter(user_id=user.id, revoked_at=None).update(
            revoked_at=clock.now()
        )
        await AccessToken.filter(user_id=user.id).delete()
        credentials = await ApiCredential.filter(user_id=user.id).delete()
        forgotten = await devices.forget_all(user)
        reset_link = await links.mint(services, user)
        await record(
            "account.secured",
            user=user,
            client=client,
            session_count=ended,
            token_count=tokens,
            api_credential_count=credentials,
            device_count=forgotten,
        )
        subject, body = notices.worded(
            i18n.language_of(user),
            N_("Your account was secured"),
            N_(
                "As you asked, every session of your Latchkey account {username} was "
                "signed out, its tokens and API credentials were deleted and its recognized "
                "devices forgotten.\n\nNow choose a new password: open this link within "
                "{valid_for}; it works once:\n{link}\n\n"
                "Until then the old password still signs in: if someone else knows it, "
                "change it now."
            ),
            {
                "username": user.username,
                "valid_for": links.valid_for(services),
                "link": reset_link,
            },
        )
        message = await notices.queue(link.recipient, subject, body)
    await notices.deliver(services.mailer, message)
    return user
