"""Refresh tokens through the GraphQL API: issue, list, delete; and the bearer path."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from backend.audit.models import SecurityEvent
from backend.kernel import clock
from backend.kernel.crypto import digest
from backend.tokens.format import TOKEN_PATTERN, Kind, generate, is_well_formed
from backend.tokens.models import AccessToken, RefreshToken
from tests.helpers import (
    ISSUE_TOKEN,
    GraphQL,
    QueryCounter,
    days_ahead,
    exchange,
    issue_token,
    make_user,
)

VIEWER_TOKENS = "{ viewer { username tokens { id name createdAt expiresAt lastUsedAt status } } }"
DELETE = """
mutation($id: ID!) { deleteToken(input: {id: $id}) { deletedTokenId userErrors { field code } } }
"""


def codes(payload):
    return [(error["field"], error["code"]) for error in payload["userErrors"]]


async def bearer(client, access_token: str, query: str = VIEWER_TOKENS):
    return await client.post(
        "/graphql", json={"query": query}, headers={"Authorization": f"Bearer {access_token}"}
    )


async def test_issue_returns_the_secret_once_and_stores_only_its_digest(gql, alice):
    issued = await issue_token(gql, "deploy", days=30)
    assert issued["userErrors"] == []
    secret = issued["secret"]
    assert TOKEN_PATTERN.fullmatch(secret) and secret.startswith("lk_rt_")
    assert issued["token"]["name"] == "deploy" and issued["token"]["status"] == "ACTIVE"
    stored = await RefreshToken.get()
    assert stored.token_hash == digest(secret) and secret not in str(vars(stored))
    listed = (await gql(VIEWER_TOKENS))["viewer"]["tokens"]
    assert [token["name"] for token in listed] == ["deploy"]
    assert "secret" not in listed[0]


async def test_the_token_list_is_newest_first_and_shows_expired_tokens(gql, alice):
    await issue_token(gql, "old", days=1)
    clock.advance(timedelta(minutes=30))
    await issue_token(gql, "new", days=30)
    clock.advance(timedelta(days=2))
    await gql.sign_in("alice")  # the old session ended meanwhile
    tokens = (await gql(VIEWER_TOKENS))["viewer"]["tokens"]
    assert [(t["name"], t["status"]) for t in tokens] == [("new", "ACTIVE"), ("old", "EXPIRED")]
    assert all(t["createdAt"].endswith("+00:00") for t in tokens)


async def test_issuing_needs_the_right_password(gql, alice):
    data = await gql(
        ISSUE_TOKEN, {"name": "x", "expiresAt": days_ahead(7), "password": "not my password"}
    )
    assert codes(data["issueToken"]) == [("password", "INVALID_CREDENTIALS")]
    assert data["issueToken"]["secret"] is None
    assert not await RefreshToken.exists()


@pytest.mark.parametrize(
    ("expires_at", "message"),
    [
        (None, "Choose when the token expires."),
        ("2020-01-01T00:00:00+00:00", "The expiry must be in the future."),
        ("days:366", "A token may live at most 365 days."),
        ("2030-01-01T00:00:00", "Give the expiry with a time zone offset"),
    ],
)
async def test_expiry_is_required_in_the_future_and_bounded(gql, alice, expires_at, message):
    if expires_at and expires_at.startswith("days:"):
        expires_at = days_ahead(int(expires_at[5:]))
    data = await gql(
        ISSUE_TOKEN,
        {"name": "x", "expiresAt": expires_at, "password": "correct horse battery staple"},
    )
    [error] = data["issueToken"]["userErrors"]
    assert (error["field"], error["code"]) == ("expiresAt", "VALIDATION_FAILED")
    assert error["message"].startswith(message)


@pytest.mark.parametrize("name", ["", "   ", "x" * 101, "evil\u202eexe", "tab\there"])
async def test_bad_names_are_refused(gql, alice, name):
    data = await gql(
        ISSUE_TOKEN,
        {"name": name, "expiresAt": days_ahead(7), "password": "correct horse battery staple"},
    )
    assert codes(data["issueToken"]) == [("name", "VALIDATION_FAILED")]


async def test_issuing_needs_a_signed_in_user(gql, settings):
    await make_user(settings, "alice")
    data = await gql(
        ISSUE_TOKEN,
        {"name": "x", "expiresAt": days_ahead(7), "password": "correct horse battery staple"},
    )
    assert codes(data["issueToken"]) == [(None, "UNAUTHENTICATED")]


async def test_exchange_then_bearer_authenticates_graphql(gql, client, alice):
    secret = (await issue_token(gql))["secret"]
    response = await exchange(client, secret)
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 300
    assert body["access_token"].startswith("lk_at_")
    assert response.headers["cache-control"] == "no-store"
    client.cookies.clear()
    viewer = (await bearer(client, body["access_token"])).json()["data"]["viewer"]
    assert viewer["username"] == "alice"
    assert viewer["tokens"][0]["lastUsedAt"] is not None
    in_the_url = await client.post(
        "/graphql",
        params={"access_token": body["access_token"]},
        json={"query": "{ viewer { username } }"},
    )
    assert in_the_url.json()["data"]["viewer"] is None  # RFC 6750: the header only


async def test_last_used_is_written_at_most_once_a_minute(gql, client, alice):
    secret = (await issue_token(gql))["secret"]
    await exchange(client, secret)
    first = (await RefreshToken.get()).last_used_at
    clock.advance(timedelta(seconds=30))
    await exchange(client, secret)
    assert (await RefreshToken.get()).last_used_at == first
    clock.advance(timedelta(seconds=31))
    await exchange(client, secret)
    token = await RefreshToken.get()
    assert token.last_used_at > first and token.last_used_ip == "203.0.113.7"


async def test_access_tokens_expire(gql, client, alice):
    access = (await exchange(client, (await issue_token(gql))["secret"])).json()["access_token"]
    clock.advance(timedelta(seconds=299))
    assert (await bearer(client, access)).status_code == 200
    clock.advance(timedelta(seconds=2))
    response = await bearer(client, access)
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


async def test_expired_refresh_tokens_are_refused(gql, client, alice):
    secret = (await issue_token(gql, days=7))["secret"]
    clock.advance(timedelta(days=7, seconds=1))
    response = await exchange(client, secret)
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


@pytest.mark.parametrize(
    "token",
    ["lk_at_" + "A" * 38, "lk_at_garbage", "not-a-token", "lk_rt_" + "A" * 38],
)
async def test_bad_bearer_tokens_get_401_never_an_anonymous_answer(client, token):
    response = await bearer(client, token, "{ viewer { username } }")
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


async def test_a_broken_checksum_is_refused_before_any_database_query(gql, client, alice):
    access = (await exchange(client, (await issue_token(gql))["secret"])).json()["access_token"]
    flipped = access[:-1] + ("A" if access[-1] != "A" else "B")
    assert is_well_formed(access, Kind.ACCESS) and not is_well_formed(flipped, Kind.ACCESS)
    with QueryCounter() as counter:
        response = await bearer(client, flipped, "{ __typename }")
    assert response.status_code == 401
    assert counter.queries == []


async def test_a_bearer_viewer_query_costs_two_database_queries(gql, client, alice):
    await issue_token(gql, "second")
    access = (await exchange(client, (await issue_token(gql))["secret"])).json()["access_token"]
    client.cookies.clear()
    await bearer(client, access, "{ viewer { username tokens { name expiresAt } } }")  # warm up
    with QueryCounter() as counter:
        response = await bearer(client, access, "{ viewer { username tokens { name expiresAt } } }")
    assert len(response.json()["data"]["viewer"]["tokens"]) == 2
    assert len(counter.queries) <= 2, counter.queries


async def test_deleting_a_token_stops_it_and_its_access_tokens_at_once(gql, client, alice):
    issued = await issue_token(gql)
    access = (await exchange(client, issued["secret"])).json()["access_token"]
    data = await gql(DELETE, {"id": issued["token"]["id"]})
    assert data["deleteToken"] == {"deletedTokenId": issued["token"]["id"], "userErrors": []}
    assert (await bearer(client, access)).status_code == 401
    refused = await exchange(client, issued["secret"])
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
    assert (await gql(VIEWER_TOKENS))["viewer"]["tokens"] == []
    kinds = await SecurityEvent.all().order_by("id").values_list("kind", flat=True)
    assert {"token.issued", "token.deleted", "token.exchange_refused"} <= set(kinds)


async def test_another_users_token_cannot_be_seen_or_deleted(
    gql, client, new_client, settings, alice
):
    issued = await issue_token(gql)
    await make_user(settings, "mallory")
    async with new_client() as other:
        mallory = GraphQL(other)
        await mallory.sign_in("mallory")
        assert (await mallory(VIEWER_TOKENS))["viewer"]["tokens"] == []
        theirs = await mallory(DELETE, {"id": issued["token"]["id"]})
        made_up = await mallory(DELETE, {"id": "987654"})
        not_a_number = await mallory(DELETE, {"id": "abc"})
    assert (
        theirs["deleteToken"]
        == made_up["deleteToken"]
        == not_a_number["deleteToken"]
        == {"deletedTokenId": None, "userErrors": [{"field": "id", "code": "NOT_FOUND"}]}
    )
    assert (await exchange(client, issued["secret"])).status_code == 200


async def test_a_token_deleted_during_an_exchange_leaves_no_working_access_token(
    gql, client, alice
):
    issued = await issue_token(gql)
    token = await RefreshToken.get()
    # The exchange validated the token; the delete commits; then the access token is stored.
    await RefreshToken.filter(id=token.id).update(revoked_at=clock.now())
    from backend.tokens.service import issue_access_token

    late = await issue_access_token(
        timedelta(minutes=5), user_id=token.user_id, refresh_token_id=token.id
    )
    assert (await bearer(client, late.secret)).status_code == 401
    assert issued["secret"]


async def test_concurrent_exchanges_each_get_their_own_access_token(gql, client, alice):
    secret = (await issue_token(gql))["secret"]
    responses = await asyncio.gather(*(exchange(client, secret) for _ in range(5)))
    assert {response.status_code for response in responses} == {200}
    assert len({response.json()["access_token"] for response in responses}) == 5
    assert await AccessToken.all().count() == 5


def test_generated_tokens_are_distinct_and_carry_enough_randomness():
    tokens = {generate(Kind.REFRESH) for _ in range(10_000)}
    assert len(tokens) == 10_000
    assert all(TOKEN_PATTERN.fullmatch(token) for token in tokens)
    # 32 base62 characters: log2(62**32) ≈ 190 bits.
    assert 32 * 5.95 > 160
