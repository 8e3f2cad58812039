"""Notices waiting for the mail server."""

from tortoise import fields
from tortoise.models import Model

from backend.kernel import clock


class OutboxMessage(Model):
    """A notice to email, kept until the mail server has taken it."""

    id = fields.BigIntField(primary_key=True)
    recipient = fields.CharField(max_length=254)
    subject = fields.CharField(max_length=200)
    body = fields.TextField()
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField(db_index=True)
    created_at = fields.DatetimeField(default=clock.now)

    class Meta:
        table = "outbox"


class SecureAccountLink(Model):
    """The "This was not me" link of one notice: only its SHA-256 is kept, and it works once."""

    id = fields.BigIntField(primary_key=True)
    user = fields.ForeignKeyField(
        "models.User", related_name="secure_account_links", on_delete=fields.CASCADE
    )
    token_hash = fields.CharField(max_length=64, unique=True)
    # Where the notice went: the reset link goes back there, even if the account's
    # address was changed since (the notice of an email change goes to the old one).
    recipient = fields.CharField(max_length=254)
    created_at = fields.DatetimeField(default=clock.now)
    expires_at = fields.DatetimeField(db_index=True)
    used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "secure_account_links"
        # Deleting a user deletes its links.
        indexes = (("user_id",),)
