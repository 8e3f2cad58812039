"""`UserError`: expected failures as data, with codes clients can switch on."""

from __future__ import annotations

import enum

import strawberry

from backend.kernel.errors import DomainError
from backend.kernel.i18n import DEFAULT


@strawberry.enum(description="Stable codes for expected failures; one list for the whole API.")
class UserErrorCode(enum.Enum):
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    RATE_LIMITED = "RATE_LIMITED"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    NOT_FOUND = "NOT_FOUND"
    VALIDATION_FAILED = "VALIDATION_FAILED"
    CONFLICT = "CONFLICT"
    PASSWORD_TOO_SHORT = "PASSWORD_TOO_SHORT"
    PASSWORD_TOO_LONG = "PASSWORD_TOO_LONG"
    PASSWORD_TOO_COMMON = "PASSWORD_TOO_COMMON"
    PASSWORD_TOO_SIMILAR = "PASSWORD_TOO_SIMILAR"
    PASSWORD_MISMATCH = "PASSWORD_MISMATCH"
    PASSWORD_UNCHANGED = "PASSWORD_UNCHANGED"
    OTP_REQUIRED = "OTP_REQUIRED"
    INVALID_OTP = "INVALID_OTP"
    SETUP_EXPIRED = "SETUP_EXPIRED"
    PHONE_REQUIRED_FOR_SMS = "PHONE_REQUIRED_FOR_SMS"
    EMAIL_REQUIRED = "EMAIL_REQUIRED"
    CHALLENGE_EXPIRED = "CHALLENGE_EXPIRED"
    TOO_MANY_TOKENS = "TOO_MANY_TOKENS"
    TOO_MANY_AUTHENTICATORS = "TOO_MANY_AUTHENTICATORS"
    REAUTHENTICATION_REQUIRED = "REAUTHENTICATION_REQUIRED"
    INVALID_RESET_TOKEN = "INVALID_RESET_TOKEN"
    ACCOUNT_LOCKED = "ACCOUNT_LOCKED"
    INSUFFICIENT_SCOPE = "INSUFFICIENT_SCOPE"
    FORBIDDEN = "FORBIDDEN"
    LAST_ADMINISTRATOR = "LAST_ADMINISTRATOR"
    ACCOUNT_DISABLED = "ACCOUNT_DISABLED"
    ACCOUNT_DELETION_SCHEDULED = "ACCOUNT_DELETION_SCHEDULED"
    INVALID_DELETION_TOKEN = "INVALID_DELETION_TOKEN"


@strawberry.type
class UserError:
    field: str | None = strawberry.field(description="The input field at fault, if one is.")
    code: UserErrorCode
    message: str


def user_errors(error: DomainError, language: str = DEFAULT) -> list[UserError]:
    """The problems, their messages in the reader's language; the codes stay the same."""
    return [
        UserError(
            field=_camel(p.field) if p.field else None,
            code=UserErrorCode(p.code),
            message=p.text(language),
        )
        for p in error.problems
    ]


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
