"""Token activity: how many exchanges each refresh token had, per day, for the last 30 days.

One row per token and day, counted with a single upsert, so exchanges on several workers
at once never lose a count.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from tortoise.functions import Sum

from backend.infra.hot_sql import Statement
from backend.tokens.models import TokenUsageDay

WINDOW_DAYS = 30

# Parameters: 1 refresh token id, 2 the day (UTC). See backend.infra.hot_sql.
_COUNT = """
INSERT INTO token_usage_days (refresh_token_id, day, exchanges) VALUES ($1, $2, 1)
ON CONFLICT (refresh_token_id, day) DO UPDATE SET exchanges = token_usage_days.exchanges + 1
"""


def count_statement(refresh_token_id: int, now: datetime) -> Statement:
    """The statement counting one exchange, to run with the exchange's other writes."""
    # SQLite gets the day as ISO text, as Tortoise stores a DateField there (see its adapter).
    return _COUNT, [refresh_token_id, now.date()]


def window_start(now: datetime) -> date:
    """The first day counted: today and the 29 days before it (UTC)."""
    return now.date() - timedelta(days=WINDOW_DAYS - 1)


async def recent_exchanges(token_ids: list[int], now: datetime) -> dict[int, int]:
    """Exchanges in the last 30 days, per token id; tokens without any are left out."""
    if not token_ids:
        return {}
    rows = (
        await TokenUsageDay.filter(refresh_token_id__in=token_ids, day__gte=window_start(now))
        .group_by("refresh_token_id")
        .annotate(total=Sum("exchanges"))
        .values("refresh_token_id", "total")
    )
    return {row["refresh_token_id"]: int(row["total"] or 0) for row in rows}


async def forget_old(now: datetime) -> int:
    """Delete the days no longer shown."""
    return await TokenUsageDay.filter(day__lt=window_start(now)).delete()
