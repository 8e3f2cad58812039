""" "This wasn't me": every notice carries a link; opening it changes nothing, confirming it
ends every session, token and device, locks password sign-in and mails a reset link."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from backend.app import housekeeping
from backend.app.wiring import build_services
from backend.audit.models import SecurityEvent
from backend.auth.factors.models import TrustedDevice
from backend.kernel import clock
from backend.kernel.crypto import digest
from backend.notifications.models import SecureAccountLink
from backend.tokens.models import ApiCredential
from tests.conftest import settings_for, smtp_settings
from tests.helpers import PASSWORD, GraphQL, exchange, issue_token
from tests.recovery_helpers import (
    NEW_PASSWORD,
    SECURE,
    VIEWER,
    ask_for_reset,
    codes,
    last_mail,
    reset,
    reset_token_in,
    secure_token_in,
)
from tests.test_reset_cli import latchkey
from tests.test_twofactor_settings import GENERATE, POLICY, sign_in_with_code
from tests.twofactor_helpers import enable_totp, oathtool

CHANGE_PHONE = """mutation($p: String!) { updateAccount(input: {mobilePhone: "+14155552671",
  password: $p}) { userErrors { code } } }"""
CHANGE_EMAIL = """mutation($e: String!, $p: String!) { updateAccount(input: {email: $e,
  password: $p}) { userErrors { code } } }"""
VERIFY_EMAIL = """mutation($c: String!) { verifyEmailChange(input: {code: $c}) {
  userErrors { code } } }"""
SECURED = "Your account was secured"
DISPUTED = "Your account was locked"


@pytest.fixture
def settings(database_url, smtp):
    return settings_for(database_url, smtp=smtp_settings(smtp.port))


def csrf(page_text: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page_text).group(1)


async def test_every_security_notice_carries_its_own_link(gql, smtp, alice):
    await issue_token(gql, name="deploy")
    await gql(GENERATE, {"pw": PASSWORD, "otp": None})
    await gql(CHANGE_PHONE, {"p": PASSWORD})
    secret, _ = await enable_totp(gql)
    texts = [smtp.text(m) for m in smtp.to("alice@example.com")]
    assert len(texts) >= 4
    tokens = {secure_token_in(text) for text in texts}
    assert len(tokens) == len(texts)  # one link per notice
    assert all("http://localhost:8000/secure-account/" in text for text in texts)
    assert not await SecureAccountLink.filter(token_hash__in=list(tokens)).exists()
    assert await SecureAccountLink.filter(token_hash=digest(tokens.pop())).exists()


async def test_opening_the_link_changes_nothing_confirming_it_locks_every_door(
    gql, client, new_client, smtp, alice
):
    refresh = await issue_token(gql, name="deploy")
    await gql(GENERATE, {"pw": PASSWORD, "otp": None})
    assert await ApiCredential.exists()
    secret, _ = await enable_totp(gql)
    await gql(POLICY, {"p": "UNRECOGNIZED_DEVICE", "pw": PASSWORD, "c": oathtool(secret)})
    async with new_client() as other:
        other_gql = GraphQL(other)
        await sign_in_with_code(other_gql, secret, remember=True)
        assert await TrustedDevice.exists()
        link_token = secure_token_in(last_mail(smtp, subject="A new token for your account"))

        # What a mail scanner does: follow the link. Nothing happens.
        async with new_client() as scanner:
            page = await scanner.get(f"/secure-account/{link_token}")
        assert page.status_code == 200 and "Sign out everywhere" in page.text
        assert (await other_gql(VIEWER))["viewer"] == {"username": "alice"}
        assert (await exchange(client, refresh["secret"])).status_code == 200

        assert await gql(SECURE, {"t": link_token}) == {"secureAccount": {"userErrors": []}}
        assert (await other_gql(VIEWER))["viewer"] is None
        assert (await gql(VIEWER))["viewer"] is None
        assert (await exchange(client, refresh["secret"])).status_code == 400
        assert not await ApiCredential.exists()
        assert not await TrustedDevice.exists()

    event = await SecurityEvent.filter(kind="account.secured").get()
    assert event.details["session_count"] == 2 and event.details["token_count"] == 1
    # The app was added after the token this notice reported: it may be someone else's.
    assert event.details["factor_count"] == 1
    mail = last_mail(smtp, subject=SECURED)
    assert await reset(gql, reset_token_in(mail)) == {"userErrors": []}
    assert (await gql.sign_in("alice", NEW_PASSWORD))["status"] == "SIGNED_IN"
    # The link worked once.
    assert codes((await gql(SECURE, {"t": link_token}))["secureAccount"]) == ["INVALID_RESET_TOKEN"]


async def test_the_link_lasts_seven_days(gql, smtp, alice, settings):
    await issue_token(gql, name="deploy")
    link_token = secure_token_in(last_mail(smtp))
    clock.advance(timedelta(days=7, seconds=1))
    answer = (await gql(SECURE, {"t": link_token}))["secureAccount"]
    assert codes(answer) == ["INVALID_RESET_TOKEN"]
    assert not await SecurityEvent.filter(kind="account.secured").exists()
    timeouts = build_services(settings).session_timeouts
    assert (await housekeeping.delete_expired(timeouts))["secure_account_links"] == 1


async def test_a_disputed_change_of_address_waits_for_an_operator(gql, smtp, alice, settings):
    """The old address says the change was not the owner's: neither mailbox recovers alone."""
    await gql(CHANGE_EMAIL, {"e": "mallory@example.net", "p": PASSWORD})
    code = re.search(r"\b(\d{6})\b", last_mail(smtp, "mallory@example.net")).group(1)
    assert (await gql(VERIFY_EMAIL, {"c": code}))["verifyEmailChange"]["userErrors"] == []
    notice = last_mail(smtp, "alice@example.com", "Your email address changed")
    assert await gql(SECURE, {"t": secure_token_in(notice)}) == {
        "secureAccount": {"userErrors": []}
    }
    told_old = last_mail(smtp, "alice@example.com", DISPUTED)
    told_new = last_mail(smtp, "mallory@example.net", DISPUTED)
    assert "administrator" in told_old and "administrator" in told_new
    assert not [m for m in smtp.messages if "/password-reset/" in smtp.text(m)]

    await ask_for_reset(gql, "alice")  # the new address asks: nothing is sent
    await ask_for_reset(gql, "mallory@example.net")
    assert not [m for m in smtp.messages if "/password-reset/" in smtp.text(m)]
    answer = await gql.sign_in("alice")
    assert codes(answer) == ["ACCOUNT_LOCKED"]
    assert "administrator" in answer["userErrors"][0]["message"]

    # The operator, having checked who the owner is, restores the account.
    restored = latchkey(
        settings,
        "user",
        "reset-password",
        "alice",
        "--email",
        "alice@example.com",
        LATCHKEY_SMTP_HOST="127.0.0.1",
        LATCHKEY_SMTP_PORT=str(smtp.port),
        LATCHKEY_SMTP_SECURITY="none",
    )
    assert restored.returncode == 0, restored.stderr
    token = reset_token_in(last_mail(smtp, "alice@example.com", "Reset your Latchkey password"))
    assert await reset(gql, token) == {"userErrors": []}
    assert (await gql.sign_in("alice", NEW_PASSWORD))["status"] == "SIGNED_IN"
    assert (await gql("{ viewer { email } }"))["viewer"] == {"email": "alice@example.com"}


async def test_the_page_button_posts_with_the_csrf_token(client, new_client, gql, smtp, alice):
    await issue_token(gql, name="deploy")
    link_token = secure_token_in(last_mail(smtp))
    async with new_client() as browser:
        page = await browser.get(f"/secure-account/{link_token}")
        refused = await browser.post(f"/secure-account/{link_token}", data={})
        assert refused.status_code == 403
        assert (await gql(VIEWER))["viewer"] == {"username": "alice"}

        done = await browser.post(
            f"/secure-account/{link_token}", data={"csrf_token": csrf(page.text)}
        )
        assert done.status_code == 303 and done.headers["location"] == "/secure-account/done"
        assert "Your account is secured" in (await browser.get("/secure-account/done")).text
        again = await browser.post(
            f"/secure-account/{link_token}", data={"csrf_token": csrf(page.text)}
        )
        assert again.status_code == 303
        assert again.headers["location"] == f"/secure-account/{link_token}"
        assert "not valid" in (await browser.get(again.headers["location"])).text
    assert (await gql(VIEWER))["viewer"] is None
