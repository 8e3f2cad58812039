"""The long-lived collaborators a request needs, built once per process."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from backend.accounts.passwords import PasswordHasher
from backend.config import Settings
from backend.notifications.email import Mailer
from backend.notifications.sms import SmsSender
from backend.sessions.service import Timeouts
from backend.twofactor.registry import strategies
from backend.twofactor.secrets_box import SecretBox
from backend.twofactor.strategy import Strategy


@dataclasses.dataclass(frozen=True)
class Services:
    settings: Settings
    hasher: PasswordHasher
    mailer: Mailer
    sms: SmsSender
    secret_box: SecretBox
    second_factors: dict[str, Strategy]

    @classmethod
    def from_settings(cls, settings: Settings) -> Services:
        mailer = Mailer(settings.smtp)
        sms = SmsSender(settings.sms_webhook_url, settings.sms_webhook_secret)
        box = SecretBox(settings.secret_key)
        return cls(
            settings=settings,
            hasher=PasswordHasher(
                memory_kib=settings.argon2_memory_kib,
                time_cost=settings.argon2_time_cost,
                parallelism=settings.argon2_parallelism,
                max_concurrent=settings.max_concurrent_hashes,
            ),
            mailer=mailer,
            sms=sms,
            secret_box=box,
            second_factors=strategies(box, mailer, sms, settings.secret_key, settings.issuer),
        )

    @property
    def access_token_lifetime(self) -> timedelta:
        return timedelta(seconds=self.settings.access_token_seconds)

    @property
    def session_timeouts(self) -> Timeouts:
        return Timeouts(idle=self.settings.session_idle, absolute=self.settings.session_absolute)
