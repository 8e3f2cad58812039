"""Database wiring: the Tortoise configuration and the migration state."""

from __future__ import annotations

import dataclasses
import importlib
import os
import pkgutil
from typing import Any

from tortoise import Tortoise
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.connection import get_connection
from tortoise.exceptions import OperationalError

from backend.infra.config import DEFAULT_DATABASE_URL, Settings

MODEL_MODULES = [
    "backend.accounts.models",
    "backend.auth.sessions.models",
    "backend.audit.models",
    "backend.auth.throttle.models",
    "backend.tokens.models",
    "backend.auth.factors.models",
    "backend.notifications.models",
    "backend.serviceclients.models",
    "backend.auth.models",
    "backend.events.models",
    "backend.oidc.models",
]
MIGRATIONS_PACKAGE = "backend.infra.migrations"


class UnmigratedDatabase(RuntimeError):
    """The database lacks migrations this version of Latchkey needs."""

    def __init__(self, pending: list[str]) -> None:
        super().__init__(
            f"the database is missing {len(pending)} migration(s) ({', '.join(pending)}); "
            "run `latchkey migrate` first"
        )
        self.pending = pending


@dataclasses.dataclass(frozen=True)
class Timeouts:
    """How long the server lets a statement run, and a request wait for a connection."""

    statement_seconds: float
    acquire_seconds: float

    @classmethod
    def of(cls, settings: Settings) -> Timeouts:
        return cls(settings.database_statement_seconds, settings.database_acquire_seconds)


def tortoise_config(database_url: str, timeouts: Timeouts | None = None) -> dict[str, Any]:
    """`timeouts` bound what requests wait for; migrations and commands go without."""
    return {
        "connections": {"default": _connection(database_url, timeouts)},
        "apps": {
            "models": {
                "models": MODEL_MODULES,
                "default_connection": "default",
                "migrations": MIGRATIONS_PACKAGE,
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


SQLITE_DEFAULTS = {
    # Several workers share one SQLite file: wait for a lock instead of failing at once.
    "busy_timeout": "10000",
    # With the write-ahead log, NORMAL never corrupts the file; it skips an fsync per
    # commit, and a power cut may lose the last commits (a process crash loses nothing).
    "synchronous": "NORMAL",
    # SQLite's own page cache, per connection (its default is 2,000 KiB): the file's pages
    # stay in the system's page cache anyway, so a worker need not hold its own copy.
    "cache_size": "-256",
}


def _connection(url: str, timeouts: Timeouts | None) -> str | dict[str, Any]:
    if url.startswith("sqlite://"):
        return _sqlite_connection(url, timeouts)
    if timeouts is None:
        return url
    connection = expand_db_url(url)
    if connection["engine"] != "tortoise.backends.asyncpg":
        return connection
    # Tortoise's own engine, except that it waits for a connection in bounded time and
    # drops broken ones (see there).
    connection["engine"] = "backend.infra.database_postgres"
    credentials = connection["credentials"]
    statement_ms = round(timeouts.statement_seconds * 1000)
    # The server cancels a statement that runs or waits for a lock too long, and says so;
    # the connection stays usable.
    credentials["server_settings"] = {
        **(credentials.get("server_settings") or {}),
        "statement_timeout": str(statement_ms),
    }
    # Should the server not answer at all (a network partition, a stopped host), asyncpg
    # stops waiting a little after the server would have cancelled the statement itself.
    credentials["command_timeout"] = timeouts.statement_seconds + COMMAND_TIMEOUT_MARGIN
    credentials["timeout"] = timeouts.acquire_seconds  # opening a connection
    credentials["acquire_timeout"] = timeouts.acquire_seconds
    return connection


# Seconds asyncpg waits past the statement timeout for the server's own cancellation.
COMMAND_TIMEOUT_MARGIN = 2


def _sqlite_connection(url: str, timeouts: Timeouts | None) -> dict[str, Any]:
    defaults = dict(SQLITE_DEFAULTS)
    if timeouts is not None:
        # SQLite's statements wait only for the file's lock: the statement timeout bounds that.
        defaults["busy_timeout"] = str(round(timeouts.statement_seconds * 1000))
    connection = expand_db_url(_with_sqlite_defaults(url, defaults))
    # Tortoise's own engine, except that it recovers when the file comes back and waits for
    # its one connection in bounded time (see there).
    connection["engine"] = "backend.infra.database_sqlite"
    if timeouts is not None:
        connection["credentials"]["acquire_timeout"] = timeouts.acquire_seconds
    return connection


def _with_sqlite_defaults(url: str, defaults: dict[str, str] = SQLITE_DEFAULTS) -> str:
    if not url.startswith("sqlite://"):
        return url
    for name, value in defaults.items():
        if f"{name}=" not in url:
            url += ("&" if "?" in url else "?") + f"{name}={value}"
    return url


async def apply_migrations(database_url: str) -> None:
    """Bring the database schema up to date (what `latchkey migrate` runs)."""
    from tortoise.migrations.api import migrate

    await migrate(config=tortoise_config(database_url))
    await Tortoise.close_connections()


# Where tortoise's migration executor records what it applied (MigrationRecorder).
_APPLIED = 'SELECT "name" FROM "tortoise_migrations" WHERE "app" = \'models\''


async def pending_migrations() -> list[str]:
    """Names of migrations not yet applied on the initialised connection.

    Every worker asks at start. Comparing the files' names with tortoise's record loads no
    migration: the executor's plan would import them all, with tortoise's migration
    machinery, and the worker would keep them (about 1.5 MiB) as long as it lives.
    """
    package = importlib.import_module(MIGRATIONS_PACKAGE)
    shipped = sorted(
        name
        for _, name, is_package in pkgutil.iter_modules(package.__path__)
        if not is_package and name[0] not in "_~"  # as tortoise's loader reads them
    )
    try:
        rows = await get_connection("default").execute_query_dict(_APPLIED)
    except OperationalError:  # no record yet: a database never migrated
        rows = []
    applied = {row["name"] for row in rows}
    return [name for name in shipped if name not in applied]


async def ensure_migrated() -> None:
    pending = await pending_migrations()
    if pending:
        raise UnmigratedDatabase(pending)


# Used by the `tortoise` command when a developer writes a migration
# (`tortoise makemigrations`); the application itself calls tortoise_config().
MIGRATIONS_CONFIG = tortoise_config(os.environ.get("LATCHKEY_DATABASE_URL", DEFAULT_DATABASE_URL))
