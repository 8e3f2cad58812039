"""OpenID Connect Back-Channel Logout 1.0: when someone ends a session, every application
that signed in through it and registered a back-channel logout URI is sent one logout token.

The token is owed in the transaction that ends the session: `owe_logout_tokens` is a
listener of backend/auth/sessions/ending.py, registered at start-up by
backend/app/wiring.py (auth cannot import this package). It is sent like a webhook: any
worker claims it (backend/infra/outbox.py), a failed attempt is retried with growing waits
for three days, and redirects are not followed. Each attempt signs a fresh token with the
key that signs the client's ID tokens then, so a retry is never an expired token.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from backend.auth.sessions.ending import EndedSession
from backend.events import delivery as webhooks
from backend.infra import metrics, outbox
from backend.kernel import clock
from backend.kernel.secret_box import SecretBox
from backend.oidc import claims, keys
from backend.oidc.models import BackchannelLogout, OidcClient, SessionClient

if TYPE_CHECKING:
    import httpx

log = logging.getLogger("latchkey.oidc.backchannel")

EVENT = "http://schemas.openid.net/event/backchannel-logout"
TOKEN_TYPE = "logout+jwt"
TOKEN_LIFETIME = timedelta(minutes=2)  # each attempt signs a new one
RETRIES = webhooks.RETRIES  # "delivered reliably like webhooks" (PRODUCT.md)
BATCH = 20
DELIVERED = (200, 204)  # what the specification asks of a relying party that logged out


async def owe_logout_tokens(ended: list[EndedSession]) -> None:
    """Inside the transaction that ends `ended`: one logout token for each application that
    signed in through one of them and hears of logouts."""
    user_of = {session.id: session.user_id for session in ended}
    signed_in = await SessionClient.filter(
        session_id__in=list(user_of), client__backchannel_logout_uri__not=""
    ).values_list("session_id", "client_id", "sid")
    if not signed_in:
        return
    now = clock.now()
    await BackchannelLogout.bulk_create(
        [
            BackchannelLogout(
                client_id=client_id,
                user_id=user_of[session_id],
                sid=sid,
                created_at=now,
                next_attempt_at=now,
            )
            for session_id, client_id, sid in signed_in
        ]
    )


def logout_token(key: Any, issuer: str, client: OidcClient, logout: BackchannelLogout) -> str:
    """The logout token (§2.4): like an ID token in who signs it and how, never a nonce."""
    from joserfc import jwt

    now = clock.now()
    token_claims = {
        "iss": issuer,
        "aud": client.client_id,
        "iat": int(now.timestamp()),
        "exp": int((now + TOKEN_LIFETIME).timestamp()),
        "jti": secrets.token_urlsafe(18),
        "sub": claims.sub_of(logout.user_id),
        "sid": logout.sid,
        "events": {EVENT: {}},
    }
    header = {"alg": client.id_token_alg, "kid": key.kid, "typ": TOKEN_TYPE}
    return jwt.encode(header, token_claims, key)


KIND = "backchannel_logout"  # in the metrics


async def deliver_due(
    box: SecretBox,
    issuer: str,
    *,
    limit: int = BATCH,
    timeout_seconds: float = webhooks.TIMEOUT_SECONDS,
) -> int:
    """Attempt the due logout tokens this worker claims, `limit` at a time, until a claim
    comes back short; how many were delivered."""
    claimed = await outbox.claim_due(BackchannelLogout, RETRIES, limit, KIND)
    if not claimed:
        return 0
    import httpx  # loaded by the first worker that has something to send

    delivered = 0
    # As for webhooks: one client for every batch, and a full batch is followed by another.
    async with httpx.AsyncClient(follow_redirects=False, timeout=timeout_seconds) as http:
        while claimed:
            delivered += await _attempt_all(http, box, issuer, claimed)
            more = len(claimed) == limit
            claimed = (
                await outbox.claim_due(BackchannelLogout, RETRIES, limit, KIND) if more else []
            )
    return delivered


async def _attempt_all(
    http: httpx.AsyncClient, box: SecretBox, issuer: str, claimed: list[BackchannelLogout]
) -> int:
    by_id = {c.id: c for c in await OidcClient.filter(id__in={row.client_id for row in claimed})}
    signing = {
        alg: await keys.signing_key(box, alg) for alg in {c.id_token_alg for c in by_id.values()}
    }
    done = await asyncio.gather(
        *(_attempt(http, signing, issuer, by_id.get(row.client_id), row) for row in claimed)
    )
    return sum(done)


async def _attempt(
    http: httpx.AsyncClient,
    signing: dict[str, Any],
    issuer: str,
    client: OidcClient | None,
    logout: BackchannelLogout,
) -> bool:
    import httpx

    now = clock.now()
    if client is None or not client.backchannel_logout_uri:  # no longer hears of logouts
        await BackchannelLogout.filter(id=logout.id).update(given_up_at=now, next_attempt_at=None)
        metrics.outbox_delivery(KIND, "given_up")
        return False
    token = logout_token(signing[client.id_token_alg], issuer, client, logout)
    status, error = None, ""
    try:
        answer = await http.post(
            client.backchannel_logout_uri,
            data={"logout_token": token},
            headers={"user-agent": "Latchkey-Backchannel-Logout"},
        )
        status = answer.status_code
    except httpx.HTTPError as failure:
        error = type(failure).__name__
    if status in DELIVERED:
        await BackchannelLogout.filter(id=logout.id).update(
            delivered_at=clock.now(), next_attempt_at=None, last_status=status, last_error=""
        )
        metrics.outbox_delivery(KIND, "delivered")
        return True
    await _after_failure(client, logout, now, status, error)
    return False


async def _after_failure(
    client: OidcClient,
    logout: BackchannelLogout,
    now: datetime,
    status: int | None,
    error: str,
) -> None:
    extra = {
        "client": client.name,
        "logout_id": logout.id,
        "status": status,
        "error": error,
        "tries": logout.attempts,
    }
    next_attempt = RETRIES.next_attempt(logout.attempts, logout.created_at, now)
    values: dict[str, Any] = {"last_status": status, "last_error": error}
    metrics.outbox_delivery(KIND, "given_up" if next_attempt is None else "failed")
    if next_attempt is None:
        await BackchannelLogout.filter(id=logout.id).update(
            given_up_at=now, next_attempt_at=None, **values
        )
        log.error("gave up on a back-channel logout: failing for three days", extra=extra)
        return
    await BackchannelLogout.filter(id=logout.id).update(next_attempt_at=next_attempt, **values)
    extra["retry_in_s"] = int((next_attempt - now).total_seconds())
    log.warning("back-channel logout failed; will retry", extra=extra)
