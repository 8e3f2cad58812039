"""Leaving: "Download your data" and "Delete account" at the bottom of Personal info, and
the page that says when the account goes.

Both change nothing without a fresh "Confirm it's you" (the API asks; the pages send the
user there and back). The download is a file, so the page stays where it was; a scheduled
deletion signs the user out, so its outcome is a page of its own, shown once.
"""

from __future__ import annotations

from datetime import datetime

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from web import edge, navigation, outcomes
from web.account_pages import ACCOUNT
from web.graphql_client import ReauthenticationNeeded, Result, with_session_cookies
from web.sections import Renderer, redirect

EXPORT = "/account/export"
DELETE = "/account/delete"
SCHEDULED = "/account-deletion/scheduled"
SECTION = "delete_account"


class DeletionPages:
    def __init__(self, renderer: Renderer) -> None:
        self.renderer = renderer
        self.client = renderer.client

    def routes(self) -> list[BaseRoute]:
        protected = self.renderer.csrf_protected
        back = self.renderer.back_to(f"{ACCOUNT.path}#{SECTION}")
        return [
            Route(EXPORT, protected(self.export), methods=["POST"]),
            Route(EXPORT, back, methods=["GET"]),
            Route(DELETE, protected(self.delete), methods=["POST"]),
            Route(DELETE, back, methods=["GET"]),
            Route(SCHEDULED, self.scheduled, methods=["GET"]),
        ]

    async def export(self, request: Request, form: FormData) -> Response:
        result = await self._run(request, "ExportAccountData")
        if isinstance(result, Response):
            return result
        if result.errors:
            return self._back(request, {"errors": result.errors})
        user = edge.identity(request).user
        assert user is not None
        name = f"latchkey-{user.username}-{datetime.now().date().isoformat()}.json"
        headers = {"Content-Disposition": f'attachment; filename="{name}"'}
        headers["Cache-Control"] = "no-store"
        return Response(result.payload["data"], media_type="application/json", headers=headers)

    async def delete(self, request: Request, form: FormData) -> Response:
        confirmation = str(form.get("confirmation", ""))[:200]
        result = await self._run(request, "ScheduleAccountDeletion", confirmation=confirmation)
        if isinstance(result, Response):
            return result
        if result.errors:
            return self._back(request, {"errors": result.errors, "confirmation": confirmation})
        response = redirect(request, SCHEDULED)
        at = result.payload["deletionScheduledAt"]
        outcomes.keep(response, self.renderer.settings, SCHEDULED, "", {"at": at})
        return with_session_cookies(request, response, self.renderer.services)

    async def scheduled(self, request: Request) -> Response:
        waiting = outcomes.take(request, self.renderer.settings, SCHEDULED)
        if not waiting:
            return RedirectResponse("/login", status_code=303)
        response = self.renderer.render(request, "deletion_scheduled.html", waiting[1])
        return outcomes.forget(request, response, self.renderer.settings)

    async def _run(self, request: Request, operation: str, **variables: str) -> Result | Response:
        """The mutation's result; or the page to go to instead: sign-in, "Confirm it's you"."""
        if edge.identity(request).user is None:
            return redirect(request, navigation.sign_in(ACCOUNT.path))
        try:
            return await self.client.run(operation, request, **variables)
        except ReauthenticationNeeded:
            back = redirect(request, navigation.reauthenticate(ACCOUNT.path))
            return with_session_cookies(request, back, self.renderer.services)

    def _back(self, request: Request, state: dict[str, object]) -> Response:
        """Without JavaScript as with it: the card again, showing what went wrong once."""
        response = RedirectResponse(ACCOUNT.path, status_code=303)
        outcomes.keep(response, self.renderer.settings, ACCOUNT.path, SECTION, state)
        return response
