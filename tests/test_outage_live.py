"""A PostgreSQL outage under `latchkey serve`: 503 while it lasts, recovery without restart."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from backend.infra.database import apply_migrations
from tests.cli_helpers import create_user
from tests.conftest import settings_for
from tests.helpers import ISSUE_TOKEN, PASSWORD, SIGN_IN, days_ahead
from tests.live import live_server
from tests.postgres_server import PostgresServer, postgres_server

VIEWER = {"query": "{ viewer { username } }"}


@pytest.fixture
def outage_rig() -> Iterator[tuple[PostgresServer, str]]:
    with postgres_server() as database:
        asyncio.run(apply_migrations(database.url))
        settings = settings_for(database.url)
        create_user(settings)
        with live_server(settings) as url:
            yield database, url


def _signed_in(url: str) -> httpx.Client:
    browser = httpx.Client(base_url=url, timeout=10)
    variables = {"username": "alice", "password": PASSWORD}
    answer = browser.post("/graphql", json={"query": SIGN_IN, "variables": variables})
    assert answer.json()["data"]["signIn"]["status"] == "SIGNED_IN"
    return browser


def _refresh_token(browser: httpx.Client) -> str:
    variables = {"name": "script", "expiresAt": days_ahead(30), "password": PASSWORD}
    answer = browser.post("/graphql", json={"query": ISSUE_TOKEN, "variables": variables})
    return answer.json()["data"]["issueToken"]["secret"]


def _exchange(url: str, refresh_token: str) -> httpx.Response:
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    return httpx.post(f"{url}/oauth/token", data=form, timeout=10)


def _assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert 1 <= int(response.headers["retry-after"]) <= 30
    assert response.headers["connection"] == "close"
    assert "alice" not in response.text


def _eventually(check: Callable[[], bool], seconds: float = 15) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return check()


def test_postgres_outage_answers_503_and_recovers_without_restart(outage_rig):
    database, url = outage_rig
    browser = _signed_in(url)
    refresh_token = _refresh_token(browser)
    assert browser.post("/graphql", json=VIEWER).json()["data"]["viewer"]["username"] == "alice"
    access_token = _exchange(url, refresh_token).json()["access_token"]
    bearer = {"Authorization": f"Bearer {access_token}"}

    database.stop()

    viewer = browser.post("/graphql", json=VIEWER)
    _assert_unavailable(viewer)
    assert viewer.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    # The same client, so the same keep-alive pool: the closed connection was not reused.
    assert browser.get("/health/live").status_code == 200
    _assert_unavailable(httpx.post(f"{url}/graphql", json=VIEWER, headers=bearer, timeout=10))
    # Anonymous: the failure happens inside the resolver, where Strawberry would answer 200.
    variables = {"username": "alice", "password": PASSWORD}
    _assert_unavailable(
        httpx.post(f"{url}/graphql", json={"query": SIGN_IN, "variables": variables}, timeout=10)
    )
    exchanged = _exchange(url, refresh_token)
    _assert_unavailable(exchanged)
    assert exchanged.json()["error"] == "temporarily_unavailable"
    page = browser.get("/account")
    _assert_unavailable(page)
    assert page.headers["content-type"].startswith("text/html")
    assert httpx.get(f"{url}/health", timeout=10).status_code == 503
    assert httpx.get(f"{url}/health/live", timeout=10).status_code == 200
    assert httpx.get(f"{url}/health/ready", timeout=10).status_code == 503
    assert httpx.get(f"{url}/health/started", timeout=10).status_code == 200

    database.start()

    def recovered() -> bool:
        answer = browser.post("/graphql", json=VIEWER)
        return answer.status_code == 200 and answer.json()["data"]["viewer"] is not None

    assert _eventually(recovered)
    assert browser.post("/graphql", json=VIEWER).json()["data"]["viewer"]["username"] == "alice"
    assert _exchange(url, refresh_token).status_code == 200
    viewer = httpx.post(f"{url}/graphql", json=VIEWER, headers=bearer, timeout=10)
    assert viewer.json()["data"]["viewer"]["username"] == "alice"
    assert httpx.get(f"{url}/health", timeout=10).status_code == 200
    assert httpx.get(f"{url}/health/ready", timeout=10).status_code == 200
