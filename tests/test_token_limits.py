"""At most LATCHKEY_MAX_TOKENS_PER_USER live refresh tokens per user, even under bursts."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from backend.kernel import clock
from backend.tokens.models import RefreshToken
from tests.cli_helpers import create_user
from tests.conftest import settings_for
from tests.helpers import (
    ISSUE_TOKEN,
    PASSWORD,
    GraphQL,
    days_ahead,
    issue_token,
    make_user,
    serving,
)
from tests.live import live_server
from tests.test_oauth_live import issue_refresh_token, signed_in

LIMIT = 3
# Each issue proves the password, and the step-up budget counts attempts in flight: more
# parallel right passwords than that budget would be refused before the limit is reached.
IN_FLIGHT = 4


@pytest.fixture
def settings(database_url):
    return settings_for(database_url, max_tokens_per_user=LIMIT)


def codes(payload) -> list[str]:
    return [error["code"] for error in payload["userErrors"]]


async def live_tokens() -> int:
    return await RefreshToken.filter(user__username="alice", revoked_at=None).count()


async def test_one_token_over_the_limit_is_refused_with_the_limit_in_words(gql, alice):
    for number in range(LIMIT):
        assert (await issue_token(gql, f"t{number}"))["userErrors"] == []
    refused = await issue_token(gql, "one too many")
    assert refused["secret"] is None
    [error] = refused["userErrors"]
    assert error["code"] == "TOO_MANY_TOKENS" and f"at most {LIMIT} live tokens" in error["message"]
    assert await live_tokens() == LIMIT


async def test_deleted_and_expired_tokens_leave_room(gql, alice):
    first = await issue_token(gql, "short", days=1)
    for number in range(LIMIT - 1):
        await issue_token(gql, f"long{number}", days=30)
    assert codes(await issue_token(gql, "full")) == ["TOO_MANY_TOKENS"]
    deleted = await gql(
        "mutation($id: ID!) { deleteToken(input: {id: $id}) { deletedTokenId } }",
        {"id": first["token"]["id"]},
    )
    assert deleted["deleteToken"]["deletedTokenId"] == first["token"]["id"]
    assert (await issue_token(gql, "short again", days=1))["userErrors"] == []
    assert codes(await issue_token(gql, "full again")) == ["TOO_MANY_TOKENS"]

    clock.advance(timedelta(days=2))  # "short again" has expired
    await gql.sign_in("alice")
    assert (await issue_token(gql, "after expiry"))["userErrors"] == []
    assert codes(await issue_token(gql, "full once more")) == ["TOO_MANY_TOKENS"]


async def test_a_burst_of_parallel_issues_never_passes_the_limit(gql, alice):
    for number in range(LIMIT - 1):
        await issue_token(gql, f"before{number}")
    variables = {"expiresAt": days_ahead(30), "password": PASSWORD}
    results = await asyncio.gather(
        *(gql(ISSUE_TOKEN, {**variables, "name": f"burst{n}"}) for n in range(IN_FLIGHT))
    )
    outcomes = sorted(codes(result["issueToken"]) or ["OK"] for result in results)
    assert outcomes == [["OK"]] + [["TOO_MANY_TOKENS"]] * (IN_FLIGHT - 1)
    assert await live_tokens() == LIMIT


def test_two_servers_receiving_a_burst_never_pass_the_limit(database_url):
    settings = settings_for(database_url, max_tokens_per_user=LIMIT)
    create_user(settings)
    env = {"LATCHKEY_MAX_TOKENS_PER_USER": str(LIMIT)}
    with live_server(settings, **env) as first, live_server(settings, **env) as second:
        browsers = [signed_in(first), signed_in(second)]
        with ThreadPoolExecutor(max_workers=IN_FLIGHT) as pool:
            results = list(
                pool.map(lambda n: issue_refresh_token(browsers[n % 2], f"burst{n}"), range(16))
            )
        listed = browsers[0].post("/graphql", json={"query": "{ viewer { tokens { name } } }"})
        for browser in browsers:
            browser.close()
    issued = [result for result in results if result["secret"]]
    refused = [codes(result) for result in results if not result["secret"]]
    assert len(issued) == LIMIT and refused == [["TOO_MANY_TOKENS"]] * (16 - LIMIT)
    assert len(listed.json()["data"]["viewer"]["tokens"]) == LIMIT


async def test_the_default_limit_is_one_hundred(database_url):
    async with serving(settings_for(database_url)) as client:
        gql = GraphQL(client)
        await make_user(settings_for(database_url), "alice")
        await gql.sign_in("alice")
        for number in range(100):
            assert (await issue_token(gql, f"t{number}"))["userErrors"] == [], number
        assert codes(await issue_token(gql, "t100")) == ["TOO_MANY_TOKENS"]
