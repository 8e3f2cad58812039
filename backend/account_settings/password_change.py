"""Changing the password: other sessions end, remembered devices are forgotten."""

from __future__ import annotations

from tortoise.transactions import in_transaction

from backend.accounts.models import User
from backend.accounts.password_policy import check_new_password
from backend.audit.service import record
from backend.auth import lockout, reauthentication
from backend.auth.factors import devices
from backend.auth.services import Services
from backend.auth.sessions import service as sessions
from backend.auth.sessions.models import Session
from backend.events.emit import emit
from backend.kernel import clock
from backend.kernel.client_info import ClientInfo
from backend.kernel.errors import DomainError, WrongPassword
from backend.kernel.i18n import N_
from backend.notifications.notices import tell


async def change(
    services: Services,
    user: User,
    current_session: Session | None,
    client: ClientInfo,
    *,
    new: str,
    confirmation: str,
) -> str | None:
    """Change the password; returns the current session's new cookie value, if any.

    Every other session ends; the current one stays, under a new id, so that a copy of
    the old cookie is worth nothing. A recent re-authentication of this session's
    password proves the user is present; no second factor is asked for.
    """
    await reauthentication.require(
        services, user, current_session, second_factor=False, field="current_password"
    )
    if await services.hasher.verify(user.password_hash, new):
        raise DomainError(
            "PASSWORD_UNCHANGED", "Choose a password you do not use now.", "new_password"
        )
    check_new_password(
        user, "", new, confirmation, min_length=services.settings.password_min_length
    )
    new_hash = await services.hasher.hash(new)
    async with in_transaction():
        # Compare-and-set: of two changes made with the same current password, one wins.
        changed = await User.filter(id=user.id, password_hash=user.password_hash).update(
            password_hash=new_hash, password_changed_at=clock.now()
        )
        if not changed:
            raise WrongPassword(field="current_password")
        if current_session is None:  # a bearer token: no session of this request to keep
            await sessions.end_all(user)
            renewed = None
        else:
            await sessions.end_others(user, current_session.id)
            renewed = await sessions.renew(current_session)
        await devices.forget_all(user)
        # Its owner knows the password: the lock after 100 failures ends (not a freeze).
        await lockout.unlock_after_change(user)
        await record("password.changed", user=user, client=client)
        await emit("password.changed", user=user)
    user.password_hash = new_hash
    await tell(
        services.mailer,
        user.email,
        N_("Your password changed"),
        N_(
            "The password of your Latchkey account was changed. Every other session was signed out."
        ),
        user=user,
    )
    return renewed
