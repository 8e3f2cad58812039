"""Which applications signed in through which Latchkey session, and the session's `sid`.

The `sid` of OpenID Connect names a session to the applications without letting anyone use
it: a keyed digest of the session's row id, so every application of one session hears the
same value, and neither the cookie nor the row id can be read back from it.
"""

from __future__ import annotations

from backend.infra import hot_sql
from backend.kernel import clock
from backend.kernel.crypto import keyed_digest
from backend.oidc.models import SessionClient

SID_PURPOSE = "oidc-sid"

# Once per session and application: a second sign-in through the same session is the same.
_REMEMBER = """
INSERT INTO oidc_session_clients (session_id, client_id, sid, created_at)
VALUES ($1, $2, $3, $4)
ON CONFLICT (session_id, client_id) DO NOTHING
"""
_SIGNED_IN = "SELECT 1 FROM oidc_session_clients WHERE session_id = $1 AND client_id = $2"


def sid_of(secret_key: str, session_id: int) -> str:
    return keyed_digest(secret_key, SID_PURPOSE, str(session_id))[:32]


async def remember(session_id: int, client_id: int, sid: str) -> None:
    """The application signed in through the session (a code was issued to it)."""
    await hot_sql.execute(SessionClient, _REMEMBER, [session_id, client_id, sid, clock.now()])


async def signed_in(session_id: int | None, client_id: int) -> bool:
    """Whether the session the application signed in through is still going."""
    if session_id is None:
        return False
    return bool(await hot_sql.fetch(SessionClient, _SIGNED_IN, [session_id, client_id]))
