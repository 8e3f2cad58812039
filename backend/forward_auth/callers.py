"""Who the presented credentials name, read in one statement with the user's groups.

Each kind of credential has one hand-written statement (see backend.infra.hot_sql) that
checks it is live and reads the user and their groups together: one row per group, or one
row with no group. A session seen through the proxy counts as activity for its idle
timeout, batched like the pages' (LAST_SEEN_RESOLUTION): the statement says whether the
stored time is stale, and only then a second, conditional update moves it. A token used
through Basic is marked used the same way.
"""

from __future__ import annotations

import dataclasses
import enum
from typing import Any

from backend.accounts.models import ADMINISTRATOR, User, display_name
from backend.accounts.service import username_key
from backend.auth.sessions.models import Session
from backend.auth.sessions.service import LAST_SEEN_RESOLUTION, Timeouts
from backend.forward_auth.credentials import (
    BasicSecret,
    BearerToken,
    Credentials,
    SessionCookie,
)
from backend.infra import hot_sql
from backend.kernel import clock
from backend.kernel.client_info import ClientInfo
from backend.kernel.crypto import digest
from backend.kernel.text import can_name
from backend.tokens import scopes as scope_catalog
from backend.tokens.format import Kind, is_well_formed
from backend.tokens.service import LAST_USED_RESOLUTION


class Method(enum.Enum):
    """How the caller authenticated (the `X-Latchkey-Auth` header's values)."""

    SESSION = "session"
    BEARER = "bearer"
    BASIC = "basic"


class Refusal(enum.Enum):
    """Why the credentials name nobody."""

    MISSING = "missing"  # nothing presented, or a session cookie whose session ended
    INVALID = "invalid"  # a token unknown, expired, revoked, or not the named user's
    NOT_A_TOKEN = "not_a_token"  # Basic with a secret that is no token: a password, maybe


@dataclasses.dataclass(frozen=True, slots=True)
class Caller:
    """The user the credentials speak for, as the protected application is told."""

    user_id: int
    username: str
    email: str
    name: str
    account_type: str  # USER or ADMINISTRATOR
    language: str | None  # the user's own choice; None follows the browser
    groups: tuple[str, ...]
    method: Method
    scopes: tuple[str, ...] | None  # what a token may do; None for a session, unlimited


# The user's columns and groups every statement reads, and the joins that give the groups.
_USER = "u.id AS user_id, u.username, u.email, u.first_name, u.last_name, u.language, " + (
    "u.account_type, g.name AS group_name"
)
_GROUPS = """LEFT JOIN memberships m ON m.users_id = u.id
LEFT JOIN "groups" g ON g.id = m.group_id"""

# $1 the cookie's digest, $2 and $3 the oldest last use and start a live session may have,
# $4 the last use from which on it is stale.
_SESSION = f"""
SELECT s.id AS session_id, s.last_seen_at <= $4 AS stale, {_USER}
FROM sessions s JOIN users u ON u.id = s.user_id
{_GROUPS}
WHERE s.token_hash = $1 AND s.last_seen_at >= $2 AND s.created_at >= $3
    AND u.disabled_at IS NULL
ORDER BY g.name
"""  # noqa: S608 constant text
_TOUCH_SESSION = "UPDATE sessions SET last_seen_at = $1 WHERE id = $2 AND last_seen_at <= $3"

# The access token's user unless it expired or the refresh token it came from is revoked
# (as tokens.service's bearer statement). $1 the digest, $2 now.
_BEARER = f"""
SELECT a.scopes, {_USER}
FROM access_tokens a JOIN users u ON u.id = a.user_id
LEFT JOIN refresh_tokens r ON r.id = a.refresh_token_id
{_GROUPS}
WHERE a.token_hash = $1 AND a.expires_at > $2 AND r.revoked_at IS NULL
    AND u.disabled_at IS NULL
ORDER BY g.name
"""  # noqa: S608 constant text

# A live refresh token of the named user whose current secret, or previous one within its
# grace period, has this digest. $1 the digest, $2 the username's key, $3 now, $4 the last
# use from which on it is stale. Two look-ups, not an OR (see tokens.service's _BY_SECRET).
_REFRESH_TOKEN = f"""
SELECT t.id AS token_id, t.scopes,
    (t.last_used_at IS NULL OR t.last_used_at <= $4) AS stale, {_USER}
FROM (SELECT * FROM refresh_tokens WHERE token_hash = $1
      UNION ALL SELECT * FROM refresh_tokens WHERE previous_token_hash = $1) t
JOIN users u ON u.id = t.user_id
{_GROUPS}
WHERE u.username_key = $2 AND u.disabled_at IS NULL AND t.revoked_at IS NULL AND (
    (t.token_hash = $1 AND (t.expires_at IS NULL OR t.expires_at > $3))
    OR (t.token_hash <> $1 AND t.previous_valid_until > $3))
ORDER BY g.name
"""  # noqa: S608 constant text
_MARK_TOKEN_USED = """
UPDATE refresh_tokens SET last_used_at = $1, last_used_ip = $2
WHERE id = $3 AND (last_used_at IS NULL OR last_used_at <= $4)
"""

# The named user's API credentials, when the secret is theirs. $1 the username's key, $2
# the secret's digest, $3 the last use from which on it is stale.
_API_CREDENTIALS = f"""
SELECT c.id AS credential_id, c.scopes,
    (c.last_used_at IS NULL OR c.last_used_at <= $3) AS stale, {_USER}
FROM users u JOIN api_credentials c ON c.user_id = u.id
{_GROUPS}
WHERE u.username_key = $1 AND c.secret_hash = $2 AND u.disabled_at IS NULL
ORDER BY g.name
"""  # noqa: S608 constant text
_MARK_CREDENTIALS_USED = """
UPDATE api_credentials SET last_used_at = $1
WHERE id = $2 AND (last_used_at IS NULL OR last_used_at <= $3)
"""


async def identify(
    credentials: Credentials, timeouts: Timeouts, client: ClientInfo
) -> Caller | Refusal:
    """The caller the credentials name, or why they name nobody. Never a password check."""
    match credentials:
        case None:
            return Refusal.MISSING
        case SessionCookie(value):
            return await _by_session(value, timeouts)
        case BearerToken(secret):
            return await _by_access_token(secret)
        case BasicSecret(username, secret) if is_well_formed(secret, Kind.REFRESH):
            return await _by_refresh_token(username, secret, client)
        case BasicSecret(username, secret) if is_well_formed(secret, Kind.CLIENT_SECRET):
            return await _by_api_credentials(username, secret)
        case BasicSecret():
            return Refusal.NOT_A_TOKEN
    return Refusal.INVALID


async def _by_session(value: str, timeouts: Timeouts) -> Caller | Refusal:
    if not value:
        return Refusal.MISSING
    now = clock.now()
    stale = now - LAST_SEEN_RESOLUTION
    live_since = [now - timeouts.idle, now - timeouts.absolute]
    rows = await hot_sql.fetch(Session, _SESSION, [digest(value), *live_since, stale])
    if not rows:
        return Refusal.MISSING
    if rows[0]["stale"]:
        await hot_sql.execute(Session, _TOUCH_SESSION, [now, rows[0]["session_id"], stale])
    return _caller(rows, Method.SESSION, scopes=None)


async def _by_access_token(secret: str) -> Caller | Refusal:
    if not is_well_formed(secret, Kind.ACCESS):
        return Refusal.INVALID
    rows = await hot_sql.fetch(User, _BEARER, [digest(secret), clock.now()])
    return _caller(rows, Method.BEARER, _scopes(rows)) if rows else Refusal.INVALID


async def _by_refresh_token(username: str, secret: str, client: ClientInfo) -> Caller | Refusal:
    key = username_key(username)
    if not can_name(User, "username_key", key):
        return Refusal.INVALID
    now = clock.now()
    stale = now - LAST_USED_RESOLUTION
    rows = await hot_sql.fetch(User, _REFRESH_TOKEN, [digest(secret), key, now, stale])
    if not rows:
        return Refusal.INVALID
    if rows[0]["stale"]:
        marked = [now, client.ip_address, rows[0]["token_id"], stale]
        await hot_sql.execute(User, _MARK_TOKEN_USED, marked)
    return _caller(rows, Method.BASIC, _scopes(rows))


async def _by_api_credentials(username: str, secret: str) -> Caller | Refusal:
    key = username_key(username)
    if not can_name(User, "username_key", key):
        return Refusal.INVALID
    now = clock.now()
    stale = now - LAST_USED_RESOLUTION
    rows = await hot_sql.fetch(User, _API_CREDENTIALS, [key, digest(secret), stale])
    if not rows:
        return Refusal.INVALID
    if rows[0]["stale"]:
        await hot_sql.execute(User, _MARK_CREDENTIALS_USED, [now, rows[0]["credential_id"], stale])
    return _caller(rows, Method.BASIC, _scopes(rows))


def _scopes(rows: list[dict[str, Any]]) -> tuple[str, ...]:
    """The token's scopes that work now: the administrators' only while its owner is one."""
    owner = _Holder(is_administrator=rows[0]["account_type"] == ADMINISTRATOR)
    return scope_catalog.held(rows[0]["scopes"], owner)


@dataclasses.dataclass(frozen=True, slots=True)
class _Holder:
    is_administrator: bool  # disabled accounts are not found at all


def _caller(rows: list[dict[str, Any]], method: Method, scopes: tuple[str, ...] | None) -> Caller:
    user = rows[0]
    return Caller(
        user_id=user["user_id"],
        username=user["username"],
        email=user["email"],
        name=display_name(user["first_name"], user["last_name"], user["username"]),
        account_type=user["account_type"],
        language=user["language"],
        groups=tuple(row["group_name"] for row in rows if row["group_name"] is not None),
        method=method,
        scopes=scopes,
    )
