"""One TOTP code sent at the same moment to two server processes on one PostgreSQL database."""

from __future__ import annotations

import asyncio

import httpx

from tests.cli_helpers import create_user
from tests.conftest import settings_for
from tests.helpers import PASSWORD, SIGN_IN
from tests.live import live_server
from tests.twofactor_helpers import CONFIRM_TOTP, START_TOTP, VERIFY, oathtool


def gql(client: httpx.Client, query: str, **variables) -> dict:
    response = client.post("/graphql", json={"query": query, "variables": variables})
    return response.json()["data"]


async def test_the_same_code_at_two_servers_at_once_signs_in_exactly_once(postgres_url):
    settings = settings_for(postgres_url)
    create_user(settings)
    with live_server(settings) as first, live_server(settings) as second:
        with httpx.Client(base_url=first) as browser:
            gql(browser, SIGN_IN, username="alice", password=PASSWORD)
            secret = gql(browser, START_TOTP, p=PASSWORD)["startTotpSetup"]["secret"]
            gql(browser, CONFIRM_TOTP, c=oathtool(secret))
        challenges = []
        for url in (first, second):
            with httpx.Client(base_url=url) as browser:
                answer = gql(browser, SIGN_IN, username="alice", password=PASSWORD)
                challenges.append(answer["signIn"]["challenge"])
        code = oathtool(secret, 30)  # the next step: newer than the confirming code, within drift

        async def verify(url: str, challenge: str) -> dict:
            async with httpx.AsyncClient(base_url=url) as browser:
                response = await browser.post(
                    "/graphql",
                    json={"query": VERIFY, "variables": {"ch": challenge, "c": code, "r": False}},
                )
                return response.json()["data"]["verifySignIn"]

        results = await asyncio.gather(verify(first, challenges[0]), verify(second, challenges[1]))
    statuses = sorted(str(result["status"]) for result in results)
    assert statuses == ["None", "SIGNED_IN"]
    refused = next(result for result in results if result["status"] is None)
    assert [error["code"] for error in refused["userErrors"]] == ["INVALID_OTP"]
