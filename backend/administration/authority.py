"""Who may act as an administrator, and how they proved it.

An administrator acts through their own session, re-authenticated like any sensitive
change (the session's stamp: password, and second factor with two-factor authentication
on), or through a bearer token with `admin:write` for what a provisioning script needs.
Whether the account is an administrator's is read from the database with every request
(the session's or the token's user row), so a demotion takes effect at once.
"""

from __future__ import annotations

import dataclasses

from backend.accounts.models import User
from backend.auth import reauthentication
from backend.auth.services import Services
from backend.auth.sessions.models import Session
from backend.kernel.client_info import ClientInfo
from backend.kernel.errors import DomainError
from backend.kernel.i18n import N_
from backend.tokens import scopes


@dataclasses.dataclass(frozen=True)
class Actor:
    """Who acts: an account (with its session, or a bearer token's scopes), or None for an
    operator's command on the server, which the server's own access vouches for."""

    user: User | None
    session: Session | None = None
    scopes: frozenset[str] | None = None  # a bearer token's; None for a session
    client: ClientInfo = dataclasses.field(default_factory=ClientInfo)

    @property
    def name(self) -> str:
        """The administrator's username as the user's log and notices name them."""
        return self.user.username if self.user else ""


COMMAND_LINE = Actor(None)


class Forbidden(DomainError):
    def __init__(self) -> None:
        super().__init__("FORBIDDEN", N_("Only an administrator may do this."))


def require_administrator(actor: Actor) -> None:
    """FORBIDDEN unless the account acting is a working administrator's."""
    if actor.user is not None and not actor.user.is_administrator:
        raise Forbidden()


async def authorize(services: Services, actor: Actor, *, token_may: bool) -> None:
    """Raise unless `actor` may make an administrator's change now.

    An administrator's session must be re-authenticated (REAUTHENTICATION_REQUIRED,
    OTP_REQUIRED). A bearer token needs `admin:write`, and only for the changes a script
    may make (`token_may`); the others need a session (INSUFFICIENT_SCOPE).
    """
    require_administrator(actor)
    if actor.user is None:
        return
    if actor.session is None:
        if not token_may or scopes.ADMIN_WRITE not in (actor.scopes or frozenset()):
            raise reauthentication.token_refused()
        return
    try:
        await reauthentication.require(services, actor.user, actor.session)
    except DomainError as error:
        # The input has no password or code field to point at: the session is at fault.
        raise DomainError.of(
            [dataclasses.replace(problem, field=None) for problem in error.problems]
        ) from None
