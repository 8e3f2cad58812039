"""Styled 404, 405 and 500 pages for browsers, short answers for API clients; the favicon."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from backend.app.factory import create_app
from backend.infra.config import Settings

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "cache-control": "no-store",
}


def assert_styled_page(response: httpx.Response, status_code: int, title: str) -> None:
    assert response.status_code == status_code, response.text
    assert response.headers["content-type"].startswith("text/html")
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value, name
    assert "script-src 'self'" in response.headers["content-security-policy"]
    # The site's own look: its stylesheet, icon and card, with a way back.
    assert re.search(r'<link rel="stylesheet" href="[^"]*/static/latchkey\.css"', response.text)
    assert re.search(r'<link rel="icon" href="[^"]*/static/favicon\.svg"', response.text)
    assert f"<h1>{title}</h1>" in response.text
    assert '<section class="card narrow">' in response.text
    assert 'href="/account"' in response.text


async def test_an_unknown_address_gets_a_styled_404_in_a_browser_and_plain_text_elsewhere(
    client,
):
    response = await client.get("/no/such/page", headers=BROWSER)
    assert_styled_page(response, 404, "Page not found")
    assert "There is no page at this address" in response.text

    for headers in [{}, {"Accept": "application/json"}, {"Accept": "*/*"}]:
        response = await client.get("/no/such/page", headers=headers)
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("text/plain")
        assert response.text == "Not Found"
    oauth = await client.get("/oauth/nothing-here", headers=BROWSER)
    assert oauth.status_code == 404 and oauth.text == "Not Found"
    # A missing asset stays short too: a browser asks for those with Accept */*.
    asset = await client.get("/static/missing.js", headers={"Accept": "*/*"})
    assert asset.status_code == 404 and asset.text == "Not Found"


async def test_opening_a_form_address_goes_back_to_its_page_and_oauth_keeps_plain_405(
    client,
):
    for path, page in [
        ("/account/security/password", "/account/security#change_password"),
        ("/account/details", "/account#account_details"),
        ("/login/verify", "/login"),
        ("/login/resend", "/login"),
        ("/logout", "/account"),
        ("/account/reauthenticate/send-code", "/account/reauthenticate"),
    ]:
        for headers in (BROWSER, {}):
            response = await client.get(path, headers=headers)
            assert response.status_code == 303 and response.headers["location"] == page

    token = await client.get("/oauth/token", headers=BROWSER)
    assert token.status_code == 405 and token.text == "Method Not Allowed"
    assert token.headers["allow"] == "POST"


async def test_another_wrong_method_in_a_browser_gets_a_styled_405_naming_no_form(client):
    response = await client.put("/graphql", headers=BROWSER)
    assert_styled_page(response, 405, "Not available")
    assert set(response.headers["allow"].split(", ")) == {"GET", "HEAD", "POST"}


async def _broken(request: Request) -> Response:
    raise RuntimeError("db password=hunter2 in /srv/latchkey/secret.py")


@contextlib.asynccontextmanager
async def app_with_a_broken_route(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    for path in ["/broken", "/oauth/broken", "/health/broken"]:
        app.router.routes.insert(0, Route(path, _broken, methods=["GET", "POST"]))
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http


async def test_a_bug_gets_a_styled_500_behind_a_page_and_json_or_text_on_the_api(settings):
    async with app_with_a_broken_route(settings) as http:
        response = await http.get("/broken", headers=BROWSER)
        oauth = await http.post("/oauth/broken", headers=BROWSER)
        health = await http.get("/health/broken", headers=BROWSER)
    assert_styled_page(response, 500, "Something went wrong")
    assert "The server could not answer this request" in response.text
    assert response.headers["connection"] == "close"
    assert "hunter2" not in response.text and "secret.py" not in response.text

    assert oauth.status_code == 500
    assert oauth.json() == {
        "error": "server_error",
        "error_description": "The server could not answer this request.",
    }
    assert health.status_code == 500
    assert health.headers["content-type"].startswith("text/plain")
    for response in [oauth, health]:
        assert "hunter2" not in response.text


async def test_a_500_still_answers_when_the_styled_page_cannot_be_drawn(settings, monkeypatch):
    from web import site

    def broken_template(*args: object, **kwargs: object) -> Response:
        raise RuntimeError("template missing")

    monkeypatch.setattr(site.templates(), "TemplateResponse", broken_template)
    async with app_with_a_broken_route(settings) as http:
        response = await http.get("/broken", headers=BROWSER)
    assert response.status_code == 500
    assert "The server could not answer this request" in response.text
    assert "content-security-policy" in response.headers
    assert "hunter2" not in response.text and "template missing" not in response.text


@pytest.mark.parametrize("path", ["/favicon.ico", "/static/favicon.svg"])
async def test_the_favicon_is_an_svg_served_with_its_type(client, path):
    response = await client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert response.text.startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_the_pages_link_the_favicon(client, alice):
    for path in ["/account", "/account/tokens", "/no/such/page"]:
        page = await client.get(path, headers=BROWSER)
        assert re.search(r'<link rel="icon" href="[^"]*/static/favicon\.svg"', page.text), path
    graphiql = await client.get("/graphql", headers=BROWSER)
    assert re.search(r'<link rel="icon" href="[^"]*/static/favicon\.svg"', graphiql.text)
