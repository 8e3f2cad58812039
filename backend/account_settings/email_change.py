"""Changing the email address: it applies only after the code sent to the new address.

Whether another account uses the new address is never said to the one who asks: a taken
address is accepted like a free one (the same answer, the same pending address, the same
entry in the security log), but no code goes to it; its owner is told instead. Only the
holder of a code, who reads that mailbox, can hear CONFLICT (when the address was taken
after the code was sent).
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from backend.accounts.models import EmailChange, User
from backend.accounts.service import email_key
from backend.audit.service import record
from backend.auth.services import Services
from backend.auth.throttle import service as throttle
from backend.auth.throttle.keys import email_change_key
from backend.events.emit import emit
from backend.kernel import clock, i18n
from backend.kernel.client_info import ClientInfo
from backend.kernel.crypto import keyed_digest, same
from backend.kernel.errors import DomainError, RateLimited
from backend.kernel.i18n import N_
from backend.notifications.email import Email
from backend.notifications.notices import send, tell, worded

LIFETIME = timedelta(hours=1)
MAX_FAILED_ATTEMPTS = 5


async def reserve_request(user: User) -> None:
    """Count a request before anything is sent; RATE_LIMITED once the budget is spent.

    Counted alike whether the address is free or taken, so the limit says nothing either.
    """
    try:
        await throttle.reserve(email_change_key(user), throttle.EMAIL_CHANGES)
    except RateLimited as limited:
        raise RateLimited(
            limited.retry_after_seconds,
            N_("Too many email address changes. Try again in {wait}."),
        ) from None


async def start(user: User, new_email: str, services: Services, client: ClientInfo) -> str:
    """Record the pending address; returns the code to send (call inside the transaction)."""
    code = f"{secrets.randbelow(10**6):06d}"
    # Parallel requests replace the pending address in turn, not both at once (the second
    # insert would break the one-per-account rule): the account's row is locked until the
    # commit on PostgreSQL; SQLite runs one write transaction at a time anyway.
    await User.select_for_update().filter(id=user.id).only("id").first()
    await EmailChange.filter(user=user).delete()
    await EmailChange.create(
        user=user,
        new_email=new_email,
        expires_at=clock.now() + LIFETIME,
        code_hash=_hash(services, code),
    )
    await record("email.change_requested", user=user, client=client)
    return code


async def send_code(services: Services, user: User, new_email: str, code: str) -> None:
    """Send the code to the new address, unless another account uses it: tell that one."""
    holder = await User.filter(email_key=email_key(new_email)).exclude(id=user.id).first()
    if holder is not None:
        await _tell_holder(services, holder, new_email)
        return
    subject, body = worded(
        i18n.language_of(user),
        N_("Confirm your new email address"),
        N_(
            "Your Latchkey code is {code}. Enter it on your account page to use this "
            "address for {username}. It expires in one hour."
        ),
        {"code": code, "username": user.username},
    )
    await services.mailer.send(Email(to=new_email, subject=subject, body=body))


async def _tell_holder(services: Services, holder: User, address: str) -> None:
    # No "This wasn't me" link: nothing about the holder's account changed.
    subject, body = worded(
        i18n.language_of(holder),
        N_("Your email address was given for another account"),
        N_(
            "Someone asked to use this address for another Latchkey account. It is the "
            "address of your account {username}, so nothing changed and no code was sent. "
            "If it was you, choose another address for the other account."
        ),
        {"username": holder.username},
    )
    await send(services.mailer, address, subject, body)


async def pending_for(user_id: int) -> EmailChange | None:
    return await EmailChange.get_or_none(user_id=user_id, expires_at__gt=clock.now())


async def verify(services: Services, user: User, client: ClientInfo, code: str) -> str:
    """Apply the pending address when the code matches; returns the new address."""
    # Each try is counted before the comparison, in one conditional update, so parallel
    # tries never compare more than MAX_FAILED_ATTEMPTS codes.
    reserved = await EmailChange.filter(
        user=user, expires_at__gt=clock.now(), failed_attempts__lt=MAX_FAILED_ATTEMPTS
    ).update(failed_attempts=F("failed_attempts") + 1)
    change = await EmailChange.get_or_none(user=user) if reserved else None
    if change is None or not same(change.code_hash, _hash(services, code.strip())):
        reason = "wrong" if change else "no pending change, expired or too many attempts"
        await record("email.change_failed", user=user, client=client, reason=reason)
        raise DomainError("INVALID_OTP", "That code is not valid. Check it or ask again.", "code")
    old_email = user.email
    try:
        async with in_transaction():
            await User.filter(id=user.id).update(
                email=change.new_email, email_key=email_key(change.new_email)
            )
            await EmailChange.filter(id=change.id).delete()
            await record("email.changed", user=user, client=client)
            await emit("user.updated", user=user, fields=["email"])
    except IntegrityError:  # another account took the address meanwhile
        raise DomainError("CONFLICT", "Another account uses this email address.", "email") from None
    user.email, user.email_key = change.new_email, email_key(change.new_email)
    await tell(
        services.mailer,
        old_email,
        N_("Your email address changed"),
        N_(
            "The email address of your Latchkey account {username} is now "
            "{email}. Mail will no longer come to this address."
        ),
        user=user,
        params={"username": user.username, "email": change.new_email},
    )
    return change.new_email


async def resend(services: Services, user: User, client: ClientInfo) -> None:
    """A new code for the pending address (the old one stops working), counted like a new
    request; NOT_FOUND when nothing waits. As with the first code, a taken address gets none
    and its owner is told."""
    await reserve_request(user)
    code = f"{secrets.randbelow(10**6):06d}"
    change = await pending_for(user.id)
    updated = 0
    if change is not None:
        updated = await EmailChange.filter(id=change.id, expires_at__gt=clock.now()).update(
            code_hash=_hash(services, code),
            failed_attempts=0,
            expires_at=clock.now() + LIFETIME,
        )
    if not updated:
        raise DomainError("NOT_FOUND", "No new email address waits for a code.", "code")
    await record("email.change_code_resent", user=user, client=client)
    await send_code(services, user, change.new_email, code)


async def cancel(user: User, client: ClientInfo) -> None:
    """Forget the pending address: its code stops working, the current address stays."""
    if await EmailChange.filter(user=user).delete():
        await record("email.change_cancelled", user=user, client=client)


def _hash(services: Services, code: str) -> str:
    return keyed_digest(services.settings.secret_key, "email-change", code)
