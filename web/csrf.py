"""CSRF protection for the page's forms.

A random value lives in an HttpOnly, SameSite=Strict cookie; forms and htmx requests
carry its HMAC. Cross-site requests are refused by Fetch Metadata and Origin as well.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

from backend.infra.config import Settings
from backend.kernel.crypto import keyed_digest, random_token, same

FIELD = "csrf_token"
HEADER = "x-csrf-token"


def cookie_value(request: Request, settings: Settings) -> str:
    """The request's CSRF cookie, or a new value that `remember` will set."""
    value = request.cookies.get(settings.csrf_cookie_name, "")
    if not value:
        value = getattr(request.state, "new_csrf_cookie", None) or random_token()
        request.state.new_csrf_cookie = value
    return value


def token(request: Request, settings: Settings) -> str:
    return keyed_digest(settings.secret_key, "csrf", cookie_value(request, settings))


def remember(request: Request, response: Response, settings: Settings) -> Response:
    new = getattr(request.state, "new_csrf_cookie", None)
    if new:
        response.set_cookie(
            settings.csrf_cookie_name,
            new,
            path="/",
            httponly=True,
            secure=settings.secure_cookies,
            samesite="strict",
        )
    return response


async def is_valid(request: Request, settings: Settings, form_token: str | None) -> bool:
    if request.headers.get("sec-fetch-site") == "cross-site":
        return False
    origin = request.headers.get("origin")
    if origin and urlsplit(origin).netloc != request.headers.get("host"):
        return False
    cookie = request.cookies.get(settings.csrf_cookie_name, "")
    sent = request.headers.get(HEADER) or form_token or ""
    return bool(cookie) and same(sent, keyed_digest(settings.secret_key, "csrf", cookie))
