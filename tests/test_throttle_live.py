"""Bursts against real `latchkey serve` processes: two on one PostgreSQL database, one on SQLite.

Each burst carries the right secret in its middle. The budget holds across processes: no
more attempts are checked than the policy allows, and every answer is a clear refusal.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import Iterator

import asyncpg
import httpx

from backend.infra.config import Settings
from tests.cli_helpers import create_user
from tests.conftest import settings_for
from tests.helpers import ISSUE_TOKEN, PASSWORD, SIGN_IN, days_ahead, most_checks_in_a_burst
from tests.live import live_server

BUDGET = 5  # PER_ACCOUNT: attempts before the lock
GENERATE = """mutation($password: String!) {
  generateApiCredentials(input: {password: $password}) { clientId clientSecret } }"""


@contextlib.contextmanager
def live_servers(settings: Settings, count: int) -> Iterator[list[str]]:
    with contextlib.ExitStack() as stack:
        yield [stack.enter_context(live_server(settings)) for _ in range(count)]


def wrong_and_one_right(right: str, count: int, wrong: str) -> list[str]:
    guesses = [f"{wrong}{n:04d}" for n in range(count - 1)]
    return [*guesses[: count // 2], right, *guesses[count // 2 :]]


async def post_all(
    urls: list[str], requests: list[dict], cookies: dict[str, str] | None = None
) -> list[httpx.Response]:
    """Send every request at once, spread over the servers in turn."""
    clients = [httpx.AsyncClient(base_url=url, cookies=cookies, timeout=60) for url in urls]
    try:
        return await asyncio.gather(
            *(clients[n % len(clients)].post(**request) for n, request in enumerate(requests))
        )
    finally:
        for client in clients:
            await client.aclose()


def graphql_answers(responses: list[httpx.Response], field: str) -> list[dict]:
    assert {response.status_code for response in responses} == {200}
    bodies = [response.json() for response in responses]
    assert all("errors" not in body for body in bodies), "an answer was an unexpected error"
    return [body["data"][field] for body in bodies]


def clear_answers(right_one_got_in: bool) -> set[tuple[str, ...]]:
    """Wrong password or locked, and no errors at all for the right password if it got in."""
    return {("INVALID_CREDENTIALS",), ("RATE_LIMITED",), *([()] if right_one_got_in else [])}


def error_codes(answer: dict) -> tuple[str, ...]:
    return tuple(error["code"] for error in answer["userErrors"])


async def count_events(database_url: str, kind: str) -> int:
    connection = await asyncpg.connect(database_url)
    try:
        query = "SELECT count(*) FROM security_events WHERE kind = $1"
        return await connection.fetchval(query, kind)
    finally:
        await connection.close()


def sign_in_burst(count: int) -> list[dict]:
    passwords = wrong_and_one_right(PASSWORD, count, "wrong guess ")
    return [
        {
            "url": "/graphql",
            "json": {"query": SIGN_IN, "variables": {"username": "alice", "password": p}},
        }
        for p in passwords
    ]


async def test_a_sign_in_burst_over_two_servers_checks_at_most_the_budget(postgres_url):
    settings = settings_for(postgres_url)
    create_user(settings)
    with live_servers(settings, 2) as urls:
        answers = graphql_answers(await post_all(urls, sign_in_burst(100)), "signIn")
    right_one_got_in = any(answer["status"] == "SIGNED_IN" for answer in answers)
    assert {error_codes(answer) for answer in answers} <= clear_answers(right_one_got_in)
    checked = await count_events(postgres_url, "sign_in.failed")
    assert checked <= most_checks_in_a_burst(BUDGET, right_one_got_in=right_one_got_in)


async def test_step_up_passwords_and_client_secrets_over_two_servers(postgres_url):
    settings = settings_for(postgres_url)
    create_user(settings)
    with live_servers(settings, 2) as urls:
        with httpx.Client(base_url=urls[0]) as browser:
            credentials = {"username": "alice", "password": PASSWORD}
            browser.post("/graphql", json={"query": SIGN_IN, "variables": credentials})
            generated = browser.post(
                "/graphql", json={"query": GENERATE, "variables": {"password": PASSWORD}}
            ).json()["data"]["generateApiCredentials"]
            session = dict(browser.cookies)
        # Wrong passwords only: a step-up looks up the session first, so requests overtake
        # each other before their reservation; the right password comes after the burst.
        passwords = [f"wrong guess {n}" for n in range(100)]
        issue = [
            {
                "url": "/graphql",
                "json": {
                    "query": ISSUE_TOKEN,
                    "variables": {"name": f"ci{n}", "expiresAt": days_ahead(30), "password": p},
                },
            }
            for n, p in enumerate(passwords)
        ]
        issued = graphql_answers(await post_all(urls, issue, cookies=session), "issueToken")
        right = {**issue[0]["json"]["variables"], "password": PASSWORD}
        with httpx.Client(base_url=urls[1], cookies=session) as browser:
            after = browser.post("/graphql", json={"query": ISSUE_TOKEN, "variables": right})
        client_id = generated["clientId"]
        secrets = wrong_and_one_right(generated["clientSecret"], 100, "lk_cs_" + "w" * 36)
        exchanges = [
            {
                "url": "/oauth/token",
                "data": {"grant_type": "client_credentials"},
                "auth": (client_id, secret),
            }
            for secret in secrets
        ]
        statuses = [response.status_code for response in await post_all(urls, exchanges)]
    assert all(answer["token"] is None for answer in issued)
    assert {error_codes(answer) for answer in issued} <= {
        ("INVALID_CREDENTIALS",),
        ("RATE_LIMITED",),
    }
    assert await count_events(postgres_url, "token.issue.failed") <= BUDGET
    assert error_codes(after.json()["data"]["issueToken"]) == ("RATE_LIMITED",)
    right_one_got_in = 200 in statuses
    assert set(statuses) <= {200, 401, 429} and statuses.count(200) <= 1
    checked = statuses.count(401)  # one per secret checked
    assert checked <= most_checks_in_a_burst(BUDGET, right_one_got_in=right_one_got_in)


async def test_a_sign_in_burst_on_sqlite_gets_only_clear_answers(sqlite_template, tmp_path):
    path = tmp_path / "latchkey.sqlite3"
    shutil.copy(sqlite_template, path)
    settings = settings_for(f"sqlite://{path}")
    create_user(settings)
    with live_servers(settings, 1) as urls:
        answers = graphql_answers(await post_all(urls, sign_in_burst(60)), "signIn")
    right_one_got_in = any(answer["status"] == "SIGNED_IN" for answer in answers)
    assert {error_codes(answer) for answer in answers} <= clear_answers(right_one_got_in)
