"""Logs are JSON lines and carry no secrets."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import logging.config
from collections.abc import Iterator

import pytest

from backend.infra.logs import JsonFormatter, logging_config
from backend.kernel.crypto import digest
from tests.conftest import settings_for, smtp_settings
from tests.helpers import (
    ISSUE_TOKEN,
    PASSWORD,
    GraphQL,
    days_ahead,
    exchange,
    issue_token,
    make_user,
)
from tests.recovery_helpers import (
    NEW_PASSWORD,
    SECURE,
    ask_for_reset,
    last_mail,
    reset,
    reset_token_in,
    secure_token_in,
)
from tests.twofactor_helpers import enable_totp, next_time_step, oathtool, verify


@pytest.fixture
def settings(database_url, smtp):
    return settings_for(database_url, smtp=smtp_settings(smtp.port))


@contextlib.contextmanager
def logging_as_served(level: str) -> Iterator[io.StringIO]:
    """The logging `latchkey serve` sets up at LATCHKEY_LOG_LEVEL=level, writing into the
    text this yields; the test process's own logging comes back afterwards."""
    config = logging_config(level)
    loggers = [logging.getLogger(name) for name in config["loggers"]] + [logging.getLogger()]
    saved = [(lg, lg.level, lg.handlers[:], lg.filters[:], lg.propagate) for lg in loggers]
    logging.config.dictConfig(config)
    written = io.StringIO()
    for handler in logging.getLogger().handlers:
        handler.setStream(written)  # type: ignore[attr-defined]
    try:
        yield written
    finally:
        for lg, level_, handlers, filters, propagate in saved:
            lg.setLevel(level_)
            lg.handlers[:], lg.filters[:], lg.propagate = handlers, filters, propagate


def test_a_record_is_one_json_line_even_with_newlines_in_it():
    record = logging.makeLogRecord(
        {
            "name": "latchkey.security",
            "levelname": "INFO",
            "msg": "user %s",
            "args": ("x\nFAKE ENTRY",),
            "event": "sign_in.failed",
        }
    )
    line = JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["message"] == "user x\nFAKE ENTRY" and entry["event"] == "sign_in.failed"
    assert entry["ts"].endswith("Z")


async def test_signing_in_logs_no_password_and_no_session_cookie(gql, client, settings, caplog):
    await make_user(settings, "alice")
    with caplog.at_level(logging.DEBUG):
        await gql.sign_in("alice", "a wrong password guess")
        await gql.sign_in("alice")
    cookie = client.cookies["latchkey_session"]
    logged = caplog.text + "".join(JsonFormatter().format(r) for r in caplog.records)
    assert "sign_in.succeeded" in logged
    for secret in [PASSWORD, "a wrong password guess", cookie]:
        assert secret not in logged


async def test_tokens_codes_and_recovery_codes_stay_out_of_the_log(gql, client, alice, caplog):
    with caplog.at_level(logging.DEBUG):
        secret, recovery = await enable_totp(gql)
        client.cookies.clear()
        challenge = (await gql.sign_in("alice"))["challenge"]
        code = oathtool(secret)
        await verify(gql, challenge, code)
        next_time_step()
        refresh = (await gql(ISSUE_TOKEN, token_variables(oathtool(secret))))["issueToken"]
        access = (await exchange(client, refresh["secret"])).json()["access_token"]
    logged = caplog.text + "".join(JsonFormatter().format(r) for r in caplog.records)
    assert "token.issued" in logged
    for value in [secret, code, *recovery, challenge, refresh["secret"], access]:
        assert value not in logged


def token_variables(otp: str) -> dict:
    return {"name": "ci", "expiresAt": days_ahead(7), "password": PASSWORD, "otp": otp}


# This process also runs the test's HTTP client, which logs the URLs it opens, and its SMTP
# server: their lines are not the server's.
TEST_LOGGERS = {"httpx", "mail.log"}


def of_the_test(line: str) -> bool:
    return json.loads(line)["logger"] in TEST_LOGGERS


async def test_at_debug_no_line_holds_a_link_token_a_token_a_cookie_or_a_hash(
    gql, client, new_client, smtp, settings
):
    await make_user(settings, "alice")
    with logging_as_served("DEBUG") as written:
        await gql.sign_in("alice")
        cookie = client.cookies["latchkey_session"]
        refresh = (await issue_token(gql, name="deploy"))["secret"]
        access = (await exchange(client, refresh)).json()["access_token"]
        secure_token = secure_token_in(last_mail(smtp, subject="A new token for your account"))
        async with new_client() as mail_reader:
            assert (await mail_reader.get(f"/secure-account/{secure_token}")).status_code == 200
            assert await GraphQL(mail_reader)(SECURE, {"t": secure_token}) == {
                "secureAccount": {"userErrors": []}
            }
            assert await ask_for_reset(GraphQL(mail_reader), "alice") == {"userErrors": []}
            reset_token = reset_token_in(last_mail(smtp, subject="Reset your Latchkey password"))
            assert (await mail_reader.get(f"/password-reset/{reset_token}")).status_code == 200
            assert await reset(GraphQL(mail_reader), reset_token) == {"userErrors": []}
        assert (await gql.sign_in("alice", NEW_PASSWORD))["status"] == "SIGNED_IN"
    logged = "\n".join(line for line in written.getvalue().splitlines() if not of_the_test(line))
    assert "sign_in.succeeded" in logged and "account.secured" in logged
    tokens = [secure_token, reset_token, refresh, access, cookie]
    for secret in [*tokens, *map(digest, tokens), "$argon2"]:
        assert secret not in logged


def test_for_a_person_a_log_line_is_text_and_an_email_keeps_its_lines():
    from backend.infra.logs import TextFormatter

    record = logging.makeLogRecord(
        {
            "name": "latchkey.email",
            "levelname": "WARNING",
            "msg": "email not sent (no SMTP host); to=%s subject=%s\n%s",
            "args": ("a@example.com", "Your code", "Your Latchkey code is 123456.\nIt expires."),
            "password": "hunter2 is not to be seen",
        }
    )
    line = TextFormatter().format(record)
    assert "warning latchkey.email: email not sent" in line
    assert "\nIt expires." in line and "\\n" not in line  # readable, not escaped
    assert "hunter2" not in line  # the same redaction as the JSON lines
    assert logging_config("INFO", text=True)["formatters"]["json"]["()"] is TextFormatter
    assert logging_config("INFO")["formatters"]["json"]["()"] is JsonFormatter


@pytest.mark.parametrize(
    ("log_format", "terminal", "text"),
    [("auto", True, True), ("auto", False, False), ("json", True, False), ("text", False, True)],
)
def test_auto_logs_text_on_a_terminal_and_json_elsewhere(log_format, terminal, text):
    from backend.infra.logs import readable

    class Stream(io.StringIO):
        def isatty(self) -> bool:
            return terminal

    assert readable(log_format, Stream()) is text
