"""Every foreign key has an index that starts with it, so that reading a user's rows and
deleting a user (ON DELETE CASCADE) cost the same with a million users as with a thousand;
and two_factor keeps one row per user on SQLite too."""

from __future__ import annotations

import sqlite3

import pytest
from tortoise import Tortoise
from tortoise.exceptions import IntegrityError
from tortoise.migrations.api import migrate
from tortoise.migrations.autodetector import MigrationAutodetector

from backend.accounts.models import User
from backend.auth.factors.models import TwoFactor
from backend.infra import hot_sql
from backend.infra.database import apply_migrations, tortoise_config
from backend.kernel import clock

# Each foreign key column, and the columns of every index on its table, in their order.
_POSTGRES_FOREIGN_KEYS = """
SELECT c.conrelid::regclass::text AS "table", a.attname AS "column"
FROM pg_constraint c
JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
WHERE c.contype = 'f'
"""
_POSTGRES_LEADING_COLUMNS = """
SELECT i.indrelid::regclass::text AS "table", a.attname AS "column"
FROM pg_index i
JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
"""


async def _foreign_keys_and_leading_columns() -> tuple[set, set]:
    connection = Tortoise.get_connection("default")
    if connection.capabilities.dialect != "sqlite":
        keys = await connection.execute_query_dict(_POSTGRES_FOREIGN_KEYS)
        leading = await connection.execute_query_dict(_POSTGRES_LEADING_COLUMNS)
        return (
            {(row["table"].strip('"'), row["column"]) for row in keys},
            {(row["table"].strip('"'), row["column"]) for row in leading},
        )
    tables = await connection.execute_query_dict(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    )
    keys, leading = set(), set()
    for table in (row["name"] for row in tables):
        for key in await connection.execute_query_dict(f"PRAGMA foreign_key_list('{table}')"):
            keys.add((table, key["from"]))
        for index in await connection.execute_query_dict(f"PRAGMA index_list('{table}')"):
            columns = await connection.execute_query_dict(f"PRAGMA index_info('{index['name']}')")
            first = min(columns, key=lambda column: column["seqno"])
            leading.add((table, first["name"]))
    return keys, leading


async def test_every_foreign_key_starts_an_index(app):
    keys, leading = await _foreign_keys_and_leading_columns()
    assert ("memberships", "group_id") in keys  # the query above does find the keys
    assert sorted(keys - leading) == []


async def test_the_models_and_the_migrations_agree(app):
    """What `tortoise makemigrations` would write: nothing, once each index a model
    declares has its migration."""
    config = tortoise_config("sqlite://:memory:")
    writers = await MigrationAutodetector(Tortoise.apps, config["apps"]).changes()
    assert [operation.describe() for writer in writers for operation in writer.operations] == []


async def test_a_user_has_one_two_factor_row(app):
    user = await User.create(
        username="ada",
        username_key="ada",
        email="a@example.com",
        email_key="a@example.com",
        password_hash="-",
    )
    insert = "INSERT INTO two_factor (user_id, policy, enabled_at) VALUES ($1, $2, $3)"
    await hot_sql.execute(TwoFactor, insert, [user.id, "every_sign_in", clock.now()])
    with pytest.raises(IntegrityError):
        await hot_sql.execute(TwoFactor, insert, [user.id, "new_device", clock.now()])


def _sqlite_user(db: sqlite3.Connection, username: str) -> int:
    """A user row as the schema of 0015 stores it."""
    cursor = db.execute(
        "INSERT INTO users (username, username_key, email, email_key, first_name, last_name,"
        " description, time_zone, password_hash, password_changed_at, created_at)"
        " VALUES (?, ?, ?, ?, '', '', '', 'UTC', '-', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
        [username, username, f"{username}@example.com", f"{username}@example.com"],
    )
    return cursor.lastrowid


async def test_an_old_sqlite_database_keeps_the_newest_two_factor_row_of_each_user(tmp_path):
    path = tmp_path / "old.sqlite3"
    config = tortoise_config(f"sqlite://{path}")
    await Tortoise.init(config=config)
    try:
        await migrate(config=config, target="models.0015_hot_path_indexes")
    finally:
        await Tortoise.close_connections()
    with sqlite3.connect(path) as db:
        ada, bob = _sqlite_user(db, "ada"), _sqlite_user(db, "bob")
        rows = [(ada, "every_sign_in"), (bob, "new_device"), (ada, "new_device")]
        db.executemany(
            "INSERT INTO two_factor (user_id, policy, enabled_at) VALUES (?, ?, CURRENT_TIMESTAMP)",
            rows,
        )
    db.close()

    await apply_migrations(f"sqlite://{path}")

    db = sqlite3.connect(path)
    try:
        kept = db.execute("SELECT id, user_id, policy FROM two_factor ORDER BY id").fetchall()
        assert kept == [(2, bob, "new_device"), (3, ada, "new_device")]
        with pytest.raises(sqlite3.IntegrityError):
            db.execute(
                "INSERT INTO two_factor (user_id, policy, enabled_at)"
                " VALUES (?, 'every_sign_in', CURRENT_TIMESTAMP)",
                [bob],
            )
    finally:
        db.close()
