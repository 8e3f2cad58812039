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


class RateLimited(DomainError):
    def __init__(self, retry_after_seconds: int) -> None:
        self.retry_after_seconds = max(1, retry_after_seconds)
        super().__init__(
            "RATE_LIMITED",
            f"Too many failed attempts. Try again in {_in_words(self.retry_after_seconds)}.",
        )


class NotFound(DomainError):
    def __init__(self, field: str | None = "id") -> None:
        super().__init__("NOT_FOUND", "Nothing with this id exists.", field)


def _in_words(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = -(-seconds // 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"
