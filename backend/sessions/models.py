"""Browser sessions, kept server-side so they can be listed and ended."""

from tortoise import fields
from tortoise.models import Model

from backend import clock


class Session(Model):
    id = fields.BigIntField(primary_key=True)
    user = fields.ForeignKeyField("models.User", related_name="sessions", on_delete=fields.CASCADE)
    # SHA-256 of the cookie value: a database leak does not hand out live sessions.
    token_hash = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField(default=clock.now)
    last_seen_at = fields.DatetimeField(default=clock.now)
    ip_address = fields.CharField(max_length=45, default="")
    user_agent = fields.CharField(max_length=512, default="")

    class Meta:
        table = "sessions"
