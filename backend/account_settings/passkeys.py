"""Passkeys in the account settings: adding (a sensitive change), renaming, deleting.

A passkey is a second factor like the others: the first one turns two-factor
authentication on and brings recovery codes, and deleting the last factor turns it off
(second_factors.remove). The WebAuthn part is in auth/factors/passkey/.
"""

from __future__ import annotations

import dataclasses

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from backend.account_settings import second_factors
from backend.accounts import limits
from backend.accounts.models import User
from backend.audit.service import record
from backend.auth import reauthentication
from backend.auth.factors.models import Authenticator, PasskeyCredential, TwoFactor
from backend.auth.factors.passkey import ceremonies, challenges
from backend.auth.factors.passkey.ceremonies import Refused
from backend.auth.factors.passkey.strategy import PASSKEY, Passkeys, known_credentials
from backend.auth.factors.recovery_codes import codes as recovery_codes
from backend.auth.factors.registry import RECOVERY_CODE
from backend.auth.services import Services
from backend.auth.sessions.models import Session
from backend.events.emit import emit
from backend.kernel.client_info import ClientInfo
from backend.kernel.errors import DomainError, NotFound
from backend.kernel.i18n import N_, Term
from backend.kernel.text import clean_name

MAX_PASSKEYS = 10


@dataclasses.dataclass(frozen=True)
class Added:
    passkey: Authenticator
    recovery_codes: list[str] | None  # new ones when this passkey turned 2FA on


async def list_for(user_id: int) -> list[Authenticator]:
    return await Authenticator.filter(user_id=user_id, kind=PASSKEY).order_by("id")


async def start_registration(
    services: Services,
    user: User,
    client: ClientInfo,
    *,
    session: Session | None,
) -> str:
    """Creation options for the browser, for a re-authenticated session; the challenge is
    bound to this session."""
    # Never a recovery code: it must not turn into a new factor (see second_factors.start_setup).
    await reauthentication.require(services, user, session, allow_recovery_code=False)
    assert session is not None  # require refuses a bearer token
    if await Authenticator.filter(user=user, kind=PASSKEY).count() >= MAX_PASSKEYS:
        raise too_many()
    strategy = _strategy(services)
    options = ceremonies.registration_options(
        strategy.rp,
        user_handle=strategy.user_handle(user.id),
        username=user.username,
        display_name=f"{user.first_name} {user.last_name}".strip(),
        exclude=await known_credentials(user.id),
    )
    await challenges.remember(options.challenge, binding=_binding(session), user_id=user.id)
    return options.json


async def finish_registration(
    services: Services,
    user: User,
    client: ClientInfo,
    *,
    session: Session | None,
    name: str | None,
    credential: str,
) -> Added:
    if session is None:
        raise reauthentication.token_refused()
    name = _valid_name(name)
    strategy = _strategy(services)
    try:
        await challenges.use_up(ceremonies.client_challenge(credential), binding=_binding(session))
        registered = ceremonies.verify_registration(
            strategy.rp, credential, ceremonies.client_challenge(credential)
        )
    except Refused as refused:
        await record("passkey.add_failed", user=user, client=client, reason=refused.reason)
        raise DomainError(
            "VALIDATION_FAILED",
            "That passkey could not be added. Start again.",
            "credential",
        ) from None
    new_codes = recovery_codes.generate()
    try:
        async with in_transaction():
            await limits.serialise_on_user(user.id)
            # Counted under the user's lock: parallel finishes cannot pass the limit.
            if await Authenticator.filter(user=user, kind=PASSKEY).count() >= MAX_PASSKEYS:
                raise too_many()
            first = not await TwoFactor.filter(user=user).exists()
            if first:
                await TwoFactor.create(user=user)
                await Authenticator.create(user=user, kind=RECOVERY_CODE)
                await recovery_codes.replace_all(user, new_codes, services.settings.secret_key)
            # The first factor is the preferred one, as in second_factors.confirm_setup.
            factor = await Authenticator.create(user=user, kind=PASSKEY, name=name, preferred=first)
            await PasskeyCredential.create(
                authenticator=factor,
                user=user,
                credential_id=registered.credential_id,
                public_key=registered.public_key,
                sign_count=registered.sign_count,
                transports=",".join(registered.transports),
            )
            await record("passkey.added", user=user, client=client, name=name)
            await emit("second_factor.added", user=user, factor={"kind": PASSKEY})
            if first:
                await record("twofactor.enabled", user=user, client=client, method=PASSKEY)
    except IntegrityError:  # that authenticator's credential is on an account already
        raise DomainError("CONFLICT", "This passkey is already registered.", "credential") from None
    await second_factors._tell(
        services,
        user,
        N_("A passkey was added"),
        N_("A passkey ({name}) was added to your account, and two-factor authentication is now on.")
        if first
        else N_("A passkey ({name}) was added to your account."),
        name=Term(name),
    )
    return Added(factor, new_codes if first else None)


async def rename(user: User, client: ClientInfo, *, passkey_id: int, name: str) -> Authenticator:
    name = _valid_name(name)
    factor = await Authenticator.get_or_none(id=passkey_id, user=user, kind=PASSKEY)
    if factor is None:
        raise NotFound()
    async with in_transaction():
        await Authenticator.filter(id=factor.id).update(name=name)
        await record("passkey.renamed", user=user, client=client, name=name)
    factor.name = name
    return factor


async def delete(
    services: Services,
    user: User,
    client: ClientInfo,
    *,
    passkey_id: int,
    session: Session | None,
) -> bool:
    """Delete one passkey (it stops working at once); returns whether 2FA is still on."""
    if not await Authenticator.filter(id=passkey_id, user=user, kind=PASSKEY).exists():
        raise NotFound()
    return await second_factors.remove(
        services,
        user,
        client,
        authenticator_id=passkey_id,
        session=session,
    )


def too_many() -> DomainError:
    return DomainError(
        "TOO_MANY_AUTHENTICATORS",
        "At most {count} passkeys. Delete one first.",
        count=MAX_PASSKEYS,
    )


def _valid_name(name: str | None) -> str:
    name = clean_name(name or "", "name") or Passkeys.default_name
    if len(name) > second_factors.NAME_LENGTH:
        raise DomainError(
            "VALIDATION_FAILED",
            "At most {count} characters.",
            "name",
            count=second_factors.NAME_LENGTH,
        )
    return name


def _binding(session: Session) -> str:
    return f"register:{session.id}"


def _strategy(services: Services) -> Passkeys:
    strategy = services.second_factors[PASSKEY]
    assert isinstance(strategy, Passkeys)
    return strategy
