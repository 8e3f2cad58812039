"""Stamps written before the second factor's time was kept apart keep what they proved."""

from __future__ import annotations

from tortoise import Tortoise

from backend.auth.sessions.models import Session
from backend.infra.database import apply_migrations, tortoise_config
from tests.conftest import settings_for
from tests.test_twofactor_migration import _insert, _old_user, empty_database  # noqa: F401

LAST_BEFORE = "models.0019_token_list_index"


async def _database_with_old_stamps(settings) -> None:
    config = tortoise_config(settings.database_url)
    await Tortoise.init(config=config)
    from tortoise.migrations.api import migrate

    await migrate(config=config, target=LAST_BEFORE)
    user_id = await _old_user(settings, "alice")
    for token_hash, factor in (("with-code", "totp"), ("password-only", None)):
        await _insert(
            settings,
            "INSERT INTO sessions (user_id, token_hash, created_at, last_seen_at, ip_address,"
            " user_agent, reauthenticated_at, reauthenticated_factor) VALUES ($1, $2,"
            " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, '', '', CURRENT_TIMESTAMP, $3)",
            [user_id, token_hash, factor],
        )
    await Tortoise.close_connections()


async def test_a_stamp_with_a_second_factor_gets_its_time(empty_database):  # noqa: F811
    settings = settings_for(empty_database)
    await _database_with_old_stamps(settings)
    await apply_migrations(settings.database_url)
    await Tortoise.init(config=tortoise_config(settings.database_url))
    try:
        with_code = await Session.get(token_hash="with-code")
        password_only = await Session.get(token_hash="password-only")
    finally:
        await Tortoise.close_connections()
    assert with_code.reauthenticated_factor == "totp"
    assert with_code.reauthenticated_factor_at == with_code.reauthenticated_at is not None
    assert password_only.reauthenticated_factor_at is None
    assert password_only.reauthenticated_at is not None
