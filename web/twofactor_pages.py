"""The "Signing in → Two-factor authentication" section of /account/security."""

from __future__ import annotations

from typing import Any

from starlette.routing import BaseRoute

from backend.api.twofactor import TwoFactorPolicy
from backend.kernel.i18n import N_
from web import page_language
from web.account_pages import SECURITY
from web.factors import FACTOR_KINDS
from web.forms import choice
from web.sections import Renderer
from web.templating import templates

SECTION = "two_factor"
BASE = "/account/security/two-factor"

State = tuple[dict[str, Any], int]
# The kinds a user sets up here, confirmed with a typed code; recovery codes come with the
# first of them, and a passkey is added in its own section (web/passkey_pages.py).
METHODS = [name for name, kind in FACTOR_KINDS.items() if kind.typed and not kind.backup]
POLICIES = [policy.name for policy in TwoFactorPolicy]


class TwoFactorPages:
    def __init__(self, renderer: Renderer) -> None:
        self.renderer = renderer
        self.client = renderer.client

    def routes(self) -> list[BaseRoute]:
        actions = {
            "/start": self._start,
            "/confirm": self._confirm,
            "/policy": self._policy,
            "/disable": self._disable,
            "/factors/{id}/remove": self._remove,
            "/factors/{id}/prefer": self._prefer,
            "/recovery-codes": self._regenerate,
            "/devices/{id}/forget": self._forget,
            "/devices/forget-all": self._forget_all,
        }
        return [
            self.renderer.form_route(BASE + path, SECURITY, SECTION, action)
            for path, action in actions.items()
        ]

    async def _start(self, request, form) -> State:
        method = choice(form, "method", METHODS)
        if method is None:
            error = page_language.gettext(request, N_("Choose a method."))
            return {"errors": {"method": error}}, 422
        kind = FACTOR_KINDS[method]
        variables = {}
        if kind.sends_codes:  # one operation for every kind that sends codes
            variables["method"] = method
        start, _ = setup_operations(method)
        result = await self.client.run(start, request, **variables)
        if result.errors:
            return {"errors": result.errors, "method": method}, 422
        return {"setup": {**result.payload, "method": method}}, 200

    async def _confirm(self, request, form) -> State:
        method = choice(form, "method", METHODS) or METHODS[0]
        result = await self.client.run(
            setup_operations(method)[1],
            request,
            code=str(form.get("code", "")),
            name=str(form.get("name", "")) or None,
        )
        if result.errors:
            setup = {
                "method": method,
                "secret": form.get("secret"),
                "otpauthUri": form.get("otpauth_uri"),
                "qrCodeSvg": None,
            }
            return {"errors": result.errors, "setup": setup, "name": form.get("name", "")}, 422
        if result.payload["recoveryCodes"] is None:  # added beside others: the codes stay
            return {"saved": "added"}, 200
        return {"recovery_codes": result.payload["recoveryCodes"]}, 200

    async def _policy(self, request, form) -> State:
        policy = choice(form, "policy", POLICIES)
        if policy is None:
            error = page_language.gettext(request, N_("Choose when to ask for the code."))
            return {"policy_errors": {"": error}}, 422
        result = await self.client.run(
            "SetTwoFactorPolicy",
            request,
            policy=policy,
        )
        if result.errors:
            return {"policy_errors": result.errors}, 422
        return {"saved": "policy"}, 200

    async def _disable(self, request, form) -> State:
        if form.get("confirm") != "yes":  # the first press says what goes
            return {"confirm_disable": True}, 200
        result = await self.client.run(
            "DisableTwoFactor",
            request,
        )
        if result.errors:
            return {"disable_errors": result.errors}, 422
        return {"saved": "disabled"}, 200

    async def _remove(self, request, form) -> State:
        factor = request.path_params["id"]
        result = await self.client.run(
            "RemoveAuthenticator",
            request,
            id=factor,
        )
        if result.errors:
            return {"remove_errors": result.errors, "removing": factor}, 422
        return {"saved": "removed" if result.payload["twoFactor"]["enabled"] else "disabled"}, 200

    async def _prefer(self, request, form) -> State:
        factor = request.path_params["id"]
        result = await self.client.run(
            "SetPreferredAuthenticator",
            request,
            id=factor,
        )
        if result.errors:
            return {"prefer_errors": result.errors, "preferring": factor}, 422
        return {"saved": "preferred"}, 200

    async def _regenerate(self, request, form) -> State:
        if form.get("confirm") != "yes":  # the saved codes die at once: ask first
            return {"confirm_regenerate": True}, 200
        result = await self.client.run(
            "RegenerateRecoveryCodes",
            request,
        )
        if result.errors:
            return {"regenerate_errors": result.errors}, 422
        return {"recovery_codes": result.payload["recoveryCodes"]}, 200

    async def _forget(self, request, form) -> State:
        result = await self.client.run("ForgetTrustedDevice", request, id=request.path_params["id"])
        if result.errors:  # NOT_FOUND: the id names none of the user's devices
            return {"device_error": next(iter(result.errors.values()))}, 404
        return {"saved": "device"}, 200

    async def _forget_all(self, request, form) -> State:
        await self.client.run("ForgetAllTrustedDevices", request)
        return {"saved": "devices"}, 200


def setup_operations(method: str) -> tuple[str, str]:
    """The operations that start and confirm a kind's setup, named in its template."""
    return tuple(templates().get_template(FACTOR_KINDS[method].template).module.setup_operations)
