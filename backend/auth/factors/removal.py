"""Removing second factors: all of them, or those someone may have added since a moment.

"This wasn't me" uses the second: whoever held the session since the reported change may
have added a passkey or an authenticator app, pointed the email or SMS codes at an
address or phone of their own, or seen recovery codes; those go. Factors from before it
stay, so a mailbox alone never turns two-factor authentication off.
"""

from __future__ import annotations

from datetime import datetime

from backend.accounts.models import User
from backend.audit.models import SecurityEvent
from backend.auth.factors.models import (
    Authenticator,
    OneTimeCode,
    PendingSetup,
    RecoveryCode,
    TrustedDevice,
    TwoFactor,
)
from backend.auth.factors.registry import KINDS, RECOVERY_CODE, is_backup

# Events after which the recovery codes in force were shown to whoever made them.
_RECOVERY_CODES_SHOWN = ("recovery_codes.regenerated", "twofactor.enabled")


async def remove_everything(user: User) -> None:
    """Two-factor authentication off, with every factor, code and recognized device."""
    await TwoFactor.filter(user=user).delete()
    await Authenticator.filter(user=user).delete()
    await PendingSetup.filter(user=user).delete()
    await RecoveryCode.filter(user=user).delete()
    await OneTimeCode.filter(user=user).delete()
    await TrustedDevice.filter(user=user).delete()


async def remove_added_since(user: User, since: datetime) -> int:
    """Remove what may not be the owner's since `since`; how many factors went.

    Call inside a transaction. When no factor but recovery codes is left, two-factor
    authentication goes off altogether.
    """
    # Only the kinds that matter: strangers' failed sign-ins may fill the log meanwhile.
    telling = {*_RECOVERY_CODES_SHOWN, *(k.redirected_by[0] for k in KINDS if k.redirected_by)}
    events = await SecurityEvent.filter(
        user_id=user.id, created_at__gte=since, kind__in=sorted(telling)
    ).values_list("kind", "details")
    doubtful = Authenticator.filter(user_id=user.id, created_at__gte=since).exclude(
        kind=RECOVERY_CODE
    )
    removed = await doubtful.count()
    await doubtful.delete()
    # Codes sent to an address or phone changed since then may reach someone else.
    for strategy in KINDS:
        if strategy.redirected_by is None:
            continue
        event_kind, field = strategy.redirected_by
        if any(_changed(event, details, event_kind, field) for event, details in events):
            removed += await Authenticator.filter(user_id=user.id, kind=strategy.kind).delete()
    if any(event in _RECOVERY_CODES_SHOWN for event, _ in events):
        await RecoveryCode.filter(user_id=user.id).delete()
    await PendingSetup.filter(user_id=user.id).delete()
    await OneTimeCode.filter(user_id=user.id).delete()
    left = await Authenticator.filter(user_id=user.id).values_list("kind", flat=True)
    if not any(not is_backup(kind) for kind in left):
        await remove_everything(user)
    return removed


def _changed(event: str, details: object, event_kind: str, field: str | None) -> bool:
    if event != event_kind:
        return False
    if field is None:
        return True
    return isinstance(details, dict) and field in (details.get("fields") or ())
