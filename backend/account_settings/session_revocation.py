"""Signing out other sessions: a security change, so it needs proof like the others.

A thief with a stolen cookie must not be able to sign the owner out everywhere. The
password or a recent re-authentication is enough: no second factor is asked for.
"""

from __future__ import annotations

from backend import stepup
from backend.accounts.models import User
from backend.client import ClientInfo
from backend.services import Services
from backend.sessions import service as sessions
from backend.sessions.models import Session


async def revoke(
    services: Services,
    user: User,
    current: Session | None,
    client: ClientInfo,
    *,
    session_id: int,
    password: str | None,
    otp: str | None,
) -> None:
    await stepup.confirm(
        services,
        user,
        current,
        client,
        password=password,
        otp=otp,
        purpose="session.revoke",
        second_factor=False,
    )
    await sessions.revoke(user, session_id, client)


async def sign_out_others(
    services: Services,
    user: User,
    current: Session | None,
    client: ClientInfo,
    *,
    password: str | None,
    otp: str | None,
) -> int:
    await stepup.confirm(
        services,
        user,
        current,
        client,
        password=password,
        otp=otp,
        purpose="sessions.sign_out_others",
        second_factor=False,
    )
    return await sessions.sign_out_others(user, current.id if current else 0, client)
