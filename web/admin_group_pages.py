"""/admin/groups (every group, a new one, which are self-service) and /admin/log (the
operator log, a page at a time): the administrators' pages that are about no one account.
Like web/admin_pages.py, a client of the admin API, for administrators only."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from backend.kernel.i18n import N_
from web.admin_gate import AdminGate
from web.sections import Page, Renderer, Section

GROUPS = Page(
    path="/admin/groups",
    title=N_("Groups"),
    sections=(Section("admin_groups", "AdminGroups"),),
    asks_reauthentication=True,
)
LOG = Page(
    path="/admin/log",
    title=N_("Operator log"),
    # `after`: the cursor of the last entry on the page before, from the "Older" link.
    sections=(Section("admin_log", "AdminLog", params=("after",)),),
)
State = tuple[dict[str, Any], int]


class AdminGroupPages:
    def __init__(self, renderer: Renderer, gate: AdminGate) -> None:
        self.renderer = renderer
        self.client = renderer.client
        self.gate = gate

    def routes(self) -> list[BaseRoute]:
        actions = {"/create": self._create, "/self-service": self._self_service}
        return [
            Route(GROUPS.path, self.gate.guard(self._show(GROUPS)), methods=["GET"]),
            Route(LOG.path, self.gate.guard(self._show(LOG)), methods=["GET"]),
            *(
                Route(
                    GROUPS.path + path,
                    self.gate.guard(self.renderer.form_endpoint(GROUPS, "admin_groups", action)),
                    methods=["GET", "POST"],
                )
                for path, action in actions.items()
            ),
        ]

    def _show(self, page: Page):
        async def show(request: Request) -> Response:
            return await self.renderer.page(request, page)

        return show

    async def _create(self, request: Request, form: FormData) -> State:
        values = {
            "name": str(form.get("name", "")).strip(),
            "description": str(form.get("description", "")).strip(),
            "self_service": form.get("self_service") == "yes",
        }
        result = await self.client.run(
            "CreateGroup",
            request,
            name=values["name"],
            description=values["description"],
            selfService=values["self_service"],
        )
        if result.errors:
            return {"values": values, "errors": result.errors}, 422
        return {"created": values["name"]}, 200

    async def _self_service(self, request: Request, form: FormData) -> State:
        name = str(form.get("name", ""))
        self_service = form.get("self_service") == "yes"
        result = await self.client.run("UpdateGroup", request, name=name, selfService=self_service)
        if result.errors:
            return {"update_errors": result.errors}, 422
        return {"updated": name, "self_service": self_service}, 200
