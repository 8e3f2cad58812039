"""Several factors on the pages, without JavaScript: sign-in's second step and settings."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from backend.kernel import clock
from tests.conftest import settings_for, smtp_settings
from tests.helpers import PASSWORD, reauthenticate, send_reauthentication_code, submit
from tests.test_pages import sign_in
from tests.test_twofactor_preferred import PREFER
from tests.test_twofactor_several import ADD_APP, add_email, factors
from tests.twofactor_helpers import (
    CONFIRM_CODES,
    CONFIRM_TOTP,
    START_CODES,
    code_in,
    early_in_a_time_step,
    enable_totp,
    next_time_step,
    oathtool,
)


@pytest.fixture
def settings(database_url, smtp, sms):
    return settings_for(database_url, smtp=smtp_settings(smtp.port), sms_webhook_url=sms.url)


SEND_STEP_UP = """mutation($p: String!) { sendStepUpCode(input: {password: $p}) {
  method userErrors { code } } }"""


def hidden(page: str, name: str) -> str:
    return re.search(rf'name="{name}" value="([^"]*)"', page).group(1)


async def test_use_another_method_sends_an_email_code_that_signs_in(gql, client, smtp, alice):
    early_in_a_time_step()
    secret, _ = await enable_totp(gql)
    await add_email(gql, smtp, secret)
    sent_before = len(smtp.to("alice@example.com"))
    client.cookies.clear()

    step = await sign_in(client)
    assert step.status_code == 200
    assert "authenticator app" in step.text  # the preferred factor is asked for first
    assert "Use another method" in step.text and 'data-method="EMAIL"' in step.text
    assert len(smtp.to("alice@example.com")) == sent_before  # nothing mailed unasked

    fields = {name: hidden(step.text, name) for name in ("csrf_token", "challenge", "methods")}
    switched = await client.post("/login/resend", data={**fields, "method": "EMAIL"})
    assert switched.status_code == 200
    assert "We emailed you a 6-digit code" in switched.text
    assert 'data-method="TOTP"' in switched.text  # and back again, if the app is at hand

    code = code_in(smtp.text(smtp.to("alice@example.com")[-1]))
    done = await client.post("/login/verify", data={**fields, "method": "EMAIL", "code": code})
    assert done.status_code == 303 and done.headers["location"] == "/account"


async def test_the_page_lists_factors_adds_one_and_removes_one(gql, client, smtp, alice):
    early_in_a_time_step()
    secret, _ = await enable_totp(gql)
    page = await reauthenticate(client, "/account/security", code=oathtool(secret))
    token = hidden(page.text, "csrf_token")
    assert 'data-kind="TOTP"' in page.text and "Add a second factor" in page.text

    started = await submit(
        client, "/account/security/two-factor/start", data={"csrf_token": token, "method": "EMAIL"}
    )
    assert "We sent a 6-digit code" in started.text
    code = code_in(smtp.text(smtp.to("alice@example.com")[-1]))
    added = await submit(
        client,
        "/account/security/two-factor/confirm",
        data={"csrf_token": token, "method": "EMAIL", "code": code},
    )
    assert added.status_code == 200 and "Added." in added.text
    assert 'data-kind="TOTP"' in added.text and 'data-kind="EMAIL"' in added.text

    app_id = re.search(r'data-factor-id="(\d+)" data-kind="TOTP"', added.text).group(1)
    removed = await submit(
        client, f"/account/security/two-factor/factors/{app_id}/remove", data={"csrf_token": token}
    )
    assert removed.status_code == 200 and "Removed." in removed.text
    assert 'data-kind="TOTP"' not in removed.text and 'data-kind="EMAIL"' in removed.text


async def test_with_two_factor_on_no_card_asks_for_a_password_or_code(gql, client, smtp, alice):
    started = (await gql(START_CODES, {"m": "EMAIL", "p": PASSWORD}))["startCodeSetup"]
    assert started["sent"]
    await gql(CONFIRM_CODES, {"c": code_in(smtp.text(smtp.to("alice@example.com")[-1]))})
    await gql(SEND_STEP_UP, {"p": PASSWORD})
    otp = code_in(smtp.text(smtp.to("alice@example.com")[-1]))
    app = (await gql(ADD_APP, {"p": PASSWORD, "o": otp}))["startTotpSetup"]
    await gql(CONFIRM_TOTP, {"c": oathtool(app["secret"])})

    clock.advance(timedelta(seconds=601))  # past the re-authentication those proofs gave
    for stamped in (False, True):
        if stamped:
            await send_reauthentication_code(client, "/account/security")
            code = code_in(smtp.text(smtp.to("alice@example.com")[-1]))
            await reauthenticate(client, "/account/security", code=code)
        page = await client.get("/account/security")
        assert 'data-kind="EMAIL"' in page.text and 'data-kind="TOTP"' in page.text
        assert ("data-reauthentication-needed" in page.text) is not stamped
        # The change-password card's own proof is its "current password" field.
        names = re.findall(r'<input\b[^>]*\bname="([^"]+)"', page.text)
        assert "current_password" in names
        assert [name for name in names if name in ("password", "otp", "code")] == []

    email_id = re.search(r'data-factor-id="(\d+)" data-kind="EMAIL"', page.text).group(1)
    removed = await submit(
        client,
        f"/account/security/two-factor/factors/{email_id}/remove",
        data={"csrf_token": hidden(page.text, "csrf_token")},
    )
    assert removed.status_code == 200 and "Removed." in removed.text
    assert 'data-kind="EMAIL"' not in removed.text and 'data-kind="TOTP"' in removed.text


def factor_row(page: str, kind: str) -> str:
    return re.search(rf'<li data-factor-id="\d+" data-kind="{kind}".*?</li>', page, re.S).group(0)


async def test_make_preferred_on_the_page_then_sign_in_opens_on_it(gql, client, smtp, alice):
    early_in_a_time_step()
    secret, _ = await enable_totp(gql)
    await add_email(gql, smtp, secret)
    page = await client.get("/account/security")
    assert "data-preferred" in factor_row(page.text, "TOTP")
    assert "Make preferred" not in factor_row(page.text, "TOTP")
    email_row = factor_row(page.text, "EMAIL")
    assert "data-preferred" not in email_row and "Make preferred" in email_row
    email_id = re.search(r'data-factor-id="(\d+)"', email_row).group(1)
    form = {"csrf_token": hidden(page.text, "csrf_token")}

    next_time_step()  # the app's last code was used to add the email
    wrong = await reauthenticate(client, "/account/security", code="000000")
    assert "That code is not valid" in wrong.text
    await reauthenticate(client, "/account/security", code=oathtool(secret))

    # With htmx: the section alone comes back, the rest of the page stays.
    chosen = await client.post(
        f"/account/security/two-factor/factors/{email_id}/prefer",
        data=form,
        headers={"HX-Request": "true"},
    )
    assert chosen.status_code == 200 and "<html" not in chosen.text
    assert "Sign-in now opens on Code by email" in chosen.text
    assert "data-preferred" in factor_row(chosen.text, "EMAIL")
    assert "Make preferred" in factor_row(chosen.text, "TOTP")
    assert 'data-field="method">Code by email<' in chosen.text

    app_id = re.search(r'data-factor-id="(\d+)"', factor_row(chosen.text, "TOTP")).group(1)
    back = await submit(
        client,  # and without JavaScript: the whole page
        f"/account/security/two-factor/factors/{app_id}/prefer",
        data=form,
    )
    assert back.status_code == 200 and "<html" in back.text


async def test_the_sign_in_page_opens_on_a_preferred_email_factor(gql, client, smtp, alice):
    early_in_a_time_step()
    secret, _ = await enable_totp(gql)
    await add_email(gql, smtp, secret)
    email_id = next(f["id"] for f in (await factors(gql))["authenticators"] if f["kind"] == "EMAIL")
    chosen = await gql(PREFER, {"id": email_id, "p": PASSWORD, "o": oathtool(secret)})
    assert chosen["setPreferredAuthenticator"]["userErrors"] == []
    client.cookies.clear()
    step = await sign_in(client)
    assert "We emailed you a 6-digit code" in step.text  # and it was sent
    assert 'data-method="TOTP"' in step.text and 'data-method="RECOVERY_CODE"' in step.text
    assert 'data-method="EMAIL"' not in step.text


async def test_the_second_step_carries_its_fields_once_for_every_other_method(
    gql, client, smtp, alice
):
    early_in_a_time_step()
    secret, _ = await enable_totp(gql)
    await add_email(gql, smtp, secret)
    client.cookies.clear()
    step = await sign_in(client)
    others = re.findall(r'<button[^>]*form="resend" name="method" value="(\w+)"', step.text)
    assert set(others) == {"EMAIL", "RECOVERY_CODE"}
    # The verify form and one form for sending codes and switching: not one per button.
    assert step.text.count('name="challenge"') == 2
    card = step.text.split('<section class="card narrow">')[1].split("</section>")[0]
    assert len(re.findall(r'<input type="hidden"', card)) == 11
