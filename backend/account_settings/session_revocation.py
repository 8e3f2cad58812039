"""Signing out other sessions: a security change, so it needs proof like the others.

A thief with a stolen cookie must not be able to sign the owner out everywhere. A recent
re-authentication of the password is enough: no second factor is asked for.
"""

from __future__ import annotations

from backend.accounts.models import User
from backend.auth import reauthentication
from backend.auth.services import Services
from backend.auth.sessions import service as sessions
from backend.auth.sessions.models import Session
from backend.kernel.client_info import ClientInfo


async def revoke(
    services: Services,
    user: User,
    current: Session | None,
    client: ClientInfo,
    *,
    session_id: int,
) -> None:
    await reauthentication.require(services, user, current, second_factor=False)
    await sessions.revoke(user, session_id, client)


async def sign_out_others(
    services: Services,
    user: User,
    current: Session | None,
    client: ClientInfo,
) -> int:
    await reauthentication.require(services, user, current, second_factor=False)
    return await sessions.sign_out_others(user, current.id if current else 0, client)
