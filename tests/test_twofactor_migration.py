"""A database from before several factors per user keeps signing its users in."""

from __future__ import annotations

import asyncio
import re

import pytest
from tortoise import Tortoise
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.connection import get_connection
from tortoise.migrations.api import migrate

from backend.app.wiring import build_services
from backend.infra.database import apply_migrations, tortoise_config
from backend.kernel.crypto import keyed_digest
from backend.kernel.secret_box import SecretBox
from tests.conftest import POSTGRES_URL, _reset_postgres_schema, settings_for, smtp_settings
from tests.helpers import PASSWORD, GraphQL, serving
from tests.twofactor_helpers import code_in, early_in_a_time_step, oathtool, verify

LAST_BEFORE = "models.0007_throttle_reservations"
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
RECOVERY_CODE = "abcd-efgh-jkmn-pqrs"
FACTORS = "{ viewer { twoFactor { enabled method authenticators { kind name } } } }"


async def _database_before_authenticators(settings) -> None:
    """alice with an authenticator app and one recovery code, bob with codes by email,
    stored as the old schema did."""
    config = tortoise_config(settings.database_url)
    await Tortoise.init(config=config)
    await migrate(config=config, target=LAST_BEFORE)
    user_id = await _old_user(settings, "alice")
    sealed = SecretBox(settings.secret_key).seal(SECRET, bound_to=str(user_id))
    code_hash = keyed_digest(settings.secret_key, "recovery-code", RECOVERY_CODE.replace("-", ""))
    await _insert(
        settings,
        "INSERT INTO two_factor (user_id, method, policy, totp_secret, last_timecode, enabled_at)"
        " VALUES ($1, 'totp', 'every_sign_in', $2, 0, CURRENT_TIMESTAMP)",
        [user_id, sealed],
    )
    await _insert(
        settings,
        "INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)",
        [user_id, code_hash],
    )
    bob_id = await _old_user(settings, "bob")
    await _insert(
        settings,
        "INSERT INTO two_factor (user_id, method, policy, last_timecode, enabled_at)"
        " VALUES ($1, 'email', 'every_sign_in', 0, CURRENT_TIMESTAMP)",
        [bob_id],
    )
    await Tortoise.close_connections()


async def _old_user(settings, username: str) -> int:
    """A user row as the old schema stores it (today's model has columns it lacks)."""
    password_hash = await build_services(settings).hasher.hash(PASSWORD)
    await _insert(
        settings,
        "INSERT INTO users (username, username_key, email, email_key, first_name, last_name,"
        " description, time_zone, password_hash, password_changed_at, created_at)"
        " VALUES ($1, $2, $3, $4, '', '', '', 'UTC', $5, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
        [username, username, f"{username}@example.com", f"{username}@example.com", password_hash],
    )
    sql = "SELECT id FROM users WHERE username_key = $1"
    if settings.database_url.startswith("sqlite"):
        sql = sql.replace("$1", "?")
    _count, rows = await get_connection("default").execute_query(sql, [username])
    return rows[0]["id"]


async def _insert(settings, sql: str, values: list) -> None:
    if settings.database_url.startswith("sqlite"):
        sql = re.sub(r"\$\d+", "?", sql)
    await get_connection("default").execute_query(sql, values)


@pytest.fixture(params=["sqlite", "postgres"])
def empty_database(request, tmp_path) -> str:
    EXECUTOR_CACHE.clear()  # compiled INSERTs are cached per connection name, whatever the dialect
    if request.param == "sqlite":
        return f"sqlite://{tmp_path / 'old.sqlite3'}"
    if not POSTGRES_URL:
        pytest.skip("LATCHKEY_TEST_DATABASE_URL is not set")
    asyncio.run(_reset_postgres_schema())  # the next test's fixture migrates and empties it again
    return POSTGRES_URL


async def test_migrated_accounts_sign_in_with_their_app_email_and_recovery_code(
    empty_database, smtp
):
    settings = settings_for(empty_database, smtp=smtp_settings(smtp.port))
    await _database_before_authenticators(settings)
    await apply_migrations(settings.database_url)
    async with serving(settings) as client:
        gql = GraphQL(client)
        early_in_a_time_step()
        first = await gql.sign_in("alice")
        assert first["status"] == "SECOND_FACTOR_REQUIRED"
        assert (await verify(gql, first["challenge"], oathtool(SECRET)))["status"] == "SIGNED_IN"
        assert (await gql(FACTORS))["viewer"]["twoFactor"] == {
            "enabled": True,
            "method": "TOTP",
            "authenticators": [
                {"kind": "TOTP", "name": "Authenticator app"},
                {"kind": "RECOVERY_CODE", "name": ""},
            ],
        }
        again = await gql.sign_in("alice")
        assert (await verify(gql, again["challenge"], RECOVERY_CODE))["status"] == "SIGNED_IN"

        client.cookies.clear()
        emailed = await gql.sign_in("bob")
        assert emailed["status"] == "SECOND_FACTOR_REQUIRED"
        code = code_in(smtp.text(smtp.to("bob@example.com")[-1]))
        assert (await verify(gql, emailed["challenge"], code))["status"] == "SIGNED_IN"
        assert (await gql(FACTORS))["viewer"]["twoFactor"] == {
            "enabled": True,
            "method": "EMAIL",
            "authenticators": [
                {"kind": "EMAIL", "name": "Code by email"},
                {"kind": "RECOVERY_CODE", "name": ""},
            ],
        }
