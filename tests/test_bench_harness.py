"""The benchmark's seeding and baselines: what `make bench` measures must really work.

Seeded accounts must sign in, their tokens must answer the viewer query and the exchange
in the product, and the hand-written baselines must answer the same and stay hand-written.
"""

from __future__ import annotations

import ast
import base64
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager

from backend.app.factory import create_app
from backend.audit.models import SecurityEvent
from bench import baselines, seed
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
    async with _serving(baselines.create_app()) as client:
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


async def _forward(client: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, str]:
    answer = await client.get("/auth/forward", headers=headers)
    assert answer.status_code == 200, answer.text
    return {k: v for k, v in answer.headers.items() if k.startswith("x-latchkey-")}


def _basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


async def _introspect(
    client: httpx.AsyncClient, made: seed.Applications, token: str
) -> httpx.Response:
    return await client.post(
        "/oauth/introspect",
        data={"token": token},
        headers=_basic(made.service_client_id, made.service_secret),
    )


async def _exchange_code(
    client: httpx.AsyncClient, made: seed.Applications, code: seed.Code
) -> httpx.Response:
    form = {
        "grant_type": "authorization_code",
        "code": code.code,
        "redirect_uri": seed.REDIRECT_URI,
        "code_verifier": code.verifier,
    }
    return await client.post(
        "/oauth/token", data=form, headers=_basic(made.oidc_client_id, made.oidc_secret)
    )


async def _sign_in(client: httpx.AsyncClient, username: str) -> httpx.Response:
    return await client.post(
        "/graphql", json={"query": SIGN_IN, "variables": {"u": username, "p": seed.PASSWORD}}
    )


async def test_the_new_baselines_answer_like_the_product(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Forward auth, introspection, the code exchange and signIn, by hand and in the product."""
    from joserfc import jwt
    from joserfc.jwk import KeySet

    settings = settings_for(database_url)
    accounts = await seed.seed(database_url, SHAPE)
    made = await seed.applications(database_url, settings.secret_key)
    codes = await seed.codes(database_url, accounts, 2 * len(accounts))
    account = accounts[0]
    session = {"Cookie": f"latchkey_session={account.session}"}
    bearer = {"Authorization": f"Bearer {account.access_token}"}
    monkeypatch.setenv("LATCHKEY_DATABASE_URL", database_url)
    monkeypatch.setenv("LATCHKEY_SECRET_KEY", settings.secret_key)
    monkeypatch.setenv("LATCHKEY_ACCESS_TOKEN_SECONDS", str(settings.access_token_seconds))
    answers: list[dict] = []
    for app in (create_app(settings), baselines.create_app()):
        async with _serving(app) as client:
            forwarded = [await _forward(client, h) for h in (session, bearer)]
            introspected = await _introspect(client, made, account.access_token)
            assert introspected.status_code == 200, introspected.text
            # Codes 0 and len(accounts) are both the first account's.
            code = codes[len(answers) * len(accounts)]
            exchanged = await _exchange_code(client, made, code)
            assert exchanged.status_code == 200, exchanged.text
            # A second use fails and ends what the first one gave.
            again = await _exchange_code(client, made, code)
            assert again.status_code == 400
            assert again.json()["error"] == "invalid_grant"
            ended = await _introspect(client, made, exchanged.json()["access_token"])
            assert ended.json() == {"active": False}
            other = await _exchange_code(client, made, codes[len(answers) * len(accounts) + 1])
            assert other.status_code == 200, other.text
            signed_in = await _sign_in(client, accounts[1].username)
            assert signed_in.json() == {"data": {"signIn": {"status": "SIGNED_IN"}}}
            cookie = signed_in.cookies["latchkey_session"]
            refused = await client.get("/auth/forward", headers={"Authorization": "Bearer x"})
            assert refused.status_code == 401
            answers.append(
                {
                    "forwarded": forwarded,
                    "introspected": introspected.json(),
                    "exchanged": exchanged.json(),
                    "other": other.json()["access_token"],
                    "cookie": cookie,
                    "headers": {
                        name: exchanged.headers.get(name)
                        for name in ("cache-control", "pragma", "content-type")
                    },
                }
            )
    product, by_hand = answers
    assert product["forwarded"] == by_hand["forwarded"]
    assert product["forwarded"][0]["x-latchkey-groups"] == "on-call,staff"
    assert product["introspected"] == by_hand["introspected"]
    assert product["headers"] == by_hand["headers"]
    assert product["exchanged"].keys() == by_hand["exchanged"].keys()
    assert "refresh_token" in by_hand["exchanged"]
    async with _serving(create_app(settings)) as client:
        keys = KeySet.import_key_set((await client.get("/oauth/jwks")).json())
        claims = []
        for answer in answers:
            token = jwt.decode(answer["exchanged"]["id_token"], keys)
            assert token.header["alg"] == "ES256"
            claims.append({k: v for k, v in token.claims.items() if k not in ("iat", "exp")})
            # What the baseline issued works in the product, and the other way round.
            described = (await _introspect(client, made, answer["other"])).json()
            assert (described["active"], described["username"]) == (True, accounts[1].username)
            session_of = {"Cookie": f"latchkey_session={answer['cookie']}"}
            assert (await _forward(client, session_of))["x-latchkey-user"] == accounts[1].username
        assert claims[0] == claims[1] | {"nonce": claims[0]["nonce"]}
        assert claims[0]["groups"] == ["on-call", "staff"]


def test_the_baselines_do_their_own_work() -> None:
    """Only the models and the database wiring: a faster product must not speed them up."""
    files = sorted(Path(baselines.__file__).parent.glob("*.py"))
    assert {f.name for f in files} >= {"forward.py", "introspect.py", "oidc.py", "sign_in.py"}
    imported = set()
    for file in files:
        tree = ast.parse(file.read_text())
        imported |= {
            node.module
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom)
            and node.module
            and node.module.startswith("backend")
        }
        imported |= {
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
            if alias.name.startswith("backend")
        }
    assert imported, "the baselines read the product's models"
    assert {m for m in imported if not m.endswith(".models")} == {"backend.infra.database"}


def test_turns_combine_into_one_measurement() -> None:
    turns = [Measurement(60, 2.0, 100.0, 150.0), Measurement(40, 2.0, 120.0, 300.0)]
    turns.append(Measurement(70, 2.0, 90.0, 140.0))
    combined = Measurement.combined(turns)
    # Every request over all the time; the middle turn's median and tail.
    assert combined.per_second == 170 / 6.0
    assert (combined.p50_ms, combined.p99_ms) == (100.0, 150.0)
