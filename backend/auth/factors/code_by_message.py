"""What codes by email and by SMS share: a one-time code per purpose and kind."""

from __future__ import annotations

from backend.accounts.models import User
from backend.auth.factors import codes
from backend.auth.factors.models import Authenticator, OneTimeCode
from backend.auth.factors.proof import Proof, TypedCode
from backend.auth.factors.strategy import Check, SetupDone, SetupStart

SETUP = "setup"


class CodeByMessage:
    """A base for kinds that deliver a code; subclasses say how (`deliver`)."""

    kind = ""
    api_name = ""
    default_name = ""
    sends_codes = True
    typed = True
    one_per_user = True
    backup = False
    redirected_by: tuple[str, str | None] | None = None

    def __init__(self, secret_key: str) -> None:
        self.secret_key = secret_key

    async def deliver(self, user: User, code: str) -> None:
        raise NotImplementedError

    async def begin_setup(self, user: User) -> SetupStart:
        await OneTimeCode.filter(user=user, purpose=self._purpose(SETUP)).delete()
        await self.begin_challenge(user, SETUP)  # the code proves the address reaches the user
        return SetupStart()

    async def complete_setup(
        self, user: User, pending_secret: str | None, code: str
    ) -> SetupDone | None:
        accepted = await codes.consume(user, self._purpose(SETUP), code, self.secret_key)
        return SetupDone() if accepted else None

    async def begin_challenge(self, user: User, purpose: str) -> None:
        await self.deliver(user, await codes.issue(user, self._purpose(purpose), self.secret_key))

    def accepts(self, proof: Proof) -> bool:
        return isinstance(proof, TypedCode)

    async def verify(
        self, user: User, authenticator: Authenticator, proof: Proof, purpose: str
    ) -> Check:
        assert isinstance(proof, TypedCode)
        accepted = await codes.consume(user, self._purpose(purpose), proof.text, self.secret_key)
        return Check(accepted, "" if accepted else "wrong, expired or used")

    def _purpose(self, purpose: str) -> str:
        """Email and SMS codes of one purpose are apart: trying one never spends the other."""
        return f"{purpose}:{self.kind}"
