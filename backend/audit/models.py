"""The security log: what happened to an account, when, and from where."""

from tortoise import fields
from tortoise.models import Model

from backend.kernel import clock


class SecurityEvent(Model):
    id = fields.BigIntField(primary_key=True)
    user = fields.ForeignKeyField(
        "models.User", related_name="security_events", null=True, on_delete=fields.CASCADE
    )
    kind = fields.CharField(max_length=64)
    created_at = fields.DatetimeField(default=clock.now, db_index=True)
    ip_address = fields.CharField(max_length=45, default="")
    user_agent = fields.CharField(max_length=512, default="")
    # The user agent's browser and system, parsed as the row is written (client.Browser).
    browser_name = fields.CharField(max_length=64, default="", db_default="")
    system_name = fields.CharField(max_length=64, default="", db_default="")
    details = fields.JSONField(default=dict)

    class Meta:
        table = "security_events"
        # A user's log, newest first, a page at a time.
        indexes = (("user_id", "id"),)
