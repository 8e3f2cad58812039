"""What an ID token and the userinfo endpoint say of a user, by scope; never a secret."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from backend.accounts import groups
from backend.accounts.models import User
from backend.auth.factors.registry import KINDS
from backend.kernel import clock
from backend.kernel.secret_box import SecretBox
from backend.oidc import authorization, keys
from backend.oidc.models import AuthorizationCode, OidcClient, OidcRefreshToken

# RFC 8176 methods for the second factor a sign-in proved, by kind (each kind names its own).
AMR = {kind.kind: kind.amr for kind in KINDS}
ACR_MFA, ACR_PWD = authorization.ACR_MFA, authorization.ACR_PWD


def sub(user: User) -> str:
    return sub_of(user.id)


def sub_of(user_id: int) -> str:
    """The user's stable id (never the username, which may be reused after a deletion)."""
    return str(user_id)


def methods(second_factor: str | None) -> list[str]:
    if not second_factor or second_factor not in AMR:
        return ["pwd"]
    return ["pwd", AMR[second_factor], "mfa"]


async def id_token(
    box: SecretBox, issuer: str, client: OidcClient, grant: AuthorizationCode | OidcRefreshToken
) -> str:
    from joserfc import jwt

    now = clock.now()
    claims: dict[str, Any] = {
        "iss": issuer,
        "sub": sub(grant.user),
        "aud": client.client_id,
        "iat": int(now.timestamp()),
        "exp": int((now + keys.ID_TOKEN_LIFETIME).timestamp()),
        "auth_time": int(grant.auth_time.timestamp()),
        "amr": methods(grant.second_factor),
        "acr": ACR_MFA if grant.second_factor in AMR else ACR_PWD,
    }
    nonce = getattr(grant, "nonce", "")  # a refreshed ID token carries none
    if nonce:
        claims["nonce"] = nonce
    if grant.sid:  # the session signed in with; a refreshed token keeps its first code's
        claims["sid"] = grant.sid
    claims.update(await user_claims(grant.user, grant.scopes.split()))
    key = await keys.signing_key(box, client.id_token_alg)
    return jwt.encode({"alg": client.id_token_alg, "kid": key.kid}, claims, key)


async def user_claims(user: User, scopes: list[str]) -> dict[str, Any]:
    claims: dict[str, Any] = {"sub": sub(user)}
    if "profile" in scopes:
        claims.update(
            preferred_username=user.username,
            name=user.display_name,
            given_name=user.first_name or None,
            family_name=user.last_name or None,
            zoneinfo=user.time_zone,
            locale=user.language or None,
            updated_at=_epoch(getattr(user, "updated_at", None)),
        )
    if "email" in scopes:
        claims.update(email=user.email, email_verified=True)
    if "phone" in scopes and user.mobile_phone:
        claims.update(phone_number=user.mobile_phone, phone_number_verified=False)
    if "groups" in scopes:
        claims["groups"] = list(await groups.names_of(user.id))
    return {name: value for name, value in claims.items() if value is not None}


def _epoch(moment: datetime | None) -> int | None:
    return int(moment.timestamp()) if moment else None
