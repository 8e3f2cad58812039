"""Recovery codes: ten single-use codes, present while any other factor is on.

They are made and removed with the first and the last other factor
(account_settings/second_factors.py), never set up on their own.
"""

from __future__ import annotations

from backend.accounts.models import User
from backend.auth.factors.models import Authenticator
from backend.auth.factors.proof import Proof, TypedCode
from backend.auth.factors.recovery_codes import codes
from backend.auth.factors.strategy import Check, Tools
from backend.kernel.errors import DomainError
from backend.kernel.i18n import N_


class RecoveryCodes:
    kind = "recovery_code"
    api_name = "RECOVERY_CODE"
    default_name = N_("Recovery codes")
    sends_codes = False
    typed = True
    one_per_user = True
    backup = True
    redirected_by = None
    amr = "otp"

    def __init__(self, secret_key: str) -> None:
        self.secret_key = secret_key

    @classmethod
    def build(cls, tools: Tools) -> RecoveryCodes:
        return cls(tools.secret_key)

    def cannot_set_up(self, user: User) -> DomainError | None:
        return DomainError(
            "VALIDATION_FAILED", "Recovery codes come with another factor.", "method"
        )

    async def begin_challenge(self, user: User, purpose: str) -> None:
        return None  # the user has them on paper

    def accepts(self, proof: Proof) -> bool:
        # By its shape: a code that cannot be one is not tried (nor counted) here.
        return isinstance(proof, TypedCode) and codes.looks_like_one(proof.text)

    async def verify(
        self, user: User, authenticator: Authenticator, proof: Proof, purpose: str
    ) -> Check:
        assert isinstance(proof, TypedCode)
        accepted = await codes.consume(user, proof.text, self.secret_key)
        return Check(accepted, "" if accepted else "wrong or used")
