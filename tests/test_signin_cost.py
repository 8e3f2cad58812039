"""A right password costs the hash and a few statements, the writes committed together."""

from __future__ import annotations

import asyncio

from tortoise import Tortoise

from backend.auth.sessions.models import Session
from tests.helpers import QueryCounter, make_user


class RequestQueryCounter(QueryCounter):
    """Only the statements of the request under test, not of the background jobs."""

    def _counting(self, original):
        task = asyncio.current_task()

        async def counted(client, query, *args, **kwargs):
            if asyncio.current_task() is task:
                self._count(query)
            return await original(client, query, *args, **kwargs)

        return counted


async def test_a_password_sign_in_reads_nothing_it_does_not_need(gql, client, settings):
    await make_user(settings, "alice")
    await gql.sign_in("alice")  # warm up
    client.cookies.clear()
    with RequestQueryCounter() as counter:
        data = await gql.sign_in("alice")
    assert data["status"] == "SIGNED_IN"
    assert await Session.filter(user__username="alice").count() == 2
    statements = [" ".join(query.split()) for query in counter.queries]
    # The account and its failures are one read; a user without failures has none to delete.
    assert sum(s.startswith("SELECT u.*") for s in statements) == 1
    assert not any("sign_in_lockouts" in s and not s.startswith("SELECT u.*") for s in statements)
    assert len(statements) <= 9, "\n".join(statements)
    if Tortoise.get_connection("default").capabilities.dialect == "sqlite":
        # Reserving the attempt and reading the account share one trip to the database's
        # thread; the session, the event and the reset counts share another.
        assert counter.trips == 2, "\n".join(statements)
