"""PostgreSQL outage shapes, on a server of the test's own: a database that refuses
connections, killed server processes, a lock held elsewhere. Each answers 503 with
Retry-After in bounded time, and the service recovers without a restart."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.transactions import in_transaction

from backend.infra.database import apply_migrations
from tests.conftest import settings_for
from tests.helpers import GraphQL, make_user, serving
from tests.postgres_server import postgres_server
from tests.test_outage import VIEWER, assert_unavailable

STATEMENT_SECONDS = 3
ACQUIRE_SECONDS = 1
POOL_SIZE = 5  # Tortoise's default for asyncpg
# Hang detection, not a measure of speed: the longest wait the timeouts allow, and room.
BOUND = STATEMENT_SECONDS + ACQUIRE_SECONDS + 5


@dataclasses.dataclass
class Rig:
    admin: asyncpg.Connection  # to the maintenance database, which stays reachable
    url: str
    client: httpx.AsyncClient


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    EXECUTOR_CACHE.clear()  # compiled for whichever database the process used before
    with postgres_server() as server:
        admin = await asyncpg.connect(server.url)
        try:
            await admin.execute("CREATE DATABASE latchkey")
            url = server.url.rsplit("/", 1)[0] + "/latchkey"
            await apply_migrations(url)
            settings = settings_for(
                url,
                database_statement_seconds=STATEMENT_SECONDS,
                database_acquire_seconds=ACQUIRE_SECONDS,
            )
            async with serving(settings) as client:
                await make_user(settings, "alice")
                assert (await GraphQL(client).sign_in("alice"))["status"] == "SIGNED_IN"
                yield Rig(admin, url, client)
        finally:
            await admin.close()


async def _kill_the_servers_connections(admin: asyncpg.Connection) -> None:
    ended = await admin.fetch(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'latchkey'"
    )
    assert ended, "the service held no connection"


async def _fill_the_pool(client: httpx.AsyncClient) -> None:
    answers = await asyncio.gather(*(client.post("/graphql", json=VIEWER) for _ in range(8)))
    assert all(answer.status_code == 200 for answer in answers)


async def _assert_recovered(client: httpx.AsyncClient) -> None:
    viewer = await client.post("/graphql", json=VIEWER)
    assert viewer.json()["data"]["viewer"] == {"username": "alice"}
    assert (await client.get("/health")).status_code == 200


async def test_a_database_not_accepting_connections_answers_503_then_recovers(rig):
    client = rig.client
    await rig.admin.execute("ALTER DATABASE latchkey ALLOW_CONNECTIONS false")
    # Connections already open would go on working: end them, so that every new one is
    # refused (SQLSTATE 55000).
    await _kill_the_servers_connections(rig.admin)
    async with asyncio.timeout(BOUND):
        # More than the pool held: the later ones can only have met the refusal.
        for _ in range(POOL_SIZE + 2):
            answer = await client.post("/graphql", json=VIEWER)
            assert_unavailable(answer)
            assert answer.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
        assert_unavailable(await client.get("/health"))

    await rig.admin.execute("ALTER DATABASE latchkey ALLOW_CONNECTIONS true")

    await _assert_recovered(client)


async def test_killed_connections_answer_503_at_worst_and_are_replaced(rig):
    client = rig.client
    # Whether asyncpg sees a connection closed before it is used again depends on when the
    # server's goodbye arrives: a few rounds meet both cases.
    for _ in range(4):
        await _fill_the_pool(client)
        await _kill_the_servers_connections(rig.admin)
        async with asyncio.timeout(BOUND):
            answers = []
            for _ in range(POOL_SIZE + 3):
                answers.append(await client.post("/graphql", json=VIEWER))
                answers.append(await client.get("/health"))
        for answer in answers:
            if answer.status_code != 200:
                assert_unavailable(answer)
        # Each dead connection fails one request at most, then a new one takes its place.
        assert [answer.status_code for answer in answers[-6:]] == [200] * 6
    await _assert_recovered(client)


async def test_a_transaction_begun_on_a_killed_connection_gives_the_connection_back(rig):
    client = rig.client
    await _fill_the_pool(client)
    await _kill_the_servers_connections(rig.admin)
    # Each dead connection fails the transaction that meets it. None may keep its place in
    # the pool: more failures than the pool has places would leave nothing to answer with.
    async with asyncio.timeout(BOUND):
        for _ in range(POOL_SIZE + 3):
            try:
                async with in_transaction() as connection:
                    await connection.execute_query("SELECT 1")
            except Exception:  # noqa: BLE001, S110 the failure itself is expected
                pass
        await _assert_recovered(client)


async def test_a_held_table_lock_answers_503_in_bounded_time_then_recovers(rig):
    client = rig.client
    holder = await asyncpg.connect(rig.url)
    try:
        transaction = holder.transaction()
        await transaction.start()
        await holder.execute("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")
        async with asyncio.timeout(BOUND):
            # More requests than the pool has connections, and the probe behind them: the
            # first wait for the lock, the others for a connection.
            answers = await asyncio.gather(
                *(client.post("/graphql", json=VIEWER) for _ in range(POOL_SIZE + 2)),
                client.get("/health"),
            )
        for answer in answers:
            assert_unavailable(answer)
        await transaction.rollback()
    finally:
        await holder.close()

    await _assert_recovered(client)
