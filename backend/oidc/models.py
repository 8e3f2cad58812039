"""The keys that sign ID tokens."""

from tortoise import fields
from tortoise.models import Model

from backend.kernel import clock


class SigningKey(Model):
    """A private key (a JWK), sealed with the secret key. Its public half is published while
    a token it signed may still be checked."""

    id = fields.BigIntField(primary_key=True)
    kid = fields.CharField(max_length=64, unique=True)
    alg = fields.CharField(max_length=8)  # ES256 or RS256
    # The algorithm this key signs for now, null once rotated out. Unique: of workers that
    # make the first keys at once, one key per algorithm wins.
    signing_for = fields.CharField(max_length=8, null=True, unique=True)
    sealed_jwk = fields.TextField()
    created_at = fields.DatetimeField(default=clock.now)
    retired_at = fields.DatetimeField(null=True)
    published_until = fields.DatetimeField(null=True)  # set when retired

    class Meta:
        table = "oidc_signing_keys"
