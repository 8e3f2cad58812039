"""POST /oauth/token, grant_type=authorization_code, by hand (OpenID Connect Core §3.1.3).

The client by id and its secret by SHA-256 digest (HTTP Basic); the code by the digest of
its value, with its user; the client and redirect URI it was made for; PKCE S256; the code
marked used in one conditional update (a second use revokes what the first gave); the
session it was issued in still signed in to the client; a new access token row, an ES256
ID token with the same claims signed with joserfc, and a refresh token row when the code
asked for offline_access.

The signing key is the product's own, read from the database and decrypted once at start-
up (AES-GCM under a key derived from LATCHKEY_SECRET_KEY, as the product seals it).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from joserfc import jwt
from joserfc.jwk import JWKRegistry
from starlette.responses import JSONResponse, Response

from backend.accounts.models import Group
from backend.oidc.models import (
    AuthorizationCode,
    OidcClient,
    OidcRefreshToken,
    SessionClient,
    SigningKey,
)
from backend.tokens.models import AccessToken
from bench.baselines.common import (
    ACCESS_LIFETIME,
    ACCESS_PREFIX,
    NO_STORE,
    new_secret,
    oauth_error,
    sha256_hex,
)

ISSUER = os.environ.get("LATCHKEY_PUBLIC_URL", "http://localhost:8000").rstrip("/")
ID_TOKEN_LIFETIME = timedelta(hours=1)
REFRESH_LIFETIME = timedelta(days=30)
ACR_PWD = "urn:latchkey:acr:pwd"


class Keys:
    """The ES256 signing key, loaded once per worker."""

    es256: Any = None

    @classmethod
    async def load(cls) -> None:
        row = await SigningKey.get_or_none(signing_for="ES256")
        if row is None:  # the product makes it at its first start
            return
        cls.es256 = JWKRegistry.import_key(json.loads(_unseal(row.sealed_jwk, row.kid)))


def _unseal(sealed: str, kid: str) -> str:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"latchkey totp secret v1"
    ).derive(os.environ["LATCHKEY_SECRET_KEY"].encode())
    raw = base64.urlsafe_b64decode(sealed.partition(":")[2])
    return AESGCM(key).decrypt(raw[:12], raw[12:], f"signing-key:{kid}".encode()).decode()


async def exchange_code(form: dict[str, str], presented: tuple[str, str] | None) -> Response:
    if presented is None:
        return oauth_error("invalid_client", "Client authentication failed.", 401)
    client_id, secret = presented
    client = await OidcClient.get_or_none(client_id=client_id)
    if (
        client is None
        or client.secret_hash is None
        or not hmac.compare_digest(client.secret_hash, sha256_hex(secret))
    ):
        return oauth_error("invalid_client", "Client authentication failed.", 401)
    code = (
        await AuthorizationCode.filter(code_hash=sha256_hex(form.get("code", "")))
        .select_related("user")
        .first()
    )
    verifier = form.get("code_verifier", "")
    if (
        code is None
        or code.client_id != client.id
        or code.redirect_uri != form.get("redirect_uri", "")
        or (code.code_challenge and not hmac.compare_digest(code.code_challenge, _s256(verifier)))
        or (not code.code_challenge and verifier)
    ):
        return _invalid_grant()
    now = datetime.now(UTC)
    grant = secrets.token_hex(16)
    used = await AuthorizationCode.filter(id=code.id, used_at=None, expires_at__gt=now).update(
        used_at=now, grant=grant
    )
    if used != 1:
        spent = await AuthorizationCode.get_or_none(id=code.id)
        if spent is not None and spent.grant:
            await AccessToken.filter(oidc_grant=spent.grant).delete()
            await OidcRefreshToken.filter(family=spent.grant, revoked_at=None).update(
                revoked_at=now
            )
        return _invalid_grant()
    if (
        code.session_id is None
        or not await SessionClient.filter(session_id=code.session_id, client_id=client.id).exists()
    ):
        return _invalid_grant()
    access = new_secret(ACCESS_PREFIX)
    await AccessToken.create(
        token_hash=sha256_hex(access),
        user_id=code.user_id,
        oidc_client_id=client.id,
        oidc_grant=grant,
        oidc_sid=code.sid or None,
        expires_at=now + ACCESS_LIFETIME,
        scopes=code.scopes,
    )
    body: dict[str, object] = {
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": int(ACCESS_LIFETIME.total_seconds()),
        "scope": code.scopes,
        "id_token": await _id_token(client, code, now),
    }
    if "offline_access" in code.scopes.split():
        refresh = secrets.token_urlsafe(32)
        await OidcRefreshToken.create(
            family=grant,
            token_hash=sha256_hex(refresh),
            client_id=client.id,
            user_id=code.user_id,
            scopes=code.scopes,
            auth_time=code.auth_time,
            second_factor=code.second_factor,
            sid=code.sid,
            expires_at=now + REFRESH_LIFETIME,
        )
        body["refresh_token"] = refresh
    return JSONResponse(body, headers=NO_STORE)


async def _id_token(client: OidcClient, code: AuthorizationCode, now: datetime) -> str:
    user, scopes = code.user, code.scopes.split()
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "sub": str(user.id),
        "aud": client.client_id,
        "iat": int(now.timestamp()),
        "exp": int((now + ID_TOKEN_LIFETIME).timestamp()),
        "auth_time": int(code.auth_time.timestamp()),
        "amr": ["pwd"],
        "acr": ACR_PWD,
    }
    if code.nonce:
        claims["nonce"] = code.nonce
    if code.sid:
        claims["sid"] = code.sid
    if "profile" in scopes:
        claims["preferred_username"] = user.username
        claims["name"] = (
            " ".join(p for p in (user.first_name, user.last_name) if p) or user.username
        )
        if user.first_name:
            claims["given_name"] = user.first_name
        if user.last_name:
            claims["family_name"] = user.last_name
        claims["zoneinfo"] = user.time_zone
        if user.language:
            claims["locale"] = user.language
    if "email" in scopes:
        claims.update(email=user.email, email_verified=True)
    if "phone" in scopes and user.mobile_phone:
        claims.update(phone_number=user.mobile_phone, phone_number_verified=False)
    if "groups" in scopes:
        claims["groups"] = sorted(
            await Group.filter(members__id=user.id).values_list("name", flat=True)
        )
    key = Keys.es256
    return jwt.encode({"alg": "ES256", "kid": key.kid}, claims, key)


def _s256(verifier: str) -> str:
    if not 43 <= len(verifier) <= 128:
        return ""
    hashed = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(hashed).rstrip(b"=").decode()


def _invalid_grant() -> Response:
    return oauth_error("invalid_grant", "The code is invalid, used, expired or not this client's.")
