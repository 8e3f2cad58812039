"""Re-authentication: the session's proof that its user is present, and the one question
every sensitive change asks of it.

A session is re-authenticated when its user recently proved the password, and, with
two-factor authentication on, a second factor. Signing in counts as one; so does
`reauthenticate`, and so does inline proof sent along with a sensitive change (the API
applies it first, through `prove`). Sensitive use cases never see a password or a code:
they call `require`, and the session's stamp answers.

The stamp keeps the password's time and the second factor's time (and kind) apart, so
that a proof only ever adds: a password proven now renews the password's time and keeps
the second factor proven earlier, with its own time. A recovery code does not replace a
live stamp of another factor, which is worth more (it may mint recovery codes). A
recognized device never replaces a code, a bearer token never proves presence, and a
wrong password counts toward the sign-in throttle.
"""

from __future__ import annotations

from datetime import datetime

from backend.accounts.models import User
from backend.audit.service import record
from backend.auth import verification
from backend.auth.factors.models import TwoFactor
from backend.auth.factors.proof import PasskeyAssertion, Proof
from backend.auth.factors.registry import PASSKEY, RECOVERY_CODE
from backend.auth.services import Services
from backend.auth.sessions import service as sessions
from backend.auth.sessions.models import Session
from backend.auth.throttle import service as throttle
from backend.auth.throttle.keys import account_key, reauthentication_key
from backend.kernel import clock
from backend.kernel.client_info import ClientInfo
from backend.kernel.errors import DomainError, WrongPassword

# The purpose codes emailed or texted for a re-authentication are kept under.
CODE_PURPOSE = "reauthentication"


async def require(
    services: Services,
    user: User,
    session: Session | None,
    *,
    second_factor: bool = True,
    allow_recovery_code: bool = True,
    field: str = "password",
) -> str | None:
    """Raise unless this session re-authenticated recently enough for a sensitive change.

    Recently enough: the password within the window, and with two-factor authentication
    on (unless `second_factor=False`) a second factor within the window too; one proven
    with a recovery code does not count where those are refused. A bearer token (no
    session) never does. Returns the kind of second factor the stamp holds (None when
    none was asked for, or two-factor authentication is off).
    """
    if session is None:
        raise token_refused()
    window = services.settings.reauth_window
    now = clock.now()
    until = sessions.password_proven_until(session, window)
    if until is None or until <= now:
        raise reauthentication_required(field)
    if not second_factor or not await TwoFactor.filter(user=user).exists():
        return None
    factor_until = sessions.second_factor_proven_until(session, window)
    factor = session.reauthenticated_factor
    if (
        factor is None
        or factor_until is None
        or factor_until <= now
        or (factor == RECOVERY_CODE and not allow_recovery_code)
    ):
        raise code_required()
    return factor


async def prove(
    services: Services,
    user: User,
    session: Session | None,
    client: ClientInfo,
    *,
    password: str | None,
    proof: Proof | None = None,
    allow_recovery_code: bool = True,
    proof_field: str = "password",
    purpose: str = "reauthenticate",
    always_renew: bool = False,
) -> str | None:
    """Check the proof given and add it to the session's stamp; it never lowers the stamp.

    A second factor's `proof` (a typed code, or a passkey's assertion) without the
    password counts only on a session whose password stamp is live. With two-factor
    authentication off a proof is not looked at. A raised privilege (a proof the live
    stamp did not hold; or any, with `always_renew`) gets the session a fresh id, so that
    a copy of the old cookie is worth nothing: returns the new cookie value, else None.
    A proof the stamp already held only renews its time, and keeps the id: parallel
    requests that all carry the same proof would otherwise end each other's cookie.
    """
    if not password and proof is None:
        return None
    if session is None:
        raise token_refused()
    held = _live_proofs(services, session)
    if password:
        await confirm_password(
            services, user, client, password=password, purpose=purpose, field=proof_field
        )
    else:
        until = sessions.password_proven_until(session, services.settings.reauth_window)
        if until is None or until <= clock.now():
            raise reauthentication_required(proof_field)
    factor = None
    if proof is not None and await TwoFactor.filter(user=user).exists():
        factor = await _verify_second_factor(
            services, user, session, client, proof, allow_recovery_code=allow_recovery_code
        )
    await sessions.stamp_reauthenticated(
        session,
        password=bool(password),
        second_factor=factor,
        keep_factor=factor is not None and _worth_keeping(services, session, factor),
    )
    await record("reauthenticated", user=user, client=client, factor=factor or "password")
    if always_renew or _live_proofs(services, session) != held:
        return await sessions.renew(session)  # None: a parallel request renewed it first
    return None


async def reauthenticate(
    services: Services,
    user: User,
    session: Session | None,
    client: ClientInfo,
    *,
    password: str,
    proof: Proof | None,
) -> tuple[datetime, str | None]:
    """The password, and a second factor when 2FA is on: the session's stamp renewed whole.

    The second factor may be a passkey's assertion for options that passkey_challenge
    gave this session.
    Returns when the stamp stops counting, and the session's new cookie value (None when
    a parallel request renewed it first).
    """
    if session is None:
        raise token_refused()
    if proof is None and await TwoFactor.filter(user=user).exists():
        # Checked first, as before: the password is not spent on a proof that cannot pass.
        await confirm_password(services, user, client, password=password, purpose="reauthenticate")
        raise code_required()
    token = await prove(
        services,
        user,
        session,
        client,
        password=password,
        proof=proof,
        always_renew=True,
    )
    until = await reauthenticated_until(services, user, session)
    assert until is not None  # both proofs were just given
    return until, token


async def passkey_challenge(services: Services, user: User, session: Session | None) -> str:
    """Request options for the user's passkeys, to answer reauthenticate with one."""
    if session is None:
        raise token_refused()
    options = await services.second_factors[PASSKEY].begin_challenge(
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

    With two-factor authentication on, the earlier of the two proofs' ends: a stamp
    without a live second factor does not count, the client would still have to ask.
    """
    window = services.settings.reauth_window
    until = sessions.password_proven_until(session, window)
    if session is None or until is None or until <= clock.now():
        return None
    if await TwoFactor.filter(user=user).exists():
        factor_until = sessions.second_factor_proven_until(session, window)
        if session.reauthenticated_factor is None or factor_until is None:
            return None
        until = min(until, factor_until)
        if until <= clock.now():
            return None
    return until


def reauthentication_required(field: str = "password") -> DomainError:
    return DomainError("REAUTHENTICATION_REQUIRED", "Confirm your password to continue.", field)


def code_required(field: str = "code") -> DomainError:
    return DomainError("OTP_REQUIRED", "Enter a code from your second factor.", field)


def token_refused() -> DomainError:
    return DomainError(
        "INSUFFICIENT_SCOPE",
        "Security changes need a signed-in session; a token cannot make them.",
    )


async def confirm_password(
    services: Services,
    user: User,
    client: ClientInfo,
    *,
    password: str,
    purpose: str,
    field: str = "password",
) -> None:
    """The password alone, with a lock of its own that also feeds the sign-in lock.

    Wrong passwords here count toward signing in too, so a stolen session is no
    guessing oracle. But a sign-in lock an attacker caused does not stop the user who
    is already signed in from changing the password.
    """
    key = reauthentication_key(user)
    await throttle.reserve(key, throttle.PER_ACCOUNT)
    if not await services.hasher.verify(user.password_hash, password):
        await throttle.count_failure(account_key(user.username), throttle.PER_ACCOUNT)
        await record(f"{purpose}.failed", user=user, client=client, reason="password")
        raise WrongPassword(field=field)
    await throttle.clear(key)


async def _verify_second_factor(
    services: Services,
    user: User,
    session: Session,
    client: ClientInfo,
    proof: Proof,
    *,
    allow_recovery_code: bool,
) -> str:
    """INVALID_OTP for a bad proof; returns the kind of factor proven.

    A recognized device never stands in for the proof here. A code of any factor will do
    (email and SMS codes are asked for first: second_factors.send_reauthentication_code);
    a recovery code too, unless the change would let it mint new ones; or a passkey's
    assertion for the options passkey_challenge gave this session.
    """
    # A passkey's challenge is bound to the session; sent codes to re-authentication.
    browser = isinstance(proof, PasskeyAssertion)
    proven = await verification.verify(
        services,
        user,
        proof,
        purpose=_passkey_purpose(session) if browser else CODE_PURPOSE,
        client=client,
        allow_recovery_code=allow_recovery_code,
    )
    return proven.kind


def _live_proofs(services: Services, session: Session) -> tuple[bool, str | None]:
    """What the stamp holds now: a live password proof, and the kind of a live second factor."""
    window = services.settings.reauth_window
    now = clock.now()
    password_until = sessions.password_proven_until(session, window)
    factor_until = sessions.second_factor_proven_until(session, window)
    factor = session.reauthenticated_factor if factor_until and factor_until > now else None
    return bool(password_until and password_until > now), factor


def _worth_keeping(services: Services, session: Session, proven: str) -> bool:
    """Whether the stamp's live second factor is worth more than a recovery code proven now."""
    if proven != RECOVERY_CODE or session.reauthenticated_factor in (None, RECOVERY_CODE):
        return False
    until = sessions.second_factor_proven_until(session, services.settings.reauth_window)
    return until is not None and until > clock.now()
