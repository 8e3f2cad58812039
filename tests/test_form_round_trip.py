"""Post/redirect/get without JavaScript: every form post answers 303 to its page, which
shows the outcome once, next to the section, with what was typed (never a secret)."""

from __future__ import annotations

import base64
import re
from datetime import timedelta

import pytest

from backend.accounts.models import User
from backend.kernel import clock
from tests.conftest import settings_for, smtp_settings
from tests.helpers import PASSWORD, make_user, submit
from tests.test_pages import sign_in
from web.first_error import focus_first_error


@pytest.fixture
def settings(database_url, smtp):
    return settings_for(database_url, smtp=smtp_settings(smtp.port))


@pytest.fixture
async def page(client, settings):
    await make_user(settings, "alice")
    await sign_in(client)
    return await client.get("/account")


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def details(page, **changes) -> dict[str, str]:
    form = {
        "csrf_token": csrf(page.text),
        "first_name": "",
        "last_name": "",
        "description": "",
        "email": "alice@example.com",
        "mobile_phone": "",
        "time_zone": "UTC",
        "password": "",
    }
    return {**form, **changes}


async def test_an_error_redirects_to_the_section_and_keeps_what_was_typed(client, page):
    posted = await client.post(
        "/account/details",
        # The password is right: inline proof is applied first, and a wrong one would be
        # the only error shown.
        data=details(page, first_name="Alice", mobile_phone="12", password=PASSWORD),
    )
    assert posted.status_code == 303
    assert posted.headers["location"] == "/account"
    shown = await client.get("/account")
    assert shown.status_code == 200
    assert re.search(r'data-error-for="mobilePhone">Enter a valid number', shown.text)
    assert 'value="Alice"' in shown.text
    assert PASSWORD not in shown.text  # the password is never typed back
    assert (await User.get()).first_name == ""
    again = await client.get("/account")  # shown once: a reload is a clean page
    assert "Enter a valid number" not in again.text and 'value="Alice"' not in again.text


async def test_a_success_shows_once(client, page):
    posted = await client.post(
        "/account/details", data=details(page, first_name="Alice", password=PASSWORD)
    )
    assert posted.status_code == 303
    shown = await client.get("/account")
    assert "Saved." in shown.text
    assert "Saved." not in (await client.get("/account")).text


async def test_the_outcome_cookie_hides_what_was_typed(client, page):
    posted = await client.post(
        "/account/details",
        data=details(page, first_name="Marmalade", mobile_phone="12", password="hunter2hunter2"),
    )
    cookies = " ".join(posted.headers.get_list("set-cookie"))
    assert "latchkey_outcome=" in cookies
    raw = re.search(r"latchkey_outcome=([^;]+)", cookies).group(1).strip('"')
    decoded = base64.urlsafe_b64decode(raw + "==")
    assert b"Marmalade" not in decoded and "Marmalade" not in raw
    assert b"hunter2" not in decoded and "hunter2" not in cookies


async def test_a_forged_outcome_cookie_shows_nothing(client, page):
    forged = base64.urlsafe_b64encode(b"\0" * 12 + b'{"section": "groups"}' + b"\0" * 16)
    client.cookies.set("latchkey_outcome", forged.decode())
    shown = await client.get("/account")
    assert shown.status_code == 200 and "Nothing was saved" not in shown.text


async def test_an_outcome_is_only_shown_by_the_page_it_was_made_for(client, page):
    await client.post("/account/security/password", data={"csrf_token": csrf(page.text)})
    tokens = await client.get("/account/tokens")
    assert tokens.status_code == 200 and 'role="alert"' not in tokens.text


async def test_a_wrong_password_change_comes_back_in_its_section(client, page):
    form = {
        "csrf_token": csrf(page.text),
        "current_password": "wrong horse battery",
        "new_password": "a fresh long passphrase",
        "new_password_repeat": "a fresh long passphrase",
    }
    posted = await client.post("/account/security/password", data=form)
    # No anchor with errors: a browser skips `autofocus` on a page opened at one.
    assert posted.headers["location"] == "/account/security"
    shown = await client.get("/account/security")
    section = shown.text.split('id="change_password"')[1].split("</section>")[0]
    assert 'data-error-for="currentPassword"' in section
    # The first field with an error takes the page's one autofocus.
    assert re.findall(r"<(?:input|p|button)\b[^>]*\bautofocus", shown.text) == [
        re.search(r'<input id="current-password"[^>]*autofocus', shown.text).group(0)
    ]
    assert "wrong horse" not in shown.text and "fresh long" not in shown.text


async def test_htmx_posts_still_get_the_section(client, page):
    response = await client.post(
        "/account/security/password",
        data={"csrf_token": csrf(page.text), "current_password": "x"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 422 and response.text.lstrip().startswith("{%") is False
    assert 'id="change_password"' in response.text and "<html" not in response.text


@pytest.mark.parametrize(
    ("address", "page_path"),
    [
        ("/account/security/password", "/account/security#change_password"),
        ("/account/details", "/account#account_details"),
        ("/account/sessions/others/sign-out", "/account/sessions#sessions"),
        ("/account/security/two-factor/policy", "/account/security#two_factor"),
        ("/account/tokens", None),
        ("/account/tokens/credentials/remove", "/account/tokens#api_credentials"),
    ],
)
async def test_opening_a_form_address_goes_back_to_its_page(client, page, address, page_path):
    response = await client.get(address)
    if page_path is None:  # the page itself
        assert response.status_code == 200
    else:
        assert response.status_code == 303 and response.headers["location"] == page_path


async def test_a_token_round_trip_keeps_the_name_and_says_what_is_wrong(client, page):
    tokens = await client.get("/account/tokens")
    form = {
        "csrf_token": csrf(tokens.text),
        "name": "deploy-bot",
        "expiry": "custom",
        "custom_date": "",
        "password": PASSWORD,
        "scopes_offered": "yes",
        "scopes": "profile:read",
    }
    posted = await client.post("/account/tokens", data=form)
    assert posted.status_code == 303 and posted.headers["location"] == "/account/tokens"
    shown = await client.get("/account/tokens")
    assert "Pick a date" in shown.text and 'value="deploy-bot"' in shown.text
    assert "Pick a date" not in (await client.get("/account/tokens")).text


async def test_a_new_token_secret_is_shown_once_after_a_redirect_and_a_reload_repeats_nothing(
    client, page
):
    tokens = await client.get("/account/tokens")
    form = {"csrf_token": csrf(tokens.text), "name": "deploy", "expiry": "30"}
    issued = await submit(client, "/account/tokens", data=form)
    assert issued.posted.headers["location"] == "/account/tokens#tokens"
    secret = re.search(r'id="new-token-secret">(lk_rt_[0-9A-Za-z]+)<', issued.text).group(1)
    # On its way the secret was sealed: the cookie does not hold it readable.
    cookie = " ".join(issued.posted.headers.get_list("set-cookie"))
    assert "latchkey_outcome" in cookie and secret not in cookie and "lk_rt_" not in cookie
    # A reload shows the list without the secret, and issues nothing again.
    again = await client.get("/account/tokens")
    assert secret not in again.text
    assert len(re.findall(r"data-token-id=", again.text)) == 1


async def test_removing_api_credentials_asks_first_without_javascript(client, page):
    tokens = await client.get("/account/tokens")
    generated = await submit(
        client, "/account/tokens/credentials", data={"csrf_token": csrf(tokens.text)}
    )
    assert "lk_cs_" in generated.text  # shown once
    client_id = re.search(r'name="client_id" value="([^"]+)"', generated.text).group(1)
    form = {"csrf_token": csrf(tokens.text), "client_id": client_id}

    asked = await submit(client, "/account/tokens/credentials/remove", data=form)
    assert asked.posted.headers["location"] == "/account/tokens#api_credentials"
    assert "Remove these API credentials?" in asked.text
    assert "Yes, remove the credentials" in asked.text
    assert "were removed" not in asked.text and client_id in asked.text

    removed = await submit(
        client, "/account/tokens/credentials/remove", data={**form, "confirm": "yes"}
    )
    assert "The API credentials were removed." in removed.text
    assert client_id not in removed.text


async def test_a_filled_date_wins_over_the_preset_expiry(client, page):
    tokens = await client.get("/account/tokens")
    date = (clock.now() + timedelta(days=10)).date()
    day = date.isoformat()
    form = {
        "csrf_token": csrf(tokens.text),
        "name": "dated",
        "expiry": "30",
        "custom_date": day,
        "password": PASSWORD,
    }
    issued = await submit(client, "/account/tokens", data=form)
    # The end of that day, as the English page writes dates: "Dec 4, 2026, 11:59 PM UTC".
    shown = f"{date:%b} {date.day}, {date.year}, 11:59\u202fPM UTC"
    assert shown in issued.text


def test_the_first_error_takes_the_one_autofocus_unless_no_field_owns_it():
    field_error = (
        '<main><input id="name" autofocus><label for="a">A</label><input id="a">'
        '<small>hint</small><p class="field-error">Too short</p>'
        '<input id="b" aria-invalid="false"></main>'
    )
    assert focus_first_error(field_error).count("autofocus") == 1
    assert '<input id="a" autofocus>' in focus_first_error(field_error)
    # A sign-in step keeps its code field focused under "That code is not valid".
    step = '<main><p class="error" role="alert">Not valid</p><form><input id="code" autofocus>'
    assert focus_first_error(step) == step
    # Without any field to go to, the message itself is focused (but is no tab stop).
    alone = '<main><section><p class="error" role="alert">Gone</p></section></main>'
    assert 'role="alert" tabindex="-1" autofocus>Gone' in focus_first_error(alone)
    clean = '<main><input id="name" autofocus><p class="error" hidden></p></main>'
    assert focus_first_error(clean) == clean
