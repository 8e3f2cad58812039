"""Reset links and the count of failed sign-ins in a row."""

from tortoise import fields
from tortoise.models import Model

from backend.kernel import clock


class PasswordReset(Model):
    """An emailed reset link: only the SHA-256 of its token is kept, and it works once."""

    id = fields.BigIntField(primary_key=True)
    user = fields.ForeignKeyField(
        "models.User", related_name="password_resets", on_delete=fields.CASCADE
    )
    token_hash = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField(default=clock.now)
    expires_at = fields.DatetimeField(db_index=True)
    used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "password_resets"
        # A user's open links, ended together when the password changes.
        indexes = (("user_id",),)


class SignInLockout(Model):
    """Failed sign-ins in a row: at the cap the account is locked until a password reset.

    "This wasn't me" locks the same way, with its own reason (see auth/lockout.py).
    """

    id = fields.BigIntField(primary_key=True)
    user = fields.OneToOneField("models.User", related_name="lockout", on_delete=fields.CASCADE)
    failures = fields.IntField(default=0)
    locked_at = fields.DatetimeField(null=True)
    reason = fields.CharField(max_length=16, default="failures", db_default="failures")

    class Meta:
        table = "sign_in_lockouts"
