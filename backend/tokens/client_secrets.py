"""Checking a client's secret: API credentials at /oauth/token, service clients at introspect.

Client ids are not secret, so wrong secrets lock that client id only from the address
that sent them (and many from one address lock the address): a stranger never locks
the owner out. Attempts are reserved before the secret is checked.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

from backend.auth.throttle import service as throttle
from backend.auth.throttle.keys import client_address_key, client_secret_key
from backend.auth.throttle.models import ThrottleCounter
from backend.infra import hot_sql
from backend.kernel.client_info import ClientInfo
from backend.kernel.crypto import digest, same
from backend.tokens.format import Kind, is_well_formed


class HasSecretHash(Protocol):
    secret_hash: str


Client = TypeVar("Client", bound=HasSecretHash)


async def verify(
    client_id: str,
    secret: str,
    client: ClientInfo,
    *,
    find: Callable[[str], Awaitable[Client | None]],
    kind: Kind,
) -> Client | None:
    """The client whose secret this is, or None; RateLimited while the budget is spent."""
    per_client = client_secret_key(client_id, client)
    per_address = client_address_key(client)
    await throttle.reserve_all(
        [(per_address, throttle.PER_ADDRESS), (per_client, throttle.PER_ACCOUNT)]
    )
    found = await find(client_id)
    expected = found.secret_hash if found else digest("no such client")
    if not (same(digest(secret), expected) and is_well_formed(secret, kind)) or found is None:
        return None
    # The client's count starts afresh and the address gets its attempt back (only failures
    # use it up): in one trip on SQLite.
    await hot_sql.run_together(
        ThrottleCounter,
        [
            throttle.clear_statement(per_client),
            throttle.refund_statement(per_address, throttle.PER_ADDRESS),
        ],
        atomic=False,  # as two statements were: neither needs the other
    )
    return found
