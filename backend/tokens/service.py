"""Refresh tokens: issue, list, delete, and exchange for short-lived access tokens."""

from __future__ import annotations

import contextlib
import dataclasses
import unicodedata
from datetime import datetime, timedelta

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from backend import clock, limits, stepup
from backend.accounts.models import User
from backend.audit.service import record
from backend.client import ClientInfo
from backend.crypto import digest
from backend.errors import DomainError, NotFound
from backend.notifications.notices import tell
from backend.services import Services
from backend.sessions.models import Session
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


class GrantRefused(Exception):
    """The refresh token is unknown, malformed, expired or revoked (`invalid_grant`)."""


async def issue(
    services: Services,
    user: User,
    client: ClientInfo,
    *,
    name: str,
    expires_at: datetime | None,
    session: Session | None,
    password: str | None,
    otp: str | None,
) -> IssuedRefreshToken:
    name = _checked_name(name)
    expires_at = _checked_expiry(expires_at, services.settings.token_max_days)
    limit = services.settings.max_tokens_per_user
    await _refuse_when_full(user.id, limit)  # early, before a code is spent
    await stepup.confirm(
        services, user, session, client, password=password, otp=otp, purpose="token.issue"
    )
    secret = generate(Kind.REFRESH)
    async with in_transaction():
        # Count and insert under the user's row lock: parallel issues cannot pass the limit.
        await limits.serialise_on_user(user.id)
        await _refuse_when_full(user.id, limit)
        token = await RefreshToken.create(
            user=user, name=name, token_hash=digest(secret), expires_at=expires_at
        )
        await record("token.issued", user=user, client=client, token_id=token.id, name=name)
    await tell(
        services.mailer,
        user.email,
        "A new token for your account",
        f"A refresh token named “{name}” was issued for your Latchkey account {user.username}.",
        user=user,
    )
    return IssuedRefreshToken(token, secret)


async def _refuse_when_full(user_id: int, limit: int) -> None:
    live = await RefreshToken.filter(
        Q(expires_at=None) | Q(expires_at__gt=clock.now()), user_id=user_id, revoked_at=None
    ).count()
    if live >= limit:
        raise DomainError(
            "TOO_MANY_TOKENS",
            f"An account may have at most {limit} live tokens. Delete one you no longer use.",
        )


async def list_for(user_id: int) -> list[RefreshToken]:
    """The user's tokens that have not been deleted, newest first."""
    return await RefreshToken.filter(user_id=user_id, revoked_at=None).order_by(
        "-created_at", "-id"
    )


async def delete(user: User, token_id: int, client: ClientInfo) -> None:
    """Revoke a token of `user` and every access token issued from it, at once."""
    async with in_transaction():
        revoked = await RefreshToken.filter(id=token_id, user_id=user.id, revoked_at=None).update(
            revoked_at=clock.now()
        )
        if not revoked:
            raise NotFound()
        await AccessToken.filter(refresh_token_id=token_id).delete()
        await record("token.deleted", user=user, client=client, token_id=token_id)


async def exchange(secret: str, client: ClientInfo, lifetime: timedelta) -> IssuedAccessToken:
    """The refresh_token grant: a new access token for a live refresh token."""
    if not is_well_formed(secret, Kind.REFRESH):
        raise GrantRefused
    token = await RefreshToken.get_or_none(token_hash=digest(secret))
    if token is None:
        raise GrantRefused
    now = clock.now()
    if token.revoked_at is not None or (token.expires_at and token.expires_at <= now):
        reason = "revoked" if token.revoked_at else "expired"
        await record(
            "token.exchange_refused",
            user=await token.user,
            client=client,
            token_id=token.id,
            reason=reason,
        )
        raise GrantRefused
    access = await issue_access_token(lifetime, user_id=token.user_id, refresh_token_id=token.id)
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        await RefreshToken.filter(id=token.id).update(
            last_used_at=now, last_used_ip=client.ip_address
        )
    return access


async def issue_access_token(lifetime: timedelta, **origin: int) -> IssuedAccessToken:
    secret = generate(Kind.ACCESS)
    await AccessToken.create(token_hash=digest(secret), expires_at=clock.now() + lifetime, **origin)
    return IssuedAccessToken(secret, int(lifetime.total_seconds()))


async def access_token_owner(secret: str) -> User | None:
    """The user a live access token speaks for, in one query; None for anything else.

    The refresh token is joined so that a token revoked while an exchange was under way
    still fails here.
    """
    if not is_well_formed(secret, Kind.ACCESS):
        return None
    token = await AccessToken.get_or_none(
        token_hash=digest(secret), expires_at__gt=clock.now()
    ).select_related("user", "refresh_token")
    if token is None or (token.refresh_token and token.refresh_token.revoked_at is not None):
        return None
    return token.user


def _checked_name(name: str) -> str:
    name = unicodedata.normalize("NFC", name.strip())
    if not 1 <= len(name) <= 100:
        raise DomainError(
            "VALIDATION_FAILED", "Give the token a name of 1 to 100 characters.", "name"
        )
    if any(unicodedata.category(char)[0] == "C" for char in name):
        raise DomainError("VALIDATION_FAILED", "The name contains invisible characters.", "name")
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
            "VALIDATION_FAILED", f"A token may live at most {max_days} days.", "expires_at"
        )
    return expires_at


@dataclasses.dataclass(frozen=True)
class TokenInfo:
    """What RFC 7662 introspection tells about a live token."""

    username: str
    token_type: str
    expires_at: datetime | None
    issued_at: datetime
    client_id: str | None = None


async def revoke_by_secret(secret: str, client: ClientInfo) -> None:
    """RFC 7009: holding a token is enough to revoke it; anything unknown is ignored."""
    if is_well_formed(secret, Kind.ACCESS):
        await AccessToken.filter(token_hash=digest(secret)).delete()
    elif is_well_formed(secret, Kind.REFRESH):
        token = await RefreshToken.get_or_none(token_hash=digest(secret), revoked_at=None)
        if token is not None:
            with contextlib.suppress(NotFound):  # revoked concurrently: same outcome
                await delete(await token.user, token.id, client)


async def describe(secret: str) -> TokenInfo | None:
    """Introspection of a live access or refresh token; None when it is not active."""
    now = clock.now()
    if is_well_formed(secret, Kind.ACCESS):
        access = await AccessToken.get_or_none(
            token_hash=digest(secret), expires_at__gt=now
        ).select_related("user", "refresh_token", "api_credential")
        if access is None or (access.refresh_token and access.refresh_token.revoked_at):
            return None
        client_id = access.api_credential.client_id if access.api_credential else None
        return TokenInfo(
            access.user.username, "Bearer", access.expires_at, access.created_at, client_id
        )
    if is_well_formed(secret, Kind.REFRESH):
        refresh = await RefreshToken.get_or_none(
            token_hash=digest(secret), revoked_at=None
        ).select_related("user")
        if refresh is None or (refresh.expires_at and refresh.expires_at <= now):
            return None
        return TokenInfo(
            refresh.user.username, "refresh_token", refresh.expires_at, refresh.created_at
        )
    return None
