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
from backend.infra import metrics, outbox
from backend.kernel import clock
from backend.kernel.secret_box import SecretBox

if TYPE_CHECKING:
    import httpx
    from standardwebhooks import Webhook

log = logging.getLogger("latchkey.webhooks")

TIMEOUT_SECONDS = 10
RETRIES = outbox.Retries(
    # The wait after the 1st, 2nd, ... failed attempt; then the last one again.
    waits=tuple(timedelta(seconds=s) for s in (5, 300, 1800, 7200, 18000, 36000, 36000)),
    give_up_after=timedelta(days=3),
    lease=timedelta(seconds=TIMEOUT_SECONDS * 6),
)
BATCH = 20


async def deliver_due(
    box: SecretBox, *, limit: int = BATCH, timeout_seconds: float = TIMEOUT_SECONDS
) -> int:
    """Attempt the due deliveries this worker claims, `limit` at a time, until a claim comes
    back short; how many were delivered."""
    claimed = await outbox.claim_due(WebhookDelivery, RETRIES, limit, "webhook")
    if not claimed:
        return 0
    import httpx  # loaded by the first worker that has something to send

    delivered = 0
    # One client for every batch: its connections to an endpoint are kept and reused.
    async with httpx.AsyncClient(follow_redirects=False, timeout=timeout_seconds) as client:
        while claimed:
            delivered += await _attempt_all(client, box, claimed)
            # A full batch: more may be due, and waiting for the next look would cap a
            # worker at one batch a second.
            more = len(claimed) == limit
            claimed = (
                await outbox.claim_due(WebhookDelivery, RETRIES, limit, "webhook") if more else []
            )
    return delivered


async def _attempt_all(
    client: httpx.AsyncClient, box: SecretBox, claimed: list[WebhookDelivery]
) -> int:
    ids = {delivery.endpoint_id for delivery in claimed}
    by_id = {e.id: e for e in await WebhookEndpoint.filter(id__in=ids, disabled_at=None)}
    return await _attempt_batch(
        client, box, [(by_id[d.endpoint_id], d) for d in claimed if d.endpoint_id in by_id]
    )


async def attempt(
    client: httpx.AsyncClient, box: SecretBox, endpoint: WebhookEndpoint, delivery: WebhookDelivery
) -> bool:
    """POST the delivery, signed; record the attempt and what comes next."""
    return await _attempt_batch(client, box, [(endpoint, delivery)]) == 1


async def _attempt_batch(
    client: httpx.AsyncClient,
    box: SecretBox,
    batch: list[tuple[WebhookEndpoint, WebhookDelivery]],
) -> int:
    """POST each delivery, signed, all at once; then record the attempts and the deliveries
    together (two statements for the batch, not two for each), and each failure's next try."""
    from standardwebhooks import Webhook

    # Opening a sealed secret is a decryption: once per endpoint, not once per delivery.
    signers = {e.id: Webhook(endpoints.secret_of(box, e)) for e, _ in batch}
    answers = await asyncio.gather(
        *(_post(client, signers[e.id], e, delivery) for e, delivery in batch)
    )
    await WebhookAttempt.bulk_create(
        [
            WebhookAttempt(delivery_id=delivery.id, at=at, status=status, error=error)
            for (_, delivery), (at, status, error) in zip(batch, answers, strict=True)
        ]
    )
    delivered = {
        delivery.id
        for (_, delivery), (_, status, _) in zip(batch, answers, strict=True)
        if status is not None and 200 <= status < 300
    }
    if delivered:
        await WebhookDelivery.filter(id__in=list(delivered)).update(
            delivered_at=clock.now(), next_attempt_at=None
        )
        for _ in delivered:
            metrics.outbox_delivery("webhook", "delivered")
    for (endpoint, delivery), (at, status, error) in zip(batch, answers, strict=True):
        if delivery.id not in delivered:
            await _after_failure(endpoint, delivery, at, status, error)
    return len(delivered)


async def _post(
    client: httpx.AsyncClient, signer: Webhook, endpoint: WebhookEndpoint, delivery: WebhookDelivery
) -> tuple[datetime, int | None, str]:
    """When the attempt was made, the answer's status (None when none came) and the error."""
    import httpx

    now = clock.now()
    headers = {
        "content-type": "application/json",
        "webhook-id": delivery.message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signer.sign(delivery.message_id, now, delivery.payload),
        "user-agent": "Latchkey-Webhooks",
    }
    try:
        answer = await client.post(endpoint.url, content=delivery.payload.encode(), headers=headers)
    except httpx.HTTPError as failure:
        return now, None, type(failure).__name__
    return now, answer.status_code, ""


async def _after_failure(
    endpoint: WebhookEndpoint,
    delivery: WebhookDelivery,
    now: datetime,
    status: int | None,
    error: str,
) -> None:
    answer = {"status": status, "error": error, "tries": delivery.attempts}
    extra = {"endpoint_id": endpoint.id, "webhook_id": delivery.message_id, **answer}
    next_attempt = RETRIES.next_attempt(delivery.attempts, delivery.created_at, now)
    metrics.outbox_delivery("webhook", "given_up" if next_attempt is None else "failed")
    if next_attempt is None:
        await WebhookDelivery.filter(id=delivery.id).update(given_up_at=now, next_attempt_at=None)
        await endpoints.disable(endpoint)
        log.error("webhook endpoint disabled: failing for three days", extra=extra)
        return
    await WebhookDelivery.filter(id=delivery.id).update(next_attempt_at=next_attempt)
    extra["retry_in_s"] = int((next_attempt - now).total_seconds())
    log.warning("webhook delivery failed; will retry", extra=extra)


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
