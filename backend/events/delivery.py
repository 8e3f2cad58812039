"""Sending deliveries: any worker claims the due ones with one statement, so each attempt
happens once across workers and hosts; a failed attempt waits longer each time, for three
days, and then the endpoint is disabled and the log says so."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from backend.events import emit, endpoints
from backend.events.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from backend.infra import hot_sql
from backend.kernel import clock
from backend.kernel.secret_box import SecretBox

if TYPE_CHECKING:
    import httpx

log = logging.getLogger("latchkey.webhooks")

TIMEOUT_SECONDS = 10
# The wait after the 1st, 2nd, ... failed attempt; then the last one again, until GIVE_UP.
RETRY_WAITS = tuple(
    timedelta(seconds=seconds) for seconds in (5, 300, 1800, 7200, 18000, 36000, 36000)
)
GIVE_UP_AFTER = timedelta(days=3)
# A claimed delivery is not due again for this long: a worker that dies mid-attempt leaves it
# to another after the lease, never to two at once.
LEASE = timedelta(seconds=TIMEOUT_SECONDS * 6)
BATCH = 20

_CLAIM = """
UPDATE webhook_deliveries SET attempts = attempts + 1, next_attempt_at = $1
WHERE id IN (
    SELECT id FROM webhook_deliveries WHERE next_attempt_at <= $2
    ORDER BY next_attempt_at, id LIMIT $3{lock}
)
RETURNING id, endpoint_id, message_id, type, payload, created_at, attempts
"""
# PostgreSQL: rows another worker is claiming are skipped, not waited for. SQLite runs one
# write at a time, so its UPDATE is the claim by itself.
_SKIP_LOCKED = {"postgres": " FOR UPDATE SKIP LOCKED"}


_ANY_DUE = "SELECT 1 AS due FROM webhook_deliveries WHERE next_attempt_at <= $1 LIMIT 1"


async def claim_due(limit: int = BATCH) -> list[WebhookDelivery]:
    now = clock.now()
    # A read first: the claim is a write, and on SQLite every write takes the database's
    # one write lock, even when it changes nothing.
    if not await hot_sql.fetch(WebhookDelivery, _ANY_DUE, [now]):
        return []
    dialect = hot_sql.client(WebhookDelivery).capabilities.dialect
    sql = _CLAIM.replace("{lock}", _SKIP_LOCKED.get(dialect, ""))
    rows = await hot_sql.fetch(WebhookDelivery, sql, [now + LEASE, now, limit])
    return [hot_sql.as_model(WebhookDelivery, row) for row in rows]


async def deliver_due(box: SecretBox, *, limit: int = BATCH) -> int:
    """Attempt every due delivery this worker claims; how many were delivered."""
    claimed = await claim_due(limit)
    if not claimed:
        return 0
    import httpx  # loaded by the first worker that has something to send

    ids = {delivery.endpoint_id for delivery in claimed}
    by_id = {e.id: e for e in await WebhookEndpoint.filter(id__in=ids, disabled_at=None)}
    async with httpx.AsyncClient(follow_redirects=False, timeout=TIMEOUT_SECONDS) as client:
        done = await asyncio.gather(
            *(
                attempt(client, box, by_id[delivery.endpoint_id], delivery)
                for delivery in claimed
                if delivery.endpoint_id in by_id
            )
        )
    return sum(done)


async def attempt(
    client: httpx.AsyncClient, box: SecretBox, endpoint: WebhookEndpoint, delivery: WebhookDelivery
) -> bool:
    """POST the delivery, signed; record the attempt and what comes next."""
    import httpx
    from standardwebhooks import Webhook

    now = clock.now()
    signature = Webhook(endpoints.secret_of(box, endpoint)).sign(
        delivery.message_id, now, delivery.payload
    )
    headers = {
        "content-type": "application/json",
        "webhook-id": delivery.message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
        "user-agent": "Latchkey-Webhooks",
    }
    status, error = None, ""
    try:
        answer = await client.post(endpoint.url, content=delivery.payload.encode(), headers=headers)
        status = answer.status_code
    except httpx.HTTPError as failure:
        error = type(failure).__name__
    await WebhookAttempt.create(delivery_id=delivery.id, at=now, status=status, error=error)
    if status is not None and 200 <= status < 300:
        await WebhookDelivery.filter(id=delivery.id).update(
            delivered_at=clock.now(), next_attempt_at=None
        )
        return True
    await _after_failure(endpoint, delivery, now, status, error)
    return False


async def _after_failure(
    endpoint: WebhookEndpoint,
    delivery: WebhookDelivery,
    now: datetime,
    status: int | None,
    error: str,
) -> None:
    answer = {"status": status, "error": error, "tries": delivery.attempts}
    extra = {"endpoint_id": endpoint.id, "webhook_id": delivery.message_id, **answer}
    if now - delivery.created_at >= GIVE_UP_AFTER:
        await WebhookDelivery.filter(id=delivery.id).update(given_up_at=now, next_attempt_at=None)
        await endpoints.disable(endpoint)
        log.error("webhook endpoint disabled: failing for three days", extra=extra)
        return
    wait = RETRY_WAITS[min(delivery.attempts, len(RETRY_WAITS)) - 1]
    await WebhookDelivery.filter(id=delivery.id).update(next_attempt_at=now + wait)
    log.warning(
        "webhook delivery failed; will retry", extra={**extra, "wait_s": int(wait.total_seconds())}
    )


async def send_test(box: SecretBox, endpoint: WebhookEndpoint) -> tuple[WebhookDelivery, bool]:
    """A webhook.test event for `endpoint`, attempted now; the workers retry it if it fails."""
    data = {"endpoint": {"id": str(endpoint.id)}}
    [sent] = await emit.write("webhook.test", data, [endpoint], claimed=True)
    import httpx

    async with httpx.AsyncClient(follow_redirects=False, timeout=TIMEOUT_SECONDS) as client:
        return sent, await attempt(client, box, endpoint, sent)


def state_of(delivery: WebhookDelivery) -> str:
    if delivery.delivered_at:
        return "delivered"
    if delivery.given_up_at:
        return "given up"
    return "retrying" if delivery.attempts else "due"
