"""What every resolver gets: the services, who is asking, and a record of cookie-worthy events."""

from __future__ import annotations

import dataclasses

from backend.accounts.models import User
from backend.api.outcome import SessionOutcome
from backend.auth.services import Services
from backend.auth.sessions.identity import Identity
from backend.auth.sessions.models import Session
from backend.kernel import i18n
from backend.kernel.client_info import ClientInfo
from backend.kernel.errors import DomainError


@dataclasses.dataclass
class Context:
    services: Services
    identity: Identity
    client: ClientInfo
    # Sessions started or ended and devices remembered; the edge answering sets the cookies.
    outcome: SessionOutcome = dataclasses.field(default_factory=SessionOutcome)
    # The signed "remember this device" cookie the browser sent, if any.
    device_cookie: str = ""
    # The cookie of a browser that signed in before, if any: a throttle of its own.
    known_browser: str = ""
    # The request's Accept-Language: the messages' language until the user picks one.
    accept_language: str = ""
    # The account's choice when known before its session starts (the second sign-in step).
    account_language: str | None = None

    @property
    def language(self) -> str:
        user = self.identity.user
        return i18n.choose(user.language if user else self.account_language, self.accept_language)

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
        self.outcome.session_started(token)

    def remember_device(self, cookie: str) -> None:
        self.outcome.device_remembered(cookie)

    def end_session(self) -> None:
        self.identity = Identity()
        self.outcome.session_ended()
