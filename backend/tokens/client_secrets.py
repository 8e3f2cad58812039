"""Checking a client's secret: API credentials at /oauth/token, service clients at introspect.

Client ids are not secret, so wrong secrets lock that client id only from the address
that sent them (and many from one address lock the address): a stranger never locks
the owner out.

Unlike a password, a client secret is not reserved for before it is compared: a service
sends its requests in parallel, and each one in flight would hold one of the client's
five attempts, so its sixth concurrent request would be refused. A right secret reads
the locks and counts nothing; a wrong one is counted after the comparison by the same
atomic statement, which refuses once the budget is spent, so a burst still gets at most
the budget of `invalid_client` answers. What this gives up: a burst has more secrets
compared than the budget. A client secret is 190 random bits, which no number of
comparisons finds; the password and the codes, which a burst could find, reserve first.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

from backend.auth.throttle import service as throttle
from backend.auth.throttle.keys import client_address_key, client_secret_key
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
    failures = await throttle.failures_unless_locked([per_address, per_client])
    found = await find(client_id)
    expected = found.secret_hash if found else digest("no such client")
    if not (same(digest(secret), expected) and is_well_formed(secret, kind)) or found is None:
        await throttle.reserve_all(
            [(per_address, throttle.PER_ADDRESS), (per_client, throttle.PER_ACCOUNT)]
        )
        return None
    if per_client in failures:  # earlier wrong secrets stop counting (no write otherwise)
        await throttle.clear_unless_locked(per_client)
    return found
