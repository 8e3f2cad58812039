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
    # Once the account is deleted: the row no longer names it (user is null) but keeps an
    # HMAC of its id, with no address, device or details, until the retention ends.
    pseudonym = fields.CharField(max_length=64, null=True)

    class Meta:
        table = "security_events"
        # A user's log, newest first, a page at a time.
        indexes = (("user_id", "id"),)


class OperatorAction(Model):
    """The operator log: what an administrator (or an operator's command) did, to whom, when.

    Names are kept as text besides the ids, so the log still reads after an account is gone.
    """

    id = fields.BigIntField(primary_key=True)
    created_at = fields.DatetimeField(default=clock.now)
    # Null for an operator's command (`latchkey user set-account-type`).
    administrator = fields.ForeignKeyField(
        "models.User", related_name="operator_actions", null=True, on_delete=fields.SET_NULL
    )
    administrator_name = fields.CharField(max_length=64, default="")
    action = fields.CharField(max_length=64)
    user = fields.ForeignKeyField(
        "models.User", related_name="operator_actions_on", null=True, on_delete=fields.SET_NULL
    )
    username = fields.CharField(max_length=64, default="")
    ip_address = fields.CharField(max_length=45, default="")
    details = fields.JSONField(default=dict)

    class Meta:
        table = "operator_log"
        # Read a page at a time, newest first (by id); an account's actions go with it.
        indexes = (("administrator_id",), ("user_id",))
