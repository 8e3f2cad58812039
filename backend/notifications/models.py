"""Notices waiting for the mail server."""

from tortoise import fields
from tortoise.models import Model

from backend import clock


class OutboxMessage(Model):
    """A notice to email, kept until the mail server has taken it."""

    id = fields.BigIntField(primary_key=True)
    recipient = fields.CharField(max_length=254)
    subject = fields.CharField(max_length=200)
    body = fields.TextField()
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField(db_index=True)
    created_at = fields.DatetimeField(default=clock.now)

    class Meta:
        table = "outbox"
