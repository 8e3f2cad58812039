"""GET /auth/forward by hand: a reverse proxy's sub-request, with a session cookie or a
bearer access token.

The session or token by the SHA-256 of its secret with its user (live, the account not
disabled), then the user's group names, then the identity headers the product sends, with
the same names and values. A session's last use is written at most once a minute, as the
product does; a bearer token is never written.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from backend.accounts.models import Group
from backend.auth.sessions.models import Session
from backend.tokens.models import AccessToken
from bench.baselines.common import ACCESS_PREFIX, sha256_hex, well_formed

COOKIE = "latchkey_session"
IDLE = timedelta(seconds=int(os.environ.get("LATCHKEY_SESSION_IDLE_SECONDS", "3600")))
ABSOLUTE = timedelta(seconds=int(os.environ.get("LATCHKEY_SESSION_ABSOLUTE_SECONDS", "43200")))
LAST_SEEN_EVERY = timedelta(minutes=1)
ADMIN_SCOPES = frozenset({"admin:read", "admin:write"})
LANGUAGES = ("en", "ja")
SIGN_IN = os.environ.get("LATCHKEY_PUBLIC_URL", "http://localhost:8000").rstrip("/") + "/login"
# Printable ASCII but `%` stays as it is; `,` too, except inside a group's name.
KEPT = "".join(chr(c) for c in range(0x20, 0x7F) if chr(c) != "%")
KEPT_IN_A_LIST = KEPT.replace(",", "")


async def forward(request: Request) -> Response:
    authorization = request.headers.get("authorization")
    now = datetime.now(UTC)
    if authorization is None:
        cookie = request.cookies.get(COOKIE)
        if not cookie:
            return _unauthenticated(request)
        session = (
            await Session.filter(
                token_hash=sha256_hex(cookie),
                last_seen_at__gte=now - IDLE,
                created_at__gte=now - ABSOLUTE,
                user__disabled_at=None,
            )
            .select_related("user")
            .first()
        )
        if session is None:
            return _unauthenticated(request)
        stale = now - LAST_SEEN_EVERY
        if session.last_seen_at <= stale:
            await Session.filter(id=session.id, last_seen_at__lte=stale).update(last_seen_at=now)
        user, method, scopes = session.user, "session", ""
    else:
        scheme, _, secret = authorization.strip().partition(" ")
        secret = secret.strip()
        if scheme.lower() != "bearer" or not well_formed(secret, ACCESS_PREFIX):
            return _unauthenticated(request, invalid=True)
        token = (
            await AccessToken.filter(
                token_hash=sha256_hex(secret), expires_at__gt=now, user__disabled_at=None
            )
            .select_related("user", "refresh_token")
            .first()
        )
        if token is None or (token.refresh_token and token.refresh_token.revoked_at is not None):
            return _unauthenticated(request, invalid=True)
        user, method = token.user, "bearer"
        administrator = user.account_type == "ADMINISTRATOR"
        scopes = " ".join(
            name for name in token.scopes.split() if administrator or name not in ADMIN_SCOPES
        )
    groups = await Group.filter(members__id=user.id).order_by("name").values_list("name", flat=True)
    name = " ".join(part for part in (user.first_name, user.last_name) if part) or user.username
    headers = {
        "X-Latchkey-User": quote(user.username, safe=KEPT),
        "X-Latchkey-User-Id": str(user.id),
        "X-Latchkey-Email": quote(user.email, safe=KEPT),
        "X-Latchkey-Name": quote(name, safe=KEPT),
        "X-Latchkey-Groups": ",".join(quote(group, safe=KEPT_IN_A_LIST) for group in groups),
        "X-Latchkey-Account-Type": user.account_type,
        "X-Latchkey-Language": _language(user.language, request.headers.get("accept-language")),
        "X-Latchkey-Auth": method,
        "X-Latchkey-Scopes": scopes,
    }
    return Response(status_code=200, headers=headers)


def _language(chosen: str | None, accept_language: str | None) -> str:
    if chosen in LANGUAGES:
        return chosen
    best = (0.0, "en")
    for item in (accept_language or "").split(",")[:20]:
        tag, _, parameters = item.strip().partition(";")
        quality = 1.0
        if parameters.strip().startswith("q="):
            try:
                quality = float(parameters.strip()[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().split("-")[0].lower()
        if primary in LANGUAGES and quality > best[0]:
            best = (quality, primary)
    return best[1]


def _unauthenticated(request: Request, *, invalid: bool = False) -> Response:
    login = SIGN_IN
    original = request.headers.get("x-original-url")
    if original:
        login += "?" + urlencode({"next": original})
    challenge = 'Bearer realm="latchkey"'
    if invalid:
        challenge += ', error="invalid_token"'
    error = "invalid_token" if invalid else "unauthenticated"
    return JSONResponse(
        {"error": error, "error_description": "Sign in first.", "sign_in": login},
        status_code=401,
        headers={"WWW-Authenticate": challenge, "X-Latchkey-Login": login},
    )
