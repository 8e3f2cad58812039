"""Who sent a request: a session cookie or an `Authorization: Bearer` token."""

from __future__ import annotations

import dataclasses

from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse, Response

from backend.auth.services import Services
from backend.auth.sessions import service as sessions
from backend.auth.sessions.identity import Identity
from backend.tokens import service as tokens


@dataclasses.dataclass(frozen=True)
class Rejected:
    """A credential was presented and is not valid: answer 401, never anonymously."""

    challenge: str

    def response(self) -> Response:
        return JSONResponse(
            {"errors": [{"message": "The access token is invalid, expired or revoked."}]},
            status_code=401,
            headers={"WWW-Authenticate": self.challenge, "Cache-Control": "no-store"},
        )


INVALID_TOKEN = Rejected('Bearer realm="latchkey", error="invalid_token"')


async def authenticate(request: HTTPConnection, services: Services) -> Identity | Rejected:
    """A bearer token when one is sent (never silently anonymous), else the session cookie."""
    authorization = request.headers.get("authorization")
    if authorization is None:
        return await authenticate_session(request, services)
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        return INVALID_TOKEN
    bearer = await tokens.access_token_bearer(credentials.strip())
    return Identity(user=bearer.user, scopes=bearer.scopes) if bearer else INVALID_TOKEN


async def authenticate_session(request: HTTPConnection, services: Services) -> Identity:
    """The session cookie alone: what the HTML pages accept."""
    token = request.cookies.get(services.settings.session_cookie_name, "")
    session = await sessions.resume(token, services.session_timeouts)
    if session is None:
        return Identity()
    return Identity(user=session.user, session=session, session_token=token)
