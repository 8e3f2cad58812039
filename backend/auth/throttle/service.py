"""Attempt budgets that hold under concurrency, counted in the database.

An attempt is reserved before the secret is checked: one SQL statement counts it and,
at the policy's limit, writes the lock, so parallel requests on any worker or host can
never verify more than the budget. Attempts made while a key is locked are refused
without being counted; a success clears the key.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
from collections.abc import Sequence
from datetime import datetime, timedelta

from backend.auth.throttle.models import ThrottleCounter
from backend.infra import hot_sql
from backend.kernel import clock
from backend.kernel.errors import RateLimited


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
# Each request to change the email address sends a message (the code, or a notice to the
# owner of an address another account uses): 5 an hour per account, then an hour's rest.
EMAIL_CHANGES = Policy(
    failures_before_lock=5,
    first_delay=timedelta(hours=1),
    longest_delay=timedelta(hours=1),
    forget_after=timedelta(hours=1),
)
# Passkey sign-ins started from one address, which anyone may ask for: a login page asks
# for one as it opens, so 30 in a row is generous; then a minute's rest, and a quiet
# minute starts the count again.
PASSKEY_STARTS = Policy(
    failures_before_lock=30,
    first_delay=timedelta(minutes=1),
    longest_delay=timedelta(minutes=1),
    forget_after=timedelta(minutes=1),
)

# Parameters: $1 key, $2 now, $3 forget_before, $4 lock after a first attempt. The WHERE
# makes a locked row refuse the update, so RETURNING gives nothing and nothing is counted.
_RESERVE = """
INSERT INTO throttle_counters ("key", failures, locked_until_ms, updated_at_ms)
VALUES ($1, 1, $4, $2)
ON CONFLICT ("key") DO UPDATE SET
    failures = {next},
    locked_until_ms = {lock},
    updated_at_ms = $2
WHERE throttle_counters.locked_until_ms IS NULL OR throttle_counters.locked_until_ms <= $2
RETURNING failures
"""
_NEXT = (
    "(CASE WHEN throttle_counters.updated_at_ms < $3 THEN 1 "
    "ELSE throttle_counters.failures + 1 END)"
)
# Parameter $1 key. Gives back one reserved attempt, and the lock it may have set.
_REFUND = """
UPDATE throttle_counters SET
    failures = failures - 1,
    locked_until_ms = CASE WHEN failures - 1 < {limit} THEN NULL ELSE locked_until_ms END
WHERE "key" = $1 AND failures > 0
"""
_CLEAR = 'DELETE FROM throttle_counters WHERE "key" = $1'
# Parameters: $1 key, $2 now. A lock another request set meanwhile stays.
_CLEAR_UNLESS_LOCKED = """
DELETE FROM throttle_counters
WHERE "key" = $1 AND (locked_until_ms IS NULL OR locked_until_ms <= $2)
"""


class Reservation:
    """One attempt reserved on each of several keys, in statements run with others.

    Run `statements` in order with `while_rows` (in one trip with whatever else the caller
    needs after them), then `settle` with their rows: a locked key refuses, the keys after
    it are left alone, and what the keys before it reserved is given back.
    """

    def __init__(self, limits: Sequence[tuple[str, Policy]]) -> None:
        self._limits = list(limits)
        self._now = unix_ms(clock.now())
        self.statements = [_reserve_statement(key, policy, self._now) for key, policy in limits]

    async def settle(self, results: Sequence[list[dict]]) -> None:
        """RateLimited when a key was locked; nothing stays reserved then.

        `results`: the rows of the statements, run with `while_rows` so that a refusal
        stops the reservations after it; a missing entry was never reserved.
        """
        counted = [
            index < len(results) and bool(results[index]) for index in range(len(self._limits))
        ]
        if all(counted):
            return
        for (key, policy), reserved in zip(self._limits, counted, strict=True):
            if reserved:
                await refund(key, policy)
        locked = counted.index(False)
        raise RateLimited(await _seconds_locked(self._limits[locked][0], self._now))


async def reserve(key: str, policy: Policy) -> int:
    """Count one attempt on `key` before checking it; RateLimited while the key is locked.

    Returns the attempts counted so far, this one included.
    """
    now = unix_ms(clock.now())
    rows = await hot_sql.fetch(ThrottleCounter, *_reserve_statement(key, policy, now))
    if not rows:
        raise RateLimited(await _seconds_locked(key, now))
    return int(rows[0]["failures"])


async def reserve_all(limits: Sequence[tuple[str, Policy]]) -> None:
    """Reserve on every key, or on none: a refusal gives back what was reserved."""
    reservation = Reservation(limits)
    results = await hot_sql.run_together(
        ThrottleCounter, reservation.statements, atomic=False, while_rows=True
    )
    await reservation.settle(results)


async def refund(key: str, policy: Policy) -> None:
    """Give back one reserved attempt that was never checked."""
    await hot_sql.execute(ThrottleCounter, *refund_statement(key, policy))


def refund_statement(key: str, policy: Policy) -> hot_sql.Statement:
    return _REFUND.replace("{limit}", str(int(policy.failures_before_lock))), [key]


async def count_failure(key: str, policy: Policy) -> None:
    """Count a failure seen elsewhere on `key`; a key already locked stays as it is."""
    with contextlib.suppress(RateLimited):
        await reserve(key, policy)


async def clear(key: str) -> None:
    await hot_sql.execute(ThrottleCounter, *clear_statement(key))


def clear_statement(key: str) -> hot_sql.Statement:
    return _CLEAR, [key]


async def failures_unless_locked(keys: Sequence[str]) -> dict[str, int]:
    """The failures counted on each of `keys` that has any, reserving nothing (a read);
    RateLimited while one of them is locked."""
    now = unix_ms(clock.now())
    rows = await ThrottleCounter.filter(key__in=list(keys)).values_list(
        "key", "failures", "locked_until_ms"
    )
    locks = [int(until) for _, _, until in rows if until is not None and until > now]
    if locks:
        raise RateLimited(-(-(max(locks) - now) // 1000))
    return {key: int(failures) for key, failures, _ in rows if failures}


async def clear_unless_locked(key: str) -> None:
    """Start `key`'s count afresh, unless a lock landed since it was read."""
    await hot_sql.execute(ThrottleCounter, _CLEAR_UNLESS_LOCKED, [key, unix_ms(clock.now())])


def _reserve_statement(key: str, policy: Policy, now: int) -> hot_sql.Statement:
    forget_before = now - _ms_delta(policy.forget_after)
    first_delay = policy.delay_after(1)
    first_lock = None if first_delay is None else now + _ms_delta(first_delay)
    return _reserve_sql(policy), [key, now, forget_before, first_lock]


@functools.cache
def _reserve_sql(policy: Policy) -> str:
    return _RESERVE.replace("{next}", _NEXT).replace("{lock}", _lock_expression(policy))


def _lock_expression(policy: Policy) -> str:
    """SQL for the lock after the {next}-th attempt: the policy's delays, as literals."""
    limit = policy.failures_before_lock
    branches = [f"WHEN {{next}} < {limit} THEN NULL"]
    attempts = limit
    while (delay := policy.delay_after(attempts)) is not None and delay < policy.longest_delay:
        branches.append(f"WHEN {{next}} = {attempts} THEN $2 + {_ms_delta(delay)}")
        attempts += 1
    longest = _ms_delta(policy.longest_delay)
    return f"(CASE {' '.join(branches)} ELSE $2 + {longest} END)".replace("{next}", _NEXT)


async def _seconds_locked(key: str, now: int) -> int:
    locked_until = await ThrottleCounter.filter(key=key).values_list("locked_until_ms", flat=True)
    if not locked_until or locked_until[0] is None:
        return 1  # the lock ended a moment ago
    return -(-(int(locked_until[0]) - now) // 1000)


def unix_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _ms_delta(delta: timedelta) -> int:
    return int(delta.total_seconds() * 1000)
