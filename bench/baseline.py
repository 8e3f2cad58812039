"""The baselines: bare Starlette endpoints doing the hot paths' database work by hand.

Served by uvicorn like Latchkey itself: `uvicorn --factory bench.baseline:create_app`.
They use the models and the token hash format (SHA-256 hex of the secret) and nothing else
of the product: their own look-ups with ordinary Tortoise queries, their own checks, their
own answers. So a faster product does not make its baselines faster too.

- POST /graphql: the viewer query `{ viewer { username email tokens { name expiresAt } } }`
  for a bearer access token: the token with its user and refresh token, then the list.
- POST /oauth/token: the refresh_token grant: the refresh token by hash, its expiry and
  revocation, a new access token row (random secret, its hash stored), the OAuth JSON.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import zlib
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from tortoise.contrib.starlette import RegisterTortoise
from tortoise.expressions import Q

from backend.infra.database import tortoise_config
from backend.tokens.models import AccessToken, RefreshToken

ACCESS_PREFIX = "lk_at_"
REFRESH_PREFIX = "lk_rt_"
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
ACCESS_LIFETIME = timedelta(seconds=int(os.environ.get("LATCHKEY_ACCESS_TOKEN_SECONDS", "300")))
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def viewer(request: Request) -> Response:
    scheme, _, secret = request.headers.get("authorization", "").partition(" ")
    if scheme != "Bearer" or not secret.startswith(ACCESS_PREFIX):
        return JSONResponse({"error": "invalid_token"}, status_code=401)
    token = (
        await AccessToken.filter(token_hash=_hash(secret), expires_at__gt=datetime.now(UTC))
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


async def exchange(request: Request) -> Response:
    form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
    secret = form.get("refresh_token", "")
    if form.get("grant_type") != "refresh_token" or not secret.startswith(REFRESH_PREFIX):
        return _invalid_grant()
    hashed = _hash(secret)
    token = await RefreshToken.filter(Q(token_hash=hashed) | Q(previous_token_hash=hashed)).first()
    now = datetime.now(UTC)
    if token is None or token.revoked_at is not None:
        return _invalid_grant()
    ends = token.expires_at if token.token_hash == hashed else token.previous_valid_until
    if ends is not None and ends <= now or token.token_hash != hashed and ends is None:
        return _invalid_grant()
    lifetime = min(ACCESS_LIFETIME, ends - now) if ends else ACCESS_LIFETIME
    access = _new_access_secret()
    await AccessToken.create(
        token_hash=_hash(access),
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


def _new_access_secret() -> str:
    # As the product's tokens look: a prefix, 32 random base62 characters, a checksum.
    body = ACCESS_PREFIX + "".join(secrets.choice(ALPHABET) for _ in range(32))
    value, checksum = zlib.crc32(body.encode()), ""
    for _ in range(6):
        value, remainder = divmod(value, 62)
        checksum = ALPHABET[remainder] + checksum
    return body + checksum


def _invalid_grant() -> Response:
    return JSONResponse(
        {"error": "invalid_grant", "error_description": "The refresh token is not valid."},
        status_code=400,
        headers=NO_STORE,
    )


def create_app() -> Starlette:
    url = os.environ["LATCHKEY_DATABASE_URL"]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        async with RegisterTortoise(app, config=tortoise_config(url)):
            yield

    routes = [
        Route("/graphql", viewer, methods=["POST"]),
        Route("/oauth/token", exchange, methods=["POST"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)
