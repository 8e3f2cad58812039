"""Which exceptions mean "the database is unreachable right now", as opposed to a bug.

The one place that knows what asyncpg, Tortoise, aiosqlite and sqlite3 raise when the
database is down, gone, locked or out of room. Everything else stays a bug (a 500).
"""

from __future__ import annotations

import errno
import sys
from types import ModuleType

from tortoise.exceptions import DBConnectionError

# asyncpg says these with InterfaceError, which otherwise also means misuse (a bug).
_CLOSED_MESSAGES = ("connection is closed", "pool is closed", "pool is closing")
# Errors that any network client raises; they are outages when a database driver raised them.
_NETWORK = (ConnectionError, TimeoutError, OSError)
_DRIVERS = ("asyncpg", "tortoise", "aiosqlite", "sqlite3")
# aiosqlite's words for a connection whose worker thread has stopped.
_AIOSQLITE_CLOSED = ("Connection closed", "no active connection")
_NETWORK_ERRNOS = {
    errno.ECONNREFUSED,
    errno.ECONNRESET,
    errno.ECONNABORTED,
    errno.EPIPE,
    errno.EHOSTUNREACH,
    errno.ENETUNREACH,
    errno.ETIMEDOUT,
}
# SQLite: busy past the busy timeout, file unreadable, missing, moved, read-only, full, damaged.
_SQLITE_OUTAGES = (
    "SQLITE_BUSY",
    "SQLITE_LOCKED",
    "SQLITE_CANTOPEN",
    "SQLITE_IOERR",
    "SQLITE_READONLY",
    "SQLITE_FULL",
    "SQLITE_NOTADB",
    "SQLITE_CORRUPT",
    "SQLITE_PERM",
)


def is_database_outage(error: BaseException) -> bool:
    """True when `error`, or an error it was raised from, says the database is unavailable."""
    return any(_is_outage_itself(cause) for cause in _chain(error))


def _is_outage_itself(error: BaseException) -> bool:
    if isinstance(error, DBConnectionError):  # Tortoise could not connect
        return True
    # asyncpg is loaded only for PostgreSQL (3 MB); until it is, it cannot have raised.
    asyncpg = sys.modules.get("asyncpg")
    if asyncpg is not None:
        # PostgreSQL went away, refused us, cannot take more work, or cancelled a statement
        # that ran or waited for a lock too long (SQLSTATE 08, 57, 53, 55P03).
        exceptions = asyncpg.exceptions
        outages = (
            exceptions.PostgresConnectionError,
            exceptions.OperatorInterventionError,
            exceptions.InsufficientResourcesError,
            exceptions.LockNotAvailableError,
            # A pooled connection whose server process was killed: asyncpg finds its
            # protocol in a state it cannot go on from. The connection is dropped.
            exceptions.InternalClientError,
        )
        if isinstance(error, outages):
            return True
        if isinstance(error, exceptions.PostgresError) and _while_connecting(error):
            # No request can make opening a connection fail: the database is not accepting
            # connections (55000), is gone (3D000), or the like.
            return True
        if isinstance(error, exceptions.InterfaceError):
            return str(error).startswith(_CLOSED_MESSAGES)
    # Likewise sqlite3 (1 MB with its library), loaded only for SQLite.
    sqlite3 = sys.modules.get("sqlite3")
    if sqlite3 is not None and isinstance(error, sqlite3.Error):
        return _is_sqlite_outage(sqlite3, error)
    if isinstance(error, ValueError) and str(error) in _AIOSQLITE_CLOSED:
        return _went_through_driver(error)
    if isinstance(error, _NETWORK) and _went_through_driver(error):
        return isinstance(error, ConnectionError | TimeoutError) or (
            # asyncpg reports "connection refused" on every address as one plain OSError.
            error.errno in _NETWORK_ERRNOS or str(error).startswith("Multiple exceptions")
        )
    return False


def _is_sqlite_outage(sqlite3: ModuleType, error: Exception) -> bool:
    if isinstance(error, sqlite3.ProgrammingError):
        return "closed database" in str(error)
    code = getattr(error, "sqlite_errorcode", None)
    if code is None:
        return False
    # Extended codes (SQLITE_READONLY_DBMOVED, ...) keep the primary code in the low byte.
    return code & 0xFF in {getattr(sqlite3, name) for name in _SQLITE_OUTAGES}


def _chain(error: BaseException) -> list[BaseException]:
    """The error and those behind it: causes, contexts, wrapped originals, exception groups."""
    seen: list[BaseException] = []
    pending = [error]
    while pending:
        current = pending.pop()
        if any(current is known for known in seen):
            continue
        seen.append(current)
        pending.extend(
            cause
            for cause in (
                current.__cause__,
                current.__context__,
                getattr(current, "original_error", None),  # GraphQLError keeps the resolver's
                *current.args,  # Tortoise wraps driver errors as its first argument
                *getattr(current, "exceptions", ()),
            )
            if isinstance(cause, BaseException)
        )
    return seen


def _while_connecting(error: BaseException) -> bool:
    """Whether the error came up through asyncpg's opening of a connection."""
    return _through(error, ("asyncpg.connect_utils",))


def _went_through_driver(error: BaseException) -> bool:
    """Whether the error came up through database driver code (and not, say, SMTP)."""
    return _through(error, _DRIVERS)


def _through(error: BaseException, modules: tuple[str, ...]) -> bool:
    traceback = error.__traceback__
    while traceback is not None:
        if traceback.tb_frame.f_globals.get("__name__", "").startswith(modules):
            return True
        traceback = traceback.tb_next
    return False
