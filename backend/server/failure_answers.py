"""What a caller gets when the server cannot answer: 503 (database outage) or 500 (a bug).

The body fits the caller: GraphQL errors for /graphql, an RFC 6749 error for /oauth/*, a
short page for browsers. Both close the connection, so that a client's next request goes
out on a fresh one instead of a socket the server is about to drop.
"""

from __future__ import annotations

import html

from starlette.datastructures import Headers
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.types import Scope

from backend.kernel import i18n
from backend.kernel.i18n import N_

RETRY_AFTER_SECONDS = 5
PAGE_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

UNAVAILABLE = N_("The service is temporarily unavailable. Try again in a few seconds.")
INTERNAL = N_("The server could not answer this request.")

_PAGE = """<!doctype html>
<html lang="{language}">
<head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><h1>{title}</h1><p>{message}</p></body>
</html>
"""


def service_unavailable(scope: Scope) -> Response:
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS), "Connection": "close"}
    return _answer(
        scope,
        status_code=503,
        message=UNAVAILABLE,
        graphql_code="SERVICE_UNAVAILABLE",
        oauth_error="temporarily_unavailable",
        title=N_("Temporarily unavailable"),
        headers=headers,
    )


def internal_error(scope: Scope) -> Response:
    return _answer(
        scope,
        status_code=500,
        message=INTERNAL,
        graphql_code="INTERNAL_SERVER_ERROR",
        oauth_error="server_error",
        title=N_("Something went wrong"),
        headers={"Connection": "close"},
    )


def _answer(
    scope: Scope,
    *,
    status_code: int,
    message: str,
    graphql_code: str,
    oauth_error: str,
    title: str,
    headers: dict[str, str],
) -> Response:
    headers = {**headers, "Cache-Control": "no-store"}
    path: str = scope.get("path", "")
    if wants_page(scope):
        # The page alone speaks the browser's language; API answers keep theirs in English.
        language = i18n.from_accept_language(Headers(scope=scope).get("accept-language", ""))
        page = _PAGE.format(
            language=language,
            title=html.escape(i18n.gettext(language, title)),
            message=html.escape(i18n.gettext(language, message)),
        )
        headers["Content-Security-Policy"] = PAGE_CSP
        return HTMLResponse(page, status_code=status_code, headers=headers)
    if path.startswith("/oauth/"):
        body = {"error": oauth_error, "error_description": message}
        return JSONResponse(body, status_code=status_code, headers=headers)
    if path.startswith("/health"):
        return PlainTextResponse(message, status_code=status_code, headers=headers)
    body = {"errors": [{"message": message, "extensions": {"code": graphql_code}}]}
    return JSONResponse(body, status_code=status_code, headers=headers)


def wants_page(scope: Scope) -> bool:
    """Whether a failure here is answered with a page rather than JSON or plain text."""
    path: str = scope.get("path", "")
    if path == "/graphql":
        return wants_html(scope)
    return not path.startswith(("/oauth/", "/health"))


def wants_html(scope: Scope) -> bool:
    headers = Headers(scope=scope)
    return "text/html" in headers.get("accept", "") or headers.get("hx-request") == "true"
