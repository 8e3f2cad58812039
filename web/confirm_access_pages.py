"""/account/confirm-access: re-authenticate once, then change settings freely for a while.

Sensitive forms stop asking for the password and code while the session's access is
confirmed; the server checks again on every change.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from web import edge, navigation, outcomes
from web.forms import send_reauthentication_code
from web.graphql_client import with_session_cookies
from web.sections import Renderer
from web.signin_pages import redirect

PATH = "/account/confirm-access"
SECTION = "confirm_access"
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
            Route(PATH + "/send-code", self.renderer.back_to(PATH), methods=["GET"]),
        ]

    async def show(self, request: Request) -> Response:
        back = _next(request.query_params.get("next"))
        waiting = outcomes.take(request, self.renderer.settings, PATH)
        state = waiting[1] if waiting and waiting[0] == SECTION else {}
        response = await self._render(request, {**state, "next": back})
        return outcomes.forget(request, response, self.renderer.settings)

    def _back_here(self, request: Request, state: dict[str, Any]) -> Response:
        """Without JavaScript: 303 to this page, which shows the outcome once."""
        response = redirect(request, f"{PATH}?{urlencode({'next': state['next']})}")
        return outcomes.keep(response, self.renderer.settings, PATH, SECTION, state)

    async def confirm(self, request: Request, form) -> Response:
        identity = edge.identity(request)
        back = _next(form.get("next"))
        if identity.user is None:
            return redirect(request, "/login")
        outcome = await self.client.run(
            "Reauthenticate",
            request,
            password=str(form.get("password", "")),
            code=str(form.get("otp", "")) or None,
            credential=str(form.get("credential", "")) or None,
        )
        errors = outcome.errors
        if errors:
            if request.headers.get("hx-request") == "true":
                return await self._render(request, {"next": back, "errors": errors}, 422)
            return self._back_here(request, {"next": back, "errors": errors})
        response = redirect(request, back)
        return with_session_cookies(request, response, self.renderer.services)

    async def send_code(self, request: Request, form) -> Response:
        identity = edge.identity(request)
        if identity.user is None:
            return redirect(request, "/login")
        errors = await send_reauthentication_code(self.client, request, form)
        state = {"next": _next(form.get("next")), "errors": errors, "code_sent": not errors}
        if request.headers.get("hx-request") != "true":
            return self._back_here(request, state)
        response = await self._render(request, state, 422 if errors else 200)
        # The code button of partials/otp_field.html swaps its section; this is a whole page.
        response.headers["HX-Retarget"] = "body"
        response.headers["HX-Reswap"] = "innerHTML"
        return response

    async def _render(self, request: Request, state: dict[str, Any], status: int = 200):
        identity = edge.identity(request)
        if identity.user is None:
            return redirect(request, "/login")
        outcome = await self.client.execute("ConfirmAccess", request)
        header = await self.client.execute("Header", request)
        context = {
            "viewer": header.data["viewer"],
            "data": outcome.data["viewer"],
            "errors": state.get("errors", {}),
            "state": state,
            "passkey_options": await self._passkey_options(request, outcome),
        }
        return self.renderer.render(request, "confirm_access.html", context, status)

    async def _passkey_options(self, request: Request, outcome) -> str | None:
        """Options to confirm with a passkey instead of a code, when the user has one."""
        viewer = outcome.data["viewer"]
        if not viewer["passkeys"] or not viewer["twoFactor"]["enabled"]:
            return None
        started = await self.client.execute("StartPasskeyReauthentication", request)
        return started.data["startPasskeyReauthentication"]["options"]


def _next(value: object) -> str:
    return value if isinstance(value, str) and value in RETURN_PATHS else "/account"
