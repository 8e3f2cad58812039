"""The benchmark's seeding and baselines: what `make bench` measures must really work.

Seeded accounts must sign in, their tokens must answer the viewer query and the exchange
in the product, and the hand-written baselines must answer the same and stay hand-written.
"""

from __future__ import annotations

import ast
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager

from backend.app.factory import create_app
from backend.audit.models import SecurityEvent
from bench import baseline, seed
from bench.__main__ import SIGN_IN, VIEWER_QUERY
from bench.drive import Measurement
from tests.conftest import settings_for

SHAPE = seed.Shape(users=5, measured=3, tokens_per_user=2, events=12)


@contextlib.asynccontextmanager
async def _serving(app: object) -> AsyncIterator[httpx.AsyncClient]:
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


async def _viewer(client: httpx.AsyncClient, access_token: str) -> dict:
    answer = await client.post(
        "/graphql",
        json={"query": VIEWER_QUERY},
        headers={"Authorization": f"Bearer {access_token}"},
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["data"]["viewer"]


async def _exchange(client: httpx.AsyncClient, refresh_token: str) -> httpx.Response:
    return await client.post(
        "/oauth/token", data={"grant_type": "refresh_token", "refresh_token": refresh_token}
    )


async def test_seeded_accounts_sign_in_and_their_tokens_work(database_url: str) -> None:
    accounts = await seed.seed(database_url, SHAPE)
    assert [a.username for a in accounts] == ["bench1", "bench2", "bench3"]
    secrets = [{a.access_token, a.refresh_token, a.session} for a in accounts]
    assert len(set().union(*secrets)) == 9

    async with _serving(create_app(settings_for(database_url))) as client:
        assert await SecurityEvent.all().count() == SHAPE.events
        for account in accounts:
            viewer = await _viewer(client, account.access_token)
            assert viewer["username"] == account.username
            assert viewer["email"] == f"{account.username}@example.com"
            assert len(viewer["tokens"]) == SHAPE.tokens_per_user
            exchanged = await _exchange(client, account.refresh_token)
            assert exchanged.status_code == 200, exchanged.text
            assert (await _viewer(client, exchanged.json()["access_token"]))["username"] == (
                account.username
            )
            # A proxy's sub-request with the seeded session, and with the access token.
            for headers in (
                {"Cookie": f"latchkey_session={account.session}"},
                {"Authorization": f"Bearer {account.access_token}"},
            ):
                forwarded = await client.get("/auth/forward", headers=headers)
                assert forwarded.headers.get("x-latchkey-user") == account.username
        # Measured and filler accounts alike have the benchmark's password.
        for username in ("bench2", "user5"):
            answer = await client.post(
                "/graphql",
                json={"query": SIGN_IN, "variables": {"u": username, "p": seed.PASSWORD}},
            )
            assert answer.json()["data"]["signIn"]["status"] == "SIGNED_IN", answer.text
        assert await SecurityEvent.all().count() > SHAPE.events  # new ids after the seeded


async def test_the_baselines_answer_like_the_product(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    accounts = await seed.seed(database_url, SHAPE)
    monkeypatch.setenv("LATCHKEY_DATABASE_URL", database_url)
    async with _serving(baseline.create_app()) as client:
        by_hand = await _viewer(client, accounts[0].access_token)
        minted = await _exchange(client, accounts[1].refresh_token)
        assert minted.status_code == 200, minted.text
        token = accounts[1].refresh_token
        # Another last character (one token in 62 ends with "x" already).
        refused = await _exchange(client, token[:-1] + ("y" if token.endswith("x") else "x"))
        assert refused.status_code == 400
        assert refused.json()["error"] == "invalid_grant"
        wrong = await client.post(
            "/graphql", json={"query": VIEWER_QUERY}, headers={"Authorization": "Bearer x"}
        )
        assert wrong.status_code == 401

    async with _serving(create_app(settings_for(database_url))) as client:
        assert await _viewer(client, accounts[0].access_token) == by_hand
        # The baseline minted a real access token: the product accepts it.
        viewer = await _viewer(client, minted.json()["access_token"])
        assert viewer["username"] == accounts[1].username


def test_the_baseline_does_its_own_work() -> None:
    """Only the models and the database wiring: a faster product must not speed it up."""
    tree = ast.parse(Path(baseline.__file__).read_text())
    imported = {
        node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("backend")
    }
    imported |= {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
        if alias.name.startswith("backend")
    }
    assert imported == {"backend.infra.database", "backend.tokens.models"}


def test_turns_combine_into_one_measurement() -> None:
    turns = [Measurement(60, 2.0, 100.0, 150.0), Measurement(40, 2.0, 120.0, 300.0)]
    turns.append(Measurement(70, 2.0, 90.0, 140.0))
    combined = Measurement.combined(turns)
    # Every request over all the time; the middle turn's median and tail.
    assert combined.per_second == 170 / 6.0
    assert (combined.p50_ms, combined.p99_ms) == (100.0, 150.0)
