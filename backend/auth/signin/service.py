"""Signing in: the password, then the second factor when the account's policy asks for it."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from tortoise.transactions import in_transaction

from backend.accounts import service as accounts
from backend.accounts.administrators import AccountDeletionScheduled, AccountDisabled
from backend.accounts.models import User
from backend.audit.service import Event, record
from backend.auth import challenges as twofactor
from backend.auth import lockout
from backend.auth.factors import devices
from backend.auth.factors.proof import Proof
from backend.auth.services import Services
from backend.auth.sessions import service as sessions
from backend.auth.sessions.models import Session
from backend.auth.signin import known_browsers
from backend.auth.throttle import service as throttle
from backend.auth.throttle.keys import account_key, address_key, known_browser_key
from backend.events.emit import emit
from backend.infra import hot_sql, metrics
from backend.kernel.client_info import ClientInfo
from backend.kernel.errors import DomainError, InvalidCredentials, RateLimited


@dataclasses.dataclass(frozen=True)
class SignedIn:
    user: User
    session: Session
    session_token: str
    known_browser: str  # the cookie that marks this browser as one that signed in before
    device_cookie: str | None = None  # set when the user asked to remember this device


@dataclasses.dataclass(frozen=True)
class SecondFactorRequired:
    """The password was right; nothing is granted until `verify_sign_in` succeeds."""

    challenge: str
    methods: list[str]  # the kinds of factor on the account, the preferred one first
    passkey_options: str | None = None  # request options JSON when the user has passkeys
    language: str | None = None  # the account's chosen language, for the second step's words
    can_remember_device: bool = False  # whether remembering this device skips the code later


# The account, its failed sign-ins in a row (NULL: none) and its two-factor policy (NULL:
# two-factor authentication is off): all sign-in needs to know before the password.
_ACCOUNT = """
SELECT u.*, l.failures AS lockout_failures, l.reason AS lockout_reason,
    t.policy AS two_factor_policy FROM users u
LEFT JOIN sign_in_lockouts l ON l.user_id = u.id
LEFT JOIN two_factor t ON t.user_id = u.id
WHERE u.username_key = $1
"""


_USERNAME_KEY_LENGTH = User._meta.fields_map["username_key"].max_length


@dataclasses.dataclass(frozen=True)
class _Account:
    user: User
    failures: int  # failed sign-ins in a row
    lock_reason: str | None
    two_factor_policy: str | None
    throttle_key: str  # the account's, or this browser's when it signed in here before
    known_browser: bool


async def sign_in(
    services: Services,
    username: str,
    password: str,
    client: ClientInfo,
    device_cookie: str = "",
    *,
    replacing: str = "",
    known_browser: str = "",
) -> SignedIn | SecondFactorRequired:
    """`replacing`: the session this browser had, which ends when a new one starts.
    `known_browser`: the cookie of a browser that signed in before (known_browsers.py)."""
    try:
        result = await _sign_in(
            services,
            username,
            password,
            client,
            device_cookie,
            replacing=replacing,
            known_browser=known_browser,
        )
    except Exception as error:
        metrics.sign_in(_outcome_of(error))
        raise
    metrics.sign_in(
        "second_factor_required" if isinstance(result, SecondFactorRequired) else "success"
    )
    return result


def _outcome_of(error: Exception) -> str:
    if isinstance(error, lockout.AccountLocked):
        return "locked"
    if isinstance(error, InvalidCredentials):  # a locked account a stranger tries, too
        return "failure"
    if isinstance(error, RateLimited):
        return "throttled"
    if isinstance(error, AccountDisabled | AccountDeletionScheduled):
        return "refused"
    return "error"


async def _sign_in(
    services: Services,
    username: str,
    password: str,
    client: ClientInfo,
    device_cookie: str,
    *,
    replacing: str,
    known_browser: str,
) -> SignedIn | SecondFactorRequired:
    nonce = known_browsers.vouched_nonce(known_browser, services.settings.secret_key, username)
    account = await _reserve_and_find(username, client, nonce)
    if account is None:
        await services.hasher.verify_nothing(password)
    elif account.failures >= lockout.MAX_FAILURES:  # whatever the password, until a reset
        await services.hasher.verify_nothing(password)
        await record("sign_in.refused_locked", user=account.user, client=client)
        if account.known_browser:  # a stranger is not told the account exists
            raise lockout.AccountLocked(account.lock_reason or lockout.FAILURES)
        raise InvalidCredentials()
    elif await services.hasher.verify(account.user.password_hash, password):
        user = account.user
        await _refuse_disabled(user, client)
        await _upgrade_hash(services, user, password)
        factors = await twofactor.after_password(
            services, user, device_cookie, account.two_factor_policy
        )
        # The counts a right password resets are written with what follows, in one commit.
        forget = _forget_failures(account, username, client)
        if factors is twofactor.SECOND_FACTOR:
            accepted = Event("sign_in.password_accepted", user, client)
            await hot_sql.run_together(User, [*forget, accepted.statement()])
            accepted.log()
            challenge, methods = await twofactor.start_challenge(services, user)
            options = await twofactor.passkey_options(services, challenge)
            remembers = twofactor.remembers_devices(account.two_factor_policy)
            return SecondFactorRequired(challenge, methods, options, user.language, remembers)
        return await _start_session(
            services, user, client, factor=factors, replacing=replacing, along=forget
        )
    user = account.user if account else None
    await record("sign_in.failed", user=user, client=client, reason="password")
    if user is not None:
        await lockout.count_failure(services, user, client)
    raise InvalidCredentials()


async def verify_sign_in(
    services: Services,
    challenge_token: str,
    proof: Proof | None,
    client: ClientInfo,
    *,
    remember_device: bool,
    method: str | None = None,
    replacing: str = "",
) -> SignedIn:
    """`proof`: a typed code, or a passkey's assertion (proof.py); None when none was given."""
    challenge = await twofactor.live_challenge(challenge_token)
    if challenge is None:
        metrics.second_factor_check(method, "expired")
        raise twofactor.challenge_expired()
    try:
        method = await twofactor.complete_challenge(
            services, challenge, proof, client, method=method
        )
    except RateLimited:
        metrics.second_factor_check(method, "throttled")
        raise
    except DomainError:
        metrics.second_factor_check(method, "failure")
        raise
    except Exception:
        metrics.second_factor_check(method, "error")
        raise
    metrics.second_factor_check(method, "success")
    signed_in = await _start_session(
        services, challenge.user, client, factor=method, replacing=replacing
    )
    return await remembering(services, signed_in, client, remember_device)


async def remembering(
    services: Services, signed_in: SignedIn, client: ClientInfo, remember_device: bool
) -> SignedIn:
    """The sign-in, with a recognized-device cookie when the user asked for one."""
    if not remember_device:
        return signed_in
    cookie = await devices.remember(
        signed_in.user, client, services.settings.secret_key, services.settings.trusted_device_days
    )
    return dataclasses.replace(signed_in, device_cookie=cookie)


async def resend_code(services: Services, challenge_token: str, method: str | None = None) -> str:
    """Send (again) the code of `method`, or of the first factor that sends codes."""
    challenge = await twofactor.live_challenge(challenge_token)
    if challenge is None:
        raise twofactor.challenge_expired()
    return await twofactor.resend_challenge_code(services, challenge, method)


async def sign_out(
    session_token: str, user: User, client: ClientInfo, *, everywhere: bool = False
) -> None:
    async with in_transaction():
        if everywhere:
            count = await sessions.end_all(user)
        else:
            await sessions.end(session_token)
            count = 1
        await record("sign_out", user=user, client=client, everywhere=everywhere)
        await emit("session.ended", user=user, reason="signed_out", count=count)


async def _start_session(
    services: Services,
    user: User,
    client: ClientInfo,
    *,
    factor: str,
    replacing: str = "",
    along: Sequence[hot_sql.Statement] = (),
) -> SignedIn:
    """`along`: other writes of this sign-in, committed with the session in one trip."""
    await _refuse_disabled(user, client)  # disabled between the steps, or a passkey's
    # A recognized device is not a second factor: such a session counts as password-only.
    password_only = factor in (twofactor.PASSWORD_ONLY, twofactor.RECOGNIZED_DEVICE)
    second_factor = None if password_only else factor
    succeeded = Event("sign_in.succeeded", user, client, {"factor": factor})
    if replacing:  # a fresh id at every sign-in; the session it replaces ends as a sign-out does
        await sessions.end(replacing)
    writes = [*along, succeeded.statement()]
    session, token = await sessions.start(user, client, second_factor=second_factor, along=writes)
    succeeded.log()
    known = known_browsers.mint(services.settings.secret_key, user.username)
    return SignedIn(user, session, token, known)


async def _refuse_disabled(user: User, client: ClientInfo) -> None:
    """ACCOUNT_DISABLED, or ACCOUNT_DELETION_SCHEDULED with the date, once the password or
    passkey was right (never before)."""
    if user.disabled_at is not None:
        await record("sign_in.refused_disabled", user=user, client=client)
        raise AccountDisabled()
    if user.deletion_due_at is not None:
        await record("sign_in.refused_deletion_scheduled", user=user, client=client)
        raise AccountDeletionScheduled(user.deletion_due_at, user.time_zone)


async def _reserve_and_find(
    username: str, client: ClientInfo, known_browser_nonce: str | None
) -> _Account | None:
    """Reserve the attempt before the password is checked, so a burst cannot outrun the
    count; the account is read in the same trip. A name too long for any account is nobody's.

    A browser that signed in to this account before is counted on its own key: strangers'
    guesses lock the account's key, never it.
    """
    if known_browser_nonce is None:
        throttle_key = account_key(username)
    else:
        throttle_key = known_browser_key(known_browser_nonce)
    reservation = throttle.Reservation(
        [(address_key(client), throttle.PER_ADDRESS), (throttle_key, throttle.PER_ACCOUNT)]
    )
    key = accounts.username_key(username)
    finding = [(_ACCOUNT, [key])] if len(key) <= _USERNAME_KEY_LENGTH else []
    # A refused reservation stops the statements after it: the account is read only once
    # every key has reserved its attempt.
    batch = hot_sql.Batch().add(*reservation.statements, name="reservation")
    results = await batch.add(*finding, name="account").run(User, atomic=False, while_rows=True)
    await reservation.settle(results.each("reservation"))
    rows = results.rows("account")
    if not rows:
        return None
    row = rows[0]
    failures, policy = row.pop("lockout_failures"), row.pop("two_factor_policy")
    reason = row.pop("lockout_reason")
    user = hot_sql.as_model(User, row)
    known = known_browser_nonce is not None
    return _Account(user, failures or 0, reason, policy, throttle_key, known)


def _forget_failures(
    account: _Account, username: str, client: ClientInfo
) -> list[hot_sql.Statement]:
    """A right password: the account's throttle and failure count start afresh, and the
    address gets back the attempt it reserved (failures use it up)."""
    statements = [
        throttle.clear_statement(account_key(username)),
        throttle.refund_statement(address_key(client), throttle.PER_ADDRESS),
    ]
    if account.known_browser:
        statements.append(throttle.clear_statement(account.throttle_key))
    if account.failures:
        statements.append(lockout.reset_statement(account.user.id))
    return statements


async def _upgrade_hash(services: Services, user: User, password: str) -> None:
    if services.hasher.needs_rehash(user.password_hash):
        new_hash = await services.hasher.hash(password)
        await User.filter(id=user.id, password_hash=user.password_hash).update(
            password_hash=new_hash
        )
        user.password_hash = new_hash
