"""At most 100 sessions and 100 recognized devices per user: the oldest end."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from backend.accounts.limits import MAX_SESSIONS_PER_USER, MAX_TRUSTED_DEVICES_PER_USER
from backend.auth.factors import devices
from backend.auth.sessions.models import Session
from backend.kernel import clock
from backend.kernel.client_info import ClientInfo
from tests.helpers import GraphQL

VIEWER = "{ viewer { username } }"


async def test_the_101st_sign_in_ends_the_oldest_session(gql, client, new_client, alice):
    oldest_cookie = client.cookies["latchkey_session"]
    async with new_client() as other:
        browser = GraphQL(other)
        for _ in range(MAX_SESSIONS_PER_USER - 1):
            clock.advance(timedelta(seconds=1))
            other.cookies.clear()
            assert (await browser.sign_in("alice"))["status"] == "SIGNED_IN"
        newest_before = other.cookies["latchkey_session"]
        assert await Session.filter(user=alice).count() == MAX_SESSIONS_PER_USER
        assert (await gql(VIEWER))["viewer"] == {"username": "alice"}  # 100: all still live

        clock.advance(timedelta(seconds=1))
        other.cookies.clear()
        assert (await browser.sign_in("alice"))["status"] == "SIGNED_IN"
        assert await Session.filter(user=alice).count() == MAX_SESSIONS_PER_USER

        other.cookies.clear()
        other.cookies.set("latchkey_session", newest_before)
        assert (await browser(VIEWER))["viewer"] == {"username": "alice"}
    client.cookies.clear()
    client.cookies.set("latchkey_session", oldest_cookie)
    assert (await gql(VIEWER))["viewer"] is None


async def test_parallel_sign_ins_settle_at_the_limit(gql, client, new_client, alice):
    for _ in range(MAX_SESSIONS_PER_USER - 6):
        clock.advance(timedelta(seconds=1))
        client.cookies.clear()  # a new browser each time, not a renewed session
        await gql.sign_in("alice")
    assert await Session.filter(user=alice).count() == MAX_SESSIONS_PER_USER - 5

    async def sign_in() -> str:
        async with new_client() as other:
            return (await GraphQL(other).sign_in("alice"))["status"]

    # Waves no larger than the sign-in budget, which counts attempts in flight.
    for _ in range(3):
        assert await asyncio.gather(*(sign_in() for _ in range(4))) == ["SIGNED_IN"] * 4
    assert await Session.filter(user=alice).count() == MAX_SESSIONS_PER_USER


async def test_the_oldest_recognized_devices_are_forgotten_beyond_the_limit(app, settings, alice):
    browser = ClientInfo("203.0.113.7", "Firefox")
    cookies = []
    for _ in range(MAX_TRUSTED_DEVICES_PER_USER + 1):
        clock.advance(timedelta(seconds=1))
        cookies.append(await devices.remember(alice, browser, settings.secret_key, days=30))
    assert len(await devices.list_for(alice.id)) == MAX_TRUSTED_DEVICES_PER_USER
    assert not await devices.recognizes(alice, cookies[0], settings.secret_key)
    assert await devices.recognizes(alice, cookies[1], settings.secret_key)
    assert await devices.recognizes(alice, cookies[-1], settings.secret_key)
