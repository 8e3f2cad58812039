"""The operator's webhook endpoints: registered from the command line, with a signing
secret shown once and kept sealed with the secret key."""

from __future__ import annotations

import base64
import secrets
from urllib.parse import urlsplit

from backend.events.catalog import UnknownPattern, parse_patterns
from backend.events.models import WebhookDelivery, WebhookEndpoint
from backend.kernel import clock
from backend.kernel.errors import DomainError, NotFound
from backend.kernel.i18n import N_
from backend.kernel.secret_box import SecretBox


def sealed_for(endpoint_id: int) -> str:
    return f"webhook:{endpoint_id}"


async def create(
    box: SecretBox, url: str, events: str | None = None, description: str = ""
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its signing secret (`whsec_` and 32 random bytes in base64)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DomainError("VALIDATION_FAILED", N_("Give an http:// or https:// URL."), "url")
    try:
        patterns = parse_patterns(events)
    except UnknownPattern as unknown:
        raise DomainError(
            "VALIDATION_FAILED",
            N_("{pattern} selects no event type."),
            "events",
            pattern=unknown.pattern,
        ) from None
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    endpoint = await WebhookEndpoint.create(
        url=url, events=",".join(patterns), description=description, sealed_secret=""
    )
    endpoint.sealed_secret = box.seal(secret, bound_to=sealed_for(endpoint.id))
    await endpoint.save(update_fields=["sealed_secret"])
    return endpoint, secret


def secret_of(box: SecretBox, endpoint: WebhookEndpoint) -> str:
    return box.open(endpoint.sealed_secret, bound_to=sealed_for(endpoint.id))


async def listed() -> list[WebhookEndpoint]:
    return await WebhookEndpoint.all().order_by("id")


async def find(endpoint_id: str) -> WebhookEndpoint:
    endpoint = None
    if endpoint_id.isdigit() and len(endpoint_id) < 19:
        endpoint = await WebhookEndpoint.get_or_none(id=int(endpoint_id))
    if endpoint is None:
        raise NotFound("id")
    return endpoint


async def remove(endpoint_id: str) -> None:
    """The endpoint and its deliveries go; nothing more is sent to it."""
    endpoint = await find(endpoint_id)
    await endpoint.delete()


async def recent_deliveries(endpoint: WebhookEndpoint, limit: int = 50) -> list[WebhookDelivery]:
    return (
        await WebhookDelivery.filter(endpoint_id=endpoint.id)
        .order_by("-id")
        .limit(limit)
        .prefetch_related("attempt_log")
    )


async def disable(endpoint: WebhookEndpoint) -> None:
    await WebhookEndpoint.filter(id=endpoint.id, disabled_at=None).update(disabled_at=clock.now())
