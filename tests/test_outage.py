"""Database outages in-process: 503 with Retry-After, never a half answer; bugs stay 500."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from tortoise.connection import get_connection

from backend.app.factory import create_app
from tests.conftest import settings_for
from tests.helpers import PASSWORD, SIGN_IN, GraphQL, issue_token, make_user, serving
from tests.live import free_port

VIEWER = {"query": "{ viewer { username } }"}
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "cache-control": "no-store",
}


@contextlib.contextmanager
def write_lock_held(path: Path | str) -> Iterator[None]:
    """Another process's write transaction on the SQLite file, held until the block ends."""
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert 1 <= int(response.headers["retry-after"]) <= 30
    assert response.headers["connection"] == "close"
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value, name
    assert "set-cookie" not in response.headers
    assert "alice" not in response.text


@pytest.fixture
def sqlite_in_folder(sqlite_template: Path, tmp_path: Path) -> Path:
    """A migrated SQLite file alone in a folder, so that the test can take the folder away."""
    folder = tmp_path / "data"
    folder.mkdir()
    shutil.copy(sqlite_template, folder / "latchkey.sqlite3")
    return folder / "latchkey.sqlite3"


async def test_sqlite_file_gone_answers_503_everywhere_then_recovers(sqlite_in_folder, tmp_path):
    settings = settings_for(f"sqlite://{sqlite_in_folder}")
    async with serving(settings) as client:
        await make_user(settings, "alice")
        variables = {"username": "alice", "password": PASSWORD}
        signed_in = await client.post("/graphql", json={"query": SIGN_IN, "variables": variables})
        assert signed_in.json()["data"]["signIn"]["status"] == "SIGNED_IN"
        refresh_token = (await issue_token(GraphQL(client)))["secret"]
        # The file becomes unreachable, as when its volume goes away: the next query has to
        # open it again and cannot.
        await get_connection("default").close()
        sqlite_in_folder.parent.rename(tmp_path / "elsewhere")
        async with asyncio.timeout(30):  # a connection lock lost on the way would hang forever
            await _outage_then_recovery(client, refresh_token, sqlite_in_folder, tmp_path)


async def _outage_then_recovery(
    client: httpx.AsyncClient, refresh_token: str, database: Path, tmp_path: Path
) -> None:
    viewer = await client.post("/graphql", json=VIEWER)
    assert_unavailable(viewer)
    assert viewer.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    exchange = await client.post(
        "/oauth/token", data={"grant_type": "refresh_token", "refresh_token": refresh_token}
    )
    assert_unavailable(exchange)
    assert exchange.json()["error"] == "temporarily_unavailable"
    page = await client.get("/account")
    assert_unavailable(page)
    assert page.headers["content-type"].startswith("text/html")
    assert "content-security-policy" in page.headers
    assert_unavailable(await client.get("/health"))
    assert (await client.get("/health/live")).status_code == 200

    (tmp_path / "elsewhere").rename(database.parent)

    viewer = await client.post("/graphql", json=VIEWER)
    assert viewer.json()["data"]["viewer"] == {"username": "alice"}
    assert (await client.get("/health")).status_code == 200


async def test_the_outage_log_names_a_mailed_link_without_its_token(
    sqlite_in_folder, tmp_path, caplog
):
    token = "a-reset-token-from-a-mail-0123456789abcdef"
    async with serving(settings_for(f"sqlite://{sqlite_in_folder}")) as client:
        await get_connection("default").close()
        sqlite_in_folder.parent.rename(tmp_path / "elsewhere")
        with caplog.at_level(logging.WARNING, "latchkey.server"):
            # A browser with a session: its lookup meets the outage.
            client.cookies["latchkey_session"] = "a-session"
            assert_unavailable(await client.get(f"/password-reset/{token}"))
        (tmp_path / "elsewhere").rename(sqlite_in_folder.parent)
    assert [r.path for r in caplog.records if r.name == "latchkey.server"] == ["/password-reset/…"]
    assert token not in caplog.text


async def test_sqlite_locked_past_the_busy_timeout_answers_503_not_a_masked_error(
    sqlite_in_folder,
):
    settings = settings_for(f"sqlite://{sqlite_in_folder}?busy_timeout=200")
    async with serving(settings) as client:
        await make_user(settings, "alice")
        variables = {"username": "alice", "password": PASSWORD}
        sign_in = {"query": SIGN_IN, "variables": variables}
        # Another process holds the write lock for longer than Latchkey waits.
        with write_lock_held(sqlite_in_folder):
            assert_unavailable(await client.post("/graphql", json=sign_in))
        signed_in = await client.post("/graphql", json=sign_in)
        assert signed_in.json()["data"]["signIn"]["status"] == "SIGNED_IN"


async def _query_a_missing_table(request: Request) -> PlainTextResponse:
    await get_connection("default").execute_query("SELECT secret_column FROM no_such_table")
    return PlainTextResponse("unreachable")


async def _call_a_service_that_is_down(request: Request) -> PlainTextResponse:
    # Not the database: some other service refusing connections is no reason for a 503.
    await asyncio.open_connection("127.0.0.1", free_port())
    return PlainTextResponse("unreachable")


@pytest.mark.parametrize("endpoint", [_query_a_missing_table, _call_a_service_that_is_down])
async def test_an_error_that_is_not_an_outage_answers_500_without_detail(settings, endpoint):
    app = create_app(settings)
    app.router.routes.insert(0, Route("/broken", endpoint))
    async with LifespanManager(app) as manager:
        # The server logs the error; the client must get the answer, not the exception.
        transport = httpx.ASGITransport(app=manager.app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            response = await client.get("/broken")
            assert (await client.get("/health")).status_code == 200
    assert response.status_code == 500
    assert response.headers["connection"] == "close"
    assert "retry-after" not in response.headers
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value, name
    assert "no_such_table" not in response.text and "secret_column" not in response.text


async def test_sqlite_requests_queued_behind_a_held_lock_answer_503_in_bounded_time(
    sqlite_in_folder,
):
    # Every query takes turns on the one connection; each waits out the lock in its turn.
    statement_seconds, acquire_seconds = 1, 1
    settings = settings_for(
        f"sqlite://{sqlite_in_folder}",
        database_statement_seconds=statement_seconds,
        database_acquire_seconds=acquire_seconds,
    )
    async with serving(settings) as client:
        await make_user(settings, "alice")
        variables = {"username": "alice", "password": PASSWORD}
        sign_in = {"query": SIGN_IN, "variables": variables}
        with write_lock_held(sqlite_in_folder):
            # Hang detection, not a measure of speed: each request's longest wait, and room.
            async with asyncio.timeout(statement_seconds + acquire_seconds + 4):
                answers = await asyncio.gather(
                    *(client.post("/graphql", json=sign_in) for _ in range(12))
                )
            for answer in answers:
                assert_unavailable(answer)
        signed_in = await client.post("/graphql", json=sign_in)
        assert signed_in.json()["data"]["signIn"]["status"] == "SIGNED_IN"
        assert (await client.get("/health")).status_code == 200
