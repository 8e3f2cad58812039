"""Writes run together are stored all or none, on SQLite in one trip as elsewhere."""

from __future__ import annotations

import pytest
from tortoise.exceptions import IntegrityError

from backend.auth.throttle.models import ThrottleCounter as Counter
from backend.auth.throttle.service import unix_ms
from backend.infra import hot_sql
from backend.kernel import clock

_INSERT = "INSERT INTO throttle_counters (key, failures, updated_at_ms) VALUES ($1, 0, $2)"


def _insert(key: str) -> hot_sql.Statement:
    # Touched now: the app's housekeeping deletes counters untouched for long, and may run
    # in the middle of a test.
    return _INSERT, [key, unix_ms(clock.now())]


async def test_writes_run_together_are_all_stored(app):
    await hot_sql.run_together(Counter, [_insert("ada"), _insert("bob")])
    assert sorted(await Counter.all().values_list("key", flat=True)) == ["ada", "bob"]


async def test_when_one_write_fails_none_is_stored(app):
    with pytest.raises(IntegrityError):
        await hot_sql.run_together(Counter, [_insert("ada"), _insert("ada")])
    assert await Counter.all().count() == 0
    # The connection is usable afterwards, outside any transaction left open.
    await hot_sql.run_together(Counter, [_insert("cy")])
    assert await Counter.all().values_list("key", flat=True) == ["cy"]


async def test_statements_run_together_give_back_the_rows_of_each(app):
    returning = _INSERT + " RETURNING key"
    now = unix_ms(clock.now())
    results = await hot_sql.run_together(
        Counter,
        [
            (returning, ["ada", now]),
            _insert("bob"),
            ("SELECT count(*) AS n FROM throttle_counters", []),
        ],
    )
    assert results == [[{"key": "ada"}], [], [{"n": 2}]]


async def test_statements_run_while_rows_stop_at_the_first_without_any(app):
    returning = _INSERT + " RETURNING key"
    now = unix_ms(clock.now())
    nothing = "SELECT key FROM throttle_counters WHERE key = 'nobody'"
    results = await hot_sql.run_together(
        Counter,
        [(returning, ["ada", now]), (nothing, []), (returning, ["bob", now])],
        while_rows=True,
    )
    assert results == [[{"key": "ada"}], []]
    assert await Counter.all().values_list("key", flat=True) == ["ada"]


async def test_a_batch_gives_back_rows_by_the_name_they_were_added_under(app):
    returning = _INSERT + " RETURNING key"
    now = unix_ms(clock.now())
    nothing = "SELECT key FROM throttle_counters WHERE key = 'nobody'"
    batch = (
        hot_sql.Batch()
        .add((returning, ["ada", now]), (returning, ["bob", now]), name="inserted")
        .add(("SELECT count(*) AS n FROM throttle_counters", []), name="count")
        .add((nothing, []))
        .add((returning, ["cy", now]), name="after")
    )
    results = await batch.run(Counter, while_rows=True)
    assert results.each("inserted") == [[{"key": "ada"}], [{"key": "bob"}]]
    assert results.rows("count") == [{"n": 2}]
    # Stopped at the statement without rows: what was named after it did not run.
    assert results.each("after") == [] and results.rows("after") == []
    assert sorted(await Counter.all().values_list("key", flat=True)) == ["ada", "bob"]
