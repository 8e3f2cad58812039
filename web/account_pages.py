"""The account pages but "Issue token": personal info, signing in, devices and the log."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from backend.kernel.i18n import N_
from web import edge
from web.sections import Page, Renderer, Section

ACCOUNT = Page(
    path="/account",
    title=N_("Personal info"),
    sections=(
        Section("account_details", "AccountDetails"),
        Section("language", "Language"),
        Section("groups", "Groups"),
        # At the bottom, as Keycloak places it: the data first, then leaving.
        Section("delete_account", "DeleteAccountSection"),
    ),
)
SECURITY = Page(
    path="/account/security",
    title=N_("Signing in"),
    sections=(
        Section("change_password", "ChangePasswordSection"),
        Section("two_factor", "TwoFactorSettings"),
        Section("passkeys", "Passkeys"),
    ),
    refreshes=(("two_factor", "passkeys"), ("passkeys", "two_factor")),
    asks_reauthentication=True,
)
SESSIONS = Page(
    path="/account/sessions",
    title=N_("Device activity"),
    sections=(Section("sessions", "Sessions"),),
    asks_reauthentication=True,
)
LOG = Page(
    path="/account/log",
    title=N_("Security log"),
    # `after`: the cursor of the last event on the page before, from the "Older" link.
    sections=(Section("security_log", "SecurityLog", params=("after",)),),
)
PROFILE_FIELDS = {
    "email": "email",
    "first_name": "firstName",
    "last_name": "lastName",
    "description": "description",
    "mobile_phone": "mobilePhone",
    "time_zone": "timeZone",
}
State = tuple[dict[str, Any], int]
PAGES = (ACCOUNT, SECURITY, SESSIONS, LOG)


class AccountPages:
    def __init__(self, renderer: Renderer) -> None:
        self.renderer = renderer
        self.client = renderer.client

    def routes(self) -> list[BaseRoute]:
        actions = {
            "/details": (ACCOUNT, "account_details", self._update),
            "/email/verify": (ACCOUNT, "account_details", self._verify_email),
            "/email/resend": (ACCOUNT, "account_details", self._resend_email_code),
            "/email/cancel": (ACCOUNT, "account_details", self._cancel_email_change),
            "/language": (ACCOUNT, "language", self._language),
            "/groups/join": (ACCOUNT, "groups", self._join),
            "/groups/leave": (ACCOUNT, "groups", self._leave),
            "/security/password": (SECURITY, "change_password", self._change_password),
            "/sessions/{id}/revoke": (SESSIONS, "sessions", self._revoke),
            "/sessions/others/sign-out": (SESSIONS, "sessions", self._sign_out_others),
        }
        return [
            *(Route(page.path, self._show(page), methods=["GET"]) for page in PAGES),
            *(
                self.renderer.form_route(ACCOUNT.path + path, page, section, action)
                for path, (page, section, action) in actions.items()
            ),
        ]

    def _show(self, page: Page) -> Callable[[Request], Awaitable[Response]]:
        async def show(request: Request) -> Response:
            return await self.renderer.page(request, page)

        return show

    async def _update(self, request, form: FormData) -> State:
        values = {name: str(form.get(name, "")) for name in PROFILE_FIELDS}
        user = edge.identity(request).user
        # Only what the user changed: an untouched empty name is not a request to clear it.
        changes = {
            api: values[name]
            for name, api in PROFILE_FIELDS.items()
            if values[name] != (getattr(user, name) or "")
        }
        result = await self.client.run("UpdateAccount", request, input=changes)
        if result.errors:
            return {"values": values, "errors": result.errors}, 422
        return {"saved": True, "email_sent": bool(result.payload["emailVerificationSent"])}, 200

    async def _verify_email(self, request, form: FormData) -> State:
        code = str(form.get("code", ""))
        result = await self.client.run("VerifyEmailChange", request, code=code)
        if result.errors:
            return {"code_errors": result.errors}, 422
        return {"email_changed": True}, 200

    async def _resend_email_code(self, request, form: FormData) -> State:
        result = await self.client.run("ResendEmailChangeCode", request)
        if result.errors:
            return {"code_errors": result.errors}, 422
        return {"email_code_resent": True}, 200

    async def _cancel_email_change(self, request, form: FormData) -> State:
        await self.client.run("CancelEmailChange", request)
        return {"email_change_cancelled": True}, 200

    async def _language(self, request, form: FormData) -> State:
        # Empty: follow the browser again.
        language = str(form.get("language", "")) or None
        result = await self.client.run("SetLanguage", request, language=language)
        return ({"errors": result.errors}, 422) if result.errors else ({"saved": True}, 200)

    async def _join(self, request, form: FormData) -> State:
        name = str(form.get("name", ""))
        result = await self.client.run("JoinGroup", request, name=name)
        return ({"errors": result.errors}, 404) if result.errors else ({"joined": name}, 200)

    async def _leave(self, request, form: FormData) -> State:
        name = str(form.get("name", ""))
        result = await self.client.run("LeaveGroup", request, name=name)
        return ({"errors": result.errors}, 404) if result.errors else ({"left": name}, 200)

    async def _change_password(self, request, form: FormData) -> State:
        result = await self.client.run(
            "ChangePassword",
            request,
            current=str(form.get("current_password", "")),
            new=str(form.get("new_password", "")),
            repeat=str(form.get("new_password_repeat", "")),
        )
        return ({"errors": result.errors}, 422) if result.errors else ({"changed": True}, 200)

    async def _revoke(self, request, form: FormData) -> State:
        result = await self.client.run("RevokeSession", request, id=request.path_params["id"])
        if result.errors:  # NOT_FOUND, or the session needs re-authentication
            return {"errors": result.errors}, 404 if "id" in result.errors else 403
        return {"revoked": True}, 200

    async def _sign_out_others(self, request, form: FormData) -> State:
        result = await self.client.run("SignOutOtherSessions", request)
        if result.errors:
            return {"errors": result.errors}, 403
        return {"signed_out_others": True}, 200
