"""Security changes are told to the account's email address, once each, without secrets."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from backend.auth.factors.models import TrustedDevice
from backend.kernel import clock
from backend.notifications import notices
from backend.notifications.email import Mailer
from backend.notifications.models import OutboxMessage
from tests.conftest import settings_for, smtp_settings
from tests.helpers import PASSWORD, GraphQL, issue_token, make_user, serving
from tests.live import free_port
from tests.test_twofactor_settings import GENERATE, POLICY, REGENERATE, sign_in_with_code
from tests.twofactor_helpers import enable_totp, next_time_step, oathtool, verify

NOT_YOU = "If this was not you"
NEW = "a brand new long passphrase"
CHANGE = """mutation($c: String!, $n: String!) { changePassword(input: {currentPassword: $c,
  newPassword: $n, newPasswordConfirmation: $n}) { userErrors { code } } }"""


@pytest.fixture
def settings(database_url, smtp):
    return settings_for(database_url, smtp=smtp_settings(smtp.port))


def subjects(smtp) -> list[str]:
    return [message["Subject"] for message in smtp.to("alice@example.com")]


async def test_issuing_a_token_and_generating_credentials_are_told_without_the_secrets(
    gql, smtp, alice
):
    secret = (await issue_token(gql, name="nightly backup"))["secret"]
    client_id = (await gql(GENERATE, {"pw": PASSWORD, "otp": None}))["generateApiCredentials"][
        "clientId"
    ]
    assert subjects(smtp) == [
        "A new token for your account",
        "New API credentials for your account",
    ]
    token_notice, credentials_notice = (smtp.text(m) for m in smtp.to("alice@example.com"))
    assert "nightly backup" in token_notice and secret not in token_notice
    assert client_id in credentials_notice and "lk_cs_" not in credentials_notice
    assert NOT_YOU in token_notice and NOT_YOU in credentials_notice


async def test_policy_changes_and_recovery_codes_are_told(gql, client, smtp, alice):
    secret, recovery = await enable_totp(gql)
    await gql(POLICY, {"p": "UNRECOGNIZED_DEVICE", "pw": PASSWORD, "c": oathtool(secret)})
    client.cookies.clear()
    challenge = (await gql.sign_in("alice"))["challenge"]
    assert (await verify(gql, challenge, recovery[0]))["status"] == "SIGNED_IN"
    assert subjects(smtp)[1:] == [
        "Two-factor authentication settings changed",
        "A recovery code was used",
    ]
    assert "9 unused recovery codes left" in smtp.text(smtp.to("alice@example.com")[-1])


async def test_regenerating_recovery_codes_forgets_remembered_devices(gql, client, smtp, alice):
    secret, _ = await enable_totp(gql)
    await gql(POLICY, {"p": "UNRECOGNIZED_DEVICE", "pw": PASSWORD, "c": oathtool(secret)})
    client.cookies.clear()
    await sign_in_with_code(gql, secret, remember=True)
    assert await TrustedDevice.exists()
    next_time_step()
    regenerated = await gql(REGENERATE, {"pw": PASSWORD, "c": oathtool(secret)})
    assert regenerated["regenerateRecoveryCodes"]["userErrors"] == []
    assert not await TrustedDevice.exists()
    assert "recognized device was forgotten" in smtp.text(smtp.to("alice@example.com")[-1])


async def test_wrong_codes_after_the_right_password_are_told_once_per_burst(
    gql, client, smtp, alice
):
    secret, _ = await enable_totp(gql)
    client.cookies.clear()
    challenge = (await gql.sign_in("alice"))["challenge"]
    for _ in range(4):
        await verify(gql, challenge, "000000")
    warnings = [s for s in subjects(smtp) if s == "Wrong codes for your account"]
    assert warnings == ["Wrong codes for your account"]
    text = smtp.text(smtp.to("alice@example.com")[-1])
    assert "3 wrong second-factor codes" in text


async def test_a_notice_the_mail_server_refused_is_kept_and_sent_later(database_url, smtp):
    nobody_listens = smtp_settings(free_port())
    unreachable = settings_for(database_url, smtp=nobody_listens)
    async with serving(unreachable) as http:
        await make_user(unreachable, "alice")
        gql = GraphQL(http)
        await gql.sign_in("alice")
        changed = (await gql(CHANGE, {"c": PASSWORD, "n": NEW}))["changePassword"]
        assert changed == {"userErrors": []}  # the change stands
        assert await OutboxMessage.filter(subject="Your password changed").exists()

        back_up = Mailer(smtp_settings(smtp.port))
        assert await notices.deliver_due(back_up) == 0  # its wait is not over yet
        clock.advance(timedelta(minutes=1))
        assert await asyncio.gather(*(notices.deliver_due(back_up) for _ in range(3))) in (
            [1, 0, 0],
            [0, 1, 0],
            [0, 0, 1],
        )
        assert subjects(smtp) == ["Your password changed"]  # once, by one of the three
        assert not await OutboxMessage.exists()
