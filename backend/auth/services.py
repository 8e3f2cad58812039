"""The long-lived collaborators a request needs, built once per process by backend.app.wiring.

A plain record: the domain functions that take it use the collaborators' types, so those are
named for the type checker only, and this module depends on no domain package at run time
beyond what its properties build.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import TYPE_CHECKING

from backend.accounts.passwords import PasswordHasher
from backend.auth.sessions.service import Timeouts
from backend.infra.config import Settings
from backend.notifications.email import Mailer
from backend.notifications.sms import SmsSender

if TYPE_CHECKING:
    from backend.auth.factors.strategy import Strategy
    from backend.kernel.secret_box import SecretBox


@dataclasses.dataclass(frozen=True)
class Services:
    settings: Settings
    hasher: PasswordHasher
    mailer: Mailer
    sms: SmsSender
    secret_box: SecretBox
    second_factors: dict[str, Strategy]

    @property
    def access_token_lifetime(self) -> timedelta:
        return timedelta(seconds=self.settings.access_token_seconds)

    @property
    def session_timeouts(self) -> Timeouts:
        return Timeouts(idle=self.settings.session_idle, absolute=self.settings.session_absolute)
