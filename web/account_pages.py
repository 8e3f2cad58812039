"""/account: the account management page."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from web.sections import Page, Renderer, Section

ACCOUNT = Page(
    path="/account",
    title="Account management",
    sections=(
        Section("account_details", "AccountDetails"),
        Section("two_factor", "TwoFactorSettings"),
    ),
)


class AccountPages:
    def __init__(self, renderer: Renderer) -> None:
        self.renderer = renderer

    def routes(self) -> list[BaseRoute]:
        return [Route(ACCOUNT.path, self.account, methods=["GET"])]

    async def account(self, request: Request) -> Response:
        identity = await self.renderer.identity(request)
        return await self.renderer.page(request, identity, ACCOUNT)
