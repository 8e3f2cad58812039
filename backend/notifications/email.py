"""Email delivery over SMTP, or to the log when no SMTP host is configured."""

from __future__ import annotations

import dataclasses
import logging
from typing import TYPE_CHECKING

from backend.infra.config import SmtpSettings

if TYPE_CHECKING:
    from email.message import EmailMessage

log = logging.getLogger("latchkey.email")


@dataclasses.dataclass(frozen=True)
class Email:
    to: str
    subject: str
    body: str


class Mailer:
    def __init__(self, settings: SmtpSettings, public_url: str = "") -> None:
        self.settings = settings
        self.public_url = public_url  # where links in messages point

    async def send(self, email: Email) -> None:
        if not self.settings.host:
            # Development without a mail server: the log is the outbox.
            log.warning(
                "email not sent (no SMTP host); to=%s subject=%s\n%s",
                email.to,
                email.subject,
                email.body,
            )
            return
        import aiosmtplib  # with the email package's header parsers: only when mail goes out

        await aiosmtplib.send(
            self._message(email),
            hostname=self.settings.host,
            port=self.settings.port,
            use_tls=self.settings.security == "tls",
            start_tls=self.settings.security == "starttls",
            username=self.settings.username or None,
            password=self.settings.password or None,
            timeout=15,
        )

    def _message(self, email: Email) -> EmailMessage:
        from email.message import EmailMessage

        message = EmailMessage()
        message["From"] = self.settings.sender
        message["To"] = email.to
        message["Subject"] = email.subject
        message.set_content(email.body)
        return message
