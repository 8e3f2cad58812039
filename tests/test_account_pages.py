"""The account page's forms as a browser without JavaScript posts them."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from backend.accounts import groups
from backend.accounts.models import User
from backend.audit.service import record
from backend.kernel import clock
from tests.conftest import settings_for, smtp_settings
from tests.helpers import (
    PASSWORD,
    GraphQL,
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


async def test_one_bad_field_shows_its_error_and_saves_nothing(client, page):
    response = await submit(
        client,
        "/account/details",
        data=details(
            page, first_name="Alice", last_name="Liddell", mobile_phone="12", password=PASSWORD
        ),
    )
    assert response.posted.headers["location"] == "/account"
    assert re.search(r'data-error-for="mobilePhone">Enter a valid number', response.text)
    assert 'value="Alice"' in response.text  # what was typed stays in the form
    assert (await User.get()).first_name == ""


async def test_saving_details_and_confirming_a_new_email(client, page, smtp):
    response = await submit(
        client,
        "/account/details",
        data=details(
            page,
            first_name="Alice",
            last_name="Liddell",
            email="alice@wonderland.example",
            password=PASSWORD,
            time_zone="Europe/Berlin",
        ),
    )
    assert response.status_code == 200 and "We sent a code to your new email" in response.text
    assert "Waiting for the code sent to alice@wonderland.example" in response.text
    code = code_in(smtp.text(smtp.to("alice@wonderland.example")[0]))
    confirmed = await submit(
        client, "/account/email/verify", data={"csrf_token": csrf(page.text), "code": code}
    )
    assert "Your email address is now alice@wonderland.example" in confirmed.text
    user = await User.get()
    assert (user.first_name, user.email, user.time_zone) == (
        "Alice",
        "alice@wonderland.example",
        "Europe/Berlin",
    )


async def test_changing_the_password_on_the_page(client, page):
    token = csrf(page.text)
    mismatch = await submit(
        client,
        "/account/security/password",
        data={
            "csrf_token": token,
            "current_password": PASSWORD,
            "new_password": "marmalade skyline of otters",
            "new_password_repeat": "something else",
        },
    )
    assert (
        mismatch.status_code == 200 and 'data-error-for="newPasswordConfirmation"' in mismatch.text
    )
    done = await submit(
        client,
        "/account/security/password",
        data={
            "csrf_token": token,
            "current_password": PASSWORD,
            "new_password": "marmalade skyline of otters",
            "new_password_repeat": "marmalade skyline of otters",
        },
    )
    assert "Your password changed" in done.text
    assert "latchkey_session=" in done.posted.headers["set-cookie"]  # the session's new id
    assert (await client.get("/account")).status_code == 200  # still signed in with it


async def test_joining_a_group_and_signing_out_another_session(client, page, new_client):
    await groups.create("book-club", self_service=True)
    token = csrf(page.text)
    joined = await client.post(
        "/account/groups/join",
        data={"csrf_token": token, "name": "book-club"},
        headers={"HX-Request": "true"},
    )
    assert joined.status_code == 200 and joined.text.lstrip().startswith(
        '<section class="card" id="groups"'
    )
    assert "You joined book-club" in joined.text
    async with new_client() as other:
        await GraphQL(other).sign_in("alice")
        listing = await client.get("/account/sessions")
        other_id = re.findall(r'data-session-id="(\d+)"', listing.text)
        revoke_ids = [i for i in other_id if f"/account/sessions/{i}/revoke" in listing.text]
        revoked = await submit(
            client, f"/account/sessions/{revoke_ids[0]}/revoke", data={"csrf_token": token}
        )
        assert "That session was signed out" in revoked.text
        assert (await GraphQL(other)("{ viewer { username } }"))["viewer"] is None


async def test_the_security_log_on_the_page_uses_the_viewer_time_zone(client, page):
    await User.filter(username="alice").update(time_zone="America/New_York")
    listing = await client.get("/account/log")
    log = listing.text.split('id="security_log"')[1]
    assert re.search(r'data-kind="sign_in.succeeded">\s*<td class="when"[^>]*>[^<]+ E[SD]T<', log)
    assert "Times are in America/New_York" in log


async def test_a_card_without_a_fresh_stamp_sends_the_user_to_confirm_it_is_you_and_back(
    client, gql, page, smtp
):
    await gql(START_CODES, {"m": "EMAIL", "p": PASSWORD})
    await gql(CONFIRM_CODES, {"c": code_in(smtp.text(smtp.messages[-1]))})
    page = await client.get("/account/security")
    assert "data-reauthentication-needed" in page.text  # the card says so before the press
    form = {"csrf_token": csrf(page.text), "confirm": "yes"}

    asked = await submit(client, "/account/security/two-factor/disable", data=form)
    assert sent_to_reauthenticate(asked, "/account/security")
    assert (await gql("{ viewer { twoFactor { enabled } } }"))["viewer"]["twoFactor"] == {
        "enabled": True
    }
    sent = await send_reauthentication_code(client, "/account/security")
    assert sent.status_code == 200 and "We sent you a code" in sent.text
    wrong = await reauthenticate(client, "/account/security", code="000000")
    assert "That code is not valid" in wrong.text and 'id="reauthenticate-title"' in wrong.text

    back = await reauthenticate(
        client, "/account/security", code=code_in(smtp.text(smtp.messages[-1]))
    )
    assert str(back.url).endswith("/account/security")
    # Back on the page, nothing was replayed: the user presses the button again.
    assert (await gql("{ viewer { twoFactor { enabled } } }"))["viewer"]["twoFactor"] == {
        "enabled": True
    }
    assert "data-reauthentication-needed" not in back.text
    turned_off = await submit(
        client,
        "/account/security/two-factor/disable",
        data={"csrf_token": csrf(back.text), "confirm": "yes"},
    )
    assert "Two-factor authentication is off." in turned_off.text
    assert (await gql("{ viewer { twoFactor { enabled } } }"))["viewer"]["twoFactor"] == {
        "enabled": False
    }


async def test_new_recovery_codes_on_the_page_need_a_code_that_is_not_a_recovery_code(
    client, gql, page, smtp
):
    await gql(START_CODES, {"m": "EMAIL", "p": PASSWORD})
    confirmed = await gql(CONFIRM_CODES, {"c": code_in(smtp.text(smtp.messages[-1]))})
    old = confirmed["confirmCodeSetup"]["recoveryCodes"]
    page = await client.get("/account/security")
    regenerate = "/account/security/two-factor/recovery-codes"

    asked = await submit(client, regenerate, data={"csrf_token": csrf(page.text), "confirm": "yes"})
    assert sent_to_reauthenticate(asked, "/account/security")
    back = await reauthenticate(client, "/account/security", code=old[0])
    # Confirmed with a recovery code: not enough for new ones, so asked again.
    again = await submit(client, regenerate, data={"csrf_token": csrf(back.text), "confirm": "yes"})
    assert sent_to_reauthenticate(again, "/account/security")

    await send_reauthentication_code(client, "/account/security")
    back = await reauthenticate(
        client, "/account/security", code=code_in(smtp.text(smtp.messages[-1]))
    )
    # The codes are shown once, directly.
    done = await submit(client, regenerate, data={"csrf_token": csrf(back.text), "confirm": "yes"})
    assert "Save your recovery codes now" in done.text
    new = re.findall(r"<li><code>([^<]+)</code></li>", done.text)
    assert len(new) == 10 and old[0] not in new
    subjects = [m["Subject"] for m in smtp.to("alice@example.com")]
    assert subjects.count("New recovery codes") == 1


async def test_an_email_user_changes_the_phone_after_confirming_it_is_them(client, gql, page, smtp):
    await gql(START_CODES, {"m": "EMAIL", "p": PASSWORD})
    await gql(CONFIRM_CODES, {"c": code_in(smtp.text(smtp.messages[-1]))})
    page = await client.get("/account")
    assert 'name="password"' not in page.text and 'name="otp"' not in page.text
    form = details(page, mobile_phone="+14155552671")

    refused = await submit(client, "/account/details", data=form)
    assert sent_to_reauthenticate(refused, "/account")
    assert (await User.get()).mobile_phone is None
    await send_reauthentication_code(client, "/account")
    back = await reauthenticate(client, "/account", code=code_in(smtp.text(smtp.messages[-1])))
    assert str(back.url).endswith("/account")

    saved = await submit(
        client, "/account/details", data=details(back, mobile_phone="+14155552671")
    )
    assert saved.status_code == 200
    assert (await User.get()).mobile_phone == "+14155552671"


async def test_an_htmx_answer_is_the_section_alone_and_the_log_page_shows_the_change(client, page):
    answer = await client.post(
        "/account/security/password",
        data={
            "csrf_token": csrf(page.text),
            "current_password": PASSWORD,
            "new_password": "marmalade skyline of otters",
            "new_password_repeat": "marmalade skyline of otters",
        },
        headers={"HX-Request": "true"},
    )
    assert answer.text.lstrip().startswith('<section class="card" id="change_password"')
    assert "<html" not in answer.text
    # The log and the sessions are pages of their own now: nothing out-of-band for them.
    assert 'id="security_log"' not in answer.text and 'id="sessions"' not in answer.text
    log = (await client.get("/account/log")).text
    assert 'data-kind="password.changed"' in log and "Password changed" in log


async def test_signing_out_other_sessions_after_the_window_asks_to_confirm_it_is_you(
    client, page, new_client
):
    token = csrf(page.text)
    async with new_client() as other:
        await GraphQL(other).sign_in("alice")
        clock.advance(timedelta(seconds=601))  # past the re-authentication of signing in
        refused = await submit(
            client, "/account/sessions/others/sign-out", data={"csrf_token": token}
        )
        assert sent_to_reauthenticate(refused, "/account/sessions")
        assert (await GraphQL(other)("{ viewer { username } }"))["viewer"] == {"username": "alice"}
        back = await reauthenticate(client, "/account/sessions")
        done = await submit(
            client, "/account/sessions/others/sign-out", data={"csrf_token": csrf(back.text)}
        )
        assert "Every other session was signed out" in done.text
        assert (await GraphQL(other)("{ viewer { username } }"))["viewer"] is None


async def test_the_log_page_pages_through_every_event_newest_first(client, page):
    alice = await User.get(username="alice")
    for number in range(60):
        await record("group.joined", user=alice, group=f"club-{number:02d}")
    first = await client.get("/account/log")
    assert 'aria-current="page">Security log<' in first.text
    shown = re.findall(r"group \u201c(club-\d+)\u201d", first.text)
    assert shown[:2] == ["club-59", "club-58"] and len(shown) == 50
    older = re.search(r'href="(/account/log\?after=[^"]+)" rel="next"', first.text).group(1)
    second = await client.get(older.replace("&amp;", "&"))
    rest = re.findall(r"group \u201c(club-\d+)\u201d", second.text)
    assert rest == [f"club-{n:02d}" for n in range(9, -1, -1)]
    assert 'data-kind="sign_in.succeeded"' in second.text  # down to the first event
    assert 'rel="next"' not in second.text and 'href="/account/log">Newest events' in second.text


async def test_every_account_page_marks_itself_in_the_navigation(client, page):
    pages = {
        "/account": "Personal info",
        "/account/security": "Signing in",
        "/account/sessions": "Device activity",
        "/account/tokens": "Issue token",
        "/account/applications": "Applications",
        "/account/log": "Security log",
    }
    for path, label in pages.items():
        html = (await client.get(path)).text
        nav = html.split('<nav class="account-nav"')[1].split("</nav>")[0]
        assert re.findall(r'href="([^"]+)" aria-current="page">([^<]+)<', nav) == [(path, label)]
        assert re.findall(r'href="([^"]+)"', nav) == list(pages)
        assert f'<h1 id="page-title">{label}</h1>' in html
