"""Two-factor authentication state. Secrets are stored encrypted (TOTP) or hashed (codes)."""

from tortoise import fields
from tortoise.models import Model

from backend.kernel import clock


class TwoFactor(Model):
    """The account-wide settings; a row exists while two-factor authentication is on."""

    id = fields.BigIntField(primary_key=True)
    user = fields.OneToOneField("models.User", related_name="two_factor", on_delete=fields.CASCADE)
    policy = fields.CharField(max_length=24, default="every_sign_in")
    enabled_at = fields.DatetimeField(default=clock.now)

    class Meta:
        table = "two_factor"


class Authenticator(Model):
    """One second factor of a user: an authenticator app, email or SMS codes, recovery codes."""

    id = fields.BigIntField(primary_key=True)
    user = fields.ForeignKeyField(
        "models.User", related_name="authenticators", on_delete=fields.CASCADE
    )
    kind = fields.CharField(max_length=16)  # a key of factors/registry.py
    name = fields.CharField(max_length=64, default="")
    secret = fields.CharField(max_length=255, null=True)  # sealed (AES-GCM, see crypto.py)
    created_at = fields.DatetimeField(default=clock.now)
    last_used_at = fields.DatetimeField(null=True)
    # RFC 6238 §5.2: a time step is accepted once; only a later one after it.
    last_timecode = fields.BigIntField(default=0)
    # One factor per user (never recovery codes) is preferred: sign-in opens on it.
    preferred = fields.BooleanField(default=False, db_default=False)

    class Meta:
        table = "authenticators"
        # A user's factors at sign-in and in the settings, all of them or of one kind.
        indexes = (("user_id", "kind"),)


class PendingSetup(Model):
    """A method being set up: the TOTP secret or the confirmation code, until confirmed."""

    id = fields.BigIntField(primary_key=True)
    user = fields.OneToOneField(
        "models.User", related_name="pending_two_factor", on_delete=fields.CASCADE
    )
    method = fields.CharField(max_length=8)
    totp_secret = fields.CharField(max_length=255, null=True)
    expires_at = fields.DatetimeField()

    class Meta:
        table = "two_factor_pending_setups"


class RecoveryCode(Model):
    id = fields.BigIntField(primary_key=True)
    user = fields.ForeignKeyField(
        "models.User", related_name="recovery_codes", on_delete=fields.CASCADE
    )
    code_hash = fields.CharField(max_length=64)
    used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "recovery_codes"
        unique_together = (("user", "code_hash"),)


class SignInChallenge(Model):
    """The password was right, the second factor is still to come."""

    id = fields.BigIntField(primary_key=True)
    user = fields.ForeignKeyField(
        "models.User", related_name="sign_in_challenges", on_delete=fields.CASCADE
    )
    token_hash = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField(default=clock.now)
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "sign_in_challenges"
        # Deleting a user deletes its challenges.
        indexes = (("user_id",),)


class OneTimeCode(Model):
    """A code sent by email or SMS: for a sign-in, a setup, or a sensitive change."""

    id = fields.BigIntField(primary_key=True)
    user = fields.ForeignKeyField(
        "models.User", related_name="one_time_codes", on_delete=fields.CASCADE
    )
    # "sign-in:<challenge id>", "setup", "reauthentication"
    purpose = fields.CharField(max_length=80)
    code_hash = fields.CharField(max_length=64)
    created_at = fields.DatetimeField(default=clock.now)
    expires_at = fields.DatetimeField()
    failed_attempts = fields.IntField(default=0)
    sends = fields.IntField(default=1)
    used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "one_time_codes"
        unique_together = (("user", "purpose"),)


class TrustedDevice(Model):
    """A browser the user asked to remember (its cookie value is stored hashed)."""

    id = fields.BigIntField(primary_key=True)
    user = fields.ForeignKeyField(
        "models.User", related_name="trusted_devices", on_delete=fields.CASCADE
    )
    token_hash = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField(default=clock.now)
    last_seen_at = fields.DatetimeField(default=clock.now)
    expires_at = fields.DatetimeField()
    ip_address = fields.CharField(max_length=45, default="")
    user_agent = fields.CharField(max_length=512, default="")
    # The user agent's browser and system, parsed as the row is written (client.Browser).
    browser_name = fields.CharField(max_length=64, default="", db_default="")
    system_name = fields.CharField(max_length=64, default="", db_default="")

    class Meta:
        table = "trusted_devices"
        # The devices of a user that have not expired yet.
        indexes = (("user_id", "expires_at"),)


class PasskeyCredential(Model):
    """The public half of a passkey, whose Authenticator row (kind passkey) holds its name."""

    id = fields.BigIntField(primary_key=True)
    authenticator = fields.OneToOneField(
        "models.Authenticator", related_name="passkey_credential", on_delete=fields.CASCADE
    )
    user = fields.ForeignKeyField(
        "models.User", related_name="passkey_credentials", on_delete=fields.CASCADE
    )
    credential_id = fields.CharField(max_length=1400, unique=True)  # base64url, as sent
    public_key = fields.TextField()  # COSE key, base64url
    sign_count = fields.BigIntField(default=0)
    transports = fields.CharField(max_length=200, default="")  # comma-separated

    class Meta:
        table = "passkey_credentials"
        # The passkeys a user may sign in with.
        indexes = (("user_id",),)


class PasskeyChallenge(Model):
    """A WebAuthn challenge: random, single use, bound to one flow (binding)."""

    id = fields.BigIntField(primary_key=True)
    user = fields.ForeignKeyField(
        "models.User", related_name="passkey_challenges", on_delete=fields.CASCADE, null=True
    )
    # "register:<session id>", "sign-in:<sign-in challenge id>", "passwordless:<digest>", ...
    binding = fields.CharField(max_length=120)
    challenge_hash = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField(default=clock.now)
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "passkey_challenges"
        # Deleting a user deletes its challenges.
        indexes = (("user_id",),)
