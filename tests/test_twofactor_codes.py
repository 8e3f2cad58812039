"""Codes by email and SMS: real SMTP and webhook servers on loopback receive them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from backend.accounts.models import User
from backend.kernel import clock
from tests.conftest import settings_for, smtp_settings
from tests.helpers import PASSWORD
from tests.twofactor_helpers import CONFIRM_CODES, START_CODES, TWO_FACTOR, code_in, verify

RESEND = """mutation($ch: String!) { resendSignInCode(input: {challenge: $ch}) {
  sent userErrors { code message } } }"""


@pytest.fixture
def settings(database_url, smtp, sms):
    return settings_for(database_url, smtp=smtp_settings(smtp.port), sms_webhook_url=sms.url)


def codes(payload) -> list[str]:
    return [error["code"] for error in payload["userErrors"]]


def last_email_code(smtp) -> str:
    return code_in(smtp.text(smtp.to("alice@example.com")[-1]))


async def enable_email(gql, smtp) -> None:
    assert (await gql(START_CODES, {"m": "EMAIL", "p": PASSWORD}))["startCodeSetup"]["sent"]
    confirm = (await gql(CONFIRM_CODES, {"c": last_email_code(smtp)}))["confirmCodeSetup"]
    assert confirm["userErrors"] == [] and len(confirm["recoveryCodes"]) == 10


async def test_email_setup_and_sign_in_with_the_emailed_code(gql, client, smtp, alice):
    await enable_email(gql, smtp)
    assert (await gql(TWO_FACTOR))["viewer"]["twoFactor"]["method"] == "EMAIL"
    client.cookies.clear()
    challenge = (await gql.sign_in("alice"))["challenge"]
    message = smtp.to("alice@example.com")[-1]
    assert message["Subject"] == "Your Latchkey code"
    assert (await verify(gql, challenge, code_in(smtp.text(message))))["status"] == "SIGNED_IN"


async def test_sms_needs_a_mobile_phone_then_codes_arrive_at_the_webhook(gql, client, sms, alice):
    refused = (await gql(START_CODES, {"m": "SMS", "p": PASSWORD}))["startCodeSetup"]
    assert codes(refused) == ["PHONE_REQUIRED_FOR_SMS"]
    await User.filter(id=alice.id).update(mobile_phone="+14155552671")
    assert (await gql(START_CODES, {"m": "SMS", "p": PASSWORD}))["startCodeSetup"]["sent"]
    assert sms.messages[-1]["to"] == "+14155552671"
    confirm = await gql(CONFIRM_CODES, {"c": code_in(sms.messages[-1]["text"])})
    assert confirm["confirmCodeSetup"]["userErrors"] == []
    client.cookies.clear()
    challenge = (await gql.sign_in("alice"))["challenge"]
    done = await verify(gql, challenge, code_in(sms.messages[-1]["text"]))
    assert done["status"] == "SIGNED_IN"


async def test_an_emailed_code_expires_after_ten_minutes(gql, client, smtp, alice):
    await enable_email(gql, smtp)
    client.cookies.clear()
    challenge = (await gql.sign_in("alice"))["challenge"]
    code = last_email_code(smtp)
    clock.advance(timedelta(minutes=4))  # within the challenge, past nothing yet
    assert (await verify(gql, challenge, code))["status"] == "SIGNED_IN"
    client.cookies.clear()
    challenge = (await gql.sign_in("alice"))["challenge"]
    code = last_email_code(smtp)
    clock.advance(timedelta(minutes=10, seconds=1))
    assert codes(await verify(gql, challenge, code)) in (["INVALID_OTP"], ["CHALLENGE_EXPIRED"])


async def test_a_code_dies_after_five_wrong_tries_and_a_resend_does_not_reset_that(
    gql, client, smtp, alice
):
    await enable_email(gql, smtp)
    client.cookies.clear()
    challenge = (await gql.sign_in("alice"))["challenge"]
    code = last_email_code(smtp)
    for _ in range(4):
        await verify(gql, challenge, "000000" if code != "000000" else "111111")
    clock.advance(timedelta(seconds=31))
    resent = (await gql(RESEND, {"ch": challenge}))["resendSignInCode"]
    assert resent["sent"] is True
    new_code = last_email_code(smtp)
    await verify(gql, challenge, "000000" if new_code != "000000" else "111111")
    # Five failures on this sign-in: the new code is dead too, and entry is locked.
    assert codes(await verify(gql, challenge, new_code)) in (["INVALID_OTP"], ["RATE_LIMITED"])
    assert (await gql("{ viewer { username } }"))["viewer"] is None


async def test_resending_is_limited(gql, client, smtp, alice):
    await enable_email(gql, smtp)
    client.cookies.clear()
    challenge = (await gql.sign_in("alice"))["challenge"]
    too_soon = (await gql(RESEND, {"ch": challenge}))["resendSignInCode"]
    assert codes(too_soon) == ["RATE_LIMITED"]
    for seconds in (31, 61):
        clock.advance(timedelta(seconds=seconds))
        assert (await gql(RESEND, {"ch": challenge}))["resendSignInCode"]["sent"]
    clock.advance(timedelta(seconds=120))
    assert codes((await gql(RESEND, {"ch": challenge}))["resendSignInCode"]) == ["RATE_LIMITED"]


async def test_a_code_from_one_sign_in_does_not_complete_another(gql, client, smtp, alice):
    await enable_email(gql, smtp)
    client.cookies.clear()
    first = (await gql.sign_in("alice"))["challenge"]
    first_code = last_email_code(smtp)
    second = (await gql.sign_in("alice"))["challenge"]
    assert codes(await verify(gql, second, first_code)) == ["INVALID_OTP"] or (
        first_code == last_email_code(smtp)
    )
    assert first


async def test_email_setup_needs_an_address_and_the_password(gql, alice):
    refused = (await gql(START_CODES, {"m": "EMAIL", "p": "wrong"}))["startCodeSetup"]
    assert codes(refused) == ["INVALID_CREDENTIALS"]
    await User.filter(id=alice.id).update(email="")
    refused = (await gql(START_CODES, {"m": "EMAIL", "p": PASSWORD}))["startCodeSetup"]
    assert codes(refused) == ["EMAIL_REQUIRED"]


async def test_at_most_five_text_messages_an_hour(gql, client, sms, alice):
    await User.filter(id=alice.id).update(mobile_phone="+14155552671")
    await gql(START_CODES, {"m": "SMS", "p": PASSWORD})
    await gql(CONFIRM_CODES, {"c": code_in(sms.messages[-1]["text"])})
    client.cookies.clear()
    for _ in range(5):  # each sign-in after the last code expired sends a new one
        clock.advance(timedelta(minutes=11))
        challenge = (await gql.sign_in("alice"))["challenge"]
    assert len(sms.messages) == 5  # the setup and four sign-ins; the fifth got no message
    assert codes((await gql(RESEND, {"ch": challenge}))["resendSignInCode"]) == ["RATE_LIMITED"]
    assert len(sms.messages) == 5
    clock.advance(timedelta(hours=1, minutes=1))
    challenge = (await gql.sign_in("alice"))["challenge"]
    assert len(sms.messages) == 6
    assert (await verify(gql, challenge, code_in(sms.messages[-1]["text"])))["status"] == (
        "SIGNED_IN"
    )
