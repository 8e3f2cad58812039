"""Recovery codes: ten single-use codes, present while any other factor is on.

They are made and removed with the first and the last other factor
(account_settings/second_factors.py), never set up on their own.
"""

from __future__ import annotations

from backend.accounts.models import User
from backend.errors import DomainError
from backend.i18n import N_
from backend.twofactor.models import Authenticator
from backend.twofactor.recovery_codes import codes
from backend.twofactor.strategy import Check, SetupDone, SetupStart, Tools


class RecoveryCodes:
    kind = "recovery_code"
    api_name = "RECOVERY_CODE"
    default_name = N_("Recovery codes")
    sends_codes = False
    typed = True
    one_per_user = True
    backup = True
    redirected_by = None

    def __init__(self, secret_key: str) -> None:
        self.secret_key = secret_key

    @classmethod
    def build(cls, tools: Tools) -> RecoveryCodes:
        return cls(tools.secret_key)

    def cannot_set_up(self, user: User) -> DomainError | None:
        return DomainError(
            "VALIDATION_FAILED", "Recovery codes come with another factor.", "method"
        )

    async def begin_setup(self, user: User) -> SetupStart:
        raise DomainError("VALIDATION_FAILED", "Recovery codes come with another factor.")

    async def complete_setup(
        self, user: User, sealed_secret: str | None, code: str
    ) -> SetupDone | None:
        return None

    async def begin_challenge(self, user: User, purpose: str) -> None:
        return None  # the user has them on paper

    async def verify(
        self, user: User, authenticator: Authenticator, code: str, purpose: str
    ) -> Check:
        if not codes.looks_like_one(code):
            return Check(False, "wrong")
        accepted = await codes.consume(user, code, self.secret_key)
        return Check(accepted, "" if accepted else "wrong or used")
