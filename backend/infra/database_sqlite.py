"""Tortoise's SQLite engine, made to survive a connection that cannot be opened.

Tortoise takes its connection lock and then (re)opens the file; when opening fails (the
file is gone or unreadable) the lock is never released, and every later query waits on
it forever: the service would not recover without a restart. These classes release it.

Every query takes turns on the one connection: while another process holds the file's
write lock, each waits up to the busy timeout, and those behind it wait in turn. A request
waits for its turn `acquire_timeout` seconds at most, then fails as a locked file does.
"""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

from tortoise.backends.base.client import (
    ConnectionWrapper,
    NestedTransactionContext,
    TransactionalDBClient,
)
from tortoise.backends.sqlite.client import (
    SqliteClient as TortoiseSqliteClient,
)
from tortoise.backends.sqlite.client import (
    SqliteTransactionContext,
    SqliteTransactionWrapper,
)
from tortoise.connection import get_connections
from tortoise.exceptions import IntegrityError, OperationalError

from backend.infra import tracing


async def _take_turn(lock: asyncio.Lock, seconds: float | None) -> None:
    try:
        # Not wait_for: its own task may take the lock just as the time runs out, and
        # nobody would release it. Lock.acquire itself gives way cleanly when cancelled.
        async with asyncio.timeout(seconds):
            await lock.acquire()
    except TimeoutError:
        # Said as SQLite says it when its own wait for the lock runs out (an outage, a 503).
        busy = sqlite3.OperationalError("database is locked: no turn on the connection")
        busy.sqlite_errorcode = sqlite3.SQLITE_BUSY
        raise OperationalError(busy) from None


class _ConnectionWrapper(ConnectionWrapper[Any]):
    def __init__(self, lock: asyncio.Lock, client: SqliteClient) -> None:
        super().__init__(lock, client)
        self._timeout = client.acquire_timeout

    async def __aenter__(self) -> Any:
        await _take_turn(self._lock, self._timeout)
        try:
            await self.ensure_connection()
        except BaseException:
            self._lock.release()
            raise
        return self.connection


def _run_together(
    connection: sqlite3.Connection, statements: list[tuple[str, list[Any]]], while_rows: bool
) -> list[list[dict[str, Any]]]:
    results = []
    connection.execute("BEGIN")
    try:
        for sql, params in statements:
            cursor = connection.execute(sql, params)
            rows = cursor.fetchall()
            names = [column[0] for column in cursor.description or ()]
            results.append([dict(zip(names, row, strict=True)) for row in rows])
            if while_rows and not rows:
                break
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")
    return results


class _TransactionContext(SqliteTransactionContext):
    async def __aenter__(self) -> TransactionalDBClient:
        await _take_turn(self._trxlock, self.connection._parent.acquire_timeout)
        try:
            await self.ensure_connection()
            self.token = get_connections().set(self.connection_name, self.connection)
            try:
                await self.connection.begin()
            except BaseException:
                get_connections().reset(self.token)
                raise
        except BaseException:
            self._trxlock.release()
            raise
        return self.connection


class _TransactionWrapper(tracing.TracedStatements, SqliteTransactionWrapper):
    db_system = "sqlite"

    def _in_transaction(self) -> NestedTransactionContext:
        return NestedTransactionContext(_TransactionWrapper(self))


class SqliteClient(tracing.TracedStatements, TortoiseSqliteClient):
    db_system = "sqlite"

    def __init__(self, file_path: str, acquire_timeout: float | None = None, **kwargs: Any):
        # Not a pragma: Tortoise sends every other parameter to SQLite as one.
        super().__init__(file_path, **kwargs)
        self.acquire_timeout = acquire_timeout

    def acquire_connection(self) -> ConnectionWrapper[Any]:
        return _ConnectionWrapper(self._lock, self)

    async def run_together(
        self, statements: list[tuple[str, list[Any]]], *, while_rows: bool = False
    ) -> list[list[dict[str, Any]]]:
        """Run statements in one transaction, in a single trip to the connection's thread;
        the rows of each (see hot_sql.run_together)."""
        async with self.acquire_connection() as connection:
            try:
                with tracing.statements(self.db_system, statements):
                    # aiosqlite's own way into its thread: the sqlite3 connection is used there
                    # only.
                    return await connection._execute(
                        _run_together, connection._conn, statements, while_rows
                    )
            except sqlite3.OperationalError as error:
                raise OperationalError(error) from error
            except sqlite3.IntegrityError as error:
                raise IntegrityError(error) from error

    def _in_transaction(self) -> _TransactionContext:
        return _TransactionContext(_TransactionWrapper(self), self._lock)


client_class = SqliteClient
