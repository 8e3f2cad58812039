"""The one interface every kind of second factor implements.

Sign-in, re-authentication and settings reach a kind only through this interface (see challenges.py,
verification.py and account_settings/second_factors.py); throttling, replay protection,
audit and notices live there, once. A kind checks proofs of its own sort (proof.py): it
says which it accepts, and verify sees only those.
"""

from __future__ import annotations

import dataclasses
from typing import Protocol, runtime_checkable

from backend.accounts.models import User
from backend.auth.factors.models import Authenticator
from backend.auth.factors.proof import Proof
from backend.kernel.errors import DomainError
from backend.kernel.secret_box import SecretBox
from backend.notifications.email import Mailer
from backend.notifications.sms import SmsSender


@dataclasses.dataclass(frozen=True)
class Tools:
    """What a strategy may be built with (registry.py hands it to every kind's `build`)."""

    box: SecretBox
    mailer: Mailer
    sms: SmsSender
    secret_key: str
    issuer: str
    public_url: str  # the URL users open: passkeys are bound to its host and origin


@dataclasses.dataclass(frozen=True)
class Check:
    accepted: bool
    reason: str = ""  # for the security log only: the user sees one answer for all


@dataclasses.dataclass(frozen=True)
class SetupStart:
    """What begin_setup hands back: for an app, the secret to show and to keep pending."""

    secret: str | None = None
    sealed_secret: str | None = None
    uri: str | None = None
    qr_code_svg: str | None = None


@dataclasses.dataclass(frozen=True)
class SetupDone:
    """The proven factor: what its Authenticator row stores."""

    sealed_secret: str | None = None
    last_timecode: int = 0


class Strategy(Protocol):
    """A kind of second factor, with what the rest of the service needs to know about it.

    Sign-in, settings, GraphQL and the pages read these attributes instead of naming kinds;
    the pages show a kind through web/templates/factors/<kind>.html.
    """

    kind: str  # stored in Authenticator.kind; also the name of the kind's template
    api_name: str  # its value of the GraphQL enum TwoFactorMethod
    default_name: str  # its label, and the name of a new factor the user did not name
    sends_codes: bool  # email and SMS: a code must be asked for before it can be typed
    typed: bool  # the user types a code (a passkey answers in the browser instead)
    one_per_user: bool
    # Recovery codes: they come and go with the other factors, are tried last, never
    # preferred, never set up or removed on their own.
    backup: bool
    # Email and SMS: the security event (and the field it names, if any) that points the
    # codes at another address or phone; "This wasn't me" removes the factor after one.
    redirected_by: tuple[str, str | None] | None
    # Its RFC 8176 authentication method, named in OpenID Connect ID tokens (otp, hwk, ...).
    amr: str

    @classmethod
    def build(cls, tools: Tools) -> Strategy: ...

    def cannot_set_up(self, user: User) -> DomainError | None:
        """Why this user cannot add the kind now (such as no phone number), or None."""
        ...

    async def begin_challenge(self, user: User, purpose: str) -> str | None:
        """Send a code (email, SMS), or return options for the client (a JSON string, for
        kinds that answer a challenge in the browser); None when there is nothing to send."""
        ...

    def accepts(self, proof: Proof) -> bool:
        """Whether `proof` is of the sort this kind checks (its shape only, no secret)."""
        ...

    async def verify(
        self, user: User, authenticator: Authenticator, proof: Proof, purpose: str
    ) -> Check:
        """Check a proof this kind accepts against one of the user's factors of the kind."""
        ...


@runtime_checkable
class SetUpWithCode(Protocol):
    """A kind added by the shared setup (account_settings/second_factors.py): begun, then
    confirmed with a first typed code. Passkeys (their own registration) and recovery codes
    (made with the first factor) are not."""

    async def begin_setup(self, user: User) -> SetupStart: ...

    async def complete_setup(
        self, user: User, pending_secret: str | None, code: str
    ) -> SetupDone | None: ...
