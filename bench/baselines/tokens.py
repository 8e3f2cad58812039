"""The viewer query and the refresh_token exchange, by hand.

- POST /graphql: the viewer query `{ viewer { username email tokens { name expiresAt } } }`
  for a bearer access token: the token with its user and refresh token, then the list.
- POST /oauth/token, grant_type=refresh_token: the refresh token by hash, its expiry and
  revocation, a new access token row (random secret, its hash stored), the OAuth JSON.
"""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from tortoise.expressions import Q

from backend.tokens.models import AccessToken, RefreshToken
from bench.baselines.common import (
    ACCESS_LIFETIME,
    ACCESS_PREFIX,
    NO_STORE,
    REFRESH_PREFIX,
    new_secret,
    sha256_hex,
)


async def viewer(request: Request) -> Response:
    scheme, _, secret = request.headers.get("authorization", "").partition(" ")
    if scheme != "Bearer" or not secret.startswith(ACCESS_PREFIX):
        return JSONResponse({"error": "invalid_token"}, status_code=401)
    token = (
        await AccessToken.filter(token_hash=sha256_hex(secret), expires_at__gt=datetime.now(UTC))
        .select_related("user", "refresh_token")
        .first()
    )
    if token is None or (token.refresh_token and token.refresh_token.revoked_at is not None):
        return JSONResponse({"error": "invalid_token"}, status_code=401)
    await request.body()  # read the query like /graphql would, but do not parse it
    listed = await RefreshToken.filter(user_id=token.user_id, revoked_at=None).order_by(
        "-created_at", "-id"
    )
    user = token.user
    body = {
        "data": {
            "viewer": {
                "username": user.username,
                "email": user.email,
                "tokens": [
                    {
                        "name": t.name,
                        "expiresAt": t.expires_at.isoformat() if t.expires_at else None,
                    }
                    for t in listed
                ],
            }
        }
    }
    return JSONResponse(body)


async def exchange(form: dict[str, str]) -> Response:
    secret = form.get("refresh_token", "")
    if form.get("grant_type") != "refresh_token" or not secret.startswith(REFRESH_PREFIX):
        return _invalid_grant()
    hashed = sha256_hex(secret)
    token = await RefreshToken.filter(Q(token_hash=hashed) | Q(previous_token_hash=hashed)).first()
    now = datetime.now(UTC)
    if token is None or token.revoked_at is not None:
        return _invalid_grant()
    ends = token.expires_at if token.token_hash == hashed else token.previous_valid_until
    if ends is not None and ends <= now or token.token_hash != hashed and ends is None:
        return _invalid_grant()
    lifetime = min(ACCESS_LIFETIME, ends - now) if ends else ACCESS_LIFETIME
    access = new_secret(ACCESS_PREFIX)
    await AccessToken.create(
        token_hash=sha256_hex(access),
        user_id=token.user_id,
        refresh_token_id=token.id,
        expires_at=now + lifetime,
        scopes=token.scopes,
    )
    body = {
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": int(lifetime.total_seconds()),
        "scope": token.scopes,
    }
    return JSONResponse(body, headers=NO_STORE)


def _invalid_grant() -> Response:
    return JSONResponse(
        {"error": "invalid_grant", "error_description": "The refresh token is not valid."},
        status_code=400,
        headers=NO_STORE,
    )
