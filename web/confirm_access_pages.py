"""/account/confirm-access: prove presence once ("sudo mode"), then change settings freely.

Sensitive forms stop asking for the password and code while the session's access is
confirmed; the server checks again on every change.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from web import navigation
from web.forms import field_errors, send_step_up_code
from web.graphql_client import with_session_cookies
from web.sections import Renderer
from web.signin_pages import redirect

PATH = "/account/confirm-access"
# Only back to our own account pages: an open redirect would lend our name to phishing.
RETURN_PATHS = navigation.PATHS


class ConfirmAccessPages:
    def __init__(self, renderer: Renderer) -> None:
        self.renderer = renderer
        self.client = renderer.client

    def routes(self) -> list[BaseRoute]:
        return [
            Route(PATH, self.show, methods=["GET"]),
            Route(PATH, self.renderer.csrf_protected(self.confirm), methods=["POST"]),
            Route(
                PATH + "/send-code",
                self.renderer.csrf_protected(self.send_code),
                methods=["POST"],
            ),
        ]

    async def show(self, request: Request) -> Response:
        return await self._render(request, {"next": _next(request.query_params.get("next"))})

    async def confirm(self, request: Request, form) -> Response:
        identity = await self.renderer.identity(request)
        back = _next(form.get("next"))
        if identity.user is None:
            return redirect(request, "/login")
        outcome = await self.client.execute(
            "Reauthenticate",
            request,
            identity,
            password=str(form.get("password", "")),
            code=str(form.get("otp", "")) or None,
        )
        errors = field_errors(outcome.data["reauthenticate"]["userErrors"])
        if errors:
            return await self._render(request, {"next": back, "errors": errors}, 422)
        response = redirect(request, back)
        return with_session_cookies(request, response, self.renderer.services)

    async def send_code(self, request: Request, form) -> Response:
        identity = await self.renderer.identity(request)
        if identity.user is None:
            return redirect(request, "/login")
        errors = await send_step_up_code(self.client, request, identity, form)
        state = {"next": _next(form.get("next")), "errors": errors, "code_sent": not errors}
        response = await self._render(request, state, 422 if errors else 200)
        # The code button of partials/otp_field.html swaps its section; this is a whole page.
        response.headers["HX-Retarget"] = "body"
        response.headers["HX-Reswap"] = "innerHTML"
        return response

    async def _render(self, request: Request, state: dict[str, Any], status: int = 200):
        identity = await self.renderer.identity(request)
        if identity.user is None:
            return redirect(request, "/login")
        outcome = await self.client.execute("ConfirmAccess", request, identity)
        header = await self.client.execute("Header", request, identity)
        context = {
            "viewer": header.data["viewer"],
            "data": outcome.data["viewer"],
            "errors": state.get("errors", {}),
            "state": state,
        }
        return self.renderer.render(request, "confirm_access.html", context, status)


def _next(value: object) -> str:
    return value if isinstance(value, str) and value in RETURN_PATHS else "/account"
