"""Service clients; only a SHA-256 digest of each secret is stored."""

from tortoise import fields
from tortoise.models import Model

from backend.kernel import clock


class ServiceClient(Model):
    id = fields.BigIntField(primary_key=True)
    name = fields.CharField(max_length=64, unique=True)
    client_id = fields.CharField(max_length=40, unique=True)
    secret_hash = fields.CharField(max_length=64)
    created_at = fields.DatetimeField(default=clock.now)
    last_used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "service_clients"
        table_description = "A platform service the operator allowed to introspect tokens."
