"""The language a page is drawn in: the user's choice, else the switcher's cookie on the
signed-out pages, else the browser's `Accept-Language`, else English.

The operations a page runs record the signed-in user's choice on the request; templates
and the time filters read the language of the request being drawn.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from starlette.requests import Request

from backend.kernel import i18n

COOKIE = "latchkey_language"
# The language of the page being drawn, for gettext in templates and their imported macros.
_drawing: ContextVar[str] = ContextVar("page_language", default=i18n.DEFAULT)


def preferred(request: Request) -> str:
    """The language before a signed-in user's choice: what the sign-in form carried, the
    switcher's cookie, the browser."""
    chosen = getattr(request.state, "carried_language", None)
    chosen = chosen or i18n.supported(request.cookies.get(COOKIE))
    return chosen or i18n.from_accept_language(request.headers.get("accept-language", ""))


def carry(request: Request, language: object) -> None:
    """The language a form carried from the page before (the account's, at the second
    sign-in step, when nobody is signed in yet)."""
    if isinstance(language, str) and i18n.supported(language):
        request.state.carried_language = language


def remember(request: Request, language: str) -> None:
    """The language an operation found for this request (the viewer's choice, if any)."""
    request.state.language = language


def of(request: Request) -> str:
    return getattr(request.state, "language", None) or preferred(request)


def gettext(request: Request, message: str) -> str:
    return i18n.gettext(of(request), message)


def context(request: Request) -> dict[str, Any]:
    """Template context processor: the page's language, also set for the gettext calls."""
    language = of(request)
    _drawing.set(language)
    return {"language": language, "languages": LANGUAGE_NAMES}


def drawing() -> str:
    return _drawing.get()


# Each language named in itself, as pickers show them.
LANGUAGE_NAMES = (("en", "English"), ("ja", "日本語"))
