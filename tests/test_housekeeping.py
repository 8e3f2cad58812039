"""Rows nobody can use any more are deleted; everything still usable stays."""

from __future__ import annotations

from datetime import timedelta

from backend.app import housekeeping
from backend.app.wiring import build_services
from backend.auth.sessions.models import Session
from backend.auth.throttle.models import ThrottleCounter
from backend.kernel import clock
from backend.tokens.models import AccessToken, RefreshToken
from tests.helpers import exchange, issue_token
from tests.test_throttle import WRONG


async def test_expired_access_tokens_sessions_and_quiet_counters_go_live_ones_stay(
    gql, client, new_client, alice, settings
):
    refresh = (await issue_token(gql, days=7))["secret"]
    await exchange(client, refresh)
    await gql.sign_in("nobody", WRONG)  # a counter for an unknown name
    async with new_client() as other:
        await other.post("/graphql", json={"query": "{ viewer { username } }"})
    timeouts = build_services(settings).session_timeouts

    assert all(count == 0 for count in (await housekeeping.delete_expired(timeouts)).values())

    clock.advance(timedelta(minutes=6))  # the access token (5 minutes) is over
    removed = await housekeeping.delete_expired(timeouts)
    assert removed["access_tokens"] == 1 and not await AccessToken.exists()
    assert await Session.exists() and await ThrottleCounter.exists()

    clock.advance(timedelta(days=1))  # sessions idle for a day, counters quiet for a day
    removed = await housekeeping.delete_expired(timeouts)
    assert removed["sessions"] >= 1 and not await Session.exists()
    assert removed["throttle_counters"] == 2  # the name's and the address's
    assert not await ThrottleCounter.exists()
    assert await RefreshToken.exists()  # listed as expired for a while (test_token_retention)
