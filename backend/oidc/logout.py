"""RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): an application signs its user
out of Latchkey too. Only with an ID token Latchkey signed for that application: a link on
any page must not be able to sign anyone out."""

from __future__ import annotations

import dataclasses
from typing import Any

from backend.kernel.secret_box import SecretBox
from backend.oidc import clients, keys
from backend.oidc.models import OidcClient


class LogoutRefused(Exception):
    """No valid ID token hint, or a post-logout URI its client did not register: a page
    says so; nothing is signed out and nobody is redirected."""


@dataclasses.dataclass(frozen=True)
class Logout:
    client: OidcClient
    subject: str  # the `sub` the hint names: only that user's session ends
    redirect_uri: str | None


async def check(box: SecretBox, id_token_hint: str, post_logout_redirect_uri: str) -> Logout:
    claims = await _claims_of(box, id_token_hint)
    client = await clients.find(str(claims.get("aud", "")))
    if client is None:
        raise LogoutRefused
    redirect = post_logout_redirect_uri or None
    if redirect is not None and redirect not in client.post_logout_redirect_uris:
        raise LogoutRefused
    return Logout(client, str(claims.get("sub", "")), redirect)


async def _claims_of(box: SecretBox, token: str) -> dict[str, Any]:
    """The hint's claims when Latchkey signed it; expired hints are fine (the spec says so)."""
    from joserfc import jwt
    from joserfc.errors import JoseError
    from joserfc.jwk import KeySet

    if not token or len(token) > 8000:
        raise LogoutRefused
    published = KeySet.import_key_set(await keys.jwks(box))
    try:
        return dict(jwt.decode(token, published, algorithms=list(keys.ALGORITHMS)).claims)
    except (JoseError, ValueError):
        raise LogoutRefused from None
