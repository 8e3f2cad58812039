"""Creating and finding accounts."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Awaitable, Callable

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from backend.accounts.models import ACCOUNT_TYPES, USER, HeldUsername, User
from backend.accounts.passwords import PasswordHasher
from backend.events.emit import emit
from backend.kernel import clock
from backend.kernel.crypto import random_token
from backend.kernel.errors import DomainError, Problem
from backend.kernel.text import can_name, storable

USERNAME_PATTERN = re.compile(r"[A-Za-z0-9]{1,64}")


def username_key(username: str) -> str:
    """The canonical form used for uniqueness, look-up and throttling.

    NFKC first, so full-width `ａｌｉｃｅ` and `alice` are one name, then case folding.
    Characters no database can store (NUL) become U+FFFD, which no username contains: such
    a name is looked up, and counted, as the unknown user it is.
    """
    return storable(unicodedata.normalize("NFKC", username).casefold())


def email_key(email: str) -> str:
    return email.casefold()


_NAME_KEY_LENGTH = User._meta.fields_map["first_name_key"].max_length


def name_key(name: str) -> str:
    """A first or last name folded as usernames are, for administrators' search: `Ａｄａ`,
    `ADA` and `ada` are one. Folding may lengthen a name (ß is ss): the key keeps what fits."""
    return username_key(name)[:_NAME_KEY_LENGTH]


def with_name_keys(values: dict) -> dict:
    """Column values to write, with the folded key of each name among them."""
    for name in ("first_name", "last_name"):
        if name in values:
            values[f"{name}_key"] = name_key(values[name] or "")
    return values


# Names people would take for the service itself or its operators.
RESERVED_USERNAMES = frozenset(
    {
        "abuse",
        "admin",
        "administrator",
        "hostmaster",
        "latchkey",
        "noreply",
        "operator",
        "postmaster",
        "root",
        "security",
        "support",
        "system",
        "webmaster",
    }
)


def check_username(username: str) -> None:
    if not USERNAME_PATTERN.fullmatch(username):
        raise DomainError(
            "VALIDATION_FAILED",
            "A username is 1 to 64 ASCII letters and digits, nothing else.",
            "username",
        )
    if username.casefold() in RESERVED_USERNAMES:
        raise DomainError("VALIDATION_FAILED", "This username is reserved.", "username")


def normalize_email(email: str) -> str:
    """Syntax check only (no network); returns the normalised address."""
    # Loaded here: sign-up and email changes need it, the requests of every minute do not.
    from email_validator import EmailNotValidError, validate_email

    try:
        return validate_email(email, check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise DomainError(
            "VALIDATION_FAILED", "Not a valid email address: {reason}", "email", reason=str(error)
        ) from None


async def create_user(
    hasher: PasswordHasher,
    *,
    username: str,
    email: str,
    password: str | None,
    account_type: str = USER,
    first_name: str = "",
    last_name: str = "",
    along: Callable[[User], Awaitable[None]] | None = None,
    created_by: dict[str, str] | None = None,
) -> User:
    """A new account. `password` None: one nobody knows, until the user chooses theirs
    with an emailed link (an administrator's invitation). `along`: more writes of the
    creation, in its transaction (the new user given); `created_by`: the administrator
    the event names."""
    check_username(username)
    email = normalize_email(email)
    if account_type not in ACCOUNT_TYPES:
        raise DomainError("VALIDATION_FAILED", "Choose USER or ADMINISTRATOR.", "account_type")
    if password is not None and not password:
        raise DomainError("VALIDATION_FAILED", "A password is required.", "password")
    password_hash = await hasher.hash(password if password is not None else random_token())
    problems = []
    if await User.filter(username_key=username_key(username)).exists() or await _held(
        username_key(username)
    ):
        problems.append(Problem("CONFLICT", "This username is taken.", "username"))
    if await User.filter(email_key=email_key(email)).exists():
        problems.append(Problem("CONFLICT", "Another account uses this email address.", "email"))
    if problems:
        raise DomainError.of(problems)
    try:
        async with in_transaction():
            user = await User.create(
                username=username,
                username_key=username_key(username),
                email=email,
                email_key=email_key(email),
                password_hash=password_hash,
                account_type=account_type,
                **with_name_keys({"first_name": first_name, "last_name": last_name}),
            )
            # Again after the insert: a deletion that commits meanwhile (and frees the
            # name, which the insert waited for) has held it by now.
            if await _held(user.username_key):
                raise IntegrityError("held username")
            if created_by is None:
                await emit("user.created", user=user)
            else:
                await emit("user.created", user=user, administrator=created_by)
            if along is not None:
                await along(user)
            return user
    except IntegrityError:  # lost a race with a concurrent create
        raise DomainError("CONFLICT", "This username or email address is taken.") from None


async def _held(key: str) -> bool:
    """Whether a deleted account's username is still held (90 days after the deletion)."""
    return await HeldUsername.filter(username_key=key, held_until__gt=clock.now()).exists()


async def set_email(user: User, email: str) -> None:
    """An operator's change of address: no code is sent, the operator vouches for it."""
    email = normalize_email(email)
    key = email_key(email)
    if await User.filter(email_key=key).exclude(id=user.id).exists():
        raise DomainError("CONFLICT", "Another account uses this email address.", "email")
    try:
        await User.filter(id=user.id).update(email=email, email_key=key)
    except IntegrityError:  # lost a race with a concurrent change
        raise DomainError("CONFLICT", "Another account uses this email address.", "email") from None
    user.email, user.email_key = email, key


async def find_by_username(username: str) -> User | None:
    key = username_key(username)
    return await User.get_or_none(username_key=key) if can_name(User, "username_key", key) else None


async def has_users() -> bool:
    return await User.exists()
