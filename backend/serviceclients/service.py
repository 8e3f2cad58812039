"""Create, list, remove and authenticate service clients.

Users' API credentials speak for a user; a service client speaks for a platform service
and is the only kind of client that may ask what a token is (RFC 7662 introspection).
"""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta

from tortoise.exceptions import IntegrityError

from backend.kernel import clock
from backend.kernel.client_info import ClientInfo
from backend.kernel.crypto import digest
from backend.kernel.errors import DomainError, NotFound
from backend.kernel.text import can_name
from backend.serviceclients.models import ServiceClient
from backend.tokens import client_secrets
from backend.tokens.format import Kind, generate, new_client_id

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
CLIENT_ID_PREFIX = "lk_sc_"
# Writing last_used_at on every introspection would make each one a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclasses.dataclass(frozen=True)
class CreatedServiceClient:
    client: ServiceClient
    secret: str  # shown to the operator once, never stored


class ServiceClientRefused(Exception):
    """Unknown client id or wrong secret (`invalid_client`)."""


async def create(name: str) -> CreatedServiceClient:
    if not NAME.fullmatch(name):
        raise DomainError(
            "VALIDATION_FAILED",
            "Name the service client with 1 to 64 letters, digits, dots, dashes or "
            "underscores, starting with a letter or digit.",
            "name",
        )
    secret = generate(Kind.SERVICE_SECRET)
    try:
        client = await ServiceClient.create(
            name=name, client_id=new_client_id(CLIENT_ID_PREFIX), secret_hash=digest(secret)
        )
    except IntegrityError:
        raise DomainError(
            "CONFLICT", "A service client named {name} exists.", "name", name=name
        ) from None
    return CreatedServiceClient(client, secret)


async def list_all() -> list[ServiceClient]:
    return await ServiceClient.all().order_by("name")


async def remove(name: str) -> None:
    """Its secret stops working at once, on every worker."""
    # A name too long for the column names no client (and Tortoise would raise).
    if (
        not can_name(ServiceClient, "name", name)
        or not await ServiceClient.filter(name=name).delete()
    ):
        raise NotFound("name")


async def authenticate(client_id: str, secret: str, client: ClientInfo) -> ServiceClient:
    """The service client this secret belongs to; ServiceClientRefused otherwise."""
    found = await client_secrets.verify(
        client_id,
        secret,
        client,
        find=lambda wanted: ServiceClient.get_or_none(client_id=wanted),
        kind=Kind.SERVICE_SECRET,
    )
    if found is None:
        raise ServiceClientRefused
    now = clock.now()
    if found.last_used_at is None or now - found.last_used_at >= LAST_USED_RESOLUTION:
        await ServiceClient.filter(id=found.id).update(last_used_at=now)
    return found
