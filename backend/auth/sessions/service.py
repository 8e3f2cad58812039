"""Server-side sessions: a random cookie value, stored only as its SHA-256 digest."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime, timedelta

from tortoise.transactions import in_transaction

from backend.accounts import limits
from backend.accounts.models import User
from backend.audit.service import record
from backend.auth.sessions import ending
from backend.auth.sessions.models import Session
from backend.events.emit import emit
from backend.infra import hot_sql
from backend.kernel import clock
from backend.kernel.client_info import Browser, ClientInfo
from backend.kernel.crypto import digest, random_token
from backend.kernel.errors import NotFound

# Writing last_seen_at on every request would turn each read into a write.
LAST_SEEN_RESOLUTION = timedelta(minutes=1)


@dataclasses.dataclass(frozen=True)
class Timeouts:
    idle: timedelta
    absolute: timedelta


# The new session's row, every column as `Session` reads it.
_INSERT = """
INSERT INTO sessions (user_id, token_hash, created_at, last_seen_at, ip_address, user_agent,
    browser_name, system_name, reauthenticated_at, reauthenticated_factor,
    reauthenticated_factor_at)
VALUES ($1, $2, $3, $3, $4, $5, $6, $7, $3, $8, $9)
RETURNING *
"""


async def start(
    user: User,
    client: ClientInfo,
    *,
    second_factor: str | None = None,
    along: Sequence[hot_sql.Statement] = (),
) -> tuple[Session, str]:
    """A new session with a fresh id; returns it and the cookie value (shown only here).

    Signing in is an authentication: the session starts re-authenticated, with the kind
    of second factor proven (None for the password alone).
    The user's oldest sessions beyond the limit end, so sign-ins cannot pile up rows.
    `along`: writes committed with the new session, all in one trip to the database.
    """
    token = random_token()
    now = clock.now()
    insert = (
        _INSERT,
        [
            user.id,
            digest(token),
            now,
            client.ip_address,
            client.user_agent,
            client.browser.name,
            client.browser.system,
            second_factor,
            now if second_factor else None,
        ],
    )
    batch = (
        hot_sql.Batch()
        .add(limits.serialise_statement(user.id), *along)
        .add(insert, name="session")
        .add(limits.keep_newest_statement(Session, user.id, limits.MAX_SESSIONS_PER_USER))
    )
    results = await batch.run(Session)
    session = hot_sql.as_model(Session, results.rows("session")[0])
    session.user = user
    return session, token


async def resume(token: str, timeouts: Timeouts) -> Session | None:
    """The live session for a cookie value, with its user loaded; None when ended or expired."""
    if not token:
        return None
    session = await Session.get_or_none(token_hash=digest(token)).select_related("user")
    if session is None or session.user.disabled_at is not None:
        # Disabling ends the account's sessions; one a sign-in started as it committed
        # would otherwise outlive it: the user's row, read with every session, says no.
        return None
    now = clock.now()
    if now - session.last_seen_at > timeouts.idle or now - session.created_at > timeouts.absolute:
        await session.delete()
        return None
    if now - session.last_seen_at >= LAST_SEEN_RESOLUTION:
        await Session.filter(id=session.id).update(last_seen_at=now)
        session.last_seen_at = now
    return session


async def renew(session: Session) -> str | None:
    """A new cookie value for the same session after a privilege change; the old one dies.

    None when a parallel request of the same session renewed it first: its cookie is the
    one that works, and this answer must not overwrite it with one that does not.
    """
    token = random_token()
    renewed = await Session.filter(id=session.id, token_hash=session.token_hash).update(
        token_hash=digest(token)
    )
    if not renewed:
        return None
    session.token_hash = digest(token)
    return token


async def stamp_reauthenticated(
    session: Session,
    *,
    password: bool,
    second_factor: str | None,
    keep_factor: bool = False,
) -> None:
    """Record the proofs just given in this session, in one statement.

    `password`: the password was proven now. `second_factor`: the kind proven now, if any;
    with `keep_factor` the earlier factor's kind and time stay (the caller decided it is
    worth more). What was not proven now keeps its earlier time.
    """
    now = clock.now()
    values: dict = {}
    if password:
        values["reauthenticated_at"] = now
    if second_factor is not None and not keep_factor:
        values.update(reauthenticated_factor=second_factor, reauthenticated_factor_at=now)
    if not values:
        return
    await Session.filter(id=session.id).update(**values)
    for name, value in values.items():
        setattr(session, name, value)


def password_proven_until(session: Session | None, window: timedelta) -> datetime | None:
    """When the session's last proof of the password stops counting; None when it never did."""
    if session is None or session.reauthenticated_at is None:
        return None
    return session.reauthenticated_at + window


def second_factor_proven_until(session: Session | None, window: timedelta) -> datetime | None:
    """When the session's last proof of a second factor stops counting; None when never."""
    if session is None or session.reauthenticated_factor_at is None:
        return None
    return session.reauthenticated_factor_at + window


async def end(token: str) -> None:
    """End the session with this cookie value (ending.py tells whoever must know)."""
    await ending.end(Session.filter(token_hash=digest(token)))


async def end_all(user: User) -> int:
    return len(await ending.end(Session.filter(user_id=user.id)))


async def list_for(user_id: int, timeouts: Timeouts) -> list[Session]:
    """Live sessions, most recently used first."""
    now = clock.now()
    return await Session.filter(
        user_id=user_id,
        last_seen_at__gt=now - timeouts.idle,
        created_at__gt=now - timeouts.absolute,
    ).order_by("-last_seen_at", "-id")


async def revoke(user: User, session_id: int, client: ClientInfo) -> None:
    """Sign out one of the user's sessions; NOT_FOUND when it is not theirs or already gone."""
    session = await Session.get_or_none(user=user, id=session_id)
    if session is None:
        raise NotFound()
    browser = Browser(session.browser_name, session.system_name)
    device = browser.words() if session.user_agent else ""
    async with in_transaction():
        if len(await ending.end(Session.filter(user_id=user.id, id=session_id))) != 1:
            raise NotFound()
        await record("session.revoked", user=user, client=client, device=device)
        await emit("session.ended", user=user, reason="revoked", count=1)


async def sign_out_others(user: User, keep_session_id: int, client: ClientInfo) -> int:
    """Sign out every session of the user but `keep_session_id`; returns how many ended."""
    async with in_transaction():
        count = await end_others(user, keep_session_id)
        await record("sessions.signed_out_others", user=user, client=client, count=count)
        if count:
            await emit("session.ended", user=user, reason="signed_out_others", count=count)
    return count


async def end_others(user: User, keep_session_id: int) -> int:
    others = Session.filter(user_id=user.id).exclude(id=keep_session_id)
    return len(await ending.end(others))
