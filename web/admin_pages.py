"""The administrators' account pages: /admin, every account (search, status, a page at
a time), and /admin/users/{id}, one account with what administrators do to it.

They are a client of the admin API like the account pages are of the viewer's: each
section is one operation, each button one mutation, with the same CSRF check,
post/redirect/get without JavaScript and "Confirm it's you" before a change
(web/sections.py). Only administrators get them (web/admin_gate.py).
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from backend.kernel.i18n import N_
from web.admin_gate import AdminGate
from web.admin_labels import ACCOUNT_STATUSES, ACCOUNT_TYPES
from web.sections import Action, Elsewhere, Page, Renderer, Section

# The API answers a search of more words with an error; the page searches the first ones.
SEARCH_WORDS = 4
SEARCH_CHARS = 200


def _users_variables(request: Request) -> dict[str, Any]:
    query = request.query_params
    status = query.get("status")
    return {
        "search": search_of(query.get("search")) or None,
        "status": status if status in ACCOUNT_STATUSES else None,
        "after": query.get("after") or None,
    }


def search_of(typed: str | None) -> str:
    """What the page searches for: the first words typed, printable characters only."""
    printable = "".join(char for char in (typed or "")[:SEARCH_CHARS] if char.isprintable())
    return " ".join(printable.split()[:SEARCH_WORDS])


def _user_variables(request: Request) -> dict[str, Any]:
    return {"id": str(request.path_params["id"])}


USERS = Page(
    path="/admin",
    title=N_("Users"),
    sections=(
        Section("admin_users", "AdminUsers", variables=_users_variables),
        # A new account; its query lists the groups it may join.
        Section("admin_new_user", "AdminGroups"),
    ),
    refreshes=(("admin_new_user", "admin_users"),),
    asks_reauthentication=True,
)
USER = Page(
    path="/admin/users/{id}",
    title=N_("User account"),
    sections=(
        Section("admin_user", "AdminUser", variables=_user_variables),
        Section("admin_user_access", "AdminUserAccess", variables=_user_variables),
        Section("admin_user_sign_ins", "AdminUserSignIns", variables=_user_variables),
        Section("admin_user_activity", "AdminUserActivity", variables=_user_variables),
    ),
    # An action in one section changes what the others show (status, sessions, the log).
    live=("admin_user", "admin_user_access", "admin_user_sign_ins", "admin_user_activity"),
    asks_reauthentication=True,
)
# The profile form's fields: (form name, the API's name).
PROFILE_FIELDS = {
    "email": "email",
    "first_name": "firstName",
    "last_name": "lastName",
    "mobile_phone": "mobilePhone",
    "account_type": "accountType",
}
REASON_CHARS = 500
# The new account form's fields: (form name, the API's name).
NEW_FIELDS = {
    "username": "username",
    "email": "email",
    "first_name": "firstName",
    "last_name": "lastName",
    "account_type": "accountType",
}
State = tuple[dict[str, Any], int]


class AdminPages:
    def __init__(self, renderer: Renderer, gate: AdminGate) -> None:
        self.renderer = renderer
        self.client = renderer.client
        self.gate = gate

    def routes(self) -> list[BaseRoute]:
        actions: dict[str, tuple[str, Action]] = {
            "/profile": ("admin_user", self._update),
            "/disable": ("admin_user_access", self._simple("DisableUser", "disabled")),
            "/enable": ("admin_user_access", self._simple("EnableUser", "enabled")),
            "/unlock": ("admin_user_access", self._simple("UnlockUser", "unlocked")),
            "/two-factor/reset": ("admin_user_access", self._reset_two_factor),
            "/password-reset-link": (
                "admin_user_access",
                self._simple("SendPasswordResetLink", "reset_link_sent"),
            ),
            "/sessions/end": ("admin_user_access", self._end_sessions),
            "/delete": ("admin_user_access", self._delete),
        }
        user_path = "/admin/users/{id:int}"
        return [
            Route(USERS.path, self.gate.guard(self._show(USERS)), methods=["GET"]),
            Route(
                "/admin/users/new",
                self.gate.guard(
                    self.renderer.form_endpoint(USERS, "admin_new_user", self._create_user)
                ),
                methods=["GET", "POST"],
            ),
            Route(user_path, self.gate.guard(self._show(USER)), methods=["GET"]),
            *(
                Route(
                    user_path + path,
                    self.gate.guard(self.renderer.form_endpoint(USER, section, action)),
                    methods=["GET", "POST"],
                )
                for path, (section, action) in actions.items()
            ),
        ]

    def _show(self, page: Page):
        async def show(request: Request) -> Response:
            return await self.renderer.page(request, page)

        return show

    def _simple(self, operation: str, done: str) -> Action:
        """A button that runs `operation` on the account: `done` in the state once it did."""

        async def action(request: Request, form: FormData) -> State:
            variables: dict[str, Any] = {"userId": str(request.path_params["id"])}
            if operation == "DisableUser":
                variables["reason"] = str(form.get("reason", "")).strip()[:REASON_CHARS]
            result = await self.client.run(operation, request, **variables)
            if result.errors:
                return {"errors": result.errors, "failed": done}, 422
            return {done: True}, 200

        return action

    async def _reset_two_factor(self, request: Request, form: FormData) -> State:
        if form.get("confirm") != "yes":  # the first press says what goes, also without JS
            return {"confirm_reset": True}, 200
        return await self._simple("ResetUserTwoFactor", "two_factor_reset")(request, form)

    async def _delete(self, request: Request, form: FormData) -> State:
        """Deleting is final: the first press says so, the second deletes and goes back to
        the list (the account's page is gone with it)."""
        if form.get("confirm") != "yes":
            return {"confirm_delete": True}, 200
        user_id = str(request.path_params["id"])
        username = str(form.get("username", ""))[:64]
        result = await self.client.run("DeleteUser", request, userId=user_id)
        if result.errors:
            return {"errors": result.errors, "failed": "deleted"}, 422
        raise Elsewhere(USERS, "admin_users", {"deleted": username})

    async def _end_sessions(self, request: Request, form: FormData) -> State:
        result = await self.client.run(
            "EndUserSessions", request, userId=str(request.path_params["id"])
        )
        if result.errors:
            return {"errors": result.errors, "failed": "sessions_ended"}, 422
        return {"sessions_ended": result.payload["endedSessionCount"]}, 200

    async def _create_user(self, request: Request, form: FormData) -> State:
        values: dict[str, Any] = {name: str(form.get(name, "")).strip() for name in NEW_FIELDS}
        values["groups"] = sorted({v for v in form.getlist("groups") if isinstance(v, str)})
        values["send_invitation"] = form.get("send_invitation") == "yes"
        if values["account_type"] not in ACCOUNT_TYPES:
            values["account_type"] = "USER"
        created = {api: values[name] for name, api in NEW_FIELDS.items()}
        invitation = {"groups": values["groups"], "sendInvitation": values["send_invitation"]}
        result = await self.client.run("CreateUser", request, input={**created, **invitation})
        if result.errors:
            return {"values": values, "errors": result.errors}, 422
        user = result.payload["user"]
        return {"created": user, "invited": values["send_invitation"]}, 200

    async def _update(self, request: Request, form: FormData) -> State:
        user_id = str(request.path_params["id"])
        shown = await self.client.execute("AdminUser", request, id=user_id)
        user = shown.data["admin"]["user"]
        values: dict[str, Any] = {name: str(form.get(name, "")) for name in PROFILE_FIELDS}
        values["groups"] = sorted(
            {value for value in form.getlist("groups") if isinstance(value, str)}
        )
        if values["account_type"] not in ACCOUNT_TYPES:
            values["account_type"] = user["accountType"]
        # Only what changed: the API tells the user of every change it makes.
        changes: dict[str, Any] = {
            api: values[name]
            for name, api in PROFILE_FIELDS.items()
            if values[name] != (user[api] or "")
        }
        if "groups_offered" in form and values["groups"] != sorted(
            group["name"] for group in user["groups"]
        ):
            changes["groups"] = values["groups"]
        if not changes:
            return {"unchanged": True}, 200
        result = await self.client.run("UpdateUser", request, input={"userId": user_id, **changes})
        if result.errors:
            return {"values": values, "errors": result.errors}, 422
        return {"saved": True}, 200
