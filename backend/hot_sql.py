"""Statements on the hot paths, written once as SQL instead of built by the ORM per request.

Tortoise builds a query's SQL anew on every call, which costs more than the query itself
for the requests served most often. These statements are written with PostgreSQL's `$1`
placeholders and turned into SQLite's `?1` once per dialect; their rows become the same
model instances the ORM would have made.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any, TypeVar

from tortoise import fields
from tortoise.models import Model
from tortoise.transactions import in_transaction

M = TypeVar("M", bound=Model)
Statement = tuple[str, list[Any]]  # SQL with $n placeholders, and its parameters


def client(model: type[Model]) -> Any:
    """The model's connection: the transaction's when one is open."""
    return model._meta.db


@functools.cache
def _for_dialect(sql: str, dialect: str) -> str:
    return sql.replace("$", "?") if dialect == "sqlite" else sql


async def fetch(model: type[Model], sql: str, params: list[Any]) -> list[dict[str, Any]]:
    db = client(model)
    return await db.execute_query_dict(_for_dialect(sql, db.capabilities.dialect), params)


async def execute(model: type[Model], sql: str, params: list[Any]) -> None:
    db = client(model)
    await db.execute_query(_for_dialect(sql, db.capabilities.dialect), params)


async def execute_together(model: type[Model], statements: list[Statement]) -> None:
    """Writes that belong together, all or none.

    On SQLite they go to the database's thread in one trip and are committed once; each
    trip costs more than a small write. Elsewhere, or inside an open transaction, they
    run one after another in a transaction.
    """
    db = client(model)
    dialect = db.capabilities.dialect
    together = [(_for_dialect(sql, dialect), params) for sql, params in statements]
    run_together = getattr(db, "execute_together", None)
    if run_together is not None:
        await run_together(together)
        return
    async with in_transaction(db.connection_name) as transaction:
        for sql, params in together:
            await transaction.execute_query(sql, params)


async def fetch_models(model: type[M], sql: str, params: list[Any]) -> list[M]:
    """Rows of `model`'s table (every column, by its name) as instances of `model`."""
    return [as_model(model, row) for row in await fetch(model, sql, params)]


def as_model(model: type[M], row: dict[str, Any]) -> M:
    for column in _datetime_columns(model):
        value = row[column]
        if isinstance(value, str):  # SQLite keeps ISO text; parsed here in C, not by iso8601
            row[column] = datetime.fromisoformat(value)
    return model._init_from_db(**row)


@functools.cache
def _datetime_columns(model: type[Model]) -> tuple[str, ...]:
    return tuple(
        field.source_field or name
        for name, field in model._meta.fields_map.items()
        if isinstance(field, fields.DatetimeField)
    )
