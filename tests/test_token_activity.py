"""Token activity: last use and the number of exchanges in the last 30 days."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from backend.app import housekeeping
from backend.app.wiring import build_services
from backend.kernel import clock
from backend.tokens.models import TokenUsageDay
from tests.helpers import exchange
from tests.test_token_scopes import issue

ACTIVITY = "{ viewer { tokens { name lastUsedAt lastUsedIpAddress exchangesLast30Days } } }"


async def activity(gql) -> dict[str, dict]:
    tokens = (await gql(ACTIVITY))["viewer"]["tokens"]
    return {token["name"]: token for token in tokens}


async def test_each_token_shows_its_last_use_and_exchanges_in_the_last_30_days(
    gql, client, alice, settings
):
    busy = (await issue(gql, None, "busy"))["secret"]
    await issue(gql, None, "idle")
    responses = await asyncio.gather(*(exchange(client, busy) for _ in range(6)))
    assert {response.status_code for response in responses} == {200}

    shown = await activity(gql)
    assert shown["busy"]["exchangesLast30Days"] == 6
    assert shown["busy"]["lastUsedIpAddress"] == "203.0.113.7"
    assert shown["busy"]["lastUsedAt"] is not None
    assert shown["idle"] == {
        "name": "idle",
        "lastUsedAt": None,
        "lastUsedIpAddress": None,
        "exchangesLast30Days": 0,
    }

    clock.advance(timedelta(days=20))
    await exchange(client, busy)
    await gql.sign_in("alice")
    assert (await activity(gql))["busy"]["exchangesLast30Days"] == 7
    clock.advance(timedelta(days=15))  # the first six are over 30 days old now
    await gql.sign_in("alice")
    assert (await activity(gql))["busy"]["exchangesLast30Days"] == 1
    removed = await housekeeping.delete_expired(build_services(settings).session_timeouts)
    assert removed["token_usage_days"] == 1 and await TokenUsageDay.all().count() == 1
