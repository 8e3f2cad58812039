"""What every resolver gets: the services, who is asking, and a response to set cookies on."""

from __future__ import annotations

import dataclasses

from starlette.responses import Response

from backend.accounts.models import User
from backend.client import ClientInfo
from backend.errors import DomainError
from backend.server.cookies import clear_session_cookie, set_device_cookie, set_session_cookie
from backend.services import Services
from backend.sessions.models import Session


@dataclasses.dataclass
class Identity:
    """How the request authenticated: a session cookie, a bearer token, or not at all."""

    user: User | None = None
    session: Session | None = None
    session_token: str = ""


@dataclasses.dataclass
class Context:
    services: Services
    identity: Identity
    client: ClientInfo
    # Strawberry's sub-response under /graphql; a plain header carrier for in-process calls.
    response: Response
    # The signed "remember this device" cookie the browser sent, if any.
    device_cookie: str = ""

    @property
    def viewer(self) -> User | None:
        return self.identity.user

    def require_viewer(self) -> User:
        """The signed-in user; raises UNAUTHENTICATED (a userError) for anonymous requests."""
        if self.identity.user is None:
            raise DomainError("UNAUTHENTICATED", "Sign in first.")
        return self.identity.user

    def start_session(self, user: User, session: Session, token: str) -> None:
        self.identity = Identity(user=user, session=session, session_token=token)
        set_session_cookie(self.response, self.services.settings, token)

    def remember_device(self, cookie: str) -> None:
        set_device_cookie(self.response, self.services.settings, cookie)

    def end_session(self) -> None:
        self.identity = Identity()
        clear_session_cookie(self.response, self.services.settings)
