"""The Issue token page with scopes, regeneration, reminders' links and activity, without JS."""

from __future__ import annotations

import re

import pytest

from backend.tokens.models import RefreshToken
from tests.conftest import settings_for, smtp_settings
from tests.helpers import (
    PASSWORD,
    exchange,
    make_user,
    reauthenticate,
    send_reauthentication_code,
    sent_to_reauthenticate,
    submit,
)
from tests.test_pages import sign_in
from tests.test_token_scopes import PLATFORM
from tests.test_tokens_pages import csrf
from tests.twofactor_helpers import CONFIRM_CODES, START_CODES, code_in

SECRET = re.compile(r'id="new-token-secret">(lk_rt_[0-9A-Za-z]{38})<')


@pytest.fixture
def settings(database_url, smtp):
    return settings_for(database_url, scopes=PLATFORM, smtp=smtp_settings(smtp.port))


@pytest.fixture
async def page(client, settings):
    await make_user(settings, "alice")
    await sign_in(client)
    return client


async def issue(client, name: str, expiry: str, scopes: list[str]):
    shown = await client.get("/account/tokens")
    form = {"csrf_token": csrf(shown.text), "name": name, "expiry": expiry}
    form.update(scopes_offered="1", scopes=scopes)
    # A refusal comes back through the page (303), a new secret is shown directly.
    return await client.post("/account/tokens", data=form, follow_redirects=True)


def row(page_text: str, token_id: int) -> str:
    start = page_text.index(f'data-token-id="{token_id}"')
    return page_text[start : page_text.index("</tr>", start)]


async def test_the_issue_form_offers_every_scope_with_its_description(page):
    shown = await page.get("/account/tokens")
    assert shown.text.count('name="scopes"') == 2 * 4  # the token form and the credentials form
    assert "Run ITA jobs" in shown.text and "account:write" in shown.text
    # The default is ticked beforehand.
    assert re.search(r'value="account:read" checked', shown.text)
    assert not re.search(r'value="ita:write" checked', shown.text)


async def test_a_token_with_two_scopes_is_listed_with_them(page):
    issued = await issue(page, "ita sync", "30", ["account:read", "ita:write"])
    assert SECRET.search(issued.text)
    token = await RefreshToken.get(name="ita sync")
    listed = row((await page.get("/account/tokens")).text, token.id)
    assert '<code class="scope">account:read</code>' in listed
    assert '<code class="scope">ita:write</code>' in listed
    assert "ita:read" not in listed


async def test_no_scope_ticked_is_refused_with_the_reason(page):
    refused = await issue(page, "nothing", "30", [])
    assert [answer.status_code for answer in refused.history] == [303]
    assert "Choose at least one scope." in refused.text
    assert not await RefreshToken.exists()


async def test_regenerate_shows_the_new_secret_once_and_the_overlap(page):
    first = SECRET.search((await issue(page, "deploy", "30", ["account:read"])).text)[1]
    token = await RefreshToken.get(name="deploy")
    opened = await page.get(f"/account/tokens?regenerate={token.id}")
    assert f'action="/account/tokens/{token.id}/regenerate"' in opened.text
    form = {"csrf_token": csrf(opened.text), "expiry": "60"}
    done = await submit(page, f"/account/tokens/{token.id}/regenerate", data=form)
    second = SECRET.search(done.text)[1]
    assert second != first and "The previous secret keeps working until" in done.text
    listed = (await page.get("/account/tokens")).text
    assert second not in listed and "Previous secret works until" in row(listed, token.id)
    assert (await exchange(page, first)).status_code == 200
    assert (await exchange(page, second)).status_code == 200


async def test_tokens_expiring_within_a_week_stand_out_and_activity_is_shown(page):
    await issue(page, "soon", "7", ["account:read"])
    busy = SECRET.search((await issue(page, "busy", "30", ["account:read"])).text)[1]
    for _ in range(2):
        assert (await exchange(page, busy)).status_code == 200
    listed = (await page.get("/account/tokens")).text
    soon = row(listed, (await RefreshToken.get(name="soon")).id)
    later = row(listed, (await RefreshToken.get(name="busy")).id)
    assert 'class="expiring-soon"' in soon and "Expires soon" in soon
    assert "Expires soon" not in later
    assert "2 exchanges in the last 30 days" in later and "from 203.0.113.7" in later
    assert "0 exchanges in the last 30 days" in soon


async def test_api_credentials_are_generated_with_the_scopes_ticked(page):
    shown = await page.get("/account/tokens")
    form = {"csrf_token": csrf(shown.text), "scopes_offered": "1", "scopes": ["ita:read"]}
    generated = await submit(page, "/account/tokens/credentials", data=form)
    assert "lk_cs_" in generated.text
    listed = (await page.get("/account/tokens")).text
    details = listed[listed.index('id="api_credentials"') :]
    assert '<dd data-field="scopes"><code class="scope">ita:read</code>' in details
    assert re.search(r'value="ita:read" checked', details)  # regenerating keeps them ticked


async def test_an_email_user_regenerates_a_token_after_confirming_it_is_them(page, gql, smtp):
    await issue(page, "deploy", "30", ["account:read"])
    token = await RefreshToken.get(name="deploy")
    await gql(START_CODES, {"m": "EMAIL", "p": PASSWORD})
    await gql(CONFIRM_CODES, {"c": code_in(smtp.text(smtp.messages[-1]))})
    opened = await page.get(f"/account/tokens?regenerate={token.id}")
    assert 'id="regenerate-form"' in opened.text and 'name="otp"' not in opened.text
    form = {"csrf_token": csrf(opened.text), "expiry": "90"}
    asked = await submit(page, f"/account/tokens/{token.id}/regenerate", data=form)
    assert sent_to_reauthenticate(asked, "/account/tokens")
    await send_reauthentication_code(page, "/account/tokens")
    await reauthenticate(page, "/account/tokens", code=code_in(smtp.text(smtp.messages[-1])))
    done = await submit(page, f"/account/tokens/{token.id}/regenerate", data=form)
    assert SECRET.search(done.text)
