"""Who a request acts for: a session, a bearer token's owner, or nobody."""

from __future__ import annotations

import dataclasses

from backend.accounts.models import User
from backend.auth.sessions.models import Session


@dataclasses.dataclass
class Identity:
    """How the request authenticated: a session cookie, a bearer token, or not at all."""

    user: User | None = None
    session: Session | None = None
    session_token: str = ""
    # What a bearer token may do; None for a session or nobody, which scopes do not limit.
    scopes: frozenset[str] | None = None
