"""Notices of security changes, emailed to the account through an outbox.

A notice is stored first and sent at once; if the mail server cannot take it, it stays in
the outbox and every worker retries it with growing waits, so the change it reports is
never undone or hidden by a mail problem.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from backend.infra import metrics, outbox
from backend.kernel import clock, i18n
from backend.kernel.i18n import N_
from backend.notifications import secure_links
from backend.notifications.email import Email, Mailer
from backend.notifications.models import OutboxMessage

if TYPE_CHECKING:
    from backend.accounts.models import User

log = logging.getLogger("latchkey.notices")

NOT_YOU = N_(
    "If this was not you, sign in and change your password, or contact your administrator."
)
NOT_YOU_LINK = N_(
    "If this was not you, open this link to sign out everywhere and secure your account "
    "(it asks before it changes anything, and works once within 7 days):\n{link}"
)
# About two days of trying: 1, 2, 4, ... minutes, then every 6 hours, 12 attempts in all.
RETRIES = outbox.Retries(
    waits=tuple(min(timedelta(minutes=2**n), timedelta(hours=6)) for n in range(12)),
    max_attempts=12,
    lease=timedelta(minutes=1),  # longer than the mail server may take (aiosmtplib: 60 s)
)
BATCH = 50


async def tell(
    mailer: Mailer,
    to: str,
    subject: str,
    text: str,
    *,
    user: User | None = None,
    params: Mapping[str, Any] | None = None,
) -> None:
    """Queue a notice and send it now; stored as already claimed, so no worker races us.

    `subject` and `text` are English message ids with their `params`, written in the
    language the account chose. With the account, the notice carries a "This wasn't me" link.
    """
    language = i18n.language_of(user)
    subject, text = worded(language, subject, text, params)
    if user is None:
        footer = i18n.gettext(language, NOT_YOU)
    else:
        link = await secure_links.mint(user, to, mailer.public_url)
        footer = i18n.translate(language, NOT_YOU_LINK, {"link": link})
    await send(mailer, to, subject, f"{text}\n\n{footer}")


def worded(
    language: str, subject: str, text: str, params: Mapping[str, Any] | None = None
) -> tuple[str, str]:
    """A message's subject and text in `language`, their placeholders filled."""
    return i18n.translate(language, subject, params), i18n.translate(language, text, params)


async def send(mailer: Mailer, to: str, subject: str, body: str) -> None:
    """Queue a message and send it now, through the same outbox and retries as notices."""
    message = await queue(to, subject, body)
    await _send(mailer, message)


async def queue(to: str, subject: str, body: str) -> OutboxMessage:
    """Store a message, claimed by the caller, who sends it with `deliver`."""
    return await OutboxMessage.create(
        recipient=to,
        subject=subject,
        body=body,
        attempts=1,
        next_attempt_at=clock.now() + RETRIES.lease,
    )


async def deliver(mailer: Mailer, message: OutboxMessage) -> bool:
    """Send a message `queue` stored; if the server refuses it, the retries take over."""
    return await _send(mailer, message)


async def deliver_due(mailer: Mailer, *, limit: int = BATCH) -> int:
    """Retry the notices whose wait is over, `limit` at a time, until a claim comes back
    short; how many were sent."""
    sent = 0
    while True:
        claimed = await outbox.claim_due(OutboxMessage, RETRIES, limit, "email")
        for message in claimed:
            sent += await _send(mailer, message)
        # A full batch: more may be due, and the next look is a minute away.
        if len(claimed) < limit:
            return sent


async def _send(mailer: Mailer, message: OutboxMessage) -> bool:
    tries = message.attempts
    try:
        await mailer.send(Email(to=message.recipient, subject=message.subject, body=message.body))
    except Exception:
        log.exception("could not send a notice", extra={"outbox_id": message.id, "tries": tries})
        now = clock.now()
        next_attempt = RETRIES.next_attempt(tries, message.created_at, now)
        metrics.outbox_delivery("email", "given_up" if next_attempt is None else "failed")
        if next_attempt is None:
            log.error("gave up on a notice", extra={"outbox_id": message.id})
            await OutboxMessage.filter(id=message.id).delete()
        else:
            await OutboxMessage.filter(id=message.id).update(next_attempt_at=next_attempt)
        return False
    await OutboxMessage.filter(id=message.id).delete()
    metrics.outbox_delivery("email", "delivered")
    return True
