"""Bounds on what one account may pile up: tokens, sessions, recognized devices.

A count followed by an insert must not interleave with another worker doing the same,
so both run in one transaction that first serialises on the user's row.
"""

from __future__ import annotations

import functools

from tortoise.models import Model

from backend.accounts.models import User
from backend.infra import hot_sql

MAX_SESSIONS_PER_USER = 100
MAX_TRUSTED_DEVICES_PER_USER = 100

# A no-op update: it locks the row on PostgreSQL, where a plain read would not (READ
# COMMITTED); on SQLite it takes the database's single write lock before the transaction
# reads anything, so what is counted next is current on both.
_SERIALISE = "UPDATE users SET username = username WHERE id = $1"


async def serialise_on_user(user_id: int) -> None:
    """Inside a transaction: take the user's row lock, held until commit or rollback."""
    await hot_sql.execute(User, *serialise_statement(user_id))


def serialise_statement(user_id: int) -> hot_sql.Statement:
    """`serialise_on_user` as a statement, first among others run together."""
    return _SERIALISE, [user_id]


async def keep_newest(model: type[Model], user_id: int, keep: int) -> None:
    """Delete the user's oldest rows of `model` beyond the newest `keep`."""
    await hot_sql.execute(model, *keep_newest_statement(model, user_id, keep))


def keep_newest_statement(model: type[Model], user_id: int, keep: int) -> hot_sql.Statement:
    return _keep_newest_sql(model._meta.db_table, keep), [user_id]


# At most 1,000 at a time: more than a burst can add between two calls. The table and the
# count come from the code, never from a request.
_KEEP_NEWEST = """
DELETE FROM {table} WHERE id IN (
    SELECT id FROM {table} WHERE user_id = $1
    ORDER BY created_at DESC, id DESC LIMIT 1000 OFFSET {keep}
)
"""


@functools.cache
def _keep_newest_sql(table: str, keep: int) -> str:
    return _KEEP_NEWEST.replace("{table}", table).replace("{keep}", str(int(keep)))
