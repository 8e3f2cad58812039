"""Authenticator apps: a secret shown once as a QR code, then codes the app computes."""

from __future__ import annotations

from backend.accounts.models import User
from backend.auth.factors.models import Authenticator
from backend.auth.factors.proof import Proof, TypedCode
from backend.auth.factors.strategy import Check, SetupDone, SetupStart, Tools
from backend.auth.factors.totp import otp
from backend.kernel.errors import DomainError
from backend.kernel.i18n import N_
from backend.kernel.secret_box import SecretBox


class AuthenticatorApp:
    kind = "totp"
    api_name = "TOTP"
    default_name = N_("Authenticator app")
    sends_codes = False
    typed = True
    one_per_user = False
    backup = False
    redirected_by = None
    amr = "otp"

    def __init__(self, box: SecretBox, issuer: str) -> None:
        self.box = box
        self.issuer = issuer

    @classmethod
    def build(cls, tools: Tools) -> AuthenticatorApp:
        return cls(tools.box, tools.issuer)

    def cannot_set_up(self, user: User) -> DomainError | None:
        return None

    async def begin_setup(self, user: User) -> SetupStart:
        secret = otp.new_secret()
        uri = otp.provisioning_uri(secret, username=user.username, issuer=self.issuer)
        return SetupStart(
            secret=secret,
            sealed_secret=self.box.seal(secret, bound_to=str(user.id)),
            uri=uri,
            qr_code_svg=otp.qr_code_svg(uri),
        )

    async def complete_setup(
        self, user: User, pending_secret: str | None, code: str
    ) -> SetupDone | None:
        sealed_secret = pending_secret
        secret = self.box.open(sealed_secret or "", bound_to=str(user.id))
        timecode = otp.matching_timecode(secret, code)
        if timecode is None:
            return None
        # The confirming code's time step is used up: it cannot sign in afterwards.
        return SetupDone(sealed_secret=sealed_secret, last_timecode=timecode)

    async def begin_challenge(self, user: User, purpose: str) -> None:
        return None  # the app shows the code; nothing to send

    def accepts(self, proof: Proof) -> bool:
        return isinstance(proof, TypedCode)

    async def verify(
        self, user: User, authenticator: Authenticator, proof: Proof, purpose: str
    ) -> Check:
        assert isinstance(proof, TypedCode)
        code = proof.text
        secret = self.box.open(authenticator.secret or "", bound_to=str(user.id))
        if otp.matching_timecode(secret, code) is None:
            return Check(False, "wrong")
        if not await otp.consume(authenticator, secret, code):
            return Check(False, "replayed")
        return Check(True)
