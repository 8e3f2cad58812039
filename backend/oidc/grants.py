"""A grant: what one authorization code gave an application (its access tokens and its
refresh-token family, all carrying the grant's id), ended as one when the code or a refresh
token turns up a second time: either copy may be the thief's."""

from __future__ import annotations

import secrets

from backend.kernel import clock
from backend.oidc.models import OidcRefreshToken
from backend.tokens import service as tokens


def new_id() -> str:
    return secrets.token_hex(16)


async def revoke(grant: str) -> None:
    await tokens.end_access_tokens(oidc_grant=grant)
    await OidcRefreshToken.filter(family=grant, revoked_at=None).update(revoked_at=clock.now())
