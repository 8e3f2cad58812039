"""Passkeys as a kind of second factor: an assertion from one of the user's credentials.

Added through their own registration (account_settings/passkeys.py), not begin_setup;
at sign-in and for sensitive changes they answer a challenge in the browser, so
begin_challenge returns request options, and the proof they accept is the browser's
assertion (proof.PasskeyAssertion, from the input's `credential`), never a typed code.
"""

from __future__ import annotations

from backend.accounts.models import User
from backend.auth.factors.models import Authenticator, PasskeyCredential
from backend.auth.factors.passkey import ceremonies, challenges
from backend.auth.factors.passkey.ceremonies import KnownCredential, Refused, RelyingParty
from backend.auth.factors.proof import PasskeyAssertion, Proof
from backend.auth.factors.strategy import Check, Tools
from backend.kernel.crypto import keyed_digest
from backend.kernel.errors import DomainError
from backend.kernel.i18n import N_

PASSKEY = "passkey"


class Passkeys:
    kind = PASSKEY
    api_name = "PASSKEY"
    default_name = N_("Passkey")
    sends_codes = False
    typed = False  # the browser answers with an assertion (the input's `credential`)
    one_per_user = False
    backup = False
    redirected_by = None
    amr = "hwk"

    def __init__(self, rp: RelyingParty, secret_key: str) -> None:
        self.rp = rp
        self.secret_key = secret_key

    @classmethod
    def build(cls, tools: Tools) -> Passkeys:
        return cls(RelyingParty.for_public_url(tools.public_url, tools.issuer), tools.secret_key)

    def cannot_set_up(self, user: User) -> DomainError | None:
        return None  # the limit is counted as one is added (account_settings/passkeys.py)

    async def begin_challenge(self, user: User, purpose: str) -> str | None:
        """Request options for the user's passkeys, the challenge bound to `purpose`."""
        known = await known_credentials(user.id)
        if not known:
            return None
        options = ceremonies.request_options(self.rp, allow=known, user_verification=False)
        await challenges.remember(options.challenge, binding=purpose, user_id=user.id)
        return options.json

    def accepts(self, proof: Proof) -> bool:
        return isinstance(proof, PasskeyAssertion)

    async def verify(
        self, user: User, authenticator: Authenticator, proof: Proof, purpose: str
    ) -> Check:
        assert isinstance(proof, PasskeyAssertion)
        stored = await PasskeyCredential.get_or_none(authenticator_id=authenticator.id)
        try:
            if stored is None or stored.credential_id != ceremonies.credential_id(proof.json):
                return Check(False, "")  # another of the user's passkeys, or none of them
            await assert_with(self.rp, stored, proof.json, binding=purpose, user_verification=False)
        except Refused as refused:
            return Check(False, refused.reason)
        return Check(True)

    def user_handle(self, user_id: int) -> bytes:
        return user_handle(self.secret_key, user_id)


def user_handle(secret_key: str, user_id: int) -> bytes:
    """The account's id as authenticators store it: opaque, and the same on every worker."""
    return bytes.fromhex(keyed_digest(secret_key, "webauthn-user-handle", str(user_id)))


async def known_credentials(user_id: int) -> list[KnownCredential]:
    rows = await PasskeyCredential.filter(user_id=user_id).order_by("id")
    return [
        KnownCredential(row.credential_id, tuple(filter(None, row.transports.split(","))))
        for row in rows
    ]


async def assert_with(
    rp: RelyingParty,
    stored: PasskeyCredential,
    credential_json: str,
    *,
    binding: str,
    user_verification: bool,
) -> ceremonies.Asserted:
    """Use the challenge up, check the assertion, move the counter; raise Refused."""
    await challenges.use_up(ceremonies.client_challenge(credential_json), binding=binding)
    asserted = ceremonies.verify_assertion(
        rp,
        credential_json,
        ceremonies.client_challenge(credential_json),
        public_key=stored.public_key,
        sign_count=stored.sign_count,
        user_verification=user_verification,
    )
    if asserted.sign_count or stored.sign_count:
        # Compare-and-set: a cloned authenticator racing the real one cannot both pass.
        moved = await PasskeyCredential.filter(
            id=stored.id, sign_count__lt=asserted.sign_count
        ).update(sign_count=asserted.sign_count)
        if not moved:
            raise Refused("counter_not_increasing")
    return asserted
