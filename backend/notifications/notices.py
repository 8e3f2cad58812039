"""Notices of security changes, emailed to the account once the change is made."""

from __future__ import annotations

import logging

from backend.notifications.email import Email, Mailer

log = logging.getLogger("latchkey.notices")

NOT_YOU = "If this was not you, sign in and change your password, or contact your administrator."


async def tell(mailer: Mailer, to: str, subject: str, text: str) -> None:
    """Send a notice. The change stands either way, so a failed delivery is only logged."""
    try:
        await mailer.send(Email(to=to, subject=subject, body=f"{text}\n\n{NOT_YOU}"))
    except Exception:
        log.exception("could not send a notice", extra={"subject": subject})
