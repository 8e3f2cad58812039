"""The "Signing in → Passkeys" section of /account/security.

Adding takes two posts: the first (after the proof the other sensitive forms ask for)
brings the creation options into the section; the browser creates the passkey there
(web/static/passkeys.js) and posts its answer with the second. Renaming and deleting are
plain forms and work without JavaScript.
"""

from __future__ import annotations

from typing import Any

from starlette.routing import BaseRoute

from web.account_pages import SECURITY
from web.sections import Renderer

SECTION = "passkeys"
BASE = "/account/security/passkeys"

State = tuple[dict[str, Any], int]


class PasskeyPages:
    def __init__(self, renderer: Renderer) -> None:
        self.renderer = renderer
        self.client = renderer.client

    def routes(self) -> list[BaseRoute]:
        actions = {
            "/start": self._start,
            "/finish": self._finish,
            "/{id}/rename": self._rename,
            "/{id}/delete": self._delete,
        }
        return [
            self.renderer.form_route(BASE + path, SECURITY, SECTION, action)
            for path, action in actions.items()
        ]

    async def _start(self, request, form) -> State:
        name = str(form.get("name", ""))
        result = await self.client.run(
            "StartPasskeyRegistration",
            request,
        )
        if result.errors:
            return {"add_errors": result.errors, "name": name}, 422
        return {"creating": {"options": result.payload["options"], "name": name}}, 200

    async def _finish(self, request, form) -> State:
        result = await self.client.run(
            "FinishPasskeyRegistration",
            request,
            name=str(form.get("name", "")) or None,
            credential=str(form.get("credential", "")),
        )
        if result.errors:
            return {"add_errors": result.errors, "name": str(form.get("name", ""))}, 422
        added = result.payload["passkey"]["name"]
        return {"added": added, "recovery_codes": result.payload["recoveryCodes"]}, 200

    async def _rename(self, request, form) -> State:
        passkey = request.path_params["id"]
        result = await self.client.run(
            "RenamePasskey", request, id=passkey, name=str(form.get("name", ""))
        )
        if result.errors:
            status = 404 if "id" in result.errors else 422
            return {"rename_errors": result.errors, "editing": passkey}, status
        return {"renamed": result.payload["passkey"]["name"]}, 200

    async def _delete(self, request, form) -> State:
        passkey = request.path_params["id"]
        result = await self.client.run(
            "DeletePasskey",
            request,
            id=passkey,
        )
        if result.errors:
            status = 404 if "id" in result.errors else 422
            return {"delete_errors": result.errors, "deleting": passkey}, status
        return {"deleted": True, "two_factor_off": not result.payload["twoFactorEnabled"]}, 200
