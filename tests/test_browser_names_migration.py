"""Rows written before browsers were named on writing get their names from the migration."""

from __future__ import annotations

from tortoise import Tortoise

from backend.infra.database import apply_migrations, tortoise_config
from tests.conftest import settings_for
from tests.helpers import GraphQL, serving
from tests.test_sessions_and_log import FIREFOX
from tests.test_twofactor_migration import _insert, _old_user, empty_database  # noqa: F401

LAST_BEFORE = "models.0016_foreign_key_indexes"
CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)
EVENTS = 1_200  # more than one batch of the migration
READ = """{ viewer { securityEvents(first: 100) { edges { node { browser } } }
  sessions { browser current } } }"""


async def _database_with_old_rows(settings) -> None:
    config = tortoise_config(settings.database_url)
    await Tortoise.init(config=config)
    from tortoise.migrations.api import migrate

    await migrate(config=config, target=LAST_BEFORE)
    user_id = await _old_user(settings, "alice")
    for number in range(EVENTS):
        await _insert(
            settings,
            "INSERT INTO security_events (user_id, kind, created_at, ip_address, user_agent,"
            " details) VALUES ($1, 'sign_in.failed', CURRENT_TIMESTAMP, '192.0.2.1', $2, '{}')",
            [user_id, (FIREFOX, CHROME, "")[number % 3]],
        )
    await _insert(
        settings,
        "INSERT INTO sessions (user_id, token_hash, created_at, last_seen_at, ip_address,"
        " user_agent) VALUES ($1, 'x', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, '', $2)",
        [user_id, CHROME],
    )
    await _insert(
        settings,
        "INSERT INTO trusted_devices (user_id, token_hash, created_at, last_seen_at,"
        " expires_at, ip_address, user_agent) VALUES ($1, 'y', CURRENT_TIMESTAMP,"
        " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, '', $2)",
        [user_id, FIREFOX],
    )
    await Tortoise.close_connections()


async def test_old_rows_show_their_browsers_after_the_migration(empty_database):  # noqa: F811
    settings = settings_for(empty_database)
    await _database_with_old_rows(settings)
    await apply_migrations(settings.database_url)
    async with serving(settings) as client:
        gql = GraphQL(client)
        await gql.sign_in("alice")
        viewer = (await gql(READ))["viewer"]
    browsers = [edge["node"]["browser"] for edge in viewer["securityEvents"]["edges"]]
    # The sign-in's own event first (this client is no browser), then the migrated ones.
    assert browsers[0] == "Unknown browser"
    assert set(browsers[1:]) == {"Firefox on Windows", "Chrome on Linux", ""}
    old = [s["browser"] for s in viewer["sessions"] if not s["current"]]
    assert old == ["Chrome on Linux"]
