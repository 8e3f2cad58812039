"""Statements on the hot paths, written once as SQL instead of built by the ORM per request.

Tortoise builds a query's SQL anew on every call, which costs more than the query itself
for the requests served most often. These statements are written with PostgreSQL's `$1`
placeholders and turned into SQLite's `?1` once per dialect; their rows become the same
model instances the ORM would have made.
"""

from __future__ import annotations

import dataclasses
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


async def run_together(
    model: type[Model],
    statements: list[Statement],
    *,
    atomic: bool = True,
    while_rows: bool = False,
) -> list[list[dict[str, Any]]]:
    """Statements in order; the rows each one returned.

    On SQLite they go to the database's thread in one trip and are committed once, all or
    none: each trip costs more than a small statement. Elsewhere they run one after another,
    in a transaction when `atomic` (each statement on its own is atomic either way).
    `while_rows`: the first statement that returns no row is the last one run; the result
    has no entry for the statements after it.
    """
    db = client(model)
    dialect = db.capabilities.dialect
    together = [(_for_dialect(sql, dialect), params) for sql, params in statements]
    in_one_trip = getattr(db, "run_together", None)
    if in_one_trip is not None:
        return await in_one_trip(together, while_rows=while_rows)
    if not atomic:
        return await _one_after_another(db, together, while_rows)
    async with in_transaction(db.connection_name) as transaction:
        return await _one_after_another(transaction, together, while_rows)


class Batch:
    """Statements to run together (run_together). Those added under a name give their rows
    back by that name, so no caller counts positions in the list."""

    def __init__(self) -> None:
        self._statements: list[Statement] = []
        self._names: dict[str, slice] = {}

    def add(self, *statements: Statement, name: str | None = None) -> Batch:
        start = len(self._statements)
        self._statements.extend(statements)
        if name is not None:
            self._names[name] = slice(start, len(self._statements))
        return self

    async def run(
        self, model: type[Model], *, atomic: bool = True, while_rows: bool = False
    ) -> Results:
        rows = await run_together(model, self._statements, atomic=atomic, while_rows=while_rows)
        return Results({name: rows[span] for name, span in self._names.items()})


@dataclasses.dataclass(frozen=True)
class Results:
    _rows: dict[str, list[list[dict[str, Any]]]]

    def each(self, name: str) -> list[list[dict[str, Any]]]:
        """The rows of each statement added under `name`; fewer lists than statements when
        `while_rows` stopped the batch before the last of them."""
        return self._rows[name]

    def rows(self, name: str) -> list[dict[str, Any]]:
        """The rows of the one statement added under `name`; none if it did not run."""
        ran = self._rows[name]
        return ran[0] if ran else []


async def _one_after_another(
    db: Any, statements: list[Statement], while_rows: bool
) -> list[list[dict[str, Any]]]:
    results = []
    for sql, params in statements:
        results.append(rows := await db.execute_query_dict(sql, params))
        if while_rows and not rows:
            break
    return results


async def fetch_models(model: type[M], sql: str, params: list[Any]) -> list[M]:
    """Rows of `model`'s table (every column, by its name) as instances of `model`."""
    return [as_model(model, row) for row in await fetch(model, sql, params)]


def as_model(model: type[M], row: dict[str, Any]) -> M:
    return model._init_from_db(**parse_datetimes(model, row))


def parse_datetimes(model: type[Model], row: dict[str, Any]) -> dict[str, Any]:
    """`row` (of `model`'s table, any of its columns) with its datetimes as datetimes:
    SQLite keeps ISO text, parsed here in C rather than by iso8601."""
    for column in _datetime_columns(model):
        value = row.get(column)
        if isinstance(value, str):
            row[column] = datetime.fromisoformat(value)
    return row


@functools.cache
def _datetime_columns(model: type[Model]) -> tuple[str, ...]:
    return tuple(
        field.source_field or name
        for name, field in model._meta.fields_map.items()
        if isinstance(field, fields.DatetimeField)
    )
