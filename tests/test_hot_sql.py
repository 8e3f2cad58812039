"""Writes run together are stored all or none, on SQLite in one trip as elsewhere."""

from __future__ import annotations

import pytest
from tortoise.exceptions import IntegrityError

from backend import hot_sql
from backend.throttle.models import ThrottleCounter as Counter

_INSERT = "INSERT INTO throttle_counters (key, failures, updated_at_ms) VALUES ($1, 0, 0)"


async def test_writes_run_together_are_all_stored(app):
    await hot_sql.run_together(Counter, [(_INSERT, ["ada"]), (_INSERT, ["bob"])])
    assert sorted(await Counter.all().values_list("key", flat=True)) == ["ada", "bob"]


async def test_when_one_write_fails_none_is_stored(app):
    with pytest.raises(IntegrityError):
        await hot_sql.run_together(Counter, [(_INSERT, ["ada"]), (_INSERT, ["ada"])])
    assert await Counter.all().count() == 0
    # The connection is usable afterwards, outside any transaction left open.
    await hot_sql.run_together(Counter, [(_INSERT, ["cy"])])
    assert await Counter.all().values_list("key", flat=True) == ["cy"]


async def test_statements_run_together_give_back_the_rows_of_each(app):
    returning = _INSERT + " RETURNING key"
    results = await hot_sql.run_together(
        Counter,
        [
            (returning, ["ada"]),
            (_INSERT, ["bob"]),
            ("SELECT count(*) AS n FROM throttle_counters", []),
        ],
    )
    assert results == [[{"key": "ada"}], [], [{"n": 2}]]


async def test_statements_run_while_rows_stop_at_the_first_without_any(app):
    returning = _INSERT + " RETURNING key"
    nothing = "SELECT key FROM throttle_counters WHERE key = 'nobody'"
    results = await hot_sql.run_together(
        Counter, [(returning, ["ada"]), (nothing, []), (returning, ["bob"])], while_rows=True
    )
    assert results == [[{"key": "ada"}], []]
    assert await Counter.all().values_list("key", flat=True) == ["ada"]
