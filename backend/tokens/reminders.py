"""Expiry reminders: an email 7 days and again 1 day before a refresh token expires.

Every worker looks for due reminders now and then. A worker first claims a reminder with
one conditional UPDATE (… WHERE reminded_… IS NULL); only the worker whose update changed
the row stores the email, in the same transaction, in the notices outbox, which sends it
once. So each reminder goes out once, however many workers look at the same moment.

A reminder is skipped (claimed, not sent) when the secret was issued inside its window:
whoever chose a 7-day token needs no 7-day reminder. The 7-day one is sent only while more
than a day is left, so a token never gets both at once.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime, timedelta

from tortoise.transactions import in_transaction

from backend.auth.services import Services
from backend.kernel import clock, i18n
from backend.kernel.i18n import N_, Moment, Term
from backend.notifications import notices
from backend.notifications.models import OutboxMessage
from backend.tokens import scopes as scope_catalog
from backend.tokens.models import RefreshToken

log = logging.getLogger("latchkey.reminders")
BATCH = 200


@dataclasses.dataclass(frozen=True)
class Reminder:
    lead: timedelta
    field: str  # the column that records the claim
    in_words: str


WEEK = Reminder(timedelta(days=7), "reminded_week_at", N_("in 7 days"))
DAY = Reminder(timedelta(days=1), "reminded_day_at", N_("within a day"))


async def send_due(services: Services) -> int:
    """Claim the reminders due now, queue their emails and send them; how many were queued."""
    now = clock.now()
    queued = 0
    # The day window first: a token inside it is past its week reminder.
    for reminder, later in ((DAY, None), (WEEK, DAY)):
        candidates = (
            await RefreshToken.filter(
                revoked_at=None,
                expires_at__gt=now + (later.lead if later else timedelta()),
                expires_at__lte=now + reminder.lead,
                **{f"{reminder.field}__isnull": True},
            )
            .select_related("user")
            .order_by("expires_at")
            .limit(BATCH)
        )
        for token in candidates:
            queued += await _claim_and_queue(services, token, reminder, now)
    if queued:
        await notices.deliver_due(services.mailer)
    log.log(
        logging.INFO if queued else logging.DEBUG,
        "token expiry reminders checked",
        extra={"queued": queued},
    )
    return queued


async def _claim_and_queue(
    services: Services, token: RefreshToken, reminder: Reminder, now: datetime
) -> int:
    issued = token.regenerated_at or token.created_at
    wanted = token.expires_at is not None and issued < token.expires_at - reminder.lead
    async with in_transaction():
        claimed = await RefreshToken.filter(
            id=token.id,
            revoked_at=None,
            expires_at=token.expires_at,  # not regenerated meanwhile
            **{f"{reminder.field}__isnull": True},
        ).update(**{reminder.field: now})
        if claimed != 1 or not wanted or not token.user.email:
            return 0
        language = i18n.language_of(token.user)
        subject = i18n.translate(
            language,
            N_("Your token “{name}” expires {when}"),
            {"name": token.name, "when": Term(reminder.in_words)},
        )
        await OutboxMessage.create(
            recipient=token.user.email,
            subject=subject,
            body=_text(services, token, reminder, language),
            next_attempt_at=now,  # due at once: whichever worker delivers it first sends it
        )
    return 1


def _text(services: Services, token: RefreshToken, reminder: Reminder, language: str) -> str:
    user = token.user
    zone = user.time_zone or "UTC"
    catalog = scope_catalog.for_settings(services.settings)
    names = scope_catalog.split(token.scopes)
    scope_lines = "\n".join(
        f"  - {name}"
        + (f": {i18n.gettext(language, catalog.describe(name))}" if catalog.describe(name) else "")
        for name in names
    )
    if token.last_used_at and token.last_used_ip:
        last_use = N_("It was last used on {used} from {address}.")
    elif token.last_used_at:
        last_use = N_("It was last used on {used}.")
    else:
        last_use = N_("It has never been used.")
    last_use = i18n.translate(
        language,
        last_use,
        {
            "used": Moment(token.last_used_at, zone) if token.last_used_at else "",
            "address": token.last_used_ip or "",
        },
    )
    link = f"{services.settings.public_url}/account/tokens?regenerate={token.id}"
    assert token.expires_at is not None
    return i18n.translate(
        language,
        N_(
            "Hello {username},\n\n"
            "The refresh token “{name}” of your Latchkey account expires "
            "{when}, on {expires}. "
            "Scripts that use it will stop working then.\n\n"
            "Its scopes:\n{scopes}\n\n{last_use}\n\n"
            "To keep it working, regenerate it and give your script the new secret:\n{link}\n"
            "If you no longer need it, let it expire or delete it there."
        ),
        {
            "username": user.username,
            "name": token.name,
            "when": Term(reminder.in_words),
            "expires": Moment(token.expires_at, zone),
            "scopes": scope_lines,
            "last_use": last_use,
            "link": link,
        },
    )
