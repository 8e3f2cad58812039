"""Regenerating a token: a new secret, and the old one works for the grace period only."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from asgi_lifespan import LifespanManager

from backend.app.factory import create_app
from backend.audit.models import SecurityEvent
from backend.kernel import clock
from backend.serviceclients import service as service_clients
from tests.conftest import _client, settings_for, smtp_settings
from tests.helpers import PASSWORD, GraphQL, days_ahead, exchange, make_user
from tests.test_token_scopes import as_bearer, issue

REGENERATE = """mutation($id: ID!, $e: DateTime) {
  regenerateToken(input: {id: $id, expiresAt: $e, password: "@PASSWORD@"}) {
    token { id name scopes expiresAt regeneratedAt previousSecretValidUntil }
    secret userErrors { field code message } } }""".replace("@PASSWORD@", PASSWORD)
LIST = "{ viewer { tokens { id name expiresAt previousSecretValidUntil } } }"
GRACE = timedelta(days=1)  # LATCHKEY_TOKEN_ROTATION_GRACE_SECONDS by default


async def regenerate(gql: GraphQL, token_id: str, days: float = 60) -> dict:
    return (await gql(REGENERATE, {"id": token_id, "e": days_ahead(days)}))["regenerateToken"]


async def works(gql: GraphQL, secret: str) -> bool:
    response = await exchange(gql.client, secret)
    assert response.status_code in (200, 400), response.text
    return response.status_code == 200


async def test_both_secrets_work_inside_the_grace_period_and_only_the_new_one_after(gql, alice):
    issued = await issue(gql, ["account:read", "account:write"], "deploy")
    old = issued["secret"]
    renewed = await regenerate(gql, issued["token"]["id"])
    assert renewed["userErrors"] == []
    token = renewed["token"]
    assert token["id"] == issued["token"]["id"] and token["name"] == "deploy"
    assert token["scopes"] == ["account:read", "account:write"]
    assert renewed["secret"] != old
    overlap_ends = datetime.fromisoformat(token["previousSecretValidUntil"])
    assert abs(overlap_ends - (clock.now() + GRACE)) < timedelta(minutes=1)
    assert (await gql(LIST))["viewer"]["tokens"][0]["previousSecretValidUntil"] == (
        token["previousSecretValidUntil"]
    )

    assert await works(gql, old) and await works(gql, renewed["secret"])
    clock.advance(GRACE - timedelta(minutes=1))
    assert await works(gql, old)
    clock.advance(timedelta(minutes=2))
    assert not await works(gql, old)
    assert await works(gql, renewed["secret"])
    await gql.sign_in("alice")  # the session ended meanwhile
    assert (await gql(LIST))["viewer"]["tokens"][0]["previousSecretValidUntil"] is None


async def test_an_access_token_from_the_old_secret_ends_with_the_grace_period(gql, alice):
    issued = await issue(gql, None)
    await regenerate(gql, issued["token"]["id"])
    clock.advance(GRACE - timedelta(minutes=2))
    answer = (await exchange(gql.client, issued["secret"])).json()
    assert 119 <= answer["expires_in"] <= 120  # not the usual 300: the grace period ends first
    access = answer["access_token"]
    assert (await as_bearer(gql, access, "{ viewer { username } }"))["data"]["viewer"]
    clock.advance(timedelta(minutes=3))
    gql.client.cookies.clear()
    refused = await gql.raw("{ viewer { username } }", Authorization=f"Bearer {access}")
    assert refused.status_code == 401


async def test_introspection_follows_both_secrets_as_the_exchange_does(gql, alice):
    platform = await service_clients.create("platform")
    auth = (platform.client.client_id, platform.secret)

    async def introspect(secret: str) -> dict:
        answer = await gql.client.post("/oauth/introspect", data={"token": secret}, auth=auth)
        return answer.json()

    issued = await issue(gql, None)
    renewed = await regenerate(gql, issued["token"]["id"])
    grace_ends = datetime.fromisoformat(renewed["token"]["previousSecretValidUntil"])
    old = await introspect(issued["secret"])
    assert old["active"] is True and old["token_type"] == "refresh_token"
    assert abs(old["exp"] - grace_ends.timestamp()) <= 1  # the grace period, not the token's
    clock.advance(GRACE + timedelta(minutes=1))
    assert await introspect(issued["secret"]) == {"active": False}
    assert not await works(gql, issued["secret"])
    assert (await introspect(renewed["secret"]))["active"] is True
    await gql.sign_in("alice")  # the session ended meanwhile
    deleted = await gql(
        "mutation($id: ID!) { deleteToken(input: {id: $id}) { userErrors { code } } }",
        {"id": issued["token"]["id"]},
    )
    assert deleted["deleteToken"]["userErrors"] == []
    assert await introspect(renewed["secret"]) == {"active": False}


async def test_the_old_secret_never_outlives_its_own_expiry(gql, alice):
    issued = await issue(gql, None)
    await gql(
        """mutation($e: DateTime) { issueToken(input: {name: "short", expiresAt: $e,
        password: "@PASSWORD@"}) { secret } }""".replace("@PASSWORD@", PASSWORD),
        {"e": days_ahead(0.1)},
    )
    tokens = (await gql(LIST))["viewer"]["tokens"]
    short = next(t for t in tokens if t["name"] == "short")
    renewed = await regenerate(gql, short["id"])
    assert renewed["token"]["previousSecretValidUntil"] == short["expiresAt"]
    assert issued["secret"]


async def test_deleting_the_token_stops_both_secrets_at_once(gql, alice):
    issued = await issue(gql, None)
    renewed = await regenerate(gql, issued["token"]["id"])
    access = (await exchange(gql.client, issued["secret"])).json()["access_token"]
    deleted = await gql(
        "mutation($id: ID!) { deleteToken(input: {id: $id}) { userErrors { code } } }",
        {"id": issued["token"]["id"]},
    )
    assert deleted["deleteToken"]["userErrors"] == []
    assert not await works(gql, issued["secret"])
    assert not await works(gql, renewed["secret"])
    gql.client.cookies.clear()
    refused = await gql.raw("{ viewer { username } }", Authorization=f"Bearer {access}")
    assert refused.status_code == 401


async def test_regenerating_again_drops_the_oldest_secret_at_once(gql, alice):
    issued = await issue(gql, None)
    second = await regenerate(gql, issued["token"]["id"])
    third = await regenerate(gql, issued["token"]["id"])
    assert not await works(gql, issued["secret"])
    assert await works(gql, second["secret"]) and await works(gql, third["secret"])
    kinds = await SecurityEvent.filter(kind="token.regenerated").count()
    assert kinds == 2


async def test_only_the_owner_regenerates_a_live_token_and_the_expiry_is_checked(
    gql, new_client, settings, alice
):
    issued = await issue(gql, None)
    await make_user(settings, "mallory")
    async with new_client() as other:
        mallory = GraphQL(other)
        await mallory.sign_in("mallory")
        theirs = await mallory(REGENERATE, {"id": issued["token"]["id"], "e": days_ahead(9)})
    assert [(e["field"], e["code"]) for e in theirs["regenerateToken"]["userErrors"]] == [
        ("id", "NOT_FOUND")
    ]
    deleted = await issue(gql, None, "deleted")
    await gql(
        "mutation($id: ID!) { deleteToken(input: {id: $id}) { userErrors { code } } }",
        {"id": deleted["token"]["id"]},
    )
    revived = await regenerate(gql, deleted["token"]["id"])
    assert [e["code"] for e in revived["userErrors"]] == ["NOT_FOUND"] and not revived["secret"]
    too_far = await regenerate(gql, issued["token"]["id"], days=400)
    assert [(e["field"], e["code"]) for e in too_far["userErrors"]] == [
        ("expiresAt", "VALIDATION_FAILED")
    ]
    assert await works(gql, issued["secret"])


@pytest.fixture
async def no_grace(database_url, smtp):
    settings = settings_for(
        database_url, token_rotation_grace_seconds=0, smtp=smtp_settings(smtp.port)
    )
    async with LifespanManager(create_app(settings)) as manager, _client(manager.app) as http:
        await make_user(settings, "alice")
        gql = GraphQL(http)
        await gql.sign_in("alice")
        yield gql


async def test_without_a_grace_period_the_old_secret_stops_at_once_and_the_user_is_told(
    no_grace, smtp
):
    issued = await issue(no_grace, None, "nightly backup")
    access = (await exchange(no_grace.client, issued["secret"])).json()["access_token"]
    renewed = await regenerate(no_grace, issued["token"]["id"])
    assert renewed["token"]["previousSecretValidUntil"] is None
    assert not await works(no_grace, issued["secret"])
    assert await works(no_grace, renewed["secret"])
    no_grace.client.cookies.clear()
    refused = await no_grace.raw("{ viewer { username } }", Authorization=f"Bearer {access}")
    assert refused.status_code == 401
    notice = smtp.to("alice@example.com")[-1]
    assert "regenerated" in notice["Subject"]
    assert "nightly backup" in smtp.text(notice) and renewed["secret"] not in smtp.text(notice)


async def test_an_expired_token_is_regenerated_without_an_overlap(gql, alice):
    issued = await issue(gql, ["account:read"], "lapsed")
    clock.advance(timedelta(days=31))
    assert not await works(gql, issued["secret"])
    await gql.sign_in("alice")
    renewed = await regenerate(gql, issued["token"]["id"])
    assert renewed["userErrors"] == [] and renewed["token"]["previousSecretValidUntil"] is None
    assert not await works(gql, issued["secret"])
    assert await works(gql, renewed["secret"])
    listed = await gql("{ viewer { tokens { name status } } }")
    assert listed["viewer"]["tokens"] == [{"name": "lapsed", "status": "ACTIVE"}]


async def revoke(gql: GraphQL, secret: str) -> None:
    answer = await gql.client.post("/oauth/revoke", data={"token": secret})
    assert answer.status_code == 200 and answer.content == b""  # RFC 7009: 200 either way


async def test_the_old_secret_after_its_grace_period_revokes_nothing(gql, alice):
    issued = await issue(gql, None, "deploy")
    renewed = await regenerate(gql, issued["token"]["id"])
    clock.advance(GRACE + timedelta(minutes=1))
    await revoke(gql, issued["secret"])
    assert await works(gql, renewed["secret"])
    await gql.sign_in("alice")  # the session ended meanwhile
    listed = await gql("{ viewer { tokens { name status } } }")
    assert listed["viewer"]["tokens"] == [{"name": "deploy", "status": "ACTIVE"}]
    assert not await SecurityEvent.exists(kind="token.deleted")


async def test_the_old_secret_inside_its_grace_period_revokes_the_whole_token(gql, alice):
    # It still opens the token, so its holder may end it, as with the current secret.
    issued = await issue(gql, None)
    renewed = await regenerate(gql, issued["token"]["id"])
    access = (await exchange(gql.client, renewed["secret"])).json()["access_token"]
    await revoke(gql, issued["secret"])
    assert not await works(gql, issued["secret"])
    assert not await works(gql, renewed["secret"])
    gql.client.cookies.clear()
    refused = await gql.raw("{ viewer { username } }", Authorization=f"Bearer {access}")
    assert refused.status_code == 401


async def test_an_expired_secret_revokes_nothing_and_the_token_stays_listed(gql, alice):
    issued = await issue(gql, None, "lapsed")
    clock.advance(timedelta(days=31))
    await revoke(gql, issued["secret"])
    await gql.sign_in("alice")
    listed = await gql("{ viewer { tokens { name status } } }")
    assert listed["viewer"]["tokens"] == [{"name": "lapsed", "status": "EXPIRED"}]
    assert (await regenerate(gql, issued["token"]["id"]))["userErrors"] == []
