"""The account pages but "Issue token": personal info, signing in, devices and the log."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from backend.i18n import N_
from web.forms import field_errors, send_reauthentication_code
from web.sections import Page, Renderer, Section

ACCOUNT = Page(
    path="/account",
    title=N_("Personal info"),
    sections=(
        Section("account_details", "AccountDetails"),
        Section("language", "Language"),
        Section("groups", "Groups"),
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
)
SESSIONS = Page(
    path="/account/sessions",
    title=N_("Device activity"),
    sections=(Section("sessions", "Sessions"),),
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
            "/details/send-code": (ACCOUNT, "account_details", self._send_code),
            "/email/verify": (ACCOUNT, "account_details", self._verify_email),
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
            identity = await self.renderer.identity(request)
            return await self.renderer.page(request, identity, page)

        return show

    async def _run(self, request, identity, operation: str, **variables) -> dict[str, str]:
        outcome = await self.client.execute(operation, request, identity, **variables)
        payload = next(iter(outcome.data.values()))
        return field_errors(payload["userErrors"]) | (
            {"_sent": "yes"} if payload.get("emailVerificationSent") else {}
        )

    async def _update(self, request, identity, form: FormData) -> State:
        values = {name: str(form.get(name, "")) for name in PROFILE_FIELDS}
        # Only what the user changed: an untouched empty name is not a request to clear it.
        changes = {
            api: values[name]
            for name, api in PROFILE_FIELDS.items()
            if values[name] != (getattr(identity.user, name) or "")
        }
        changes["password"] = str(form.get("password", ""))
        changes["code"] = str(form.get("otp", "")) or None
        errors = await self._run(request, identity, "UpdateAccount", input=changes)
        if set(errors) - {"_sent"}:
            return {"values": values, "errors": errors}, 422
        return {"saved": True, "email_sent": "_sent" in errors}, 200

    async def _send_code(self, request, identity, form: FormData) -> State:
        """Email or text a code for changing the email or phone; what was typed stays."""
        values = {name: str(form.get(name, "")) for name in PROFILE_FIELDS}
        errors = await send_reauthentication_code(self.client, request, identity, form)
        if errors:
            return {"values": values, "errors": errors}, 422
        return {"values": values, "code_sent": True}, 200

    async def _verify_email(self, request, identity, form: FormData) -> State:
        errors = await self._run(
            request, identity, "VerifyEmailChange", code=str(form.get("code", ""))
        )
        return ({"code_errors": errors}, 422) if errors else ({"email_changed": True}, 200)

    async def _language(self, request, identity, form: FormData) -> State:
        # Empty: follow the browser again.
        language = str(form.get("language", "")) or None
        errors = await self._run(request, identity, "SetLanguage", language=language)
        return ({"errors": errors}, 422) if errors else ({"saved": True}, 200)

    async def _join(self, request, identity, form: FormData) -> State:
        errors = await self._run(request, identity, "JoinGroup", name=str(form.get("name", "")))
        return ({"errors": errors}, 404) if errors else ({"joined": form.get("name")}, 200)

    async def _leave(self, request, identity, form: FormData) -> State:
        errors = await self._run(request, identity, "LeaveGroup", name=str(form.get("name", "")))
        return ({"errors": errors}, 404) if errors else ({"left": form.get("name")}, 200)

    async def _change_password(self, request, identity, form: FormData) -> State:
        errors = await self._run(
            request,
            identity,
            "ChangePassword",
            current=str(form.get("current_password", "")),
            new=str(form.get("new_password", "")),
            repeat=str(form.get("new_password_repeat", "")),
        )
        return ({"errors": errors}, 422) if errors else ({"changed": True}, 200)

    async def _revoke(self, request, identity, form: FormData) -> State:
        errors = await self._run(request, identity, "RevokeSession", id=request.path_params["id"])
        if errors:  # NOT_FOUND, or the session's access needs confirming again
            return {"errors": errors}, 404 if "id" in errors else 403
        return {"revoked": True}, 200

    async def _sign_out_others(self, request, identity, form: FormData) -> State:
        errors = await self._run(request, identity, "SignOutOtherSessions")
        return ({"errors": errors}, 403) if errors else ({"signed_out_others": True}, 200)
