"""Tortoise's asyncpg engine, made to give up in bounded time and drop broken connections.

Tortoise waits for a pooled connection for as long as it takes: while a lock or a slow
database keeps every connection busy, requests and the health probe would hang. Here a
request waits `acquire_timeout` seconds at most (opening a new connection included).

A connection whose server process was killed stays in the pool, and asyncpg may notice
only when it is used again, with an error that is not even about the connection. Such a
connection is closed before it goes back, so that the pool opens a new one next time.
"""

from __future__ import annotations

from typing import Any

import asyncpg
from tortoise.backends.asyncpg.client import AsyncpgDBClient, TransactionWrapper
from tortoise.backends.base.client import (
    NestedTransactionContext,
    PoolConnectionWrapper,
    TransactionContextPooled,
)
from tortoise.connection import get_connections

from backend.infra import tracing


def is_broken(error: BaseException) -> bool:
    """Whether the connection that raised `error` cannot be trusted with another query."""
    if isinstance(error, asyncpg.PostgresError):
        # The server answered and the session goes on, unless it said it is ending it.
        return getattr(error, "severity", "") in {"FATAL", "PANIC"} or isinstance(
            error, asyncpg.PostgresConnectionError
        )
    # The driver lost track of the protocol, the socket failed, or no answer came in time.
    return isinstance(
        error, asyncpg.InternalClientError | asyncpg.InterfaceError | OSError | TimeoutError
    )


async def _release(pool: asyncpg.Pool, connection: Any, error: BaseException | None) -> None:
    if error is not None and is_broken(error):
        connection.terminate()
    await pool.release(connection)


class _PoolConnection(PoolConnectionWrapper[asyncpg.Connection]):
    async def __aenter__(self) -> asyncpg.Connection:
        await self.ensure_connection()
        client: PostgresClient = self.client  # type: ignore[assignment]
        self.connection = await client._pool.acquire(timeout=client.acquire_timeout)
        return self.connection

    async def __aexit__(self, exc_type: Any, exc_val: Any, exc_tb: Any) -> None:
        await _release(self.client._pool, self.connection, exc_val)


class _TransactionContext(TransactionContextPooled):
    async def __aenter__(self) -> TransactionWrapper:
        await self.ensure_connection()
        parent: PostgresClient = self.client._parent
        self.client._connection = await parent._pool.acquire(timeout=parent.acquire_timeout)
        self.token = get_connections().set(self.connection_name, self.client)
        try:
            await self.client.begin()
        except BaseException as error:
            get_connections().reset(self.token)
            await _release(parent._pool, self.client._connection, error)
            raise
        return self.client

    async def __aexit__(self, exc_type: Any, exc_val: Any, exc_tb: Any) -> None:
        client = self.client
        error: BaseException | None = exc_val
        try:
            if not client._finalized:
                if exc_type:
                    if not is_broken(exc_val):  # a dead connection cannot roll back
                        await client.rollback()
                else:
                    await client.commit()
        except BaseException as ending:
            error = ending
            raise
        finally:
            if client._parent._pool:
                await _release(client._parent._pool, client._connection, error)
            get_connections().reset(self.token)


class _TransactionWrapper(tracing.TracedStatements, TransactionWrapper):
    db_system = "postgresql"

    def _in_transaction(self) -> NestedTransactionContext:
        return NestedTransactionContext(_TransactionWrapper(self))


class PostgresClient(tracing.TracedStatements, AsyncpgDBClient):
    db_system = "postgresql"

    def __init__(self, *args: Any, acquire_timeout: float | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.acquire_timeout = acquire_timeout

    def acquire_connection(self) -> _PoolConnection:
        return _PoolConnection(self, self._pool_init_lock)

    def _in_transaction(self) -> _TransactionContext:
        return _TransactionContext(_TransactionWrapper(self), self._pool_init_lock)


client_class = PostgresClient
