"""Forgot password: a single-use link by email, then a new password without the old one.

Asking answers the same, in the same time, for every login: the request only reserves
its attempt on the throttle (the same two statements whoever asks) and hands the rest to
a task of its own. Looking the account up, minting the link and mailing it happen there,
so neither the database nor the mail server can tell through the answer's timing whether
the account exists.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from datetime import datetime, timedelta
from typing import Any

from tortoise.transactions import in_transaction

from backend.accounts import service as accounts
from backend.accounts.models import User
from backend.accounts.password_policy import check_new_password
from backend.audit.service import record
from backend.auth import lockout
from backend.auth import reset_links as links
from backend.auth.factors import devices
from backend.auth.reset_links import InvalidResetToken
from backend.auth.services import Services
from backend.auth.sessions import service as sessions
from backend.auth.throttle import service as throttle
from backend.auth.throttle.keys import (
    account_key,
    reset_account_key,
    reset_address_key,
    reset_login_key,
)
from backend.events.emit import emit
from backend.kernel import clock, i18n
from backend.kernel.client_info import ClientInfo
from backend.kernel.errors import RateLimited
from backend.kernel.i18n import N_
from backend.kernel.text import can_name
from backend.notifications import notices

log = logging.getLogger("latchkey.recovery")

_HOUR = timedelta(hours=1)
# Asking is cheap for a stranger and fills someone's inbox: a few an hour per login and
# per account, more per address (several people may share one).
PER_LOGIN = throttle.Policy(5, first_delay=_HOUR, longest_delay=_HOUR, forget_after=_HOUR)
PER_ADDRESS = throttle.Policy(20, first_delay=_HOUR, longest_delay=_HOUR, forget_after=_HOUR)
PER_ACCOUNT = throttle.Policy(5, first_delay=_HOUR, longest_delay=_HOUR, forget_after=_HOUR)

_in_flight: set[asyncio.Task[None]] = set()


async def request(services: Services, login: str, client: ClientInfo) -> None:
    """Mail a reset link when `login` (username or email) names an account; same answer if not."""
    await throttle.reserve_all(
        [(reset_address_key(client), PER_ADDRESS), (reset_login_key(login), PER_LOGIN)]
    )
    _spawn(_mail_link_to(services, login, client))


async def settle() -> None:
    """Wait for the links being mailed (at shutdown, and in tests)."""
    while _in_flight:
        await asyncio.gather(*list(_in_flight), return_exceptions=True)


async def send_link(services: Services, user: User, client: ClientInfo, *, by: str) -> None:
    """Mint a link and mail it to the account's address; `by` says who asked, for the log."""
    link = await links.mint(services, user)
    await record("password.reset_requested", user=user, client=client, by=by)
    subject, body = notices.worded(
        i18n.language_of(user),
        N_("Reset your Latchkey password"),
        N_(
            "Someone, hopefully you, asked to reset the password of your Latchkey account "
            "{username}.\n\nTo choose a new password, open this link within "
            "{valid_for}; it works once:\n{link}\n\n"
            "If you did not ask, ignore this email: your password stays as it is."
        ),
        {"username": user.username, "valid_for": links.valid_for(services), "link": link},
    )
    await notices.send(services.mailer, user.email, subject, body)


async def link_expiry(token: str) -> datetime | None:
    """When an unused reset link stops working; None when it is unknown, used or expired.
    The link's page asks first, so a used link says so before a password is typed."""
    pending = await links.live(token)
    return pending.expires_at if pending else None


async def reset(
    services: Services, token: str, new: str, confirmation: str, client: ClientInfo
) -> User:
    """Set a new password with a reset link; returns whose it was.

    Every session ends, recognized devices are forgotten and the account's other links die,
    in one transaction with the new hash. Two-factor authentication stays as it was.
    """
    pending = await links.live(token)
    if pending is None:
        raise InvalidResetToken()
    user = pending.user
    check_new_password(
        user, "", new, confirmation, min_length=services.settings.password_min_length
    )
    new_hash = await services.hasher.hash(new)
    async with in_transaction():
        if not await links.consume(pending):
            raise InvalidResetToken()
        await User.filter(id=user.id).update(
            password_hash=new_hash, password_changed_at=clock.now()
        )
        await links.end_all(user)
        ended = await sessions.end_all(user)
        await devices.forget_all(user)
        await lockout.unlock(user)
        await record("password.reset", user=user, client=client, session_count=ended)
        await emit("password.reset", user=user)
    user.password_hash = new_hash
    # The sign-in throttle's wait is for guessers; the owner may sign in at once.
    await throttle.clear(account_key(user.username))
    await notices.tell(
        services.mailer,
        user.email,
        N_("Your password was reset"),
        N_(
            "The password of your Latchkey account {username} was reset with a link sent "
            "to this address. Every session was signed out and recognized devices were "
            "forgotten; two-factor authentication stays as it was."
        ),
        user=user,
        params={"username": user.username},
    )
    return user


async def _mail_link_to(services: Services, login: str, client: ClientInfo) -> None:
    user = await _find(login)
    if user is None:
        return
    if await lockout.is_disputed(user):
        return  # neither address recovers a disputed account alone: an operator does
    try:
        await throttle.reserve(reset_account_key(user), PER_ACCOUNT)
    except RateLimited:
        return  # enough links are on their way; the answer was the same anyway
    await send_link(services, user, client, by="user")


async def _find(login: str) -> User | None:
    """The account with this username or email address; too long for either is nobody's."""
    login = login.strip()
    if "@" not in login:
        return await accounts.find_by_username(login) if login else None
    key = accounts.email_key(login)
    return await User.get_or_none(email_key=key) if can_name(User, "email_key", key) else None


def _spawn(work: Coroutine[Any, Any, None]) -> None:
    task = asyncio.get_running_loop().create_task(_logged(work))
    _in_flight.add(task)
    task.add_done_callback(_in_flight.discard)


async def _logged(work: Coroutine[Any, Any, None]) -> None:
    try:
        await work
    except Exception:
        log.exception("could not mail a password reset link")
