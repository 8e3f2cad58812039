"""Builds the process's collaborators from settings: the one place that knows every part,
and so the one that connects a lower part to a higher one that must hear of its changes."""

from __future__ import annotations

from backend.accounts.passwords import PasswordHasher
from backend.auth.factors.registry import strategies
from backend.auth.factors.strategy import Tools
from backend.auth.services import Services
from backend.auth.sessions import ending
from backend.infra.config import Settings
from backend.kernel.secret_box import SecretBox
from backend.notifications.email import Mailer
from backend.notifications.sms import SmsSender
from backend.oidc import backchannel
from backend.tokens import scopes


def listen_to_session_ends() -> None:
    """Applications that signed in through a session are owed a logout token when it
    ends, in the same transaction (backend/auth/sessions/ending.py); idempotent."""
    ending.listen(backchannel.owe_logout_tokens)


def build_services(settings: Settings) -> Services:
    listen_to_session_ends()
    scopes.for_settings(settings)  # a bad LATCHKEY_SCOPES stops the start, not a request
    mailer = Mailer(settings.smtp, settings.public_url)
    sms = SmsSender(settings.sms_webhook_url, settings.sms_webhook_secret)
    box = SecretBox(settings.secret_key)
    return Services(
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
        second_factors=strategies(
            Tools(
                box=box,
                mailer=mailer,
                sms=sms,
                secret_key=settings.secret_key,
                issuer=settings.issuer,
                public_url=settings.public_url,
            )
        ),
    )
