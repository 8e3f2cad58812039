"""Text messages through an HTTP webhook, so any SMS gateway can be plugged in.

The webhook gets `POST {"to": "+14155552671", "text": "..."}`; when a shared secret is
configured it arrives in the `X-Latchkey-Webhook-Secret` header.
"""

from __future__ import annotations

import logging

from backend.infra import metrics

log = logging.getLogger("latchkey.sms")

SECRET_HEADER = "X-Latchkey-Webhook-Secret"


class SmsDeliveryFailed(RuntimeError):
    pass


class SmsSender:
    def __init__(self, webhook_url: str, webhook_secret: str = "") -> None:
        self.webhook_url = webhook_url
        self.webhook_secret = webhook_secret

    async def send(self, to: str, text: str) -> None:
        if not self.webhook_url:
            log.warning("SMS not sent (no webhook); to=%s\n%s", to, text)
            return
        import httpx  # about 5 MB, for the few workers that ever send a text message

        headers = {SECRET_HEADER: self.webhook_secret} if self.webhook_secret else {}
        try:
            async with httpx.AsyncClient(timeout=10) as client:
                response = await client.post(
                    self.webhook_url, json={"to": to, "text": text}, headers=headers
                )
                response.raise_for_status()
        except httpx.HTTPError as error:
            # Not retried: the person asking for the code asks again.
            metrics.outbox_delivery("sms", "given_up")
            raise SmsDeliveryFailed(f"the SMS webhook failed: {type(error).__name__}") from None
        metrics.outbox_delivery("sms", "delivered")
