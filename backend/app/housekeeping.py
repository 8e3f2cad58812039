"""Deleting rows nobody can use any more: expired access tokens, sessions, codes, counters.

Every worker runs it now and then; the deletes are idempotent, so several workers at once
do no harm. Expired refresh tokens stay a while, listed as expired to their owners
(backend.tokens.retention).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from tortoise.expressions import Q

from backend.accounts.models import EmailChange
from backend.auth.factors.models import (
    OneTimeCode,
    PasskeyChallenge,
    PendingSetup,
    SignInChallenge,
    TrustedDevice,
)
from backend.auth.models import PasswordReset
from backend.auth.sessions.models import Session
from backend.auth.sessions.service import Timeouts
from backend.auth.throttle.models import ThrottleCounter
from backend.auth.throttle.service import PER_ACCOUNT, unix_ms
from backend.events.models import WebhookDelivery
from backend.kernel import clock
from backend.notifications.models import SecureAccountLink
from backend.oidc.models import BackchannelLogout
from backend.tokens import retention, usage
from backend.tokens.models import AccessToken

log = logging.getLogger("latchkey.housekeeping")

INTERVAL = timedelta(minutes=10)
NOTICE_RETRY_INTERVAL = timedelta(minutes=1)
# Accounts whose scheduled deletion is due: each worker looks this often (one indexed query).
DELETION_INTERVAL = timedelta(minutes=1)
# Webhook deliveries are due at once: each worker looks this often (one indexed query).
WEBHOOK_INTERVAL = timedelta(seconds=1)
WEBHOOK_KEPT = timedelta(days=30)  # deliveries and their attempts, for `webhook deliveries`
LOGOUT_TOKENS_KEPT = WEBHOOK_KEPT  # back-channel logouts delivered or given up


async def delete_expired(timeouts: Timeouts) -> dict[str, int]:
    """Delete what has expired; the number of rows per kind."""
    now = clock.now()
    quiet_since = now - PER_ACCOUNT.forget_after  # failures older than this no longer count
    session_over = Q(last_seen_at__lte=now - timeouts.idle) | Q(
        created_at__lte=now - timeouts.absolute
    )
    counter_over = Q(updated_at_ms__lte=unix_ms(quiet_since)) & (
        Q(locked_until_ms__isnull=True) | Q(locked_until_ms__lte=unix_ms(now))
    )
    return {
        "access_tokens": await AccessToken.filter(expires_at__lte=now).delete(),
        "sessions": await Session.filter(session_over).delete(),
        "sign_in_challenges": await SignInChallenge.filter(expires_at__lte=now).delete(),
        "one_time_codes": await OneTimeCode.filter(expires_at__lte=now).delete(),
        "pending_setups": await PendingSetup.filter(expires_at__lte=now).delete(),
        "email_changes": await EmailChange.filter(expires_at__lte=now).delete(),
        "trusted_devices": await TrustedDevice.filter(expires_at__lte=now).delete(),
        "passkey_challenges": await PasskeyChallenge.filter(expires_at__lte=now).delete(),
        "throttle_counters": await ThrottleCounter.filter(counter_over).delete(),
        "password_resets": await PasswordReset.filter(expires_at__lte=now).delete(),
        "secure_account_links": await SecureAccountLink.filter(expires_at__lte=now).delete(),
        "token_usage_days": await usage.forget_old(now),
        "refresh_tokens": await retention.forget_long_expired(now),
        "webhook_deliveries": await WebhookDelivery.filter(
            created_at__lte=now - WEBHOOK_KEPT, next_attempt_at=None
        ).delete(),
        "backchannel_logouts": await BackchannelLogout.filter(
            created_at__lte=now - LOGOUT_TOKENS_KEPT, next_attempt_at=None
        ).delete(),
    }


async def run_every(interval: timedelta, job: Callable[[], Awaitable[object]]) -> None:
    """Run `job` now and then every `interval` until cancelled; a failed run waits its turn."""
    while True:
        try:
            await job()
        except Exception:
            log.exception("a background job failed", extra={"job": getattr(job, "__name__", "")})
        await asyncio.sleep(interval.total_seconds())
