"""Refresh tokens, the access tokens issued from them, and API credentials.

Only SHA-256 digests of secrets are stored. Every access token points at what it was
issued from and is deleted with it, so a revocation takes effect at once everywhere.
"""

from tortoise import fields
from tortoise.models import Model

from backend.kernel import clock

# Tokens from before scopes existed: what they could do then, security changes aside.
LEGACY_SCOPES = "account:read account:write"


class RefreshToken(Model):
    id = fields.BigIntField(primary_key=True)
    user = fields.ForeignKeyField(
        "models.User", related_name="refresh_tokens", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=100)
    token_hash = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField(default=clock.now)
    expires_at = fields.DatetimeField(null=True)
    last_used_at = fields.DatetimeField(null=True)
    last_used_ip = fields.CharField(max_length=45, default="")
    # Kept after deletion so a later use can be told apart from noise in the security log.
    revoked_at = fields.DatetimeField(null=True)
    scopes = fields.CharField(max_length=1000, default=LEGACY_SCOPES)  # space-separated
    # After a regeneration, the previous secret keeps working until previous_valid_until.
    regenerated_at = fields.DatetimeField(null=True)
    previous_token_hash = fields.CharField(max_length=64, null=True, unique=True)
    previous_valid_until = fields.DatetimeField(null=True)
    # Expiry reminders already claimed by a worker (sent, or not needed).
    reminded_week_at = fields.DatetimeField(null=True)
    reminded_day_at = fields.DatetimeField(null=True)

    class Meta:
        table = "refresh_tokens"
        # A user's tokens by expiry (the list); the second serves the expiry reminders.
        indexes = (("user_id", "expires_at"), ("expires_at", "revoked_at"))


class ApiCredential(Model):
    id = fields.BigIntField(primary_key=True)
    user = fields.OneToOneField(
        "models.User", related_name="api_credential", on_delete=fields.CASCADE
    )
    client_id = fields.CharField(max_length=40, unique=True)
    secret_hash = fields.CharField(max_length=64)
    created_at = fields.DatetimeField(default=clock.now)
    last_used_at = fields.DatetimeField(null=True)
    scopes = fields.CharField(max_length=1000, default=LEGACY_SCOPES)  # space-separated

    class Meta:
        table = "api_credentials"


class AccessToken(Model):
    id = fields.BigIntField(primary_key=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    user = fields.ForeignKeyField(
        "models.User", related_name="access_tokens", on_delete=fields.CASCADE
    )
    refresh_token = fields.ForeignKeyField(
        "models.RefreshToken", related_name="access_tokens", null=True, on_delete=fields.CASCADE
    )
    api_credential = fields.ForeignKeyField(
        "models.ApiCredential",
        related_name="access_tokens",
        null=True,
        on_delete=fields.CASCADE,
    )
    # An application's (OpenID Connect): "Remove access" ends them, and so does a second use
    # of the authorization code whose grant they carry.
    oidc_client = fields.ForeignKeyField(
        "models.OidcClient", related_name="access_tokens", null=True, on_delete=fields.CASCADE
    )
    oidc_grant = fields.CharField(max_length=32, null=True)
    oidc_sid = fields.CharField(max_length=64, null=True)  # the ID tokens' `sid`
    created_at = fields.DatetimeField(default=clock.now)
    expires_at = fields.DatetimeField(db_index=True)
    scopes = fields.CharField(max_length=1000, default=LEGACY_SCOPES)  # space-separated

    class Meta:
        table = "access_tokens"
        # What a refresh token, API credential, application, grant or user issued goes with
        # it, at once, whatever the table's size.
        indexes = (
            ("refresh_token_id",),
            ("user_id",),
            ("api_credential_id",),
            ("oidc_client_id",),
            ("oidc_grant",),
        )


class TokenUsageDay(Model):
    """How many times a refresh token was exchanged on one day (UTC): its activity."""

    id = fields.BigIntField(primary_key=True)
    refresh_token = fields.ForeignKeyField(
        "models.RefreshToken", related_name="usage_days", on_delete=fields.CASCADE
    )
    day = fields.DateField()
    exchanges = fields.IntField(default=0)

    class Meta:
        table = "token_usage_days"
        unique_together = (("refresh_token", "day"),)
