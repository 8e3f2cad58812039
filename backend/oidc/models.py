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


class OidcClient(Model):
    """An application that signs its users in through Latchkey, registered by the operator.
    Confidential clients have a secret (only its SHA-256 is kept); public ones use PKCE."""

    id = fields.BigIntField(primary_key=True)
    client_id = fields.CharField(max_length=64, unique=True)
    name = fields.CharField(max_length=100, unique=True)
    secret_hash = fields.CharField(max_length=64, null=True)  # null for a public client
    third_party = fields.BooleanField(default=False)
    redirect_uris = fields.JSONField(default=list)  # matched exactly
    post_logout_redirect_uris = fields.JSONField(default=list)
    backchannel_logout_uri = fields.CharField(max_length=2000, default="")
    scopes = fields.JSONField(default=list)  # platform scopes it may ask for
    id_token_alg = fields.CharField(max_length=8, default="ES256")
    created_at = fields.DatetimeField(default=clock.now)

    class Meta:
        table = "oidc_clients"


class AuthorizationCode(Model):
    """A code handed to a client's redirect URI: only its SHA-256 is kept, it works once
    within a minute, for the client, redirect URI, PKCE challenge and nonce it was made for."""

    id = fields.BigIntField(primary_key=True)
    code_hash = fields.CharField(max_length=64, unique=True)
    client = fields.ForeignKeyField(
        "models.OidcClient", related_name="codes", on_delete=fields.CASCADE
    )
    user = fields.ForeignKeyField(
        "models.User", related_name="oidc_codes", on_delete=fields.CASCADE
    )
    redirect_uri = fields.CharField(max_length=2000)
    scopes = fields.CharField(max_length=1000)  # space-separated
    nonce = fields.CharField(max_length=500, default="")
    code_challenge = fields.CharField(max_length=128, default="")
    auth_time = fields.DatetimeField()
    second_factor = fields.CharField(max_length=16, null=True)
    expires_at = fields.DatetimeField(db_index=True)
    used_at = fields.DatetimeField(null=True)
    # Set when redeemed: the tokens it gave carry it, so a second use revokes them all.
    grant = fields.CharField(max_length=32, null=True)
    # The Latchkey session the user signed in with, and its `sid` (session_clients.py): a
    # code whose session has ended is refused.
    session_id = fields.BigIntField(null=True)
    sid = fields.CharField(max_length=64, default="", db_default="")

    class Meta:
        table = "oidc_authorization_codes"
        indexes = (("client_id",), ("user_id",))


class OidcRefreshToken(Model):
    """An application's `offline_access` token: only its SHA-256 is kept. Each use gives a
    new one in the same family; a used one presented again revokes the whole family (it was
    copied, and either copy may be the thief's)."""

    id = fields.BigIntField(primary_key=True)
    family = fields.CharField(max_length=32, db_index=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    client = fields.ForeignKeyField(
        "models.OidcClient", related_name="refresh_tokens", on_delete=fields.CASCADE
    )
    user = fields.ForeignKeyField(
        "models.User", related_name="oidc_refresh_tokens", on_delete=fields.CASCADE
    )
    scopes = fields.CharField(max_length=1000)
    auth_time = fields.DatetimeField()
    second_factor = fields.CharField(max_length=16, null=True)
    created_at = fields.DatetimeField(default=clock.now)
    expires_at = fields.DatetimeField(db_index=True)
    used_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)
    sid = fields.CharField(max_length=64, default="", db_default="")  # its first code's

    class Meta:
        table = "oidc_refresh_tokens"
        indexes = (("client_id",), ("user_id",))


class ApplicationAccess(Model):
    """What one user let one application see: written when the user signs in to it, and for
    a third-party application when they allow it on the consent page. "Remove access" deletes
    it, with that application's tokens."""

    id = fields.BigIntField(primary_key=True)
    user = fields.ForeignKeyField(
        "models.User", related_name="application_accesses", on_delete=fields.CASCADE
    )
    client = fields.ForeignKeyField(
        "models.OidcClient", related_name="accesses", on_delete=fields.CASCADE
    )
    scopes = fields.CharField(max_length=1000, default="")  # every scope it was given
    # Third-party applications: the scopes the user allowed, and when. Asking for more shows
    # the consent page again.
    consented_scopes = fields.CharField(max_length=1000, default="")
    consented_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(default=clock.now)
    last_used_at = fields.DatetimeField(default=clock.now)

    class Meta:
        table = "oidc_application_access"
        unique_together = (("user", "client"),)
        indexes = (("client_id",),)


class SessionClient(Model):
    """An application that signed in through a Latchkey session: when the session ends, it
    is owed a back-channel logout token. Written when a code is issued; gone with the
    session, so a session that expires leaves nothing behind and sends nothing."""

    id = fields.BigIntField(primary_key=True)
    session = fields.ForeignKeyField(
        "models.Session", related_name="oidc_clients", on_delete=fields.CASCADE
    )
    client = fields.ForeignKeyField(
        "models.OidcClient", related_name="sessions", on_delete=fields.CASCADE
    )
    sid = fields.CharField(max_length=64)  # the `sid` of the ID tokens it was given
    created_at = fields.DatetimeField(default=clock.now)

    class Meta:
        table = "oidc_session_clients"
        unique_together = (("session", "client"),)
        indexes = (("client_id",),)


class BackchannelLogout(Model):
    """A logout token owed to an application for a session that ended, sent by whichever
    worker claims it (backend/infra/outbox.py). The token is signed at each attempt, with
    the key that signs then; the row keeps only what it says."""

    id = fields.BigIntField(primary_key=True)
    client = fields.ForeignKeyField(
        "models.OidcClient", related_name="backchannel_logouts", on_delete=fields.CASCADE
    )
    # The `sub`; not a foreign key: the token still goes when the account is gone.
    user_id = fields.BigIntField()
    sid = fields.CharField(max_length=64)
    created_at = fields.DatetimeField(default=clock.now)
    attempts = fields.IntField(default=0)
    # Due when set and past; cleared once delivered or given up.
    next_attempt_at = fields.DatetimeField(null=True, db_index=True)
    delivered_at = fields.DatetimeField(null=True)
    given_up_at = fields.DatetimeField(null=True)
    last_status = fields.IntField(null=True)  # the last answer's status; null when none came
    last_error = fields.CharField(max_length=200, default="")

    class Meta:
        table = "oidc_backchannel_logouts"
        indexes = (("client_id", "created_at"),)
