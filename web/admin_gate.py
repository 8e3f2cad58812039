"""Who may open the administrators' pages: only an administrator, as the API decides.

A page or form under /admin asks the API first (`admin` is null for anyone else) and
answers anyone else with the same "Page not found" as an address that does not exist, so
the pages neither show nor run anything for them, nor tell them the pages exist. An
account's page is also "not found" when there is no account with its id.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from web import edge, site
from web.sections import Renderer

Endpoint = Callable[[Request], Awaitable[Response]]


class AdminGate:
    def __init__(self, renderer: Renderer) -> None:
        self.renderer = renderer

    def guard(self, endpoint: Endpoint) -> Endpoint:
        """`endpoint`, answered only for an administrator; someone signed out goes on to
        it, to be sent to sign in (a page) or refused (a form)."""

        async def guarded(request: Request) -> Response:
            if edge.identity(request).user is not None and not await self._allows(request):
                return self.not_found(request)
            return await endpoint(request)

        return guarded

    async def _allows(self, request: Request) -> bool:
        user_id = request.path_params.get("id")
        outcome = await self.renderer.client.execute(
            "AdminGate", request, id=str(user_id or 0), withUser=user_id is not None
        )
        admin = outcome.data["admin"]
        return admin is not None and (user_id is None or admin["user"] is not None)

    def not_found(self, request: Request) -> Response:
        title, message = site.NOT_FOUND
        context = {"title": title, "message": message}
        return self.renderer.render(request, "error.html", context, status_code=404)
