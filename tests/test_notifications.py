"""Email and SMS delivery reach real servers on loopback."""

from __future__ import annotations

import logging

from backend.notifications.email import Email, Mailer
from backend.notifications.sms import SECRET_HEADER, SmsSender
from tests.conftest import smtp_settings


async def test_email_arrives_at_the_smtp_server(smtp):
    await Mailer(smtp_settings(smtp.port)).send(
        Email(to="alice@example.com", subject="Hello", body="Line one\nLine two")
    )
    [message] = smtp.to("alice@example.com")
    assert message["Subject"] == "Hello"
    assert message["From"] == "Latchkey <latchkey@example.com>"
    assert "Line two" in smtp.text(message)


async def test_without_smtp_host_the_email_goes_to_the_log(caplog):
    from backend.infra.config import SmtpSettings

    with caplog.at_level(logging.WARNING, logger="latchkey.email"):
        await Mailer(SmtpSettings()).send(Email(to="a@example.com", subject="S", body="the body"))
    assert "the body" in caplog.text and "a@example.com" in caplog.text


async def test_sms_reaches_the_webhook_with_the_shared_secret(sms):
    await SmsSender(sms.url, "s3cret").send("+14155552671", "Your code is 123456")
    assert sms.messages == [{"to": "+14155552671", "text": "Your code is 123456"}]
    assert sms.headers[0][SECRET_HEADER] == "s3cret"
