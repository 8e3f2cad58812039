"""Database wiring: the Tortoise configuration and the migration state."""

from __future__ import annotations

import importlib
import os
import pkgutil
from typing import Any

from tortoise import Tortoise
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.connection import get_connection
from tortoise.exceptions import OperationalError

from backend.config import DEFAULT_DATABASE_URL

MODEL_MODULES = [
    "backend.accounts.models",
    "backend.sessions.models",
    "backend.audit.models",
    "backend.throttle.models",
    "backend.tokens.models",
    "backend.twofactor.models",
    "backend.notifications.models",
    "backend.serviceclients.models",
    "backend.recovery.models",
]
MIGRATIONS_PACKAGE = "backend.migrations"


class UnmigratedDatabase(RuntimeError):
    """The database lacks migrations this version of Latchkey needs."""

    def __init__(self, pending: list[str]) -> None:
        super().__init__(
            f"the database is missing {len(pending)} migration(s) ({', '.join(pending)}); "
            "run `latchkey migrate` first"
        )
        self.pending = pending


def tortoise_config(database_url: str) -> dict[str, Any]:
    return {
        "connections": {"default": _connection(database_url)},
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


def _connection(url: str) -> str | dict[str, Any]:
    if not url.startswith("sqlite://"):
        return url
    connection = expand_db_url(_with_sqlite_defaults(url))
    # Tortoise's own engine, except that it recovers when the file comes back (see there).
    connection["engine"] = "backend.database_sqlite"
    return connection


def _with_sqlite_defaults(url: str) -> str:
    if not url.startswith("sqlite://"):
        return url
    for name, value in SQLITE_DEFAULTS.items():
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
