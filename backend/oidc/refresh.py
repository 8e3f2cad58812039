"""`offline_access`: refresh tokens for applications, rotated on every use, with a reuse
revoking the whole family (OAuth 2.0 Security BCP §4.14)."""

from __future__ import annotations

import secrets
from datetime import timedelta

from backend.kernel import clock
from backend.kernel.crypto import digest
from backend.oidc import access, grants
from backend.oidc.models import AuthorizationCode, OidcClient, OidcRefreshToken

LIFETIME = timedelta(days=30)


class RefreshRefused(Exception):
    pass


def wanted(scopes: str) -> bool:
    return "offline_access" in scopes.split()


async def first(grant: AuthorizationCode) -> str:
    """The first token of a new family, for a code whose scopes asked for offline_access."""
    assert grant.grant is not None  # set when the code was redeemed
    return await _new(
        grant.grant,
        client_id=grant.client_id,
        user_id=grant.user_id,
        scopes=grant.scopes,
        auth_time=grant.auth_time,
        second_factor=grant.second_factor,
        sid=grant.sid,
    )


async def rotate(secret: str, client: OidcClient) -> tuple[OidcRefreshToken, str]:
    """The token's grant and its successor; RefreshRefused otherwise. A token used before
    revokes its family, the successor it was exchanged for included."""
    row = await OidcRefreshToken.get_or_none(token_hash=digest(secret)).select_related("user")
    if row is None or row.client_id != client.id:
        raise RefreshRefused
    now = clock.now()
    used = await OidcRefreshToken.filter(
        id=row.id, used_at=None, revoked_at=None, expires_at__gt=now
    ).update(used_at=now)
    if used != 1:
        if row.used_at is not None or (await OidcRefreshToken.get(id=row.id)).used_at:
            await grants.revoke(row.family)
        raise RefreshRefused
    await access.record_use(row.user_id, row.client_id)
    successor = await _new(
        row.family,
        client_id=row.client_id,
        user_id=row.user_id,
        scopes=row.scopes,
        auth_time=row.auth_time,
        second_factor=row.second_factor,
        sid=row.sid,
    )
    return row, successor


async def _new(family: str, **grant: object) -> str:
    secret = secrets.token_urlsafe(32)
    await OidcRefreshToken.create(
        family=family, token_hash=digest(secret), expires_at=clock.now() + LIFETIME, **grant
    )
    return secret
