"""/account/reauthenticate, "Confirm it's you": re-authentication, the one step before a
sensitive change.

The cards of the account pages carry no password or code fields: a change that needs
re-authentication sends the user here (web/sections.py), and back to the page they came
from once the session is stamped. The change is not replayed; the user presses its button
again. The server checks the stamp again on every change.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from web import edge, navigation, outcomes
from web.forms import send_reauthentication_code
from web.graphql_client import with_session_cookies
from web.sections import Renderer
from web.signin_pages import redirect

PATH = navigation.REAUTHENTICATE
# The address of this page before it had re-authentication's name: bookmarks still work.
FORMER_PATH = "/account/confirm-access"
SECTION = "reauthenticate"
# Only back to our own account pages (and the administrators' pages, see
# navigation.is_admin_page): an open redirect would lend our name to phishing.
RETURN_PATHS = navigation.PATHS


class ReauthenticationPages:
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
            Route(FORMER_PATH, self.former, methods=["GET"]),
        ]

    async def former(self, request: Request) -> Response:
        return RedirectResponse(
            navigation.reauthenticate(_next(request.query_params.get("next"))), status_code=301
        )

    async def show(self, request: Request) -> Response:
        back = _next(request.query_params.get("next"))
        waiting = outcomes.take(request, self.renderer.settings, PATH)
        state = waiting[1] if waiting and waiting[0] == SECTION else {}
        response = await self._render(request, {**state, "next": back})
        return outcomes.forget(request, response, self.renderer.settings)

    def _back_here(self, request: Request, state: dict[str, Any]) -> Response:
        """Without JavaScript: 303 to this page, which shows the outcome once."""
        response = redirect(request, navigation.reauthenticate(state["next"]))
        return outcomes.keep(response, self.renderer.settings, PATH, SECTION, state)

    async def confirm(self, request: Request, form) -> Response:
        back = _next(form.get("next"))
        if edge.identity(request).user is None:
            return redirect(request, "/login")
        result = await self.client.prove(
            "Reauthenticate",
            request,
            password=str(form.get("password", "")),
            code=str(form.get("otp", "")) or None,
            credential=str(form.get("credential", "")) or None,
        )
        if result.errors:
            state = {"next": back, "errors": result.errors}
            if request.headers.get("hx-request") == "true":
                return await self._render(request, state, 422)
            return self._back_here(request, state)
        response = redirect(request, back)
        return with_session_cookies(request, response, self.renderer.services)

    async def send_code(self, request: Request, form) -> Response:
        if edge.identity(request).user is None:
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
        if edge.identity(request).user is None:
            return redirect(request, "/login")
        outcome = await self.client.execute("ReauthenticationPage", request)
        header = await self.client.execute("Header", request)
        context = {
            "viewer": header.data["viewer"],
            "data": outcome.data["viewer"],
            "errors": state.get("errors", {}),
            "state": state,
            "next": state.get("next"),  # for the page's policy: it may be an application's
            "passkey_options": await self._passkey_options(request, outcome.data["viewer"]),
        }
        return self.renderer.render(request, "reauthenticate.html", context, status)

    async def _passkey_options(self, request: Request, viewer: dict[str, Any]) -> str | None:
        """Options to confirm with a passkey instead of a code, when the user has one."""
        if not viewer["passkeys"] or not viewer["twoFactor"]["enabled"]:
            return None
        started = await self.client.execute("StartPasskeyReauthentication", request)
        return started.data["startPasskeyReauthentication"]["options"]


def _next(value: object) -> str:
    if isinstance(value, str) and (
        value in RETURN_PATHS
        or navigation.is_admin_page(value)
        or navigation.is_authorization(value)
    ):
        return value
    return "/account"
