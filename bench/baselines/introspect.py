"""POST /oauth/introspect by hand (RFC 7662), for a service client and an access token.

The service client authenticates as with the product: the counters of its address and of
the client are read (a lock refuses), its secret is compared by SHA-256 digest in constant
time, a failure is counted on both (locking at the same limits), a success clears the
client's count when it had failures, and its last use is written at most once a minute.
Then the access token by hash with its user, refresh token, API credential
and application; the user's group names; the same JSON fields.
"""

from __future__ import annotations

import hmac
import time
from datetime import UTC, datetime, timedelta

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from tortoise import Tortoise

from backend.accounts.models import Group
from backend.serviceclients.models import ServiceClient
from backend.tokens.models import AccessToken
from bench.baselines.common import (
    ACCESS_PREFIX,
    NO_STORE,
    basic_credentials,
    client_address,
    form_of,
    oauth_error,
    sha256_hex,
    sql,
    well_formed,
)

SERVICE_PREFIX = "lk_ss_"
LAST_USED_EVERY = timedelta(minutes=1)
PER_ADDRESS, PER_CLIENT = 50, 5  # failures before a lock
LOCK_MS = 30_000
ADMIN_SCOPES = frozenset({"admin:read", "admin:write"})


async def introspect(request: Request) -> Response:
    form = await form_of(request)
    presented = basic_credentials(request)
    if presented is None:
        return oauth_error("invalid_client", "Client authentication failed.", 401)
    client_id, secret = presented
    address = client_address(request)
    per_address, per_client = f"bench-ip:{address}", f"bench-sc:{client_id}:{address}"
    now_ms = int(time.time() * 1000)
    counters = await Tortoise.get_connection("default").execute_query_dict(
        sql(_COUNTERS), [per_address, per_client]
    )
    if any(row["locked_until_ms"] and row["locked_until_ms"] > now_ms for row in counters):
        return oauth_error("invalid_client", "Too many attempts.", 429)
    client = await ServiceClient.get_or_none(client_id=client_id)
    expected = client.secret_hash if client else sha256_hex("no such client")
    if (
        not hmac.compare_digest(sha256_hex(secret), expected)
        or not well_formed(secret, SERVICE_PREFIX)
        or client is None
    ):
        if not await _reserve(per_address, PER_ADDRESS) or not await _reserve(
            per_client, PER_CLIENT
        ):
            return oauth_error("invalid_client", "Too many attempts.", 429)
        return oauth_error("invalid_client", "Client authentication failed.", 401)
    if any(row["key"] == per_client and row["failures"] for row in counters):
        await Tortoise.get_connection("default").execute_query(sql(_CLEAR), [per_client])
    now = datetime.now(UTC)
    if client.last_used_at is None or now - client.last_used_at >= LAST_USED_EVERY:
        await ServiceClient.filter(id=client.id).update(last_used_at=now)

    token_secret = form.get("token", "")
    if not token_secret:
        return oauth_error("invalid_request", "The parameter token is missing.")
    token = None
    if well_formed(token_secret, ACCESS_PREFIX):
        token = (
            await AccessToken.filter(token_hash=sha256_hex(token_secret), expires_at__gt=now)
            .select_related("user", "refresh_token", "api_credential", "oidc_client")
            .first()
        )
    if (
        token is None
        or (token.refresh_token and token.refresh_token.revoked_at is not None)
        or token.user.disabled_at is not None
    ):
        return JSONResponse({"active": False}, headers=NO_STORE)
    user = token.user
    administrator = user.account_type == "ADMINISTRATOR"
    application = token.oidc_client.client_id if token.oidc_client else None
    client_of_token = token.api_credential.client_id if token.api_credential else application
    groups = await Group.filter(members__id=user.id).values_list("name", flat=True)
    body: dict[str, object] = {
        "active": True,
        "sub": str(user.id),
        "username": user.username,
        "token_type": "Bearer",
        "scope": " ".join(
            name for name in token.scopes.split() if administrator or name not in ADMIN_SCOPES
        ),
        "iat": int(token.created_at.timestamp()),
        "email": user.email,
        "name": " ".join(p for p in (user.first_name, user.last_name) if p) or user.username,
        "groups": sorted(groups),
        "account_type": user.account_type,
        "zoneinfo": user.time_zone,
    }
    if user.language:
        body["locale"] = user.language
    body["exp"] = int(token.expires_at.timestamp())
    if client_of_token:
        body["client_id"] = client_of_token
    if application:
        body["aud"] = application
    if token.oidc_sid:
        body["sid"] = token.oidc_sid
    return JSONResponse(body, headers=NO_STORE)


# $1 the key, $2 now (ms), $3 when a lock would end, $4 the failures that lock.
_RESERVE = """
INSERT INTO throttle_counters ("key", failures, locked_until_ms, updated_at_ms)
VALUES ($1, 1, NULL, $2)
ON CONFLICT ("key") DO UPDATE SET
    failures = throttle_counters.failures + 1,
    locked_until_ms = CASE WHEN throttle_counters.failures + 1 >= CAST($4 AS BIGINT)
        THEN CAST($3 AS BIGINT) ELSE NULL END,
    updated_at_ms = $2
WHERE throttle_counters.locked_until_ms IS NULL OR throttle_counters.locked_until_ms <= $2
RETURNING failures
"""
_CLEAR = 'DELETE FROM throttle_counters WHERE "key" = $1'
_COUNTERS = """
SELECT "key", failures, locked_until_ms FROM throttle_counters WHERE "key" IN ($1, $2)
"""


async def _reserve(key: str, limit: int) -> bool:
    """One attempt counted on `key`; False while it is locked."""
    now = int(time.time() * 1000)
    rows = await Tortoise.get_connection("default").execute_query_dict(
        sql(_RESERVE), [key, now, now + LOCK_MS, limit]
    )
    return bool(rows)
