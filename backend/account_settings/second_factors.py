"""Second factors in the account settings: adding, removing, the policy, recovery codes.

Each kind is reached only through its strategy (registry.py); what every kind shares
(proof of presence, audit, notices, recovery codes) happens here, once.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from backend.accounts import limits
from backend.accounts.models import User
from backend.audit.service import record
from backend.auth import reauthentication, verification
from backend.auth.challenges import sending_kind
from backend.auth.factors import devices, removal
from backend.auth.factors.models import Authenticator, PendingSetup, TwoFactor
from backend.auth.factors.recovery_codes import codes as recovery_codes
from backend.auth.factors.registry import ORDER, PASSKEY, RECOVERY_CODE, is_backup
from backend.auth.factors.strategy import SetupStart, SetUpWithCode
from backend.auth.services import Services
from backend.auth.sessions.models import Session
from backend.events.emit import emit
from backend.kernel import clock
from backend.kernel.client_info import ClientInfo
from backend.kernel.errors import DomainError, NotFound
from backend.kernel.i18n import N_, Term
from backend.kernel.text import clean_name
from backend.notifications.notices import tell

log = logging.getLogger("latchkey.twofactor")

SETUP_LIFETIME = timedelta(minutes=10)
POLICIES = ("every_sign_in", "unrecognized_device")
NAME_LENGTH = Authenticator._meta.fields_map["name"].max_length
MAX_AUTHENTICATORS = 10  # recovery codes included: a short list on every page


# -- adding a factor -----------------------------------------------------------------


async def start_setup(
    services: Services,
    user: User,
    client: ClientInfo,
    *,
    method: str,
    session: Session | None,
) -> SetupStart:
    """An app: a secret and QR code. Email or SMS: a code sent, to prove it reaches the user.

    Once two-factor authentication is on, a new factor also needs the session
    re-authenticated with a factor already there: a stolen session and password must not
    plant a factor of their own. Never with a recovery code: it gets its owner in, but
    must not turn into a new factor (nor, through one, into new recovery codes).
    """
    strategy = services.second_factors[method]
    if strategy.backup:
        raise DomainError("VALIDATION_FAILED", "Recovery codes come with another factor.", "method")
    if strategy.one_per_user and await Authenticator.filter(user=user, kind=method).exists():
        raise DomainError(
            "CONFLICT", "{method} is already on.", "method", method=Term(strategy.default_name)
        )
    if (problem := strategy.cannot_set_up(user)) is not None:
        raise problem
    if not isinstance(strategy, SetUpWithCode):  # a passkey: its own registration
        raise DomainError(
            "VALIDATION_FAILED", "That method is set up with its own mutation.", "method"
        )
    await reauthentication.require(services, user, session, allow_recovery_code=False)
    await PendingSetup.filter(user=user).delete()
    started = await strategy.begin_setup(user)
    await PendingSetup.create(
        user=user,
        method=method,
        totp_secret=started.sealed_secret,
        expires_at=clock.now() + SETUP_LIFETIME,
    )
    return started


async def confirm_setup(
    services: Services,
    user: User,
    client: ClientInfo,
    *,
    code: str,
    method: str | None = None,
    name: str | None = None,
) -> list[str] | None:
    """Check the first code and add the factor.

    The first factor turns two-factor authentication on and returns new recovery codes;
    a later one returns None (the recovery codes stay as they are).
    """
    pending = await PendingSetup.get_or_none(user=user)
    if (
        pending is None
        or pending.expires_at <= clock.now()
        or (method and pending.method != method)
    ):
        raise DomainError("SETUP_EXPIRED", "The setup expired. Start it again.", "code")
    strategy = services.second_factors[pending.method]
    assert isinstance(strategy, SetUpWithCode)  # start_setup pends no other
    name = clean_name(name or "", "name") or strategy.default_name
    if len(name) > NAME_LENGTH:
        raise DomainError(
            "VALIDATION_FAILED", "At most {count} characters.", "name", count=NAME_LENGTH
        )
    done = await strategy.complete_setup(user, pending.totp_secret, code or "")
    if done is None:
        await record(
            "second_factor.failed",
            user=user,
            client=client,
            purpose="setup",
            method=pending.method,
            reason="wrong",
        )
        raise verification.InvalidOtp()
    new_codes = recovery_codes.generate()
    try:
        async with in_transaction():
            await limits.serialise_on_user(user.id)
            if not await PendingSetup.filter(id=pending.id).delete():
                raise DomainError("SETUP_EXPIRED", "The setup expired. Start it again.", "code")
            # Counted under the user's lock: parallel confirmations cannot pass the limit.
            # Passkeys have a limit of their own (account_settings/passkeys.py).
            others = Authenticator.filter(user=user).exclude(kind=PASSKEY)
            if await others.count() >= MAX_AUTHENTICATORS:
                raise DomainError(
                    "TOO_MANY_AUTHENTICATORS", "Remove a second factor before adding another."
                )
            first = not await TwoFactor.filter(user=user).exists()
            if first:
                await TwoFactor.create(user=user)
                await Authenticator.create(user=user, kind=RECOVERY_CODE)
                await recovery_codes.replace_all(user, new_codes, services.settings.secret_key)
            elif (
                strategy.one_per_user
                and await Authenticator.filter(user=user, kind=pending.method).exists()
            ):
                raise DomainError(
                    "CONFLICT", "{method} is already on.", method=Term(strategy.default_name)
                )
            await Authenticator.create(
                user=user,
                kind=pending.method,
                name=name,
                secret=done.sealed_secret,
                last_timecode=done.last_timecode,
                preferred=first,
            )
            event = "twofactor.enabled" if first else "twofactor.factor_added"
            await record(event, user=user, client=client, method=pending.method)
            await emit("second_factor.added", user=user, factor={"kind": pending.method})
    except IntegrityError:  # a concurrent confirmation won
        raise DomainError("CONFLICT", "Two-factor authentication is already on.") from None
    if first:
        await _tell(
            services,
            user,
            N_("Two-factor authentication is on"),
            N_("Two-factor authentication ({method}) was turned on for your account."),
            method=Term(strategy.default_name),
        )
        return new_codes
    await _tell(
        services,
        user,
        N_("A second factor was added"),
        N_("A second factor ({name}) was added to your account."),
        name=Term(name),
    )
    return None


# -- changes once on ----------------------------------------------------------------


async def set_policy(
    services: Services,
    user: User,
    client: ClientInfo,
    *,
    policy: str,
    session: Session | None,
) -> TwoFactor:
    if policy not in POLICIES:
        raise DomainError("VALIDATION_FAILED", "Unknown policy.", "policy")
    two_factor = await _require_on(user)
    await reauthentication.require(services, user, session)
    async with in_transaction():
        await TwoFactor.filter(id=two_factor.id).update(policy=policy)
        await record("twofactor.policy_changed", user=user, client=client, policy=policy)
    two_factor.policy = policy
    text = {
        "every_sign_in": N_("Latchkey now asks for your second factor at every sign-in."),
        "unrecognized_device": N_(
            "Latchkey now asks for your second factor only when you sign in from a device "
            "it does not recognize."
        ),
    }[policy]
    await _tell(services, user, N_("Two-factor authentication settings changed"), text)
    return two_factor


async def remove(
    services: Services,
    user: User,
    client: ClientInfo,
    *,
    authenticator_id: int,
    session: Session | None,
) -> bool:
    """Remove one factor; removing the last one turns two-factor authentication off.

    Returns whether two-factor authentication is still on.
    """
    factor = await _own_factor(
        user, authenticator_id, N_("Recovery codes go away with the last other factor.")
    )
    proven = await reauthentication.require(services, user, session)
    async with in_transaction():
        # One removal at a time per user: two parallel ones cannot both think a factor stays.
        await limits.serialise_on_user(user.id)
        if not await Authenticator.filter(id=factor.id).delete():
            raise NotFound()
        left = _preferable(await Authenticator.filter(user=user).order_by("id"))
        still_on = bool(left)
        if still_on:
            if not any(other.preferred for other in left):
                await Authenticator.filter(id=left[0].id).update(preferred=True)
            await record(
                "twofactor.factor_removed",
                user=user,
                client=client,
                method=factor.kind,
                name=factor.name,
            )
        else:
            _refuse_recovery_code(proven)  # rolls the removal back
            await removal.remove_everything(user)
            await record("twofactor.disabled", user=user, client=client)
        await emit("second_factor.removed", user=user, factor={"kind": factor.kind})
    if still_on:
        await _tell(
            services,
            user,
            N_("A second factor was removed"),
            N_("A second factor ({name}) was removed from your account."),
            name=Term(factor.name),
        )
    else:
        await _tell_off(services, user)
    return still_on


async def set_preferred(
    services: Services,
    user: User,
    client: ClientInfo,
    *,
    authenticator_id: int,
    session: Session | None,
) -> None:
    """Make one factor the preferred one: sign-in opens on it. Recovery codes cannot be."""
    factor = await _own_factor(
        user, authenticator_id, N_("Recovery codes are for when the others are out of reach.")
    )
    await reauthentication.require(services, user, session)
    async with in_transaction():
        # Under the user's lock: parallel choices leave exactly one preferred factor.
        await limits.serialise_on_user(user.id)
        if not await Authenticator.filter(id=factor.id).update(preferred=True):
            raise NotFound()  # removed meanwhile
        await Authenticator.filter(user=user).exclude(id=factor.id).update(preferred=False)
        await record(
            "twofactor.preferred_changed",
            user=user,
            client=client,
            method=factor.kind,
            name=factor.name,
        )


async def disable(
    services: Services,
    user: User,
    client: ClientInfo,
    *,
    session: Session | None,
) -> None:
    await _require_on(user)
    # Never with a recovery code: turning 2FA on again would mint a fresh set.
    await reauthentication.require(services, user, session, allow_recovery_code=False)
    async with in_transaction():
        kinds = await Authenticator.filter(user=user).values_list("kind", flat=True)
        await removal.remove_everything(user)
        await record("twofactor.disabled", user=user, client=client)
        for kind in sorted({kind for kind in kinds if not is_backup(kind)}):
            await emit("second_factor.removed", user=user, factor={"kind": kind})
    await _tell_off(services, user)


async def regenerate_recovery_codes(
    services: Services,
    user: User,
    client: ClientInfo,
    *,
    session: Session | None,
) -> list[str]:
    """New codes, for a session re-authenticated with a factor other than recovery codes.

    Never for a recovery code: a stolen session, the password and one recovery code
    would otherwise mint a fresh set.
    """
    await _require_on(user)
    await reauthentication.require(services, user, session, allow_recovery_code=False)
    new_codes = recovery_codes.generate()
    async with in_transaction():
        await recovery_codes.replace_all(user, new_codes, services.settings.secret_key)
        await devices.forget_all(user)  # trust was granted under the old codes
        await record("recovery_codes.regenerated", user=user, client=client)
    await _tell(
        services,
        user,
        N_("New recovery codes"),
        N_(
            "New recovery codes were generated for your account; the old ones no longer work, "
            "and every recognized device was forgotten."
        ),
    )
    return new_codes


async def reset_by_operator(services: Services, user: User) -> bool:
    """`latchkey user reset-2fa`: for a user who lost every factor."""
    async with in_transaction():
        was_on = await TwoFactor.filter(user=user).exists()
        kinds = await Authenticator.filter(user=user).values_list("kind", flat=True)
        await removal.remove_everything(user)
        await record("twofactor.reset_by_operator", user=user, was_on=was_on)
        for kind in sorted({kind for kind in kinds if not is_backup(kind)}):
            await emit("second_factor.removed", user=user, factor={"kind": kind})
    await _tell(
        services,
        user,
        N_("Two-factor authentication was reset"),
        N_(
            "An administrator turned off two-factor authentication for your account. "
            "Sign in and set it up again."
        ),
    )
    return was_on


async def send_reauthentication_code(
    services: Services, user: User, client: ClientInfo, *, password: str, method: str | None
) -> str:
    """Email or text a code to re-authenticate with; returns the kind used.

    The password first, so that a stolen session cannot flood the user's inbox or phone.
    """
    await reauthentication.confirm_password(
        services, user, client, password=password, purpose="step_up.send"
    )
    kind = await sending_kind(services, user, method)
    await services.second_factors[kind].begin_challenge(user, reauthentication.CODE_PURPOSE)
    return kind


# -- helpers ------------------------------------------------------------------------


def _refuse_recovery_code(proven: str | None) -> None:
    """Turning 2FA off lets it be turned on again with new recovery codes: a recovery
    code must not lead there (the other factors' codes may)."""
    if proven == RECOVERY_CODE:
        raise DomainError(
            "INVALID_OTP",
            N_("Use a code from another second factor: a recovery code cannot turn it off."),
            "code",
        )


def _preferable(factors: list[Authenticator]) -> list[Authenticator]:
    """The factors that can be preferred, in the registry's order (the oldest first)."""
    chosen = [factor for factor in factors if not is_backup(factor.kind)]
    return sorted(chosen, key=lambda factor: (ORDER.index(factor.kind), factor.id))


async def _require_on(user: User) -> TwoFactor:
    two_factor = await TwoFactor.get_or_none(user=user)
    if two_factor is None:
        raise DomainError("VALIDATION_FAILED", "Two-factor authentication is off.")
    return two_factor


async def _tell_off(services: Services, user: User) -> None:
    await _tell(
        services,
        user,
        N_("Two-factor authentication is off"),
        N_(
            "Two-factor authentication was turned off for your account, and every "
            "recognized device was forgotten."
        ),
    )


async def _tell(services: Services, user: User, subject: str, text: str, **params: Any) -> None:
    await tell(services.mailer, user.email, subject, text, user=user, params=params)


async def _own_factor(user: User, authenticator_id: int, refusal_for_backup: str) -> Authenticator:
    """One of the user's factors, with 2FA on; recovery codes are refused with the reason."""
    await _require_on(user)
    factor = await Authenticator.get_or_none(id=authenticator_id, user=user)
    if factor is None:
        raise NotFound()
    if is_backup(factor.kind):
        raise DomainError("VALIDATION_FAILED", refusal_for_backup, "id")
    return factor
