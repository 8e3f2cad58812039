"""Forgot password, "This wasn't me" and keeping an account scheduled for deletion: pages
for people who cannot sign in.

Plain forms that work without JavaScript; each post ends on a GET-able page (post,
redirect, get). The links in emails only show a form: only its POST acts, so mail
scanners that open links change nothing.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from web import outcomes
from web.graphql_client import with_session_cookies
from web.sections import Renderer, is_htmx
from web.signin_pages import redirect

RESET = "/password-reset"
SECURE = "/secure-account"
CANCEL_DELETION = "/account-deletion/cancel"  # the link of the deletion email


class RecoveryPages:
    def __init__(self, renderer: Renderer) -> None:
        self.renderer = renderer
        self.client = renderer.client

    def routes(self) -> list[BaseRoute]:
        protected = self.renderer.csrf_protected
        return [
            Route(RESET, self.request_form, methods=["GET"]),
            Route(RESET, protected(self.request_reset), methods=["POST"]),
            # Before the token routes: no token is ever "sent" or "done".
            Route(f"{RESET}/sent", self.sent, methods=["GET"]),
            Route(f"{RESET}/done", self.done, methods=["GET"]),
            Route(f"{RESET}/{{token}}", self.reset_form, methods=["GET"]),
            Route(f"{RESET}/{{token}}", protected(self.reset), methods=["POST"]),
            Route(f"{SECURE}/done", self.secured, methods=["GET"]),
            Route(f"{SECURE}/{{token}}", self.secure_form, methods=["GET"]),
            Route(f"{SECURE}/{{token}}", protected(self.secure), methods=["POST"]),
            Route(f"{CANCEL_DELETION}/done", self.deletion_cancelled, methods=["GET"]),
            Route(f"{CANCEL_DELETION}/{{token}}", self.cancel_deletion_form, methods=["GET"]),
            Route(
                f"{CANCEL_DELETION}/{{token}}", protected(self.cancel_deletion), methods=["POST"]
            ),
        ]

    async def request_form(self, request: Request) -> Response:
        state = self._take(request) or {}
        context = {"login": state.get("login", ""), "errors": state.get("errors", {})}
        return self._forget(request, self._render(request, "password_reset_request.html", context))

    async def request_reset(self, request: Request, form: FormData) -> Response:
        login = str(form.get("login", ""))
        result = await self.client.run(
            "RequestPasswordReset",
            request,
            login=login,
        )
        errors = result.errors
        if errors:
            state = {"login": login, "errors": errors}
            if is_htmx(request):
                return self._render(request, "password_reset_request.html", state, 422)
            return self._back(request, RESET, state)
        return redirect(request, f"{RESET}/sent")

    async def sent(self, request: Request) -> Response:
        return self._render(request, "password_reset_request.html", {"sent": True, "errors": {}})

    async def reset_form(self, request: Request) -> Response:
        state = self._take(request) or {}
        return self._forget(request, await self._reset_page(request, state.get("errors", {})))

    async def reset(self, request: Request, form: FormData) -> Response:
        result = await self.client.run(
            "ResetPassword",
            request,
            token=request.path_params["token"],
            new=str(form.get("new_password", "")),
            repeat=str(form.get("new_password_repeat", "")),
        )
        errors = result.errors
        if errors:
            if is_htmx(request):
                return await self._reset_page(request, errors, 422)
            # Only the messages: the passwords typed are never kept.
            return self._back(request, request.url.path, {"errors": errors})
        return self._with_cookies(request, self._done(request, f"{RESET}/done"))

    async def done(self, request: Request) -> Response:
        return await self._once(request, "password_reset.html")

    async def secure_form(self, request: Request) -> Response:
        state = self._take(request) or {}
        context = {"errors": state.get("errors", {})}
        return self._forget(request, self._render(request, "secure_account.html", context))

    async def secure(self, request: Request, form: FormData) -> Response:
        result = await self.client.run(
            "SecureAccount",
            request,
            token=request.path_params["token"],
        )
        errors = result.errors
        if errors:
            if is_htmx(request):
                return self._render(request, "secure_account.html", {"errors": errors}, 422)
            return self._back(request, request.url.path, {"errors": errors})
        return self._with_cookies(request, self._done(request, f"{SECURE}/done"))

    async def secured(self, request: Request) -> Response:
        return await self._once(request, "secure_account.html")

    async def cancel_deletion_form(self, request: Request) -> Response:
        state = self._take(request) or {}
        context = {"errors": state.get("errors", {})}
        return self._forget(request, self._render(request, "cancel_deletion.html", context))

    async def cancel_deletion(self, request: Request, form: FormData) -> Response:
        token = request.path_params["token"]
        result = await self.client.run("CancelAccountDeletion", request, token=token)
        if result.errors:
            if is_htmx(request):
                context = {"errors": result.errors}
                return self._render(request, "cancel_deletion.html", context, 422)
            return self._back(request, request.url.path, {"errors": result.errors})
        return self._done(request, f"{CANCEL_DELETION}/done")

    async def deletion_cancelled(self, request: Request) -> Response:
        return await self._once(request, "cancel_deletion.html")

    async def _reset_page(
        self, request: Request, errors: dict[str, str], status_code: int = 200
    ) -> Response:
        token = request.path_params["token"]
        outcome = await self.client.execute("PasswordResetPage", request, token=token)
        context = {
            "policy": outcome.data["passwordPolicy"],
            # Used or expired: said at once, before a new password is typed.
            "link_invalid": outcome.data["passwordResetLink"] is None,
            "errors": errors,
        }
        return self._render(request, "password_reset.html", context, status_code)

    def _render(
        self, request: Request, template: str, context: dict[str, Any], status_code: int = 200
    ) -> Response:
        return self.renderer.render(request, template, context, status_code)

    def _back(self, request: Request, path: str, state: dict[str, Any]) -> Response:
        """No JavaScript: back to the form's page, which shows `state` once (post/redirect/get).

        The path may hold the emailed token: it is the address the user already has, and the
        outcome cookie is bound to it without holding it.
        """
        response = redirect(request, path)
        return outcomes.keep(response, self.renderer.settings, path, "", state)

    def _done(self, request: Request, path: str) -> Response:
        # htmx navigates to `path` after the 204 and sends the cookie that came with it.
        response = redirect(request, path)
        return outcomes.keep(response, self.renderer.settings, path, "", {"done": True})

    async def _once(self, request: Request, template: str) -> Response:
        """The outcome page after a success: shown once, then a reload goes to sign-in."""
        if not (self._take(request) or {}).get("done"):
            return redirect(request, "/login")
        response = self._render(request, template, {"done": True, "errors": {}})
        return self._forget(request, response)

    def _take(self, request: Request) -> dict[str, Any] | None:
        waiting = outcomes.take(request, self.renderer.settings, request.url.path)
        return waiting[1] if waiting else None

    def _forget(self, request: Request, response: Response) -> Response:
        return outcomes.forget(request, response, self.renderer.settings)

    def _with_cookies(self, request: Request, response: Response) -> Response:
        return with_session_cookies(request, response, self.renderer.services)
