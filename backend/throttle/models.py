"""Failure counters shared by every worker, for slowing down guessing."""

from tortoise import fields
from tortoise.models import Model

from backend import clock


class ThrottleCounter(Model):
    id = fields.BigIntField(primary_key=True)
    # What is counted, e.g. "sign-in:account:alice" or "sign-in:address:203.0.113.5".
    key = fields.CharField(max_length=255, unique=True)
    failures = fields.IntField(default=0)
    locked_until = fields.DatetimeField(null=True)
    updated_at = fields.DatetimeField(default=clock.now)

    class Meta:
        table = "throttle_counters"
