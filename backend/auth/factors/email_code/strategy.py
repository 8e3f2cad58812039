"""Codes by email."""

from __future__ import annotations

from backend.accounts.models import User
from backend.auth.factors.code_by_message import CodeByMessage
from backend.auth.factors.strategy import Tools
from backend.kernel import i18n
from backend.kernel.errors import DomainError
from backend.kernel.i18n import N_
from backend.notifications.email import Email, Mailer
from backend.notifications.notices import worded


class CodeByEmail(CodeByMessage):
    kind = "email"
    api_name = "EMAIL"
    default_name = N_("Code by email")
    redirected_by = ("email.changed", None)
    amr = "otp"

    def __init__(self, mailer: Mailer, secret_key: str) -> None:
        super().__init__(secret_key)
        self.mailer = mailer

    @classmethod
    def build(cls, tools: Tools) -> CodeByEmail:
        return cls(tools.mailer, tools.secret_key)

    def cannot_set_up(self, user: User) -> DomainError | None:
        if user.email:
            return None
        return DomainError(
            "EMAIL_REQUIRED", "Add an email address to your account first.", "method"
        )

    async def deliver(self, user: User, code: str) -> None:
        subject, body = worded(
            i18n.language_of(user),
            N_("Your Latchkey code"),
            N_(
                "Your Latchkey code is {code}. It expires in 10 minutes.\n\n"
                "If you did not just try to sign in or change your account, change your "
                "password: someone else knows it."
            ),
            {"code": code},
        )
        await self.mailer.send(Email(to=user.email, subject=subject, body=body))
