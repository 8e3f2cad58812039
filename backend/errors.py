"""Expected failures of domain operations, each with a stable code.

The GraphQL layer turns them into `userErrors`; the pages show them next to fields.
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Problem:
    code: str
    message: str
    field: str | None = None


class DomainError(Exception):
    """One or more problems with a request; nothing was changed."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        self.problems = [Problem(code, message, field)]
        super().__init__(message)

    @classmethod
    def of(cls, problems: list[Problem]) -> DomainError:
        error = cls(problems[0].code, problems[0].message, problems[0].field)
        error.problems = list(problems)
        return error


class InvalidCredentials(DomainError):
    def __init__(self, field: str | None = None) -> None:
        super().__init__("INVALID_CREDENTIALS", "Wrong username or password.", field)


class WrongPassword(InvalidCredentials):
    """The signed-in user's own password, asked again by a settings form: the same code as
    a failed sign-in, but the message names the password, the username not being in question.
    """

    def __init__(self, field: str | None = "password") -> None:
        message = "That password is wrong. Enter the password you sign in with."
        DomainError.__init__(self, "INVALID_CREDENTIALS", message, field)


class RateLimited(DomainError):
    def __init__(self, retry_after_seconds: int, reason: str = "Too many failed attempts.") -> None:
        self.retry_after_seconds = max(1, retry_after_seconds)
        wait = _in_words(self.retry_after_seconds)
        super().__init__("RATE_LIMITED", f"{reason} Try again in {wait}.")


class ResendWait(RateLimited):
    """Another code was asked for too soon: nothing failed, the user only has to wait."""

    def __init__(self, retry_after_seconds: int, *, sends_used_up: bool = False) -> None:
        reason = (
            "We sent you several codes already: use the last one, or ask again later."
            if sends_used_up
            else "We sent you a code moments ago: check your messages."
        )
        super().__init__(retry_after_seconds, reason)
        wait = _in_words(self.retry_after_seconds)
        self.problems = [Problem("RATE_LIMITED", f"{reason} A new code can be sent in {wait}.")]


class NotFound(DomainError):
    def __init__(self, field: str | None = "id") -> None:
        super().__init__("NOT_FOUND", "Nothing with this id exists.", field)


def _in_words(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = -(-seconds // 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"
