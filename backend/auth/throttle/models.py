"""Attempt counters shared by every worker, for slowing down guessing."""

from tortoise import fields
from tortoise.models import Model


class ThrottleCounter(Model):
    id = fields.BigIntField(primary_key=True)
    # What is counted, e.g. "sign-in:account:alice" or "sign-in:address:203.0.113.5".
    key = fields.CharField(max_length=255, unique=True)
    # Attempts reserved since the last success or quiet spell, including those in flight.
    failures = fields.IntField(default=0)
    # Times are Unix milliseconds: whole numbers compare the same way in raw SQL on
    # SQLite and PostgreSQL, where SQLite keeps datetimes as text.
    locked_until_ms = fields.BigIntField(null=True)
    updated_at_ms = fields.BigIntField()

    class Meta:
        table = "throttle_counters"
