"""Browser sessions, kept server-side so they can be listed and ended."""

from tortoise import fields
from tortoise.models import Model

from backend.kernel import clock


class Session(Model):
    id = fields.BigIntField(primary_key=True)
    user = fields.ForeignKeyField("models.User", related_name="sessions", on_delete=fields.CASCADE)
    # SHA-256 of the cookie value: a database leak does not hand out live sessions.
    token_hash = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField(default=clock.now)
    last_seen_at = fields.DatetimeField(default=clock.now)
    ip_address = fields.CharField(max_length=45, default="")
    user_agent = fields.CharField(max_length=512, default="")
    # The user agent's browser and system, parsed as the row is written (client.Browser).
    browser_name = fields.CharField(max_length=64, default="", db_default="")
    system_name = fields.CharField(max_length=64, default="", db_default="")
    # The session's re-authentication (backend/auth/reauthentication.py): when the password was
    # last proven (signing in counts), and apart from it when and which second factor was
    # last proven, so that a newer proof of one never takes away the other's.
    reauthenticated_at = fields.DatetimeField(null=True)
    reauthenticated_factor = fields.CharField(max_length=16, null=True)
    reauthenticated_factor_at = fields.DatetimeField(null=True)

    class Meta:
        table = "sessions"
        # A user's sessions: listed, counted at sign-in, ended together.
        indexes = (("user_id", "created_at"),)
