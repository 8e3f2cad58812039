"""Webhook endpoints, the deliveries of events to them, and each delivery's attempts."""

from tortoise import fields
from tortoise.models import Model

from backend.kernel import clock


class WebhookEndpoint(Model):
    """A URL the operator registered, the event patterns it hears, and its signing secret
    (`whsec_...`), sealed with the secret key."""

    id = fields.BigIntField(primary_key=True)
    url = fields.CharField(max_length=2000)
    description = fields.CharField(max_length=200, default="")
    events = fields.CharField(max_length=1000)  # patterns, comma-separated
    sealed_secret = fields.CharField(max_length=200)
    created_at = fields.DatetimeField(default=clock.now)
    disabled_at = fields.DatetimeField(null=True)  # after 3 days of failing, or removed

    class Meta:
        table = "webhook_endpoints"


class WebhookDelivery(Model):
    """One event for one endpoint. Its `message_id` is the `webhook-id` of every attempt, so
    a consumer deduplicates retries."""

    id = fields.BigIntField(primary_key=True)
    endpoint = fields.ForeignKeyField(
        "models.WebhookEndpoint", related_name="deliveries", on_delete=fields.CASCADE
    )
    message_id = fields.CharField(max_length=40, unique=True)
    type = fields.CharField(max_length=40)
    payload = fields.TextField()  # the JSON body, as signed
    created_at = fields.DatetimeField(default=clock.now)
    attempts = fields.IntField(default=0)
    # Due when set and past; cleared once delivered or given up.
    next_attempt_at = fields.DatetimeField(null=True, db_index=True)
    delivered_at = fields.DatetimeField(null=True)
    given_up_at = fields.DatetimeField(null=True)

    class Meta:
        table = "webhook_deliveries"
        indexes = (("endpoint_id", "created_at"),)


class WebhookAttempt(Model):
    """One POST of a delivery: when, and the answer's status (null when none came)."""

    id = fields.BigIntField(primary_key=True)
    delivery = fields.ForeignKeyField(
        "models.WebhookDelivery", related_name="attempt_log", on_delete=fields.CASCADE
    )
    at = fields.DatetimeField(default=clock.now)
    status = fields.IntField(null=True)
    error = fields.CharField(max_length=200, default="")

    class Meta:
        table = "webhook_attempts"
        indexes = (("delivery_id",),)
