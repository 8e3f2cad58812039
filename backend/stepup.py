"""Re-authentication before a sensitive change: issuing tokens and credentials, 2FA changes.

Proof is either inline (the password, and a current code when two-factor authentication
is on) or a recent re-authentication of the same session ("sudo mode"), which signing in
also counts as. A wrong password counts toward the same throttle as sign-in. A recognized
device never replaces a code, and a bearer token never proves presence.
"""

from __future__ import annotations

from datetime import datetime

from backend import clock
from backend.accounts.models import User
from backend.audit.service import record
from backend.client import ClientInfo
from backend.errors import DomainError, WrongPassword
from backend.services import Services
from backend.sessions import service as sessions
from backend.sessions.models import Session
from backend.throttle import service as throttle
from backend.throttle.keys import account_key, step_up_key
from backend.twofactor import verification
from backend.twofactor.models import TwoFactor
from backend.twofactor.passkey.strategy import Passkeys
from backend.twofactor.registry import RECOVERY_CODE

STEP_UP = "step-up"


async def confirm(
    services: Services,
    user: User,
    session: Session | None,
    client: ClientInfo,
    *,
    password: str | None,
    otp: str | None,
    purpose: str,
    allow_recovery_code: bool = True,
    second_factor: bool = True,
    proof_field: str = "password",
) -> str | None:
    """Raise unless the user is shown present: inline proof, or the session's recent stamp.

    Returns the kind of second factor proven (None: none was asked for, or 2FA is off).

    `session` is None for a bearer token, which never makes a security change.
    A stamp without a second factor still needs `otp` when two-factor authentication is
    on; one proven with a recovery code does not count where those are refused.
    `second_factor=False` asks for the password (or any stamp) alone.
    """
    if session is None:
        raise token_refused()
    if password:
        await confirm_password(services, user, client, password=password, purpose=purpose)
        proven = None  # an inline password comes with its code inline too
    else:
        until = sessions.reauthenticated_until(session, services.settings.reauth_window)
        if until is None or until <= clock.now():
            raise reauthentication_required(proof_field)
        proven = session.reauthenticated_factor
    if not second_factor:
        return None
    if proven is None or (proven == RECOVERY_CODE and not allow_recovery_code):
        proven = await verify_second_factor(
            services,
            user,
            client,
            otp=otp,
            purpose=purpose,
            allow_recovery_code=allow_recovery_code,
        )
    return proven


async def reauthenticate(
    services: Services,
    user: User,
    session: Session | None,
    client: ClientInfo,
    *,
    password: str,
    code: str | None,
    credential: str | None = None,
) -> tuple[datetime, str]:
    """Stamp the session after the password (and a second factor when 2FA is on).

    The second factor may be a passkey's assertion (`credential`) for options that
    passkey_challenge gave this session.
    Returns when the stamp stops counting, and the session's new cookie value: a raised
    privilege gets a fresh session id, so a copy of the old cookie is worth nothing.
    """
    if session is None:
        raise token_refused()
    await confirm_password(services, user, client, password=password, purpose="reauthenticate")
    if credential and await TwoFactor.filter(user=user).exists():
        proven = await verification.verify(
            services,
            user,
            credential,
            purpose=_passkey_purpose(session),
            client=client,
            field="credential",
            method=Passkeys.kind,
        )
        factor: str | None = proven.kind
    else:
        factor = await verify_second_factor(
            services, user, client, otp=code, purpose="reauthenticate", field="code"
        )
    await sessions.stamp_reauthenticated(session, factor)
    token = await sessions.renew(session)
    await record("reauthenticated", user=user, client=client, factor=factor or "password")
    return session.reauthenticated_at + services.settings.reauth_window, token


async def passkey_challenge(services: Services, user: User, session: Session | None) -> str:
    """Request options for the user's passkeys, to answer reauthenticate with one."""
    if session is None:
        raise token_refused()
    options = await services.second_factors[Passkeys.kind].begin_challenge(
        user, _passkey_purpose(session)
    )
    if options is None:
        raise DomainError("NOT_FOUND", "There is no passkey on your account.")
    return options


def _passkey_purpose(session: Session) -> str:
    return f"reauthenticate:{session.id}"


async def reauthenticated_until(
    services: Services, user: User, session: Session | None
) -> datetime | None:
    """Until when this session may make sensitive changes without asking; None to ask now.

    A stamp without a second factor does not count here while two-factor authentication
    is on: the client would still have to ask for a code.
    """
    until = sessions.reauthenticated_until(session, services.settings.reauth_window)
    if session is None or until is None or until <= clock.now():
        return None
    if session.reauthenticated_factor is None and await TwoFactor.filter(user=user).exists():
        return None
    return until


def reauthentication_required(field: str = "password") -> DomainError:
    return DomainError("REAUTHENTICATION_REQUIRED", "Confirm your password to continue.", field)


def token_refused() -> DomainError:
    return DomainError(
        "INSUFFICIENT_SCOPE",
        "Security changes need a signed-in session; a token cannot make them.",
    )


async def confirm_password(
    services: Services, user: User, client: ClientInfo, *, password: str, purpose: str
) -> None:
    """The password alone, with a lock of its own that also feeds the sign-in lock.

    Wrong passwords here count toward signing in too, so a stolen session is no
    guessing oracle. But a sign-in lock an attacker caused does not stop the user who
    is already signed in from changing the password.
    """
    key = step_up_key(user)
    await throttle.reserve(key, throttle.PER_ACCOUNT)
    if not await services.hasher.verify(user.password_hash, password):
        await throttle.count_failure(account_key(user.username), throttle.PER_ACCOUNT)
        await record(f"{purpose}.failed", user=user, client=client, reason="password")
        raise WrongPassword(field="password")
    await throttle.clear(key)


async def verify_second_factor(
    services: Services,
    user: User,
    client: ClientInfo,
    *,
    otp: str | None,
    purpose: str,
    allow_recovery_code: bool = True,
    field: str = "otp",
) -> str | None:
    """With two-factor authentication on: OTP_REQUIRED without a code, INVALID_OTP for a bad one.

    A recognized device never stands in for the code here. A code of any factor will do
    (email and SMS codes are asked for first: second_factors.send_step_up_code); a
    recovery code too, unless the change would let it mint new ones (`allow_recovery_code=False`).
    Returns the kind of factor proven; None when two-factor authentication is off.
    """
    if not await TwoFactor.filter(user=user).exists():
        return None
    if not (otp or "").strip():
        raise DomainError("OTP_REQUIRED", "Enter a code from your second factor.", field)
    factor = await verification.verify(
        services,
        user,
        otp or "",
        purpose=STEP_UP,
        client=client,
        field=field,
        allow_recovery_code=allow_recovery_code,
    )
    return factor.kind
