"""Growing delays after repeated failures, counted in the database.

Counters are updated with atomic increments, never read-modify-write in Python, so
every worker and host sees the same count. Attempts made while a key is locked are
refused without being counted; a success clears the account's counter.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F

from backend import clock
from backend.errors import RateLimited
from backend.throttle.models import ThrottleCounter


@dataclasses.dataclass(frozen=True)
class Policy:
    failures_before_lock: int
    first_delay: timedelta = timedelta(seconds=30)
    longest_delay: timedelta = timedelta(hours=1)
    # A quiet day wipes the slate: old failures do not count forever.
    forget_after: timedelta = timedelta(days=1)

    def delay_after(self, failures: int) -> timedelta | None:
        over = failures - self.failures_before_lock
        if over < 0:
            return None
        return min(self.first_delay * (2 ** min(over, 16)), self.longest_delay)


PER_ACCOUNT = Policy(failures_before_lock=5)
PER_ADDRESS = Policy(failures_before_lock=50)
# Text messages cost money and can be aimed at someone's phone: 5, then an hour's rest.
SMS_SENT = Policy(
    failures_before_lock=5,
    first_delay=timedelta(hours=1),
    longest_delay=timedelta(hours=1),
    forget_after=timedelta(hours=1),
)


async def check(*keys: str) -> None:
    """Raise RateLimited when any of the keys is locked now."""
    now = clock.now()
    locked = await ThrottleCounter.filter(key__in=keys, locked_until__gt=now).values_list(
        "locked_until", flat=True
    )
    if locked:
        raise RateLimited(int((max(locked) - now).total_seconds()) + 1)


async def fail(key: str, policy: Policy) -> int:
    """Count one failure for `key`, lock it when the policy says so; the failures so far."""
    now = clock.now()
    await ThrottleCounter.filter(key=key, updated_at__lt=now - policy.forget_after).update(
        failures=0, locked_until=None
    )
    failures = await _increment(key, now)
    delay = policy.delay_after(failures)
    if delay is not None:
        await ThrottleCounter.filter(key=key, failures=failures).update(locked_until=now + delay)
    return failures


async def clear(key: str) -> None:
    await ThrottleCounter.filter(key=key).delete()


async def _increment(key: str, now) -> int:
    for _ in range(2):
        updated = await ThrottleCounter.filter(key=key).update(
            failures=F("failures") + 1, updated_at=now
        )
        if updated:
            break
        try:
            await ThrottleCounter.create(key=key, failures=1, updated_at=now)
            return 1
        except IntegrityError:
            continue  # created by a concurrent failure: increment that row instead
    counter = await ThrottleCounter.get(key=key)
    return counter.failures
