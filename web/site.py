"""Answers outside the account pages: the favicon, and the styled 404, 405 and 500 pages.

A browser gets the site's own error page; API clients keep their short answers (plain text
for 404 and 405, JSON on /graphql and /oauth/ for 500), so scripts parse them as before.
"""

from __future__ import annotations

import logging
from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from backend.kernel.i18n import N_
from backend.server.failure_answers import internal_error, wants_html, wants_page
from web.content_security import CSP
from web.templating import templates

log = logging.getLogger("latchkey.web")

FAVICON = Path(__file__).parent / "static" / "favicon.svg"

NOT_FOUND = (
    N_("Page not found"),
    N_("There is no page at this address. Check the address, or start again from your account."),
)
FORM_ONLY = (
    N_("This address takes a form"),
    N_(
        "It only receives forms sent from a page, so there is nothing to show here. "
        "Go back to the page and send the form from there."
    ),
)
WRONG_METHOD = (N_("Not available"), N_("This address does not answer this kind of request."))
# INTERNAL with what to do next, as a message id of its own.
INTERNAL_PAGE = N_("The server could not answer this request. Try again in a moment.")


def routes() -> list[BaseRoute]:
    return [Route("/favicon.ico", favicon, methods=["GET"])]


async def favicon(request: Request) -> Response:
    # An SVG under the name browsers ask for by default; pages link it as favicon.svg.
    headers = {"Cache-Control": "public, max-age=86400"}
    return FileResponse(FAVICON, media_type="image/svg+xml", headers=headers)


async def not_found(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    if not _browser(request):
        return _plain(error)
    title, message = NOT_FOUND
    return _page(request, 404, title, message, error.headers)


async def method_not_allowed(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    if not _browser(request):
        return _plain(error)
    allowed = (error.headers or {}).get("Allow", "")
    title, message = FORM_ONLY if allowed == "POST" else WRONG_METHOD
    return _page(request, 405, title, message, error.headers)


async def server_error(request: Request, error: Exception) -> Response:
    """The last-resort handler: no detail for the caller (the server logs the error)."""
    if not wants_page(request.scope):
        return internal_error(request.scope)
    try:
        headers = {"Connection": "close"}
        return _page(request, 500, N_("Something went wrong"), INTERNAL_PAGE, headers)
    except Exception:
        # The styled page needs templates and routing; a bug there still gets an answer.
        log.exception("could not draw the error page")
        return internal_error(request.scope)


def _browser(request: Request) -> bool:
    return wants_page(request.scope) and wants_html(request.scope)


def _plain(error: HTTPException) -> Response:
    # What Starlette answers by default.
    return PlainTextResponse(error.detail, status_code=error.status_code, headers=error.headers)


def _page(
    request: Request,
    status_code: int,
    title: str,
    message: str,
    headers: dict[str, str] | None,
) -> Response:
    context = {"title": title, "message": message}
    response = templates().TemplateResponse(
        request, "error.html", context, status_code=status_code, headers=headers
    )
    response.headers["Content-Security-Policy"] = CSP
    response.headers["Cache-Control"] = "no-store"
    return response
