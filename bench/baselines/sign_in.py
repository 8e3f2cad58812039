"""The signIn mutation by hand, for the right password: the user by username, argon2id at
the product's parameters (argon2-cffi, on a worker thread so the event loop keeps serving),
a session row, the session cookie.

The product does more around the same hash: it reserves the attempt per address and per
account, records a security event and keeps the user's session count within its limit.
"""

from __future__ import annotations

import json
import os
import secrets
import unicodedata
from datetime import UTC, datetime

import argon2
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from backend.accounts.models import User
from backend.auth.sessions.models import Session
from bench.baselines.common import client_address, sha256_hex

COOKIE = "latchkey_session"
HASHER = argon2.PasswordHasher(
    memory_cost=int(os.environ.get("LATCHKEY_ARGON2_MEMORY_KIB", "19456")),
    time_cost=int(os.environ.get("LATCHKEY_ARGON2_TIME_COST", "2")),
    parallelism=int(os.environ.get("LATCHKEY_ARGON2_PARALLELISM", "1")),
)


async def sign_in(request: Request, body: bytes) -> Response:
    variables = json.loads(body).get("variables") or {}
    username, password = str(variables.get("u", "")), str(variables.get("p", ""))
    user = await User.get_or_none(
        username_key=unicodedata.normalize("NFKC", username).casefold(), disabled_at=None
    )
    if user is None or not await run_in_threadpool(
        _verify, user.password_hash, unicodedata.normalize("NFKC", password)
    ):
        return JSONResponse({"data": {"signIn": {"status": "INVALID_CREDENTIALS"}}})
    token = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    address = client_address(request)
    await Session.create(
        user_id=user.id,
        token_hash=sha256_hex(token),
        created_at=now,
        last_seen_at=now,
        ip_address=address[:45],
        user_agent=request.headers.get("user-agent", "")[:512],
        reauthenticated_at=now,
    )
    response = JSONResponse({"data": {"signIn": {"status": "SIGNED_IN"}}})
    response.set_cookie(COOKIE, token, path="/", httponly=True, samesite="lax")
    return response


def _verify(stored: str, password: str) -> bool:
    try:
        return HASHER.verify(stored, password)
    except argon2.exceptions.VerificationError:
        return False
