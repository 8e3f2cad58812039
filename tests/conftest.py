"""Fixtures: a migrated database (SQLite file, and PostgreSQL when configured) and the app.

Every test that asks for `app` or `client` runs once per database.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest
from asgi_lifespan import LifespanManager
from tortoise.backends.base.executor import EXECUTOR_CACHE

from backend.app.factory import create_app
from backend.infra import metrics
from backend.infra.config import Settings, SmtpSettings
from backend.infra.database import apply_migrations
from backend.kernel import clock
from tests.helpers import GraphQL, make_user
from tests.outboxes import sms_webhook, smtp_server

IN_CI = os.environ.get("CI", "").lower() == "true"


def _database_of_this_process(url: str) -> str:
    """Parallel test processes (pytest -n) each get their own database, named after the
    configured one: test becomes test_gw0, test_gw1, ...; a single process uses it as is."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not url or not worker:
        return url
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"{parts.path.rstrip('/')}_{worker}"))


POSTGRES_URL = _database_of_this_process(os.environ.get("LATCHKEY_TEST_DATABASE_URL", ""))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "latchkey.sqlite3"
    asyncio.run(apply_migrations(f"sqlite://{path}"))
    return path


@pytest.fixture(scope="session")
def postgres_migrated() -> str:
    return _postgres_migrated_once()


async def _reset_postgres_schema() -> None:
    try:
        connection = await asyncpg.connect(POSTGRES_URL)
    except asyncpg.InvalidCatalogNameError:  # a parallel run's first use of its database
        await _create_postgres_database()
        connection = await asyncpg.connect(POSTGRES_URL)
    try:
        await connection.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    finally:
        await connection.close()


async def _create_postgres_database() -> None:
    """Through the server's maintenance database, as a database cannot create itself."""
    parts = urlsplit(POSTGRES_URL)
    name = parts.path.lstrip("/").replace('"', '""')
    connection = await asyncpg.connect(urlunsplit(parts._replace(path="/postgres")))
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


# Identity and serial sequences of the application's tables, to restart them as TRUNCATE
# ... RESTART IDENTITY would (tortoise_migrations keeps its rows and its count).
_RESTART_SEQUENCES = """
SELECT setval(s.seqrelid, s.seqstart, false) FROM pg_sequence s
JOIN pg_depend d ON d.objid = s.seqrelid AND d.deptype IN ('a', 'i')
JOIN pg_class t ON t.oid = d.refobjid
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE n.nspname = 'public' AND t.relname <> 'tortoise_migrations'
"""


async def _truncate_postgres() -> None:
    """Empties every table and restarts its ids. Only the tables that hold rows are
    truncated: TRUNCATE costs about the same for an empty table, and most tests fill few."""
    connection = await asyncpg.connect(POSTGRES_URL)
    try:
        tables = await connection.fetch(
            "SELECT quote_ident(tablename) AS name FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename <> 'tortoise_migrations'"
        )
        with_rows = " UNION ALL ".join(
            f"SELECT {index} WHERE EXISTS (SELECT 1 FROM {row['name']})"  # noqa: S608 quoted names
            for index, row in enumerate(tables)
        )
        filled = [tables[row[0]]["name"] for row in await connection.fetch(with_rows)]
        if filled:
            await connection.execute(f"TRUNCATE {', '.join(filled)} CASCADE")
        await connection.fetch(_RESTART_SEQUENCES)
    finally:
        await connection.close()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    # Tortoise caches compiled INSERTs per connection name, whatever the dialect; one
    # process that switches between SQLite and PostgreSQL must start afresh.
    EXECUTOR_CACHE.clear()
    if request.param == "sqlite":
        path = tmp_path / "latchkey.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite://{path}"
    url = request.getfixturevalue("postgres_migrated")
    asyncio.run(_truncate_postgres())
    return url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return settings_for(database_url)


def settings_for(database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "secret_key": "test-secret-key-not-for-production",
        # Cheap hashing keeps the suite fast; production uses the defaults in Settings.
        "argon2_memory_kib": 1024,
        "argon2_time_cost": 1,
        "argon2_parallelism": 1,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def metrics_served(monkeypatch: pytest.MonkeyPatch) -> None:
    """Count as a server with a metrics port does, read in this process from
    prometheus-client's own registry. Its values stay in memory: the module was imported
    before the variable is set, and it reads the variable at import."""
    import prometheus_client  # noqa: F401

    monkeypatch.setenv(metrics.MULTIPROCESS_DIRECTORY, "/nonexistent")


@pytest.fixture(autouse=True)
def _reset_clock() -> None:
    clock.reset()


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[object]:
    async with LifespanManager(create_app(settings)) as manager:
        yield manager.app


@pytest.fixture
async def client(app: object) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(app) as http:
        yield http


def _client(app: object) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=("203.0.113.7", 50000)),  # type: ignore[arg-type]
        base_url="http://testserver",
    )


@pytest.fixture
def new_client(app: object):
    """Another browser or script, with its own cookies."""
    return lambda: _client(app)


@pytest.fixture
def gql(client: httpx.AsyncClient) -> GraphQL:
    return GraphQL(client)


@pytest.fixture
async def alice(gql: GraphQL, settings: Settings):
    """The user alice, signed in on `client`."""
    user = await make_user(settings, "alice")
    await gql.sign_in("alice")
    return user


@pytest.fixture
def smtp():
    """A real SMTP server on loopback; use with settings_for(..., smtp=smtp_settings(port))."""
    with smtp_server() as (outbox, port):
        outbox.port = port  # type: ignore[attr-defined]
        yield outbox


@pytest.fixture
def sms():
    """A real HTTP server on loopback standing in for an SMS gateway."""
    with sms_webhook() as (inbox, url):
        inbox.url = url  # type: ignore[attr-defined]
        yield inbox


def smtp_settings(port: int) -> SmtpSettings:
    return SmtpSettings(
        host="127.0.0.1", port=port, security="none", sender="Latchkey <latchkey@example.com>"
    )


@pytest.fixture
def postgres_url() -> str:
    """The migrated, emptied PostgreSQL database, for tests that need several processes."""
    url = _postgres_migrated_once()
    asyncio.run(_truncate_postgres())
    return url


def _postgres_migrated_once() -> str:
    global _postgres_ready
    if not POSTGRES_URL:
        if IN_CI:
            pytest.fail("CI must test PostgreSQL: set LATCHKEY_TEST_DATABASE_URL")
        pytest.skip("LATCHKEY_TEST_DATABASE_URL is not set")
    if not _postgres_ready:
        asyncio.run(_reset_postgres_schema())
        asyncio.run(apply_migrations(POSTGRES_URL))
        _postgres_ready = True
    return POSTGRES_URL


_postgres_ready = False
