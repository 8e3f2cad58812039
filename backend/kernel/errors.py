"""Expected failures of domain operations, each with a stable code.

The GraphQL layer turns them into `userErrors`; the pages show them next to fields.
A message is an English message id with its values; it is translated where it is shown.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from backend.kernel.i18n import DEFAULT, N_, Duration, translate


@dataclasses.dataclass(frozen=True)
class Problem:
    code: str
    template: str  # the English message id, with `{name}` placeholders for `params`
    field: str | None = None
    params: dict[str, Any] = dataclasses.field(default_factory=dict, compare=False)

    @property
    def message(self) -> str:
        """The message in English, for logs and the command line."""
        return self.text(DEFAULT)

    def text(self, language: str) -> str:
        return translate(language, self.template, self.params)


class DomainError(Exception):
    """One or more problems with a request; nothing was changed."""

    def __init__(self, code: str, message: str, field: str | None = None, **params: Any) -> None:
        self.problems = [Problem(code, message, field, params)]
        super().__init__(self.problems[0].message)

    @classmethod
    def of(cls, problems: list[Problem]) -> DomainError:
        first = problems[0]
        error = cls(first.code, first.template, first.field, **first.params)
        error.problems = list(problems)
        return error


class InvalidCredentials(DomainError):
    def __init__(self, field: str | None = None) -> None:
        super().__init__("INVALID_CREDENTIALS", N_("Wrong username or password."), field)


class WrongPassword(InvalidCredentials):
    """The signed-in user's own password, asked again by a settings form: the same code as
    a failed sign-in, but the message names the password, the username not being in question.
    """

    def __init__(self, field: str | None = "password") -> None:
        message = N_("That password is wrong. Enter the password you sign in with.")
        DomainError.__init__(self, "INVALID_CREDENTIALS", message, field)


class RateLimited(DomainError):
    def __init__(
        self,
        retry_after_seconds: int,
        message: str = N_("Too many failed attempts. Try again in {wait}."),
    ) -> None:
        self.retry_after_seconds = max(1, retry_after_seconds)
        super().__init__("RATE_LIMITED", message, wait=Duration(self.retry_after_seconds))


class ResendWait(RateLimited):
    """Another code was asked for too soon: nothing failed, the user only has to wait."""

    def __init__(self, retry_after_seconds: int, *, sends_used_up: bool = False) -> None:
        message = (
            N_(
                "We sent you several codes already: use the last one, or ask again later. "
                "A new code can be sent in {wait}."
            )
            if sends_used_up
            else N_(
                "We sent you a code moments ago: check your messages. "
                "A new code can be sent in {wait}."
            )
        )
        super().__init__(retry_after_seconds, message)


class NotFound(DomainError):
    def __init__(self, field: str | None = "id") -> None:
        super().__init__("NOT_FOUND", N_("Nothing with this id exists."), field)
