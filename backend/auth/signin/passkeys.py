"""Signing in with a passkey alone: no username, no password.

The passkey must verify its user (PIN, fingerprint): then it is both factors, and the
session starts as after a password and a second factor. The session, the
re-authentication stamp and the security log go the way of every other sign-in.

A passkey cannot be guessed, so only the address is throttled here: strangers' wrong
passwords, which lock the account's password sign-in, never lock its passkeys, and
neither does the lock after 100 failures or "This wasn't me" (the passkeys left after it
are the owner's).
"""

from __future__ import annotations

from backend.audit.service import record
from backend.auth.factors.models import Authenticator, PasskeyChallenge, PasskeyCredential
from backend.auth.factors.passkey import ceremonies, challenges
from backend.auth.factors.passkey.ceremonies import Refused
from backend.auth.factors.passkey.strategy import PASSKEY, Passkeys, assert_with
from backend.auth.services import Services
from backend.auth.signin.service import SignedIn, _start_session, remembering
from backend.auth.throttle import service as throttle
from backend.auth.throttle.keys import account_key, address_key, passkey_start_key
from backend.infra import hot_sql
from backend.kernel import clock
from backend.kernel.client_info import ClientInfo
from backend.kernel.crypto import digest, random_token, same
from backend.kernel.errors import DomainError, RateLimited
from backend.kernel.i18n import N_


async def start(services: Services, client: ClientInfo) -> tuple[str, str]:
    """A challenge token for finish() and request options for any passkey of this site.

    Anyone may ask, and each start stores a challenge: one address gets PASSKEY_STARTS,
    reserved in the same trip that stores it, so parallel requests cannot pass the budget.
    """
    token = random_token()
    options = ceremonies.request_options(_strategy(services).rp, allow=None, user_verification=True)
    reservation = throttle.Reservation([(passkey_start_key(client), throttle.PASSKEY_STARTS)])
    stored = challenges.anonymous_statements(options.challenge, binding=_binding(token))
    batch = hot_sql.Batch().add(*reservation.statements, name="reservation").add(*stored)
    results = await batch.run(PasskeyChallenge, atomic=False, while_rows=True)
    try:
        await reservation.settle(results.each("reservation"))
    except RateLimited as limited:
        raise RateLimited(
            limited.retry_after_seconds,
            N_("Too many passkey sign-ins were started. Try again in {wait}."),
        ) from None
    return token, options.json


async def finish(
    services: Services,
    token: str,
    credential: str,
    client: ClientInfo,
    *,
    remember_device: bool,
    replacing: str = "",
) -> SignedIn:
    await throttle.reserve(address_key(client), throttle.PER_ADDRESS)
    strategy = _strategy(services)
    stored = None
    try:
        binding = _binding(token)
        stored = await PasskeyCredential.get_or_none(
            credential_id=ceremonies.credential_id(credential)
        ).select_related("user")
        if stored is None:
            # The challenge goes all the same: one try per challenge, whatever it brought.
            await challenges.use_up(ceremonies.client_challenge(credential), binding=binding)
            raise Refused("unknown_credential")
        handle = ceremonies.user_handle(credential)
        expected = strategy.user_handle(stored.user_id).hex()
        if handle is not None and not same(handle.hex(), expected):
            await challenges.use_up(ceremonies.client_challenge(credential), binding=binding)
            raise Refused("wrong_user_handle")
        await assert_with(strategy.rp, stored, credential, binding=binding, user_verification=True)
    except Refused as refused:
        user = stored.user if stored is not None else None
        await record("sign_in.passkey_refused", user=user, client=client, reason=refused.reason)
        raise DomainError(
            "INVALID_CREDENTIALS",
            "That passkey was not accepted. Try again, or sign in with your password.",
            "credential",
        ) from None
    user = stored.user
    # The owner is here: a lock strangers' password guesses caused on the account ends.
    await throttle.clear(account_key(user.username))
    await throttle.refund(address_key(client), throttle.PER_ADDRESS)
    await Authenticator.filter(id=stored.authenticator_id).update(last_used_at=clock.now())
    signed_in = await _start_session(services, user, client, factor=PASSKEY, replacing=replacing)
    return await remembering(services, signed_in, client, remember_device)


def _binding(token: str) -> str:
    return f"passwordless:{digest(token)}"


def _strategy(services: Services) -> Passkeys:
    strategy = services.second_factors[PASSKEY]
    assert isinstance(strategy, Passkeys)
    return strategy
