"""The Issue token page over plain form posts, as a browser without JavaScript sends them."""

from __future__ import annotations

import re
from datetime import time, timedelta
from zoneinfo import ZoneInfo

import pytest

from backend.accounts.models import User
from backend.kernel import clock
from backend.tokens.models import RefreshToken
from tests.conftest import settings_for, smtp_settings
from tests.helpers import (
    PASSWORD,
    make_user,
    reauthenticate,
    send_reauthentication_code,
    sent_to_reauthenticate,
    submit,
)
from tests.test_pages import sign_in
from tests.twofactor_helpers import CONFIRM_CODES, START_CODES, code_in


@pytest.fixture
def settings(database_url, smtp):
    return settings_for(database_url, smtp=smtp_settings(smtp.port))


def csrf(page_text: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page_text).group(1)


async def test_without_two_factor_there_is_no_code_field(client, settings):
    await make_user(settings, "alice")
    await sign_in(client)
    page = await client.get("/account/tokens")
    assert 'name="otp"' not in page.text


async def test_an_email_user_issues_a_token_after_confirming_it_is_them(
    client, gql, smtp, settings
):
    await make_user(settings, "alice")
    await sign_in(client)
    await gql(START_CODES, {"m": "EMAIL", "p": PASSWORD})
    await gql(CONFIRM_CODES, {"c": code_in(smtp.text(smtp.messages[-1]))})

    page = await client.get("/account/tokens")
    assert 'name="otp"' not in page.text and 'name="password"' not in page.text
    assert "data-reauthentication-needed" in page.text
    form = {"csrf_token": csrf(page.text), "name": "deploy", "expiry": "30"}
    asked = await submit(client, "/account/tokens", data=form)
    assert sent_to_reauthenticate(asked, "/account/tokens")
    assert await RefreshToken.all().count() == 0

    # With htmx the answer is the same place, as a navigation.
    hx = await client.post("/account/tokens", data=form, headers={"HX-Request": "true"})
    assert hx.status_code == 204
    assert hx.headers["hx-redirect"] == "/account/reauthenticate?next=%2Faccount%2Ftokens"

    await send_reauthentication_code(client, "/account/tokens")
    back = await reauthenticate(
        client, "/account/tokens", code=code_in(smtp.text(smtp.messages[-1]))
    )
    issued = await submit(client, "/account/tokens", data={**form, "csrf_token": csrf(back.text)})
    assert re.search(r'id="new-token-secret">lk_rt_[0-9A-Za-z]{38}<', issued.text)


async def test_a_custom_expiry_is_the_end_of_that_day_in_the_user_time_zone(client, settings):
    await make_user(settings, "alice")
    await User.filter(username="alice").update(time_zone="Asia/Tokyo")
    await sign_in(client)
    page = await client.get("/account/tokens")
    day = (clock.now() + timedelta(days=10)).astimezone(ZoneInfo("Asia/Tokyo")).date()
    form = {
        "csrf_token": csrf(page.text),
        "name": "deploy",
        "expiry": "custom",
        "custom_date": "",
        "password": PASSWORD,
    }
    missing = await submit(client, "/account/tokens", data=form)
    assert "Pick a date for the custom expiry." in missing.text
    issued = await submit(client, "/account/tokens", data={**form, "custom_date": day.isoformat()})
    # Listed in the user's time zone, as English dates read: "Dec 4, 2026, 11:59 PM JST".
    shown = f"{day:%b} {day.day}, {day.year}, 11:59\u202fPM JST"
    assert shown in issued.text
    stored = await RefreshToken.get()
    assert stored.expires_at.astimezone(ZoneInfo("Asia/Tokyo")).time() == time(23, 59, 59)


async def test_an_email_user_confirms_it_is_them_with_a_sent_code_then_issues_without_one(
    client, gql, smtp, settings
):
    await make_user(settings, "alice")
    await sign_in(client)
    await gql(START_CODES, {"m": "EMAIL", "p": PASSWORD})
    await gql(CONFIRM_CODES, {"c": code_in(smtp.text(smtp.messages[-1]))})

    asked = await client.get("/account/reauthenticate?next=/account/tokens")
    assert "Email or text me a code" in asked.text
    form = {"csrf_token": csrf(asked.text), "password": PASSWORD, "next": "/account/tokens"}
    sent = await submit(client, "/account/reauthenticate/send-code", data=form)
    assert sent.status_code == 200 and "We sent you a code" in sent.text
    code = code_in(smtp.text(smtp.messages[-1]))
    away = await submit(
        client, "/account/reauthenticate", data={**form, "next": "https://evil.example/"}
    )
    # No code yet: back to the form, whose return address is ours only.
    assert away.posted.headers["location"] == "/account/reauthenticate?next=%2Faccount"
    assert "Enter a code" in away.text
    confirmed = await client.post("/account/reauthenticate", data={**form, "otp": code})
    assert confirmed.status_code == 303
    assert confirmed.headers["location"] == "/account/tokens"

    page = await client.get("/account/tokens")
    assert 'name="password"' not in page.text and 'name="otp"' not in page.text
    issue = {"csrf_token": csrf(page.text), "name": "deploy", "expiry": "30"}
    issued = await submit(client, "/account/tokens", data=issue)
    assert "lk_rt_" in issued.text


async def test_confirm_it_is_you_sends_back_only_to_our_own_pages(client, settings):
    await make_user(settings, "alice")
    await sign_in(client)
    asked = await client.get("/account/reauthenticate?next=https://evil.example/")
    form = {"csrf_token": csrf(asked.text), "password": PASSWORD, "next": "//evil.example"}
    confirmed = await client.post("/account/reauthenticate", data=form)
    assert confirmed.status_code == 303 and confirmed.headers["location"] == "/account"


async def test_the_former_confirm_access_address_redirects_to_confirm_it_is_you(client, settings):
    await make_user(settings, "alice")
    await sign_in(client)
    moved = await client.get("/account/confirm-access?next=/account/tokens")
    assert moved.status_code == 301
    assert moved.headers["location"] == "/account/reauthenticate?next=%2Faccount%2Ftokens"
    away = await client.get("/account/confirm-access?next=https://evil.example/")
    assert away.headers["location"] == "/account/reauthenticate?next=%2Faccount"
    page = await client.get(moved.headers["location"])
    assert page.status_code == 200 and 'id="reauthenticate-title"' in page.text
