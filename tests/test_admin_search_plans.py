"""The administrators' search reads indexes, not the accounts table, with 100,000 accounts.

The planners decide with real statistics here (ANALYZE, no setting forced): a search that
read the whole table would take a second per keystroke at this size, and grow with it.
"""

from __future__ import annotations

import time

from tortoise import Tortoise
from tortoise.transactions import in_transaction

from backend.administration import directory
from backend.infra.hot_sql import _for_dialect

ACCOUNTS = 100_000
FIRST_NAMES = ("Ada", "Grace", "Alan", "Barbara", "Edsger", "Frances", "Donald", "Radia")

_POSTGRES_FILL = """
INSERT INTO users (username, username_key, email, email_key, first_name, first_name_key,
    last_name, last_name_key, description, time_zone, password_hash, password_changed_at,
    created_at)
SELECT 'user' || g, 'user' || g, 'person' || g || '@example.com', 'person' || g || '@example.com',
    f, lower(f), 'Family' || (g % 9973), 'family' || (g % 9973), '', 'UTC', '-', now(), now()
FROM generate_series(1, $1) AS g,
    LATERAL (SELECT (ARRAY['{names}'])[1 + g % {count}] AS f) AS first
"""
_SQLITE_FILL = """
WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < ?1)
INSERT INTO users (username, username_key, email, email_key, first_name, first_name_key,
    last_name, last_name_key, description, time_zone, password_hash, password_changed_at,
    created_at)
SELECT 'user' || n, 'user' || n, 'person' || n || '@example.com', 'person' || n || '@example.com',
    f, lower(f), 'Family' || (n % 9973), 'family' || (n % 9973), '', 'UTC', '-',
    '2030-01-01 00:00:00+00:00', '2030-01-01 00:00:00+00:00'
FROM (SELECT n, CASE n % {count} {cases} END AS f FROM g)
"""


async def _fill(dialect: str) -> None:
    connection = Tortoise.get_connection("default")
    names = "','".join(FIRST_NAMES)
    if dialect == "sqlite":
        cases = " ".join(f"WHEN {i} THEN '{name}'" for i, name in enumerate(FIRST_NAMES))
        sql = _SQLITE_FILL.replace("{count}", str(len(FIRST_NAMES))).replace("{cases}", cases)
        await connection.execute_query(sql, [ACCOUNTS])
        await connection.execute_script("ANALYZE")
        return
    # g % count is 0-based, the array 1-based.
    sql = _POSTGRES_FILL.replace("{names}", names).replace("{count}", str(len(FIRST_NAMES)))
    await connection.execute_query(sql, [ACCOUNTS])
    await connection.execute_script("ANALYZE users")


async def _plan(search: str | None, dialect: str) -> str:
    words = directory.search_words(search)
    sql, params = directory.statement(words, None, None, 21)
    async with in_transaction() as transaction:
        if dialect == "sqlite":
            rows = await transaction.execute_query_dict(
                "EXPLAIN QUERY PLAN " + _for_dialect(sql, dialect), params
            )
            return "\n".join(row["detail"] for row in rows)
        rows = await transaction.execute_query_dict("EXPLAIN " + sql, params)
        return "\n".join(row["QUERY PLAN"] for row in rows)


async def test_searching_100000_accounts_reads_the_indexes(app):
    dialect = Tortoise.get_connection("default").capabilities.dialect
    await _fill(dialect)

    for search in ("user4200", "person77", "famILY123", "user4200 family"):
        plan = await _plan(search, dialect)
        if dialect == "sqlite":
            assert "SCAN u" not in plan and "SCAN users" not in plan, (search, plan)
            assert "MULTI-INDEX OR" in plan, (search, plan)
        else:
            assert "Seq Scan on users" not in plan, (search, plan)
            for column in directory.SEARCH_COLUMNS:
                assert f"idx_users_search_{column}" in plan, (search, column, plan)
    # A common first name matches an eighth of the accounts: still no read of the table.
    common = await _plan("grace", dialect)
    assert "Seq Scan on users" not in common and "SCAN u\n" not in common + "\n", common
    # Without a search, the first page is the username index's first rows.
    listing = await _plan(None, dialect)
    assert "Seq Scan on users" not in listing and "SCAN u\n" not in listing + "\n", listing

    started = time.perf_counter()
    found = await directory.page(search="user4200", status=None, first=20, after=None)
    elapsed = time.perf_counter() - started
    assert [listed.user.username for listed in found.accounts] == [
        "user4200",
        *(f"user4200{digit}" for digit in range(10)),
    ]
    assert elapsed < 0.5, elapsed
