"""The forgot-password pages, as a browser without JavaScript (and htmx) uses them."""

from __future__ import annotations

import re

import pytest

from backend.recovery import password_reset
from tests.conftest import settings_for, smtp_settings
from tests.helpers import PASSWORD, GraphQL, make_user
from tests.recovery_helpers import NEW_PASSWORD, VIEWER, last_mail, reset_token_in


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
        assert short.status_code == 422
        assert 'data-error-for="newPassword"' in short.text and "15 characters" in short.text
        mismatch = await client.post(
            path,
            data={**fields, "new_password": NEW_PASSWORD, "new_password_repeat": PASSWORD},
        )
        assert 'data-error-for="newPasswordConfirmation"' in mismatch.text

        good = {**fields, "new_password": NEW_PASSWORD, "new_password_repeat": NEW_PASSWORD}
        done = await client.post(path, data=good)
        assert done.status_code == 303 and done.headers["location"] == "/password-reset/done"
        assert "Your password was reset" in (await client.get("/password-reset/done")).text
        assert (await GraphQL(signed_in)(VIEWER))["viewer"] is None

        again = await client.post(path, data=good)
        assert (
            again.status_code == 422 and 'href="/password-reset">Ask for a new link' in again.text
        )
    assert (await GraphQL(client).sign_in("alice", NEW_PASSWORD))["status"] == "SIGNED_IN"
