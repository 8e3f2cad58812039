"""Who sent a request: a session cookie or an `Authorization: Bearer` token."""

from __future__ import annotations

import dataclasses

from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse, Response

from backend.api.context import Identity
from backend.services import Services
from backend.sessions import service as sessions


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


async def authenticate(request: HTTPConnection, services: Services) -> Identity | Rejected:
    authorization = request.headers.get("authorization")
    if authorization is not None:
        return Rejected('Bearer error="invalid_token"')
    return await authenticate_session(request, services)


async def authenticate_session(request: HTTPConnection, services: Services) -> Identity:
    """The session cookie alone: what the HTML pages accept."""
    token = request.cookies.get(services.settings.session_cookie_name, "")
    session = await sessions.resume(token, services.session_timeouts)
    if session is None:
        return Identity()
    return Identity(user=session.user, session=session, session_token=token)
