"""The one interface every kind of second factor implements.

Sign-in, step-up and settings reach a kind only through this interface (see challenges.py,
verification.py and account_settings/second_factors.py); throttling, replay protection,
audit and notices live there, once.
"""

from __future__ import annotations

import dataclasses
from typing import Protocol

from backend.accounts.models import User
from backend.twofactor.models import Authenticator


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
    kind: str
    default_name: str
    sends_codes: bool  # email and SMS: a code must be asked for before it can be typed
    one_per_user: bool

    async def begin_setup(self, user: User) -> SetupStart: ...

    async def complete_setup(
        self, user: User, sealed_secret: str | None, code: str
    ) -> SetupDone | None: ...

    async def begin_challenge(self, user: User, purpose: str) -> str | None:
        """Send a code (email, SMS), or return options for the client (a JSON string, for
        kinds that answer a challenge in the browser); None when there is nothing to send."""
        ...

    async def verify(
        self, user: User, authenticator: Authenticator, code: str, purpose: str
    ) -> Check: ...
