"""The probes: live (the process answers), started (start-up finished), ready (the database
answers and is migrated), each on a healthy server, an unmigrated database and a database that
goes away and comes back."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import httpx
import pytest
from tortoise.connection import get_connection

from backend.app.factory import create_app
from tests.conftest import settings_for
from tests.helpers import serving

PROBES = ("/health", "/health/live", "/health/ready", "/health/started")


@pytest.fixture
def sqlite_in_folder(sqlite_template: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    shutil.copy(sqlite_template, folder / "latchkey.sqlite3")
    return folder / "latchkey.sqlite3"


async def _statuses(client: httpx.AsyncClient) -> dict[str, int]:
    return {path: (await client.get(path)).status_code for path in PROBES}


async def test_a_healthy_server_answers_every_probe(sqlite_in_folder):
    async with serving(settings_for(f"sqlite://{sqlite_in_folder}")) as client:
        assert await _statuses(client) == dict.fromkeys(PROBES, 200)
        answer = await client.get("/health/ready")
        assert answer.text == "ok"


async def test_started_is_503_until_start_up_has_finished(sqlite_in_folder):
    app = create_app(settings_for(f"sqlite://{sqlite_in_folder}"))  # no lifespan run
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        started = await client.get("/health/started")
        assert started.status_code == 503
        assert started.headers["retry-after"]
        assert (await client.get("/health/live")).status_code == 200


async def test_a_database_missing_a_migration_is_not_ready(sqlite_in_folder):
    async with serving(settings_for(f"sqlite://{sqlite_in_folder}")) as client:
        # As when an older schema is restored under a running server.
        with sqlite3.connect(sqlite_in_folder) as database:
            (last,) = database.execute(
                "SELECT name FROM tortoise_migrations ORDER BY name DESC LIMIT 1"
            ).fetchone()
            database.execute("DELETE FROM tortoise_migrations WHERE name = ?", (last,))
        statuses = await _statuses(client)
        assert statuses == {
            "/health": 503,
            "/health/live": 200,
            "/health/ready": 503,
            "/health/started": 200,
        }
        ready = await client.get("/health/ready")
        assert ready.text == "database not migrated"
        assert ready.headers["retry-after"]

        with sqlite3.connect(sqlite_in_folder) as database:
            database.execute(
                "INSERT INTO tortoise_migrations (app, name, applied_at) "
                "VALUES ('models', ?, CURRENT_TIMESTAMP)",
                (last,),
            )
        assert await _statuses(client) == dict.fromkeys(PROBES, 200)


async def test_a_database_that_goes_away_is_not_ready_until_it_comes_back(
    sqlite_in_folder, tmp_path
):
    async with serving(settings_for(f"sqlite://{sqlite_in_folder}")) as client:
        assert (await client.get("/health/ready")).status_code == 200
        # The file becomes unreachable, as when its volume goes away.
        await get_connection("default").close()
        sqlite_in_folder.parent.rename(tmp_path / "elsewhere")

        statuses = await _statuses(client)
        assert statuses == {
            "/health": 503,
            "/health/live": 200,
            "/health/ready": 503,
            "/health/started": 200,
        }

        (tmp_path / "elsewhere").rename(sqlite_in_folder.parent)
        assert await _statuses(client) == dict.fromkeys(PROBES, 200)
