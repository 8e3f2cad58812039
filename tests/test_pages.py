"""The HTML pages: sign-in form, account page, CSRF, and htmx answers."""

from __future__ import annotations

import re

import httpx

from backend.accounts.models import User
from tests.helpers import PASSWORD, make_user


async def login_form(client: httpx.AsyncClient) -> str:
    response = await client.get("/login")
    assert response.status_code == 200
    return re.search(r'name="csrf_token" value="([^"]+)"', response.text).group(1)


async def sign_in(client, username="alice", password=PASSWORD, **headers) -> httpx.Response:
    token = await login_form(client)
    return await client.post(
        "/login",
        data={"csrf_token": token, "username": username, "password": password},
        headers=headers,
    )


async def test_account_redirects_to_login_when_signed_out(client):
    response = await client.get("/account")
    assert response.status_code == 303 and response.headers["location"] == "/login"


async def test_sign_in_form_leads_to_the_account_page(client, settings):
    await make_user(settings, "alice")
    response = await sign_in(client)
    assert response.status_code == 303 and response.headers["location"] == "/account"
    page = await client.get("/account")
    assert page.status_code == 200
    assert 'data-field="username">alice<' in page.text
    assert "Account management" in page.text and "Issue token" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"


async def test_a_wrong_password_shows_the_form_again_with_a_message(client, settings):
    await make_user(settings, "alice")
    posted = await sign_in(client, password="wrong wrong wrong")
    assert posted.status_code == 303 and posted.headers["location"] == "/login"
    assert "wrong wrong wrong" not in posted.headers["set-cookie"]
    response = await client.get("/login")
    assert "Wrong username or password." in response.text
    assert 'value="alice"' in response.text  # the username is kept, the password is not
    assert "wrong wrong wrong" not in response.text
    assert "Wrong username" not in (await client.get("/login")).text  # shown once


async def test_htmx_sign_in_is_told_where_to_go(client, settings):
    await make_user(settings, "alice")
    response = await sign_in(client, **{"HX-Request": "true"})
    assert response.status_code == 204 and response.headers["hx-redirect"] == "/account"


async def test_forms_without_the_csrf_token_are_refused(client, settings):
    await make_user(settings, "alice")
    await login_form(client)  # has the cookie, but the form does not carry the token
    response = await client.post("/login", data={"username": "alice", "password": PASSWORD})
    assert response.status_code == 403
    assert "latchkey_session" not in client.cookies


async def test_cross_site_posts_are_refused_even_with_a_token(client, settings):
    await make_user(settings, "alice")
    response = await sign_in(client, **{"Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 403
    response = await sign_in(client, Origin="https://evil.example")
    assert response.status_code == 403


async def test_the_htmx_header_token_is_accepted(client, settings):
    await make_user(settings, "alice")
    token = await login_form(client)
    response = await client.post(
        "/login",
        data={"username": "alice", "password": PASSWORD},
        headers={"X-CSRF-Token": token, "HX-Request": "true"},
    )
    assert response.status_code == 204


async def test_sign_out_from_the_page_ends_the_session(client, settings):
    await make_user(settings, "alice")
    await sign_in(client)
    page = await client.get("/account")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    response = await client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert (await client.get("/account")).status_code == 303


async def test_account_details_are_escaped(client, settings):
    user = await make_user(settings, "alice")
    await User.filter(id=user.id).update(first_name="<script>alert(1)</script>")
    await sign_in(client)
    page = await client.get("/account")
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


async def test_times_on_the_page_are_in_the_viewer_time_zone(client, settings):
    user = await make_user(settings, "alice")
    await User.filter(id=user.id).update(time_zone="Asia/Tokyo")
    await sign_in(client)
    page = await client.get("/account")
    # English dates as Babel writes them for the locale, e.g. "Nov 24, 2026, 10:21 AM JST".
    shown = r'data-field="createdAt">\w{3} \d\d?, \d{4}, \d\d?:\d\d\s[AP]M JST<'
    assert re.search(shown, page.text)


async def test_htmx_is_served_from_our_origin(client):
    response = await client.get("/static/vendor/htmx.min.js")
    assert response.status_code == 200
    assert "htmx" in response.text[:2000]


async def test_pages_carry_the_security_headers_and_no_hsts_over_http(client, settings):
    await make_user(settings, "alice")
    await sign_in(client)
    page = await client.get("/account")
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "same-origin"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert "strict-transport-security" not in page.headers


async def test_other_origins_get_no_cors_permission(client):
    preflight = await client.options(
        "/graphql",
        headers={
            "Origin": "https://evil.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert "access-control-allow-origin" not in preflight.headers
    posted = await client.post(
        "/graphql",
        json={"query": "{ viewer { username } }"},
        headers={"Origin": "https://evil.example"},
    )
    assert "access-control-allow-origin" not in posted.headers


async def test_a_page_request_looks_up_its_session_once(client, settings, caplog):
    """The edge finds who is asking; the page and its operations do not look again."""
    await make_user(settings, "alice")
    await sign_in(client)
    page = await client.get("/account/reauthenticate")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    caplog.set_level("DEBUG", logger="tortoise.db_client")
    caplog.clear()
    # A wrong password, answered with the page itself (htmx): the heaviest page answer.
    answer = await client.post(
        "/account/reauthenticate",
        data={"csrf_token": token, "password": "wrong wrong wrong", "next": "/account"},
        headers={"HX-Request": "true"},
    )
    assert answer.status_code == 422
    lookups = [
        record
        for record in caplog.records
        if re.search(r'FROM "sessions" .*WHERE "sessions"."token_hash"=', record.getMessage(), re.S)
    ]
    assert len(lookups) == 1
