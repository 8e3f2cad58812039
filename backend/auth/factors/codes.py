"""Codes sent by email or SMS: 6 digits, 10 minutes, single use, dead after 5 wrong tries."""

from __future__ import annotations

import secrets
from datetime import timedelta

from tortoise.expressions import F

from backend.accounts.models import User
from backend.auth.factors.models import OneTimeCode
from backend.kernel import clock
from backend.kernel.crypto import keyed_digest
from backend.kernel.errors import ResendWait

LIFETIME = timedelta(minutes=10)
MAX_FAILED_ATTEMPTS = 5
MAX_SENDS = 3
RESEND_INTERVAL = timedelta(seconds=30)


async def issue(user: User, purpose: str, secret_key: str) -> str:
    """A fresh code for `purpose`; it replaces the previous one without resetting its failures."""
    code = f"{secrets.randbelow(10**6):06d}"
    now = clock.now()
    existing = await OneTimeCode.get_or_none(user=user, purpose=purpose)
    if existing is None or existing.used_at is not None or existing.expires_at <= now:
        await OneTimeCode.filter(user=user, purpose=purpose).delete()
        await OneTimeCode.create(
            user=user, purpose=purpose, code_hash=_hash(code, secret_key), expires_at=now + LIFETIME
        )
        return code
    if existing.sends >= MAX_SENDS:
        raise ResendWait(int((existing.expires_at - now).total_seconds()), sends_used_up=True)
    if now - existing.created_at < RESEND_INTERVAL * existing.sends:
        raise ResendWait(
            int((existing.created_at + RESEND_INTERVAL * existing.sends - now).total_seconds())
        )
    await OneTimeCode.filter(id=existing.id).update(
        code_hash=_hash(code, secret_key), expires_at=now + LIFETIME, sends=F("sends") + 1
    )
    return code


async def consume(user: User, purpose: str, code: str, secret_key: str) -> bool:
    """Use the code up if it matches. Each try is counted before the comparison, in one
    conditional update, so parallel tries never compare more than MAX_FAILED_ATTEMPTS."""
    now = clock.now()
    live = OneTimeCode.filter(user=user, purpose=purpose, used_at=None, expires_at__gt=now)
    reserved = await live.filter(failed_attempts__lt=MAX_FAILED_ATTEMPTS).update(
        failed_attempts=F("failed_attempts") + 1
    )
    if not reserved:
        return False
    code_hash = _hash(code.strip(), secret_key)
    # The hash is part of the condition: a code re-sent meanwhile is not used up by the old one.
    used = await live.filter(code_hash=code_hash).update(used_at=now)
    return used == 1


def _hash(code: str, secret_key: str) -> str:
    return keyed_digest(secret_key, "one-time-code", code)
