"""`/language`: the switcher of the signed-out pages, remembered in a cookie."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from backend.kernel import i18n
from web import page_language
from web.sections import Renderer

ONE_YEAR = 365 * 24 * 3600


class LanguagePages:
    def __init__(self, renderer: Renderer) -> None:
        self.renderer = renderer

    def routes(self) -> list[BaseRoute]:
        switch = self.renderer.csrf_protected(self.switch)
        return [
            Route("/language", switch, methods=["POST"]),
            Route("/language", self.renderer.back_to("/login"), methods=["GET"]),
        ]

    async def switch(self, request: Request, form: FormData) -> Response:
        response = RedirectResponse(_local(form.get("next")), status_code=303)
        language = i18n.supported(_text(form.get("language")))
        if language:
            response.set_cookie(
                page_language.COOKIE,
                language,
                max_age=ONE_YEAR,
                path="/",
                httponly=True,
                secure=self.renderer.settings.secure_cookies,
                samesite="lax",
            )
        return response


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _local(path: object) -> str:
    """Back to a page of this site only: a path, never another host."""
    if isinstance(path, str) and path.startswith("/") and not path.startswith(("//", "/\\")):
        return path
    return "/login"
