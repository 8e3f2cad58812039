"""nginx (`auth_request`) and Caddy (`forward_auth`), configured as the manual shows, protect an
application with Latchkey: what reaches the application, what a browser without a session is
sent to, and that a revoked token, an ended session or a missing group stops at the next
request."""

from __future__ import annotations

import base64
import contextlib
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from backend.infra.config import Settings
from tests.cli_helpers import create_user
from tests.conftest import IN_CI, settings_for
from tests.forward_proxies import (
    CADDY_PROTECTION,
    HAVE_CADDY,
    HAVE_NGINX,
    NGINX_PROTECTION,
    caddy_in_front,
    echo_application,
    nginx_in_front,
)
from tests.helpers import ISSUE_TOKEN, PASSWORD, SIGN_IN, days_ahead
from tests.live import live_server
from tests.test_cli import latchkey

MANUAL = Path(__file__).resolve().parents[1] / "docs" / "operations" / "forward-auth.md"
DELETE = "mutation($id: ID!) { deleteToken(input: {id: $id}) { userErrors { code } } }"
SIGN_OUT = "mutation { signOut { userErrors { code } } }"
PROXIES = {"nginx": (HAVE_NGINX, nginx_in_front), "caddy": (HAVE_CADDY, caddy_in_front)}


@dataclass
class Stack:
    """Latchkey, the application, and the proxy in front of it; alice exists."""

    latchkey: str
    proxy: str
    settings: Settings

    def signed_in(self) -> httpx.Client:
        """alice's browser, signed in at Latchkey."""
        browser = httpx.Client(base_url=self.latchkey)
        answer = browser.post(
            "/graphql",
            json={"query": SIGN_IN, "variables": {"username": "alice", "password": PASSWORD}},
        )
        assert answer.json()["data"]["signIn"]["status"] == "SIGNED_IN"
        return browser

    def through(self, path: str = "/", **options) -> httpx.Response:
        return httpx.request(
            options.pop("method", "GET"), f"{self.proxy}{path}", timeout=10, **options
        )

    def seen(self, path: str = "/", **options) -> dict:
        """What the application received."""
        answer = self.through(path, **options)
        assert answer.status_code == 200, (answer.status_code, answer.text[:300])
        return answer.json()


@pytest.fixture(params=list(PROXIES))
def stack(request, sqlite_template, tmp_path) -> Iterator[Stack]:
    installed, in_front = PROXIES[request.param]
    if not installed:
        if IN_CI:
            pytest.fail(f"{request.param} is missing: .ci/run installs nginx and caddy")
        pytest.skip(f"apt-get install {request.param}")
    path = tmp_path / "forward.sqlite3"
    shutil.copy(sqlite_template, path)
    settings = settings_for(f"sqlite://{path}")
    create_user(settings)
    for command in (("group", "create", "staff"), ("group", "create", "admins")):
        assert latchkey(settings, *command).returncode == 0
    with contextlib.ExitStack() as running:
        url = running.enter_context(live_server(settings, LATCHKEY_TRUSTED_PROXIES="127.0.0.1"))
        app = running.enter_context(echo_application())
        proxy = running.enter_context(in_front(url, app))
        yield Stack(url, proxy.url, settings)


def cookie_of(browser: httpx.Client) -> dict[str, str]:
    return {"Cookie": f"latchkey_session={browser.cookies['latchkey_session']}"}


def refresh_token(browser: httpx.Client) -> tuple[str, str]:
    variables = {"name": "proxy", "expiresAt": days_ahead(30), "password": PASSWORD}
    issued = browser.post("/graphql", json={"query": ISSUE_TOKEN, "variables": variables})
    token = issued.json()["data"]["issueToken"]
    return token["token"]["id"], token["secret"]


def access_token(browser: httpx.Client, refresh: str) -> str:
    form = {"grant_type": "refresh_token", "refresh_token": refresh}
    return browser.post("/oauth/token", data=form).json()["access_token"]


def basic(username: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{username}:{secret}".encode()).decode()}


def test_the_application_is_told_who_came_by_session_bearer_token_or_basic(stack):
    browser = stack.signed_in()
    _, refresh = refresh_token(browser)
    access = access_token(browser, refresh)
    for headers, kind in (
        (cookie_of(browser), "session"),
        ({"Authorization": f"Bearer {access}"}, "bearer"),
        (basic("alice", refresh), "basic"),
    ):
        seen = stack.seen("/reports?year=2025", headers=headers)["headers"]
        assert seen["x-latchkey-user"] == "alice", kind
        assert seen["x-latchkey-auth"] == kind
        assert seen["x-latchkey-email"] == "alice@example.com"
        assert seen["x-latchkey-account-type"] == "USER"
        assert seen["x-latchkey-user-id"].isdigit()
        assert seen.get("x-latchkey-scopes", "") == ("" if kind == "session" else "account:read")


def test_a_post_reaches_the_application_with_its_body(stack):
    browser = stack.signed_in()
    seen = stack.seen("/orders", method="POST", headers=cookie_of(browser), content=b"a=1")
    assert (seen["method"], seen["path"], seen["body"]) == ("POST", "/orders", "a=1")
    assert seen["headers"]["x-latchkey-user"] == "alice"


def test_a_clients_own_x_latchkey_headers_never_reach_the_application(stack):
    browser = stack.signed_in()
    forged = {
        "X-Latchkey-User": "mallory",
        "X-Latchkey-Groups": "admins",
        "X-Latchkey-Scopes": "orders:write",
    }
    seen = stack.seen("/", headers={**cookie_of(browser), **forged})["headers"]
    assert seen["x-latchkey-user"] == "alice"
    assert seen.get("x-latchkey-groups", "") == ""
    assert seen.get("x-latchkey-scopes", "") == ""
    # Without credentials the forged ones do not get in either.
    assert stack.through("/", headers=forged).status_code == 302


def test_a_browser_without_a_session_is_sent_to_sign_in_and_back(stack):
    answer = stack.through("/reports?year=2025&q=a%20b")
    assert answer.status_code == 302
    target = urlsplit(answer.headers["location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == f"{stack.latchkey}/login"
    assert parse_qs(target.query) == {"next": [f"{stack.proxy}/reports?year=2025&q=a%20b"]}


def test_a_password_in_basic_does_not_get_through(stack):
    answer = stack.through("/", headers=basic("alice", PASSWORD))
    assert answer.status_code == 302 and "/login" in answer.headers["location"]


def test_a_deleted_token_and_a_signed_out_session_stop_at_the_next_request(stack):
    browser = stack.signed_in()
    token_id, refresh = refresh_token(browser)
    access = access_token(browser, refresh)
    bearer = {"Authorization": f"Bearer {access}"}
    session = cookie_of(browser)
    for headers in (bearer, basic("alice", refresh), session):
        assert stack.through("/", headers=headers).status_code == 200
    deleted = browser.post("/graphql", json={"query": DELETE, "variables": {"id": token_id}})
    assert deleted.json()["data"]["deleteToken"]["userErrors"] == []
    assert stack.through("/", headers=bearer).status_code == 302
    assert stack.through("/", headers=basic("alice", refresh)).status_code == 302
    assert stack.through("/", headers=session).status_code == 200
    assert browser.post("/graphql", json={"query": SIGN_OUT}).status_code == 200
    assert stack.through("/", headers=session).status_code == 302


def test_a_group_requirement_answers_403_until_the_user_joins_and_after_they_leave(stack):
    session = cookie_of(stack.signed_in())
    assert stack.through("/staff/board", headers=session).status_code == 403
    # The client's own ?group= does not loosen the location's requirement.
    assert stack.through("/staff/board?group=admins", headers=session).status_code == 403
    assert latchkey(stack.settings, "group", "add-member", "staff", "alice").returncode == 0
    seen = stack.seen("/staff/board", headers=session)["headers"]
    assert seen["x-latchkey-groups"] == "staff"
    assert latchkey(stack.settings, "group", "remove-member", "staff", "alice").returncode == 0
    assert stack.through("/staff/board", headers=session).status_code == 403
    assert stack.through("/staff/board").status_code == 302  # nobody: sign in first


def _code_blocks(language: str) -> list[str]:
    text = MANUAL.read_text()
    return [block.split("```", 1)[0] for block in text.split(f"```{language}\n")[1:]]


def _directives(config: str) -> list[str]:
    lines = (line.strip() for line in config.splitlines())
    return [line.split()[0] for line in lines if line and not line.startswith("#")]


@pytest.mark.parametrize(
    ("language", "tested"), [("nginx", NGINX_PROTECTION), ("caddyfile", CADDY_PROTECTION)]
)
def test_the_manual_shows_the_configurations_these_tests_run(language, tested):
    """docs/operations/forward-auth.md: the same directives in the same order, values aside."""
    shown = [_directives(block) for block in _code_blocks(language)]
    assert _directives(tested.replace("{site}", "app.example.com")) in shown
