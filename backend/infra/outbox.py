"""The one mechanism behind every outbox (mailed notices, webhook deliveries): claim the due
rows, attempt each, back off, give up.

A row has `attempts` and `next_attempt_at`. Claiming is one statement that moves the due
rows' next attempt a lease ahead and returns them, so of several workers on several hosts
each row goes to one; a worker that dies mid-attempt leaves its rows to another after the
lease. What an attempt is, and what delivered or given up means, is the caller's.
"""

from __future__ import annotations

import dataclasses
import functools
from datetime import datetime, timedelta
from typing import TypeVar

from tortoise.models import Model

from backend.infra import hot_sql, metrics
from backend.kernel import clock

M = TypeVar("M", bound=Model)


@dataclasses.dataclass(frozen=True)
class Retries:
    """When to try again after a failure, and when to stop."""

    waits: tuple[timedelta, ...]  # after the 1st, 2nd, ... failure; then the last again
    lease: timedelta  # longer than one attempt can take
    max_attempts: int | None = None
    give_up_after: timedelta | None = None  # counted from the row's creation

    def next_attempt(self, attempts: int, created_at: datetime, now: datetime) -> datetime | None:
        """After `attempts` tries that all failed: when to try again, or None to give up."""
        if self.max_attempts is not None and attempts >= self.max_attempts:
            return None
        if self.give_up_after is not None and now - created_at >= self.give_up_after:
            return None
        return now + self.waits[min(attempts, len(self.waits)) - 1]


# Waiting to be sent, due or not (a sent or abandoned row has no next attempt).
_PENDING = "SELECT COUNT(*) AS pending FROM {table} WHERE next_attempt_at IS NOT NULL"
_ANY_DUE = "SELECT 1 AS due FROM {table} WHERE next_attempt_at <= $1 LIMIT 1"
_CLAIM = """
UPDATE {table} SET attempts = attempts + 1, next_attempt_at = $1
WHERE id IN (
    SELECT id FROM {table} WHERE next_attempt_at <= $2
    ORDER BY next_attempt_at, id LIMIT $3{lock}
)
RETURNING *
"""
# PostgreSQL: rows another worker is claiming are skipped, not waited for. SQLite runs one
# write at a time, so its UPDATE is the claim by itself.
_SKIP_LOCKED = {"postgres": " FOR UPDATE SKIP LOCKED"}


async def claim_due(model: type[M], retries: Retries, limit: int, kind: str) -> list[M]:
    """The due rows this worker now holds for one attempt, their `attempts` counted.
    `kind`: what the rows carry, for the metrics (backend.infra.metrics.OUTBOX_KINDS)."""
    now = clock.now()
    table = model._meta.db_table
    if metrics.enabled():
        rows = await hot_sql.fetch(model, _sql(_PENDING, table, ""), [])
        metrics.outbox_pending(kind, rows[0]["pending"])
    # A read first: the claim is a write, and on SQLite every write takes the database's
    # one write lock, even when it changes nothing.
    if not await hot_sql.fetch(model, _sql(_ANY_DUE, table, ""), [now]):
        return []
    dialect = hot_sql.client(model).capabilities.dialect
    claim = _sql(_CLAIM, table, _SKIP_LOCKED.get(dialect, ""))
    rows = await hot_sql.fetch(model, claim, [now + retries.lease, now, limit])
    return [hot_sql.as_model(model, row) for row in rows]


@functools.cache
def _sql(template: str, table: str, lock: str) -> str:
    # The table comes from the model, never from a request.
    return template.replace("{table}", table).replace("{lock}", lock)
