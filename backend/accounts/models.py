"""Users and the groups they belong to."""

from tortoise import fields
from tortoise.models import Model

from backend.kernel import clock

USER = "USER"
ADMINISTRATOR = "ADMINISTRATOR"
ACCOUNT_TYPES = (USER, ADMINISTRATOR)


def display_name(first_name: str, last_name: str, username: str) -> str:
    """The name other services show (ID tokens, introspection, forward auth): first and last
    name, else the username."""
    return " ".join(part for part in (first_name, last_name) if part) or username


class User(Model):
    id = fields.BigIntField(primary_key=True)
    username = fields.CharField(max_length=64)
    # The username folded for case-insensitive uniqueness and look-up.
    username_key = fields.CharField(max_length=64, unique=True)
    email = fields.CharField(max_length=254)
    email_key = fields.CharField(max_length=254, unique=True)
    first_name = fields.CharField(max_length=100, default="")
    last_name = fields.CharField(max_length=100, default="")
    # The names folded as usernames are (accounts.service.name_key), for administrators'
    # case-insensitive search; kept with the names wherever those are written.
    first_name_key = fields.CharField(max_length=100, default="", db_default="")
    last_name_key = fields.CharField(max_length=100, default="", db_default="")
    description = fields.CharField(max_length=1000, default="")
    mobile_phone = fields.CharField(max_length=16, null=True)
    time_zone = fields.CharField(max_length=64, default="UTC")
    # "en" or "ja"; null follows the browser's Accept-Language.
    language = fields.CharField(max_length=8, null=True)
    password_hash = fields.CharField(max_length=255)
    password_changed_at = fields.DatetimeField(default=clock.now)
    created_at = fields.DatetimeField(default=clock.now)
    # USER or ADMINISTRATOR: what services behind Latchkey are told (introspection,
    # forward authentication), so they need no user table of their own for it.
    account_type = fields.CharField(max_length=16, default=USER, db_default=USER)
    # Set by an administrator: sign-in, sessions, tokens and credentials stop (the
    # account's row stays). The reason is the administrator's, shown to administrators
    # and in the notice to the user.
    disabled_at = fields.DatetimeField(null=True)
    disabled_reason = fields.CharField(max_length=500, default="", db_default="")
    # Set when the account's deletion is scheduled (by its user): sign-in stops, and the
    # background job deletes the account once `deletion_due_at` has passed, unless the
    # emailed link cancels it first (backend/lifecycle/).
    deletion_scheduled_at = fields.DatetimeField(null=True)
    deletion_due_at = fields.DatetimeField(null=True)
    groups: fields.ManyToManyRelation["Group"] = fields.ManyToManyField(
        "models.Group", related_name="members", through="memberships"
    )

    class Meta:
        table = "users"
        # The administrators (few), counted under lock by the last-administrator rule; and
        # the disabled accounts, listed by status. The search's indexes are the migration's
        # (0028): on PostgreSQL they compare in the "C" collation, which a model cannot say.
        indexes = (("account_type",), ("disabled_at",), ("deletion_due_at",))

    @property
    def is_administrator(self) -> bool:
        """An administrator whose account is not disabled: what the admin API asks."""
        return (
            self.account_type == ADMINISTRATOR
            and self.disabled_at is None
            and self.deletion_scheduled_at is None
        )

    @property
    def display_name(self) -> str:
        return display_name(self.first_name, self.last_name, self.username)


class EmailChange(Model):
    """A new address waiting for the code sent to it (the account keeps the old one until then)."""

    id = fields.BigIntField(primary_key=True)
    user = fields.OneToOneField(
        "models.User", related_name="email_change", on_delete=fields.CASCADE
    )
    new_email = fields.CharField(max_length=254)
    code_hash = fields.CharField(max_length=64)
    expires_at = fields.DatetimeField()
    failed_attempts = fields.IntField(default=0)

    class Meta:
        table = "email_changes"


class Group(Model):
    id = fields.BigIntField(primary_key=True)
    name = fields.CharField(max_length=100, unique=True)
    description = fields.CharField(max_length=1000, default="")
    # Members may join and leave a self-service group themselves.
    self_service = fields.BooleanField(default=False)
    created_at = fields.DatetimeField(default=clock.now)

    members: fields.ManyToManyRelation[User]

    class Meta:
        table = "groups"


class HeldUsername(Model):
    """A deleted account's username, which no new account may take until `held_until`, so
    that nobody is mistaken for the person who left (links, mentions, old messages)."""

    id = fields.BigIntField(primary_key=True)
    username_key = fields.CharField(max_length=64, unique=True)
    held_until = fields.DatetimeField(db_index=True)

    class Meta:
        table = "held_usernames"


class DeletionCancelLink(Model):
    """The emailed link that cancels a scheduled deletion: only the SHA-256 of its token is
    kept, it works once, and only until the deletion."""

    id = fields.BigIntField(primary_key=True)
    user = fields.ForeignKeyField(
        "models.User", related_name="deletion_cancel_links", on_delete=fields.CASCADE
    )
    token_hash = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField(default=clock.now)
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "deletion_cancel_links"
        indexes = (("user_id",),)
