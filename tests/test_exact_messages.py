"""Messages that say what happened and what to do; their codes stay the same."""

from __future__ import annotations

import re

import pytest

from tests.conftest import settings_for, smtp_settings
from tests.helpers import PASSWORD, make_user, send_reauthentication_code, submit
from tests.test_pages import sign_in
from tests.twofactor_helpers import CONFIRM_CODES, START_CODES, code_in

SEND = """mutation($p: String!) { sendStepUpCode(input: {password: $p}) {
  method userErrors { field code message } } }"""
CHANGE = """mutation($c: String!, $n: String!) { changePassword(input: {currentPassword: $c,
  newPassword: $n, newPasswordConfirmation: $n}) { userErrors { field code message } } }"""


@pytest.fixture
def settings(database_url, smtp):
    return settings_for(database_url, smtp=smtp_settings(smtp.port))


@pytest.fixture
async def email_user(client, gql, settings, smtp):
    await make_user(settings, "alice")
    await sign_in(client)
    await gql(START_CODES, {"m": "EMAIL", "p": PASSWORD})
    await gql(CONFIRM_CODES, {"c": code_in(smtp.text(smtp.messages[-1]))})


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


async def test_asking_for_another_code_too_soon_says_it_is_a_wait(gql, email_user):
    assert (await gql(SEND, {"p": PASSWORD}))["sendStepUpCode"]["userErrors"] == []
    again = (await gql(SEND, {"p": PASSWORD}))["sendStepUpCode"]["userErrors"]
    assert [error["code"] for error in again] == ["RATE_LIMITED"]
    message = again[0]["message"]
    assert "failed" not in message.lower()
    assert "We sent you a code moments ago" in message
    assert re.search(r"A new code can be sent in \d+ seconds\.$", message)


async def test_a_wrong_password_on_a_settings_form_names_the_password(gql, client, settings):
    await make_user(settings, "alice")
    await sign_in(client)
    changed = await gql(CHANGE, {"c": "not my password", "n": "a long fresh passphrase"})
    errors = changed["changePassword"]["userErrors"]
    assert [(e["field"], e["code"]) for e in errors] == [("currentPassword", "INVALID_CREDENTIALS")]
    assert errors[0]["message"] == "That password is wrong. Enter the password you sign in with."
    sent = (await gql(SEND, {"p": "not my password"}))["sendStepUpCode"]["userErrors"]
    assert [(e["field"], e["code"]) for e in sent] == [("password", "INVALID_CREDENTIALS")]
    assert "username" not in sent[0]["message"]

    page = await client.get("/account")
    shown = await submit(
        client,
        "/account/security/password",
        data={
            "csrf_token": csrf(page.text),
            "current_password": "still not it",
            "new_password": "a long fresh passphrase",
            "new_password_repeat": "a long fresh passphrase",
        },
    )
    assert "That password is wrong." in shown.text
    assert "Wrong username or password" not in shown.text


async def test_signing_in_still_does_not_say_which_part_was_wrong(gql, settings):
    await make_user(settings, "alice")
    outcome = await gql(
        """mutation { signIn(input: {username: "alice", password: "nope"}) {
        userErrors { code message } } }"""
    )
    assert outcome["signIn"]["userErrors"] == [
        {"code": "INVALID_CREDENTIALS", "message": "Wrong username or password."}
    ]


async def test_confirm_it_is_you_shows_a_refused_code_request(client, email_user):
    first = await send_reauthentication_code(client, "/account/security")
    assert "We sent you a code" in first.text
    refused = await send_reauthentication_code(client, "/account/security")
    form = refused.text.split('id="reauthenticate-title"')[1]
    assert "We sent you a code moments ago" in form
    assert 'role="alert"' in form or 'class="field-error"' in form


async def test_a_custom_expiry_without_a_date_asks_for_a_date(client, settings):
    await make_user(settings, "alice")
    await sign_in(client)
    page = await client.get("/account/tokens")
    form = {
        "csrf_token": csrf(page.text),
        "name": "deploy",
        "expiry": "custom",
        "custom_date": "",
        "password": PASSWORD,
    }
    shown = await submit(client, "/account/tokens", data=form)
    assert "Pick a date for the custom expiry." in shown.text
    assert "must be in the future" not in shown.text
