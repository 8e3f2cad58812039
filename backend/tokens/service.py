"""Refresh tokens: issue, list, delete, and exchange for short-lived access tokens."""

from __future__ import annotations

import contextlib
import dataclasses
from datetime import datetime, timedelta

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from backend.accounts import administrators, groups, limits
from backend.accounts.models import User
from backend.audit.service import record
from backend.auth import reauthentication
from backend.auth.services import Services
from backend.auth.sessions.models import Session
from backend.events.emit import emit
from backend.infra import hot_sql
from backend.kernel import clock
from backend.kernel.client_info import ClientInfo
from backend.kernel.crypto import digest
from backend.kernel.errors import DomainError, NotFound
from backend.kernel.i18n import N_, Moment
from backend.kernel.text import clean_name
from backend.notifications.notices import tell
from backend.tokens import retention, usage
from backend.tokens import scopes as scope_catalog
from backend.tokens.format import Kind, generate, is_well_formed
from backend.tokens.models import AccessToken, RefreshToken

# Writing last_used_at on every exchange would make each exchange two writes.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclasses.dataclass(frozen=True)
class IssuedRefreshToken:
    token: RefreshToken
    secret: str  # shown to the user once, never stored


@dataclasses.dataclass(frozen=True)
class IssuedAccessToken:
    secret: str
    expires_in: int
    scopes: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class Bearer:
    """Who a live access token speaks for, and what it may do."""

    user: User
    scopes: frozenset[str]


class GrantRefused(Exception):
    """The refresh token is unknown, malformed, expired or revoked (`invalid_grant`)."""


class ScopeRefused(Exception):
    """A requested scope is unknown or was not granted (`invalid_scope`)."""


async def issue(
    services: Services,
    user: User,
    client: ClientInfo,
    *,
    name: str,
    expires_at: datetime | None,
    session: Session | None,
    scopes: list[str] | None = None,
) -> IssuedRefreshToken:
    name = _checked_name(name)
    expires_at = _checked_expiry(expires_at, services.settings.token_max_days)
    chosen = scope_catalog.for_settings(services.settings).chosen(scopes)
    scope_catalog.check_holder(chosen, user)
    limit = services.settings.max_tokens_per_user
    await _refuse_when_full(user.id, limit)  # early: the clearer answer when both apply
    await reauthentication.require(services, user, session)
    secret = generate(Kind.REFRESH)
    async with in_transaction():
        # Count and insert under the user's row lock: parallel issues cannot pass the limit.
        await limits.serialise_on_user(user.id)
        await administrators.refuse_disabled(user.id)
        await _refuse_when_full(user.id, limit)
        # Ended tokens do not count toward the limit: what an account keeps of them is
        # bounded here, under the same lock, so parallel issues cannot pass this bound either.
        await retention.drop_older_ended(user.id, clock.now())
        token = await RefreshToken.create(
            user=user,
            name=name,
            token_hash=digest(secret),
            expires_at=expires_at,
            scopes=scope_catalog.joined(chosen),
        )
        await record("token.issued", user=user, client=client, token_id=token.id, name=name)
        await emit("token.issued", user=user, token=token_data(token))
    await tell(
        services.mailer,
        user.email,
        N_("A new token for your account"),
        N_(
            "A refresh token named “{name}” was issued for your Latchkey account {username}, "
            "with the scopes {scopes}."
        ),
        user=user,
        params={"name": name, "username": user.username, "scopes": ", ".join(chosen)},
    )
    return IssuedRefreshToken(token, secret)


async def regenerate(
    services: Services,
    user: User,
    client: ClientInfo,
    *,
    token_id: int,
    expires_at: datetime | None,
    session: Session | None,
) -> IssuedRefreshToken:
    """A new secret for a token, with its name and scopes; the old one works a while more.

    The previous secret keeps working for the rotation grace period, never past its own
    expiry, so a script can be switched over without an outage. A token regenerated
    again in the meantime drops the older secret at once. An expired token may be
    regenerated too, within the limit of live tokens.
    """
    expires_at = _checked_expiry(expires_at, services.settings.token_max_days)
    if not await RefreshToken.exists(id=token_id, user_id=user.id, revoked_at=None):
        raise NotFound()
    await reauthentication.require(services, user, session)
    secret = generate(Kind.REFRESH)
    grace = timedelta(seconds=services.settings.token_rotation_grace_seconds)
    async with in_transaction():
        await limits.serialise_on_user(user.id)
        token = await RefreshToken.get_or_none(id=token_id, user_id=user.id, revoked_at=None)
        if token is None:  # deleted meanwhile
            raise NotFound()
        now = clock.now()
        live = token.expires_at is None or token.expires_at > now
        if not live:
            await _refuse_when_full(user.id, services.settings.max_tokens_per_user)
        overlap_ends = now + grace
        if token.expires_at is not None:
            overlap_ends = min(overlap_ends, token.expires_at)
        overlap = live and overlap_ends > now
        await RefreshToken.filter(id=token.id).update(
            token_hash=digest(secret),
            previous_token_hash=token.token_hash if overlap else None,
            previous_valid_until=overlap_ends if overlap else None,
            expires_at=expires_at,
            regenerated_at=now,
            reminded_week_at=None,
            reminded_day_at=None,
        )
        if not overlap:  # the old secret is over now, and so is what it was exchanged for
            await AccessToken.filter(refresh_token_id=token.id).delete()
        await record(
            "token.regenerated", user=user, client=client, token_id=token.id, name=token.name
        )
        await emit("token.regenerated", user=user, token=token_data(token))
    await tell(
        services.mailer,
        user.email,
        N_("A token of your account was regenerated"),
        N_(
            "The refresh token “{name}” of your Latchkey account {username} has a new "
            "secret. The previous secret works until {until}."
        )
        if overlap
        else N_(
            "The refresh token “{name}” of your Latchkey account {username} has a new "
            "secret. The previous secret no longer works."
        ),
        params={
            "name": token.name,
            "username": user.username,
            "until": Moment(overlap_ends, user.time_zone) if overlap else "",
        },
    )
    return IssuedRefreshToken(await RefreshToken.get(id=token.id), secret)


async def _refuse_when_full(user_id: int, limit: int) -> None:
    live = await RefreshToken.filter(
        Q(expires_at=None) | Q(expires_at__gt=clock.now()), user_id=user_id, revoked_at=None
    ).count()
    if live >= limit:
        raise DomainError(
            "TOO_MANY_TOKENS",
            "An account may have at most {limit} live tokens. Delete one you no longer use.",
            limit=limit,
        )


def previous_secret_valid_until(token: RefreshToken | ListedToken) -> datetime | None:
    """Until when the secret before the last regeneration still works; None if it does not."""
    until = token.previous_valid_until
    return until if token.previous_token_hash and until and until > clock.now() else None


# The hot paths' statements (see backend.infra.hot_sql); the indexes they use are tested.
# The live tokens (at most the live limit) and the newest expired ones: an account keeps no
# more than that (backend.tokens.retention), and an account from before that bound, or whose
# tokens all expired at once, is listed no longer either.
_LIST = f"""
SELECT id, name, created_at, expires_at, last_used_at, last_used_ip, scopes, regenerated_at,
previous_token_hash, previous_valid_until
FROM refresh_tokens WHERE user_id = $1 AND revoked_at IS NULL AND (
    expires_at IS NULL OR expires_at > $2 OR id IN (
        SELECT id FROM refresh_tokens WHERE user_id = $1 AND revoked_at IS NULL
        AND expires_at <= $2 ORDER BY expires_at DESC LIMIT {int(retention.KEPT_ENDED)}
    )
)
ORDER BY created_at DESC, id DESC
"""  # noqa: S608 constant text
# The access token's user and scopes, unless the refresh token it came from is revoked or
# the user's account is disabled (the row read with every request: at once, on every worker).
_BEARER = """
SELECT u.*, a.scopes AS access_token_scopes FROM access_tokens a
JOIN users u ON u.id = a.user_id
LEFT JOIN refresh_tokens r ON r.id = a.refresh_token_id
WHERE a.token_hash = $1 AND a.expires_at > $2 AND r.revoked_at IS NULL
AND u.disabled_at IS NULL
"""

# The refresh token a secret belongs to: its current one, or the one before a regeneration.
# Two lookups, not one with OR: once SQLite has statistics (ANALYZE), it reads the whole
# table for the OR, since nearly every previous_token_hash is NULL.
_BY_SECRET = """
SELECT * FROM refresh_tokens WHERE token_hash = $1
UNION ALL SELECT * FROM refresh_tokens WHERE previous_token_hash = $1
"""
# The same token with the owner's columns introspection tells (owner_*): one statement.
_OWNER_COLUMNS = (
    "id", "username", "email", "first_name", "last_name", "time_zone", "language", "account_type",
    "disabled_at",
)  # fmt: skip
_OWNER_SELECT = ", ".join(f"u.{column} AS owner_{column}" for column in _OWNER_COLUMNS)
_BY_SECRET_WITH_OWNER = f"""
SELECT t.*, {_OWNER_SELECT} FROM ({_BY_SECRET}) t JOIN users u ON u.id = t.user_id
"""  # noqa: S608 constant text
# A live access token for introspection, with its user, the client it was issued to and the
# user's groups, in one statement: one row per group, or one with no group. $1 the digest,
# $2 now. As the bearer statement, a token whose refresh token is revoked is not live.
_DESCRIBED_COLUMNS = ("expires_at", "created_at", "scopes", "oidc_sid", "credential", "application")
_DESCRIBE_ACCESS = """
SELECT u.*, a.expires_at AS token_expires_at, a.created_at AS token_created_at,
    a.scopes AS token_scopes, a.oidc_sid AS token_oidc_sid,
    c.client_id AS token_credential, o.client_id AS token_application, g.name AS group_name
FROM access_tokens a JOIN users u ON u.id = a.user_id
LEFT JOIN refresh_tokens r ON r.id = a.refresh_token_id
LEFT JOIN api_credentials c ON c.id = a.api_credential_id
LEFT JOIN oidc_clients o ON o.id = a.oidc_client_id
LEFT JOIN memberships m ON m.users_id = u.id
LEFT JOIN "groups" g ON g.id = m.group_id
WHERE a.token_hash = $1 AND a.expires_at > $2 AND r.revoked_at IS NULL
    AND u.disabled_at IS NULL
"""
_INSERT_ACCESS = """
INSERT INTO access_tokens
(token_hash, user_id, refresh_token_id, api_credential_id, oidc_client_id, oidc_grant,
 oidc_sid, created_at, expires_at, scopes)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
"""
_MARK_USED = "UPDATE refresh_tokens SET last_used_at = $1, last_used_ip = $2 WHERE id = $3"


async def _by_secret(hashed: str) -> RefreshToken | None:
    """The refresh token whose current or previous secret has this digest, revoked or not."""
    found = await hot_sql.fetch_models(RefreshToken, _BY_SECRET, [hashed])
    return found[0] if found else None


def _as_datetime(value: datetime | str) -> datetime:
    """A column read under another name: SQLite gives its ISO text."""
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def _secret_ends(token: RefreshToken, hashed: str, now: datetime) -> datetime | None:
    """When the secret with this digest stops working (None: never); `now` at the latest
    once it does not work: the token revoked, or the previous secret after its grace period."""
    if token.revoked_at is not None:
        return now
    if token.token_hash == hashed:
        return token.expires_at
    return token.previous_valid_until or now


@dataclasses.dataclass(frozen=True, slots=True)
class ListedToken:
    """A token as the list shows it, read from its row without building a model: a user may
    have hundreds, and a document may ask for all of them."""

    id: int
    name: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    last_used_ip: str
    scopes: str
    regenerated_at: datetime | None
    previous_token_hash: str | None
    previous_valid_until: datetime | None


_LISTED_DATETIMES = tuple(
    (name, RefreshToken._meta.fields_map[name].to_python_value)
    for name in (
        "created_at",
        "expires_at",
        "last_used_at",
        "regenerated_at",
        "previous_valid_until",
    )
)


def _listed(row: dict) -> ListedToken:
    values = hot_sql.parse_datetimes(RefreshToken, row)  # _LIST reads the listed columns
    for name, to_python in _LISTED_DATETIMES:
        if values[name] is not None:
            values[name] = to_python(values[name])  # aware, in UTC, as the model holds it
    return ListedToken(**values)


async def list_for(user_id: int) -> list[ListedToken]:
    """The user's live tokens and the newest expired ones, newest first."""
    rows = await hot_sql.fetch(RefreshToken, _LIST, [user_id, clock.now()])
    return [_listed(row) for row in rows]


def token_data(token: RefreshToken) -> dict[str, object]:
    """A token in an event: what names it, never its secret or hash."""
    return {"id": str(token.id), "name": token.name, "scopes": scope_catalog.split(token.scopes)}


async def delete(user: User, token_id: int, client: ClientInfo) -> None:
    """Revoke a token of `user` and every access token issued from it, at once."""
    async with in_transaction():
        token = await RefreshToken.get_or_none(id=token_id, user_id=user.id, revoked_at=None)
        revoked = await RefreshToken.filter(id=token_id, user_id=user.id, revoked_at=None).update(
            revoked_at=clock.now()
        )
        if not revoked or token is None:
            raise NotFound()
        await AccessToken.filter(refresh_token_id=token_id).delete()
        await record("token.deleted", user=user, client=client, token_id=token_id, name=token.name)
        await emit("token.revoked", user=user, token=token_data(token))


async def exchange(
    secret: str,
    client: ClientInfo,
    lifetime: timedelta,
    catalog: scope_catalog.Catalog,
    requested_scope: str | None = None,
) -> IssuedAccessToken:
    """The refresh_token grant: a new access token for a live refresh token.

    The previous secret of a regenerated token works until its grace period ends, and
    its access tokens end then too. The access token carries the token's scopes, or the
    fewer ones asked for.
    """
    if not is_well_formed(secret, Kind.REFRESH):
        raise GrantRefused
    hashed = digest(secret)
    token = await _by_secret(hashed)
    if token is None:
        raise GrantRefused
    now = clock.now()
    ends = _secret_ends(token, hashed, now)
    if ends and ends <= now:
        reason = "revoked" if token.revoked_at else "expired"
        await record(
            "token.exchange_refused",
            user=await token.user,
            client=client,
            token_id=token.id,
            name=token.name,
            reason=reason,
        )
        raise GrantRefused
    granted = catalog.narrowed(scope_catalog.split(token.scopes), requested_scope)
    if granted is None:
        raise ScopeRefused
    access, insert = _new_access_token(
        min(lifetime, ends - now) if ends else lifetime,
        scopes=granted,
        user_id=token.user_id,
        refresh_token_id=token.id,
    )
    writes = [insert, usage.count_statement(token.id, now)]
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        writes.append((_MARK_USED, [now, client.ip_address, token.id]))
    await hot_sql.run_together(RefreshToken, writes)
    return access


async def issue_access_token(
    lifetime: timedelta, scopes: tuple[str, ...] = (), **origin: int | str
) -> IssuedAccessToken:
    issued, (sql, params) = _new_access_token(lifetime, scopes, **origin)
    await hot_sql.execute(AccessToken, sql, params)
    return issued


def _new_access_token(
    lifetime: timedelta, scopes: tuple[str, ...] = (), **origin: int | str
) -> tuple[IssuedAccessToken, hot_sql.Statement]:
    """A new access token and the statement that stores it."""
    secret = generate(Kind.ACCESS)
    now = clock.now()
    params = [
        digest(secret),
        origin["user_id"],
        origin.get("refresh_token_id"),
        origin.get("api_credential_id"),
        origin.get("oidc_client_id"),
        origin.get("oidc_grant"),
        origin.get("oidc_sid"),
        now,
        now + lifetime,
        scope_catalog.joined(scopes),
    ]
    return IssuedAccessToken(secret, int(lifetime.total_seconds()), scopes), (
        _INSERT_ACCESS,
        params,
    )


async def end_access_tokens(**origin: int | str) -> int:
    """Deletes the access tokens of one origin (an application's grant, say) at once."""
    return await AccessToken.filter(**origin).delete()


async def access_token_bearer(secret: str) -> Bearer | None:
    """The user a live access token speaks for and its scopes, in one query; else None.

    The refresh token is joined so that a token revoked while an exchange was under way
    still fails here.
    """
    if not is_well_formed(secret, Kind.ACCESS):
        return None
    rows = await hot_sql.fetch(AccessToken, _BEARER, [digest(secret), clock.now()])
    if not rows:
        return None
    scopes = rows[0].pop("access_token_scopes")
    user = hot_sql.as_model(User, rows[0])
    return Bearer(user, scope_catalog.effective(frozenset(scope_catalog.split(scopes)), user))


def _checked_name(name: str) -> str:
    name = clean_name(name, "name")
    if not 1 <= len(name) <= 100:
        raise DomainError(
            "VALIDATION_FAILED", "Give the token a name of 1 to 100 characters.", "name"
        )
    return name


def _checked_expiry(expires_at: datetime | None, max_days: int) -> datetime | None:
    if expires_at is None:
        if max_days:
            raise DomainError("VALIDATION_FAILED", "Choose when the token expires.", "expires_at")
        return None
    if expires_at.tzinfo is None:
        raise DomainError(
            "VALIDATION_FAILED",
            "Give the expiry with a time zone offset, e.g. +00:00.",
            "expires_at",
        )
    now = clock.now()
    if expires_at <= now:
        raise DomainError("VALIDATION_FAILED", "The expiry must be in the future.", "expires_at")
    if max_days and expires_at > now + timedelta(days=max_days):
        raise DomainError(
            "VALIDATION_FAILED",
            "A token may live at most {max_days} days.",
            "expires_at",
            max_days=max_days,
        )
    return expires_at


@dataclasses.dataclass(frozen=True)
class TokenInfo:
    """What RFC 7662 introspection tells about a live token."""

    user: User
    token_type: str
    expires_at: datetime | None
    issued_at: datetime
    client_id: str | None = None
    scopes: tuple[str, ...] = ()
    audience: str | None = None  # the application an OpenID Connect token was issued to
    sid: str | None = None  # the Latchkey session that application signed in through
    groups: tuple[str, ...] = ()  # the user's group names, in order


async def revoke_by_secret(secret: str, client: ClientInfo) -> None:
    """RFC 7009: holding a working token is enough to revoke it; anything else is ignored.

    A secret that no longer works (expired, or the previous one after its grace period)
    revokes nothing: it is no credential, and the token now belongs to whoever holds its
    current secret. The previous secret within its grace period still opens the token,
    so it ends the whole token, as the current one would.
    """
    if is_well_formed(secret, Kind.ACCESS):
        await AccessToken.filter(token_hash=digest(secret)).delete()
    elif is_well_formed(secret, Kind.REFRESH):
        hashed = digest(secret)
        token = await _by_secret(hashed)
        if token is None:
            return
        now = clock.now()
        ends = _secret_ends(token, hashed, now)
        if ends is None or ends > now:
            with contextlib.suppress(NotFound):  # revoked concurrently: same outcome
                await delete(await token.user, token.id, client)


async def describe(secret: str) -> TokenInfo | None:
    """Introspection of a live access or refresh token; None when it is not active."""
    now = clock.now()
    if is_well_formed(secret, Kind.ACCESS):
        rows = await hot_sql.fetch(AccessToken, _DESCRIBE_ACCESS, [digest(secret), now])
        if not rows:
            return None
        token = {column: rows[0].pop(f"token_{column}") for column in _DESCRIBED_COLUMNS}
        names = sorted(row["group_name"] for row in rows if row["group_name"] is not None)
        del rows[0]["group_name"]
        user = hot_sql.as_model(User, rows[0])
        application = token["application"]
        return TokenInfo(
            user,
            "Bearer",
            _as_datetime(token["expires_at"]),
            _as_datetime(token["created_at"]),
            token["credential"] or application,
            scope_catalog.held(token["scopes"], user),
            audience=application,
            sid=token["oidc_sid"],
            groups=tuple(names),
        )
    if is_well_formed(secret, Kind.REFRESH):
        hashed = digest(secret)
        rows = await hot_sql.fetch(RefreshToken, _BY_SECRET_WITH_OWNER, [hashed])
        if not rows:
            return None
        owner = {column: rows[0].pop(f"owner_{column}") for column in _OWNER_COLUMNS}
        refresh = hot_sql.as_model(RefreshToken, rows[0])
        ends = _secret_ends(refresh, hashed, now)
        owner_user = hot_sql.as_model(User, owner)
        if (ends and ends <= now) or owner_user.disabled_at is not None:
            return None
        return TokenInfo(
            owner_user,
            "refresh_token",
            ends,
            refresh.created_at,
            scopes=scope_catalog.held(refresh.scopes, owner_user),
            groups=await groups.names_of(owner_user.id),
        )
    return None
