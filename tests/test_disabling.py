"""A disabled account: nothing of it works from the moment the disable commits, on any
worker; signing in says ACCOUNT_DISABLED only to whoever gives the right password; enabling
lets the user sign in again and brings back nothing that was ended."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import httpx
import pytest

from backend.accounts.models import User
from backend.oidc.models import BackchannelLogout
from backend.tokens.models import ApiCredential, RefreshToken
from tests.admin_helpers import call, errors, make_administrator
from tests.conftest import settings_for, smtp_settings
from tests.helpers import GraphQL, exchange, issue_token, make_user
from tests.test_backchannel_logout import _relying_party, sign_in_to

VIEWER = "{ viewer { username } }"
GENERATE = """mutation { generateApiCredentials(input: {}) { apiCredentials { clientId }
  clientSecret userErrors { code } } }"""


@pytest.fixture
def settings(database_url, smtp):
    return settings_for(database_url, smtp=smtp_settings(smtp.port))


@pytest.fixture
async def portal(app):
    async for party in _relying_party("Portal"):
        yield party


async def test_disabling_ends_every_way_in_and_enabling_brings_back_only_sign_in(
    client, gql, new_client, settings, portal
):
    await make_administrator(settings, "root1")
    bob = await make_user(settings, "bob")
    bob_gql = GraphQL(client)
    await bob_gql.sign_in("bob")
    through_session = await sign_in_to(client, portal)  # an application signed in too
    issued = await issue_token(bob_gql, "deploy")
    access = (await exchange(client, issued["secret"])).json()["access_token"]
    credentials = (await bob_gql(GENERATE))["generateApiCredentials"]
    bearer = {"Authorization": f"Bearer {access}"}
    async with new_client() as admin_client, new_client() as script:
        admin = GraphQL(admin_client)
        await admin.sign_in("root1")
        assert (await GraphQL(script)(VIEWER, **bearer))["viewer"] == {"username": "bob"}

        assert (await call(admin, "disableUser", str(bob.id)))["userErrors"] == []

        assert (await bob_gql(VIEWER))["viewer"] is None  # the session ended
        assert (await GraphQL(script).raw(VIEWER, **bearer)).status_code == 401
        assert (await exchange(script, issued["secret"])).json()["error"] == "invalid_grant"
        granted = await script.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(credentials["apiCredentials"]["clientId"], credentials["clientSecret"]),
        )
        assert granted.status_code == 401
        # The application that signed in through the session is owed a logout token.
        [logout] = await BackchannelLogout.filter(client_id=portal.client.id)
        assert logout.sid == through_session["sid"]

        # Sign-in: the right password learns the account is disabled, a wrong one nothing.
        refused = await bob_gql.sign_in("bob")
        assert errors(refused) == [(None, "ACCOUNT_DISABLED")]
        assert refused["viewer"] is None and (await bob_gql(VIEWER))["viewer"] is None
        wrong = await bob_gql.sign_in("bob", "not the password at all")
        assert errors(wrong) == [(None, "INVALID_CREDENTIALS")]

        assert (await call(admin, "enableUser", str(bob.id)))["userErrors"] == []
        assert (await bob_gql.sign_in("bob"))["userErrors"] == []
        assert (await bob_gql(VIEWER))["viewer"] == {"username": "bob"}
        # What was ended stays ended.
        assert (await GraphQL(script).raw(VIEWER, **bearer)).status_code == 401
        assert (await exchange(script, issued["secret"])).json()["error"] == "invalid_grant"
        assert not await ApiCredential.filter(user_id=bob.id).exists()
        assert await RefreshToken.filter(user_id=bob.id, revoked_at=None).count() == 0


async def test_a_session_that_started_as_the_account_was_disabled_does_not_work(gql, settings):
    """A sign-in that checked the password just before the disable committed stores its
    session just after: the account's row, read with every request, still says no."""
    bob = await make_user(settings, "bob")
    await gql.sign_in("bob")
    await User.filter(id=bob.id).update(disabled_at=bob.created_at)  # as if just disabled
    assert (await gql(VIEWER))["viewer"] is None


async def _hammer(url: str, bearer: dict[str, str], stop: asyncio.Event, outcomes: list) -> None:
    """Ask for the viewer with the token, again and again: (sent, answered, status)."""
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        while not stop.is_set():
            sent = time.monotonic()
            answer = await http.post("/graphql", json={"query": VIEWER}, headers=bearer)
            ok = answer.status_code == 200 and answer.json()["data"]["viewer"] is not None
            outcomes.append((sent, time.monotonic(), ok))


async def test_a_disabled_users_token_stops_on_every_worker_the_moment_the_disable_commits(
    app, gql, settings
):
    """Two served workers answer the user's token in a loop while an administrator disables
    the account through a third: no request sent after the disable answered succeeds."""
    from tests.live import live_server

    await make_administrator(settings, "root1")
    bob = await make_user(settings, "bob")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=("203.0.113.7", 50000)),
        base_url="http://testserver",
    ) as bob_client:
        bob_gql = GraphQL(bob_client)
        await bob_gql.sign_in("bob")
        issued = await issue_token(bob_gql, "deploy")
        access = (await exchange(bob_client, issued["secret"])).json()["access_token"]
    bearer = {"Authorization": f"Bearer {access}"}
    await gql.sign_in("root1")
    with live_server(settings) as first, live_server(settings) as second:
        stop = asyncio.Event()
        outcomes: list = []
        workers = [
            asyncio.create_task(_hammer(url, bearer, stop, outcomes))
            for url in (first, second, first, second)
        ]
        await asyncio.sleep(1.0)
        asked = time.monotonic()
        assert (await call(gql, "disableUser", str(bob.id)))["userErrors"] == []
        committed = time.monotonic()  # the commit came before its answer
        await asyncio.sleep(1.0)
        stop.set()
        await asyncio.gather(*workers)
    before = [ok for sent, answered, ok in outcomes if answered < asked]
    after = [ok for sent, answered, ok in outcomes if sent > committed]
    assert before and all(before)  # the token worked on both workers until then
    assert after and not any(after)


async def test_a_token_or_credentials_made_as_the_account_is_disabled_are_refused(app, settings):
    """Issued by a request that passed its session check just before the disable committed:
    the issue waits for the user's row and finds the account disabled, so nothing is left to
    come back with enableUser."""
    from backend.app.wiring import build_services
    from backend.auth.sessions import service as sessions
    from backend.kernel import clock
    from backend.kernel.client_info import ClientInfo
    from backend.kernel.errors import DomainError
    from backend.tokens import credentials
    from backend.tokens import service as tokens

    services = build_services(settings)
    bob = await make_user(settings, "bob")
    session, _ = await sessions.start(bob, ClientInfo())
    await User.filter(id=bob.id).update(disabled_at=clock.now())
    with pytest.raises(DomainError) as issued:
        await tokens.issue(
            services,
            bob,
            ClientInfo(),
            name="late",
            expires_at=clock.now() + timedelta(days=30),
            session=session,
        )
    assert issued.value.problems[0].code == "ACCOUNT_DISABLED"
    with pytest.raises(DomainError) as generated:
        await credentials.generate_for(services, bob, ClientInfo(), session=session)
    assert generated.value.problems[0].code == "ACCOUNT_DISABLED"
    assert not await RefreshToken.filter(user_id=bob.id).exists()
    assert not await ApiCredential.filter(user_id=bob.id).exists()
