"""Expiry reminders: 7 days and 1 day before a token expires, each sent once."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from asgi_lifespan import LifespanManager

from backend.app.factory import create_app
from backend.app.wiring import build_services
from backend.kernel import clock
from backend.tokens import reminders
from tests.conftest import _client, settings_for, smtp_settings
from tests.helpers import PASSWORD, GraphQL, days_ahead, exchange, make_user
from tests.test_token_rotation import regenerate
from tests.test_token_scopes import PLATFORM

ISSUE = """mutation($n: String!, $e: DateTime, $s: [String!]) {
  issueToken(input: {name: $n, expiresAt: $e, password: "@PASSWORD@", scopes: $s}) {
    token { id } secret userErrors { code } } }""".replace("@PASSWORD@", PASSWORD)


@pytest.fixture
async def mailing(database_url, smtp):
    """alice signed in on a server that mails through a real SMTP server on loopback."""
    settings = settings_for(database_url, scopes=PLATFORM, smtp=smtp_settings(smtp.port))
    async with LifespanManager(create_app(settings)) as manager, _client(manager.app) as http:
        await make_user(settings, "alice")
        gql = GraphQL(http)
        await gql.sign_in("alice")
        gql.services = build_services(settings)  # type: ignore[attr-defined]
        yield gql


async def issue(gql: GraphQL, name: str, days: float, scopes: list[str]) -> dict:
    variables = {"n": name, "e": days_ahead(days), "s": scopes}
    return (await gql(ISSUE, variables))["issueToken"]


def reminders_in(smtp) -> list:
    return [m for m in smtp.to("alice@example.com") if "expires" in m["Subject"]]


async def run_workers(gql: GraphQL, count: int = 3) -> None:
    """Several workers look for due reminders at the same moment."""
    services = gql.services  # type: ignore[attr-defined]
    await asyncio.gather(*(reminders.send_due(services) for _ in range(count)))


async def test_a_reminder_a_week_and_a_day_before_expiry_each_sent_once(mailing, smtp):
    deploy = await issue(mailing, "deploy", 10, ["account:read", "ita:read"])
    await exchange(mailing.client, deploy["secret"])
    await issue(mailing, "weekly", 7, ["account:read"])  # chosen for 7 days: no 7-day reminder
    await run_workers(mailing)
    assert reminders_in(smtp) == []

    clock.advance(timedelta(days=3, hours=12))  # deploy: 6.5 days left; weekly: 3.5
    await run_workers(mailing)
    await run_workers(mailing)
    [week] = reminders_in(smtp)
    assert week["Subject"] == "Your token “deploy” expires in 7 days"
    text = smtp.text(week)
    assert "ita:read: Read ITA data" in text and "account:read" in text
    assert "last used on" in text and "203.0.113.7" in text
    assert f"/account/tokens?regenerate={deploy['token']['id']}" in text
    assert deploy["secret"] not in text

    clock.advance(timedelta(days=6))  # deploy: half a day left; weekly expired... almost
    await run_workers(mailing)
    await run_workers(mailing)
    subjects = sorted(m["Subject"] for m in reminders_in(smtp))
    assert subjects == [
        "Your token “deploy” expires in 7 days",
        "Your token “deploy” expires within a day",
    ]


async def test_no_reminder_for_deleted_tokens_and_a_regenerated_one_starts_afresh(mailing, smtp):
    gone = await issue(mailing, "gone", 10, ["account:read"])
    kept = await issue(mailing, "kept", 10, ["account:read"])
    await mailing(
        "mutation($id: ID!) { deleteToken(input: {id: $id}) { userErrors { code } } }",
        {"id": gone["token"]["id"]},
    )
    clock.advance(timedelta(days=4))
    await run_workers(mailing)
    assert [m["Subject"] for m in reminders_in(smtp)] == ["Your token “kept” expires in 7 days"]

    await mailing.sign_in("alice")
    renewed = await regenerate(mailing, kept["token"]["id"], days=20)
    assert renewed["userErrors"] == []
    clock.advance(timedelta(days=13, hours=12))  # 6.5 days left on the new expiry
    await run_workers(mailing)
    assert len(reminders_in(smtp)) == 2
