"""Repeated sign-in failures slow down, then lock, per account and per address."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import timedelta

from backend.auth.throttle.models import ThrottleCounter
from backend.kernel import clock
from tests.helpers import GraphQL, issue_token, make_user

WRONG = "definitely not the password"
VIEWER = "{ viewer { username } }"


def codes(payload: dict) -> list[str]:
    return [error["code"] for error in payload["userErrors"]]


async def test_five_failures_in_a_row_lock_the_account_even_for_the_right_password(
    gql, client, settings
):
    await make_user(settings, "alice")
    for _ in range(5):
        assert codes(await gql.sign_in("alice", WRONG)) == ["INVALID_CREDENTIALS"]
    refused = await gql.sign_in("alice")
    assert codes(refused) == ["RATE_LIMITED"]
    assert "Try again in" in refused["userErrors"][0]["message"]
    assert "latchkey_session" not in client.cookies


async def test_the_lock_expires_and_a_success_clears_the_count(gql, settings):
    await make_user(settings, "alice")
    for _ in range(5):
        await gql.sign_in("alice", WRONG)
    clock.advance(timedelta(seconds=31))
    assert (await gql.sign_in("alice"))["status"] == "SIGNED_IN"
    assert not await ThrottleCounter.filter(key="sign-in:account:alice").exists()


async def test_attempts_during_a_lock_are_not_counted(gql, settings):
    await make_user(settings, "alice")
    for _ in range(5):
        await gql.sign_in("alice", WRONG)
    before = (await ThrottleCounter.get(key="sign-in:account:alice")).failures
    for _ in range(3):
        assert codes(await gql.sign_in("alice", WRONG)) == ["RATE_LIMITED"]
    assert (await ThrottleCounter.get(key="sign-in:account:alice")).failures == before


async def test_the_delay_grows_with_further_failures(gql, settings):
    await make_user(settings, "alice")
    for _ in range(5):
        await gql.sign_in("alice", WRONG)
    clock.advance(timedelta(seconds=31))
    await gql.sign_in("alice", WRONG)  # the sixth failure: locked for 60 s now
    clock.advance(timedelta(seconds=31))
    assert codes(await gql.sign_in("alice")) == ["RATE_LIMITED"]
    clock.advance(timedelta(seconds=30))
    assert (await gql.sign_in("alice"))["status"] == "SIGNED_IN"


async def test_unknown_accounts_answer_exactly_like_real_ones(gql, settings):
    await make_user(settings, "alice")
    real = [await gql.sign_in("alice", WRONG) for _ in range(8)]
    unknown = [await gql.sign_in("nobody", WRONG) for _ in range(8)]
    # The wait counts down while the requests run: only its seconds may differ.
    assert same_but_the_wait(real) == same_but_the_wait(unknown)


def same_but_the_wait(answers: list[dict]) -> str:
    return re.sub(r"in \d+ seconds", "in N seconds", json.dumps(answers))


async def test_spellings_of_one_name_share_one_counter(gql, settings):
    await make_user(settings, "alice")
    for spelling in ["alice", "ALICE", "Alice", "ａｌｉｃｅ", "aLiCe"]:
        await gql.sign_in(spelling, WRONG)
    assert codes(await gql.sign_in("alice")) == ["RATE_LIMITED"]


async def test_a_locked_sign_in_leaves_existing_sessions_alone(gql, new_client, settings):
    await make_user(settings, "alice")
    await gql.sign_in("alice")
    async with new_client() as attacker:
        for _ in range(5):
            await GraphQL(attacker).sign_in("alice", WRONG)
    assert (await gql(VIEWER))["viewer"] == {"username": "alice"}


async def test_one_address_guessing_many_accounts_is_locked(gql, settings):
    await make_user(settings, "alice")
    for number in range(50):
        await gql.sign_in(f"user{number}", WRONG)
    assert codes(await gql.sign_in("alice")) == ["RATE_LIMITED"]


async def test_concurrent_failures_are_all_counted(gql, settings):
    await make_user(settings, "alice")
    results = await asyncio.gather(*(gql.sign_in("alice", WRONG) for _ in range(12)))
    counted = sum(codes(result) == ["INVALID_CREDENTIALS"] for result in results)
    counter = await ThrottleCounter.get(key="sign-in:account:alice")
    assert counter.failures == counted >= 5
    assert codes(await gql.sign_in("alice")) == ["RATE_LIMITED"]


async def test_aliases_cannot_multiply_guesses_in_one_request(gql, settings):
    await make_user(settings, "alice")
    fields = " ".join(
        f'a{n}: signIn(input: {{username: "alice", password: "guess{n}"}}) {{ status }}'
        for n in range(20)
    )
    response = await gql.raw(f"mutation {{ {fields} }}")
    message = response.json()["errors"][0]["message"]
    assert "aliases" in message or "more than 300 tokens" in message
    assert not await ThrottleCounter.exists()


async def test_wrong_current_passwords_in_a_session_lock_it_and_the_sign_in(
    gql, new_client, settings
):
    await make_user(settings, "alice")
    await gql.sign_in("alice")
    for _ in range(5):
        assert codes(await issue_token(gql, "ci", password=WRONG)) == ["INVALID_CREDENTIALS"]
    assert codes(await issue_token(gql, "ci")) == ["RATE_LIMITED"]
    async with new_client() as other:
        assert codes(await GraphQL(other).sign_in("alice")) == ["RATE_LIMITED"]


async def test_a_locked_sign_in_does_not_stop_the_signed_in_user_from_confirming(
    gql, new_client, settings
):
    await make_user(settings, "alice")
    await gql.sign_in("alice")
    async with new_client() as attacker:
        for _ in range(5):
            await GraphQL(attacker).sign_in("alice", WRONG)
    issued = await issue_token(gql, "ci")
    assert issued["userErrors"] == [] and issued["token"]["name"] == "ci"


async def test_a_quiet_day_forgets_earlier_failures(gql, settings):
    await make_user(settings, "alice")
    for _ in range(4):
        await gql.sign_in("alice", WRONG)
    clock.advance(timedelta(days=1, seconds=1))
    for _ in range(4):
        assert codes(await gql.sign_in("alice", WRONG)) == ["INVALID_CREDENTIALS"]
    assert (await gql.sign_in("alice"))["status"] == "SIGNED_IN"


async def test_attempts_refused_for_a_locked_account_leave_the_address_budget_alone(gql, settings):
    await make_user(settings, "alice")
    for _ in range(5):
        await gql.sign_in("alice", WRONG)
    for _ in range(10):
        assert codes(await gql.sign_in("alice", WRONG)) == ["RATE_LIMITED"]
    address = await ThrottleCounter.get(key="sign-in:address:203.0.113.7")
    assert address.failures == 5


async def test_attempts_refused_for_a_locked_address_leave_the_account_budget_alone(gql, settings):
    await make_user(settings, "alice")
    for number in range(50):
        await gql.sign_in(f"user{number}", WRONG)
    for _ in range(10):
        assert codes(await gql.sign_in("alice", WRONG)) == ["RATE_LIMITED"]
    # The address refused first: the account was never counted, not even for a moment
    # (parallel sign-ins from elsewhere would have met that count).
    assert await ThrottleCounter.get_or_none(key="sign-in:account:alice") is None
