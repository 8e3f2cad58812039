"""After 100 failed sign-ins in a row the account is locked until its password is reset."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from backend.app.wiring import build_services
from backend.auth import lockout
from backend.auth.models import SignInLockout
from backend.kernel import clock
from backend.kernel.client_info import ClientInfo
from tests.conftest import settings_for, smtp_settings
from tests.helpers import GraphQL, make_user
from tests.recovery_helpers import (
    NEW_PASSWORD,
    VIEWER,
    ask_for_reset,
    codes,
    last_mail,
    reset,
    reset_token_in,
)

LOCKED = "Your account is locked"


@pytest.fixture
def settings(database_url, smtp):
    return settings_for(database_url, smtp=smtp_settings(smtp.port))


async def fail(gql: GraphQL, times: int) -> list[str]:
    """Wrong passwords, each after the throttle's wait, so every one is checked."""
    answers = []
    for n in range(times):
        clock.advance(timedelta(hours=2))
        answers.extend(codes(await gql.sign_in("alice", f"wrong guess {n}")))
    return answers


async def test_the_hundredth_failure_locks_until_a_reset(gql, new_client, smtp, settings):
    await make_user(settings, "alice")
    async with new_client() as laptop:
        owner = GraphQL(laptop)  # a browser alice signed in from before
        assert (await owner.sign_in("alice"))["status"] == "SIGNED_IN"
        assert set(await fail(gql, 99)) == {"INVALID_CREDENTIALS"}
        assert not smtp.to("alice@example.com")
        assert await fail(gql, 1) == ["INVALID_CREDENTIALS"]  # the 100th looks like the others

        clock.advance(timedelta(hours=2))
        locked = await owner.sign_in("alice")  # the right password
        assert codes(locked) == ["ACCOUNT_LOCKED"] and locked["status"] is None
        # Anyone else, right password or not, hears only that it is wrong.
        clock.advance(timedelta(hours=2))  # the address's own wait (one address in tests)
        assert codes(await gql.sign_in("alice")) == ["INVALID_CREDENTIALS"]
        assert "latchkey_session" not in gql.client.cookies
        assert await fail(gql, 3) == ["INVALID_CREDENTIALS"] * 3
        clock.advance(timedelta(days=30))  # no wait ends it
        assert codes(await owner.sign_in("alice")) == ["ACCOUNT_LOCKED"]

    assert [m["Subject"] for m in smtp.to("alice@example.com")] == [LOCKED]  # once
    text = last_mail(smtp, subject=LOCKED)
    assert "/secure-account/" in text
    await ask_for_reset(gql, "alice")  # a fresh link, the first one having expired
    token = reset_token_in(last_mail(smtp, subject="Reset your Latchkey password"))
    assert await reset(gql, token) == {"userErrors": []}
    assert (await gql.sign_in("alice", NEW_PASSWORD))["status"] == "SIGNED_IN"
    assert not await SignInLockout.exists()


async def test_the_locking_email_carries_a_working_reset_link(gql, smtp, settings):
    await make_user(settings, "alice")
    await fail(gql, 100)
    token = reset_token_in(last_mail(smtp, subject=LOCKED))
    assert await reset(gql, token) == {"userErrors": []}
    clock.advance(timedelta(hours=2))  # this address guessed a lot: its own wait stands
    assert (await gql.sign_in("alice", NEW_PASSWORD))["status"] == "SIGNED_IN"


async def test_a_successful_sign_in_starts_the_count_afresh(gql, smtp, settings):
    await make_user(settings, "alice")
    await fail(gql, 99)
    clock.advance(timedelta(hours=2))
    assert (await gql.sign_in("alice"))["status"] == "SIGNED_IN"
    assert set(await fail(gql, 99)) == {"INVALID_CREDENTIALS"}
    clock.advance(timedelta(hours=2))
    assert (await gql.sign_in("alice"))["status"] == "SIGNED_IN"
    assert not smtp.messages


async def test_sessions_signed_in_before_the_lock_keep_working(gql, new_client, settings):
    user = await make_user(settings, "alice")
    async with new_client() as other:
        other_gql = GraphQL(other)
        await other_gql.sign_in("alice")
        await SignInLockout.create(user_id=user.id, failures=lockout.MAX_FAILURES)
        assert codes(await other_gql.sign_in("alice")) == ["ACCOUNT_LOCKED"]
        assert (await other_gql(VIEWER))["viewer"] == {"username": "alice"}


async def test_parallel_failures_neither_skip_the_cap_nor_mail_twice(smtp, settings, app):
    """Failures counted at once, as many workers would: the count is exact, one email."""
    user = await make_user(settings, "alice")
    services = build_services(settings)
    client = ClientInfo(ip_address="198.51.100.1")
    await asyncio.gather(*(lockout.count_failure(services, user, client) for _ in range(130)))
    assert (await SignInLockout.get(user_id=user.id)).failures == 130
    assert await lockout.is_locked(user)
    assert [m["Subject"] for m in smtp.to("alice@example.com")] == [LOCKED]
