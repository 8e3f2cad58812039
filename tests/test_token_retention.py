"""What one account keeps of its ended tokens is bounded, and so is every list of them."""

from __future__ import annotations

import asyncio
import secrets
from datetime import timedelta

import pytest

from backend.accounts.models import User
from backend.app import housekeeping
from backend.app.wiring import build_services
from backend.kernel import clock
from backend.kernel.crypto import digest
from backend.tokens.models import AccessToken, RefreshToken, TokenUsageDay
from backend.tokens.retention import KEPT_ENDED, KEPT_FOR
from tests.conftest import settings_for
from tests.helpers import (
    ISSUE_TOKEN,
    PASSWORD,
    QueryCounter,
    days_ahead,
    exchange,
    in_background_job,
    issue_token,
)

LIMIT = 3
MANY = 2_000
LIST = "{ viewer { tokens { id name status expiresAt } } }"


@pytest.fixture
def settings(database_url):
    return settings_for(database_url, max_tokens_per_user=LIMIT)


class RowCounter(QueryCounter):
    """Also counts the rows the database answered with."""

    def __enter__(self) -> RowCounter:
        self.rows = 0
        return super().__enter__()  # type: ignore[return-value]

    def _counting(self, original):
        async def counted(client, query, *args, **kwargs):
            self._count(query)
            result = await original(client, query, *args, **kwargs)
            if in_background_job():
                return result
            if isinstance(result, list):  # execute_query_dict
                self.rows += len(result)
            elif isinstance(result, tuple) and len(result) == 2:  # execute_query
                self.rows += len(result[1])
            return result

        return counted


async def pile_up(user: User, count: int, *, revoked: bool = False, name: str = "old") -> None:
    """`count` tokens that expired (or were deleted) a day ago, written straight to the table
    as an account could have piled them up before the bound."""
    now = clock.now()
    await RefreshToken.bulk_create(
        [
            RefreshToken(
                user_id=user.id,
                name=f"{name}{number}",
                token_hash=digest(secrets.token_hex(16)),
                created_at=now - timedelta(days=2, seconds=count - number),
                expires_at=now - timedelta(days=1),
                revoked_at=now - timedelta(days=1) if revoked else None,
            )
            for number in range(count)
        ],
        batch_size=500,
    )


async def stored(user: User) -> int:
    return await RefreshToken.filter(user_id=user.id).count()


async def works(gql, secret: str) -> bool:
    return (await exchange(gql.client, secret)).status_code == 200


def statuses(listed: list[dict]) -> list[str]:
    return [token["status"] for token in listed]


async def test_issuing_keeps_only_the_newest_ended_tokens(gql, alice, settings):
    bob = await User.create(
        username="bob",
        username_key="bob",
        email="bob@example.com",
        email_key="bob@example.com",
        password_hash="-",
    )
    await pile_up(bob, 30)  # another account's are not touched
    live = await issue_token(gql, "live")
    await pile_up(alice, MANY)
    await pile_up(alice, 10, revoked=True, name="deleted")
    oldest = await RefreshToken.get(user_id=alice.id, name="old0")
    await AccessToken.create(
        token_hash=digest("access"),
        user_id=alice.id,
        refresh_token_id=oldest.id,
        expires_at=clock.now() - timedelta(days=1),
    )
    await TokenUsageDay.create(refresh_token_id=oldest.id, day=clock.now().date())

    assert (await issue_token(gql, "next"))["userErrors"] == []

    assert await stored(alice) == 2 + KEPT_ENDED
    names = {token.name for token in await RefreshToken.filter(user_id=alice.id)}
    newest_ended = {f"deleted{n}" for n in range(10)} | {
        f"old{n}" for n in range(MANY - (KEPT_ENDED - 10), MANY)
    }
    assert names == {"live", "next"} | newest_ended
    # What the dropped tokens were exchanged for and their activity go with them.
    assert not await AccessToken.filter(refresh_token_id=oldest.id).exists()
    assert not await TokenUsageDay.filter(refresh_token_id=oldest.id).exists()
    assert await stored(bob) == 30
    assert await works(gql, live["secret"])


async def test_the_list_and_the_page_stay_bounded_whatever_the_account_holds(gql, client, alice):
    await issue_token(gql, "live")  # alice is signed in on `client`, for the page too
    with RowCounter() as page_before:
        assert (await client.get("/account/tokens")).status_code == 200
    with RowCounter() as empty:
        few = (await gql(LIST))["viewer"]["tokens"]
    assert statuses(few) == ["ACTIVE"]

    await pile_up(alice, MANY)  # from before the bound: no issue has dropped them yet
    with RowCounter() as counter:
        listed = (await gql(LIST))["viewer"]["tokens"]
    assert statuses(listed) == ["ACTIVE"] + ["EXPIRED"] * KEPT_ENDED
    assert [token["name"] for token in listed[1:3]] == [f"old{MANY - 1}", f"old{MANY - 2}"]
    assert len(counter.queries) == len(empty.queries)
    assert counter.rows <= empty.rows + KEPT_ENDED

    with RowCounter() as page_counter:
        page = await client.get("/account/tokens")
    assert page.status_code == 200
    assert page.text.count("data-token-id=") == 1 + KEPT_ENDED
    assert len(page_counter.queries) == len(page_before.queries)
    assert page_counter.rows <= page_before.rows + KEPT_ENDED


async def test_parallel_issues_stay_within_both_bounds(gql, alice):
    await pile_up(alice, MANY)
    await issue_token(gql, "before")
    await pile_up(alice, 50, name="more")
    variables = {"expiresAt": days_ahead(30), "password": PASSWORD}
    results = await asyncio.gather(
        *(gql(ISSUE_TOKEN, {**variables, "name": f"burst{n}"}) for n in range(4))
    )
    issued = [result for result in results if result["issueToken"]["secret"]]
    assert len(issued) == LIMIT - 1
    live = await RefreshToken.filter(user_id=alice.id, expires_at__gt=clock.now()).count()
    assert live == LIMIT
    assert await stored(alice) == LIMIT + KEPT_ENDED


async def test_an_account_whose_tokens_all_expire_at_once_is_listed_bounded(gql, alice):
    for number in range(LIMIT):
        await issue_token(gql, f"t{number}", days=1)
    await pile_up(alice, KEPT_ENDED)
    clock.advance(timedelta(days=2))
    await gql.sign_in("alice")
    listed = (await gql(LIST))["viewer"]["tokens"]
    assert statuses(listed) == ["EXPIRED"] * KEPT_ENDED
    assert [token["name"] for token in listed[:LIMIT]] == [f"t{n}" for n in reversed(range(3))]


async def test_housekeeping_drops_tokens_long_expired(gql, alice, settings):
    await issue_token(gql, "lapsed", days=1)
    await issue_token(gql, "later", days=30)
    timeouts = build_services(settings).session_timeouts
    clock.advance(KEPT_FOR)
    assert (await housekeeping.delete_expired(timeouts))["refresh_tokens"] == 0
    clock.advance(timedelta(days=2))
    assert (await housekeeping.delete_expired(timeouts))["refresh_tokens"] == 1
    assert [token.name for token in await RefreshToken.all()] == ["later"]
