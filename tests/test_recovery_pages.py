"""The forgot-password pages, as a browser without JavaScript (and htmx) uses them."""

from __future__ import annotations

import re

import pytest

from backend.recovery import password_reset
from tests.conftest import settings_for, smtp_settings
from tests.helpers import PASSWORD, GraphQL, make_user
from tests.recovery_helpers import NEW_PASSWORD, VIEWER, last_mail, reset_token_in
from web.outcomes import cookie_name as outcome_cookie


@pytest.fixture
def settings(database_url, smtp):
    return settings_for(database_url, smtp=smtp_settings(smtp.port))


def csrf(page_text: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page_text).group(1)


async def ask(client, login: str, **headers: str):
    page = await client.get("/password-reset")
    response = await client.post(
        "/password-reset", data={"csrf_token": csrf(page.text), "login": login}, headers=headers
    )
    await password_reset.settle()
    return response


async def test_login_links_to_the_form_and_the_form_answers_alike(client, smtp, settings):
    await make_user(settings, "alice")
    login = await client.get("/login")
    assert 'href="/password-reset">Forgot your password?' in login.text

    refused = await client.post("/password-reset", data={"login": "alice"})
    assert refused.status_code == 403 and not smtp.messages

    known, unknown = await ask(client, "alice"), await ask(client, "nobody")
    for response in (known, unknown):
        assert response.status_code == 303
        assert response.headers["location"] == "/password-reset/sent"
    sent = await client.get("/password-reset/sent")
    assert "If an account goes by that name or address" in sent.text
    assert [m["To"] for m in smtp.messages] == ["alice@example.com"]

    htmx = await ask(client, "alice", **{"HX-Request": "true"})
    assert htmx.status_code == 204 and htmx.headers["HX-Redirect"] == "/password-reset/sent"


async def test_the_link_asks_twice_with_the_rules_of_a_change(client, new_client, smtp, settings):
    await make_user(settings, "alice")
    async with new_client() as signed_in:
        await GraphQL(signed_in).sign_in("alice")
        await ask(client, "alice")
        path = f"/password-reset/{reset_token_in(last_mail(smtp))}"
        form = await client.get(path)
        assert form.status_code == 200
        assert "At least 15 characters" in form.text and 'autocomplete="new-password"' in form.text

        fields = {"csrf_token": csrf(form.text), "new_password": "short one"}
        short = await client.post(path, data={**fields, "new_password_repeat": "short one"})
        assert short.status_code == 303 and short.headers["location"] == path
        shown = await client.get(path)
        assert 'data-error-for="newPassword"' in shown.text and "15 characters" in shown.text
        mismatch = await client.post(
            path,
            data={**fields, "new_password": NEW_PASSWORD, "new_password_repeat": PASSWORD},
        )
        shown = await client.get(mismatch.headers["location"])
        assert 'data-error-for="newPasswordConfirmation"' in shown.text

        good = {**fields, "new_password": NEW_PASSWORD, "new_password_repeat": NEW_PASSWORD}
        done = await client.post(path, data=good)
        assert done.status_code == 303 and done.headers["location"] == "/password-reset/done"
        assert "Your password was reset" in (await client.get("/password-reset/done")).text
        assert (await GraphQL(signed_in)(VIEWER))["viewer"] is None

        again = await client.post(path, data=good)
        assert again.status_code == 303 and again.headers["location"] == path
        shown = await client.get(path)
        assert 'href="/password-reset">Ask for a new link' in shown.text
    assert (await GraphQL(client).sign_in("alice", NEW_PASSWORD))["status"] == "SIGNED_IN"


async def test_without_javascript_each_outcome_is_a_page_shown_once(client, smtp, settings):
    """Post/redirect/get: the errors come back once, and nothing typed rides along."""
    await make_user(settings, "alice")
    await ask(client, "alice")
    token = reset_token_in(last_mail(smtp))
    path = f"/password-reset/{token}"
    form = await client.get(path)
    typed = "a password nobody should see again"
    posted = await client.post(
        path,
        data={
            "csrf_token": csrf(form.text),
            "new_password": typed,
            "new_password_repeat": typed + " but different",
        },
    )
    assert posted.status_code == 303 and posted.headers["location"] == path
    kept = posted.cookies.get(outcome_cookie(settings))
    assert kept and typed not in kept and token not in kept and "different" not in kept

    shown = await client.get(path)
    assert shown.status_code == 200
    assert 'data-error-for="newPasswordConfirmation"' in shown.text
    assert typed not in shown.text  # nothing typed comes back
    # Focus on the first error, not on the first field as a fresh form has it.
    assert shown.text.count("autofocus") == 1
    assert re.search(r'<input id="new-password-repeat"[^>]*autofocus', shown.text)
    again = await client.get(path)  # a reload is a clean form
    assert again.status_code == 200 and "data-error-for" not in again.text

    # A success shows once; opening its address again goes to signing in.
    good = {"csrf_token": csrf(form.text), "new_password": NEW_PASSWORD}
    done = await client.post(path, data={**good, "new_password_repeat": NEW_PASSWORD})
    assert done.status_code == 303 and done.headers["location"] == "/password-reset/done"
    assert "Your password was reset" in (await client.get("/password-reset/done")).text
    reload = await client.get("/password-reset/done")
    assert reload.status_code == 303 and reload.headers["location"] == "/login"

    # htmx keeps its direct answer.
    htmx = await client.post(
        path, data={**good, "new_password_repeat": NEW_PASSWORD}, headers={"HX-Request": "true"}
    )
    assert htmx.status_code == 422 and 'data-error-for="token"' in htmx.text


async def test_a_bad_secure_account_link_answers_with_a_page_to_open_again(client):
    path = "/secure-account/not-a-real-link"
    form = await client.get(path)
    assert form.status_code == 200
    posted = await client.post(path, data={"csrf_token": csrf(form.text)})
    assert posted.status_code == 303 and posted.headers["location"] == path
    shown = await client.get(path)
    assert 'data-error-for="token"' in shown.text
    assert 'data-error-for="token"' not in (await client.get(path)).text
    assert (await client.get("/secure-account/done")).headers["location"] == "/login"
