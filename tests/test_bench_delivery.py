"""The delivery benchmark's machinery at a small size: what `make bench-delivery` counts must
be what arrived, each event once, each webhook with a signature the library accepts."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
from standardwebhooks import Webhook

from bench import delivery

SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def test_two_served_workers_deliver_every_queued_event_once_signed(database_url: str) -> None:
    result = delivery.run(database_url, 200, workers=2, mail_share=0.1, fresh=False, timeout=120)

    assert result.split == delivery.Split(webhooks=180, mail=20)
    assert not result.timed_out
    assert result.bad_signatures == 0
    assert len(result.webhook_ids) == 180
    assert set(result.webhook_ids.values()) == {1}
    assert result.recipients == {delivery._recipient(n): 1 for n in range(20)}
    # A second attempt follows only a failed one (a busy machine may fail one), never one
    # that delivered.
    assert result.attempts == 180 + result.failed_attempts.total()
    assert result.undelivered_rows == 0
    assert result.complete and result.duplicates == 0


def test_the_receiver_counts_only_deliveries_whose_signature_verifies() -> None:
    body = b'{"type":"webhook.test","timestamp":"2026-01-01T00:00:00Z","data":{}}'
    now = datetime.now(UTC)
    with delivery.receivers() as (hooks, _):
        hooks.trust(SECRET)
        for secret, expected in ((SECRET, 204), ("whsec_" + "A" * 32, 400)):
            headers = {
                "webhook-id": f"msg_{expected}",
                "webhook-timestamp": str(int(now.timestamp())),
                "webhook-signature": Webhook(secret).sign(f"msg_{expected}", now, body.decode()),
            }
            answer = httpx.post(hooks.url, content=body, headers=headers)
            assert answer.status_code == expected
    assert hooks.ids == {"msg_204": 1}
    assert hooks.bad_signatures == 1
