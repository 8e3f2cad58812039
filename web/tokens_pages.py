"""/account/tokens: the "Issue token" page, with API credentials below the tokens."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from backend.kernel import clock
from backend.kernel.i18n import N_
from web import edge, page_language
from web.sections import Page, Renderer, Section

# The token statuses as the page shows them (the template capitalises the API's values).
STATUS_LABELS = (N_("Active"), N_("Expired"))

TOKENS = Page(
    path="/account/tokens",
    title=N_("Issue token"),
    sections=(Section("tokens", "Tokens"), Section("api_credentials", "ApiCredentials")),
    asks_reauthentication=True,
)
EXPIRY_CHOICES = ("7", "30", "60", "90", "custom")


class TokenPages:
    def __init__(self, renderer: Renderer) -> None:
        self.renderer = renderer
        self.client = renderer.client

    def routes(self) -> list[BaseRoute]:
        actions = {
            "": ("tokens", self._issue),
            "/{id}/delete": ("tokens", self._delete),
            "/{id}/regenerate": ("tokens", self._regenerate),
            "/credentials": ("api_credentials", self._generate),
            "/credentials/remove": ("api_credentials", self._remove),
        }
        return [
            Route(TOKENS.path, self.show, methods=["GET"]),
            *(
                self.renderer.form_route(TOKENS.path + path, TOKENS, section, action)
                for path, (section, action) in actions.items()
            ),
        ]

    async def show(self, request: Request) -> Response:
        confirm = request.query_params.get("delete")
        if confirm:  # the delete button asks first, also without JavaScript
            return await self.renderer.respond(
                request, TOKENS, "tokens", {"confirm_delete": confirm}
            )
        regenerate = request.query_params.get("regenerate")
        if regenerate:  # the form for a new secret opens in the token's row
            return await self.renderer.respond(
                request, TOKENS, "tokens", {"regenerating": regenerate}
            )
        return await self.renderer.page(request, TOKENS)

    async def _issue(self, request, form) -> tuple[dict[str, Any], int]:
        values: dict[str, Any] = {
            name: str(form.get(name, "")) for name in ("name", "expiry", "custom_date")
        }
        values["scopes"] = _scopes(form)
        time_zone = edge.identity(request).user.time_zone
        expires_at = _expiry(values["expiry"], values["custom_date"], time_zone)
        if isinstance(expires_at, str):
            error = page_language.gettext(request, expires_at)
            return {"values": values, "errors": {"expiresAt": error}}, 422
        result = await self.client.run(
            "IssueToken",
            request,
            name=values["name"],
            expiresAt=expires_at.isoformat(),
            scopes=values["scopes"],
        )
        payload = result.payload
        if result.errors:
            return {"values": values, "errors": result.errors}, 422
        return {"issued": {**payload["token"], "secret": payload["secret"]}}, 200

    async def _regenerate(self, request, form) -> tuple[dict[str, Any], int]:
        token_id = request.path_params["id"]
        values = {name: str(form.get(name, "")) for name in ("expiry", "custom_date")}
        state: dict[str, Any] = {"regenerating": token_id, "regenerate_values": values}
        time_zone = edge.identity(request).user.time_zone
        expires_at = _expiry(values["expiry"], values["custom_date"], time_zone)
        if isinstance(expires_at, str):
            error = page_language.gettext(request, expires_at)
            return {**state, "regenerate_errors": {"expiresAt": error}}, 422
        result = await self.client.run(
            "RegenerateToken",
            request,
            id=token_id,
            expiresAt=expires_at.isoformat(),
        )
        payload = result.payload
        if result.errors:
            return {**state, "regenerate_errors": result.errors}, 422
        return {"regenerated": {**payload["token"], "secret": payload["secret"]}}, 200

    async def _delete(self, request, form) -> tuple[dict[str, Any], int]:
        token_id = request.path_params["id"]
        if str(form.get("confirm", "")).strip().lower() != "yes":
            error = page_language.gettext(request, N_("Type yes to confirm."))
            return {"confirm_delete": token_id, "confirm_error": error}, 422
        result = await self.client.run("DeleteToken", request, id=token_id)
        if result.errors:
            return {"errors": result.errors}, 404
        return {"deleted": True}, 200

    async def _generate(self, request, form) -> tuple[dict[str, Any], int]:
        chosen = _scopes(form)
        if form.get("confirm") != "yes" and await self._has_credentials(request):
            # A new secret ends the old one at once, unlike a token's day of grace.
            return {"confirm_regenerate": True, "values": {"scopes": chosen}}, 200
        result = await self.client.run(
            "GenerateApiCredentials",
            request,
            scopes=chosen,
        )
        payload = result.payload
        if result.errors:
            errors = result.errors
            return {"errors": errors, "values": {"scopes": chosen}}, 422
        return {"generated": payload}, 200

    async def _has_credentials(self, request: Request) -> bool:
        outcome = await self.client.execute("ApiCredentials", request)
        viewer = outcome.data.get("viewer") or {}
        return bool(viewer.get("apiCredentials"))

    async def _remove(self, request, form) -> tuple[dict[str, Any], int]:
        if form.get("confirm") != "yes":  # the first press asks for confirmation
            return {"confirm_remove": True}, 200
        result = await self.client.run(
            "RemoveApiCredentials", request, clientId=str(form.get("client_id", ""))
        )
        if result.errors:
            return {"errors": result.errors}, 404
        return {"removed": True}, 200


def _scopes(form) -> list[str] | None:
    """The ticked scope boxes; none ticked is sent as such, and refused with a reason.

    A post without the boxes at all (`scopes_offered` missing) gets the default scopes.
    """
    if "scopes_offered" not in form:
        return None
    return [value for value in form.getlist("scopes") if isinstance(value, str)]


def _expiry(choice: str, custom_date: str, time_zone: str) -> datetime | str:
    """The expiry the form asks for, or a message saying what is wrong with it.

    A filled date wins over the preset choice: without the stylesheet's `:has()` the
    date field shows always, and typing a date there is the clearer intent.
    """
    if custom_date and choice != "custom":
        chosen = _expiry("custom", custom_date, time_zone)
        if not isinstance(chosen, str):
            return chosen
    if choice in EXPIRY_CHOICES[:-1]:
        return clock.now() + timedelta(days=int(choice))
    if choice != "custom":
        return N_("Choose when the token expires.")
    try:
        day = datetime.strptime(custom_date, "%Y-%m-%d").date()
    except ValueError:
        return N_("Pick a date for the custom expiry.")
    # The end of the chosen day, in the user's own time zone.
    return datetime.combine(day, time(23, 59, 59), ZoneInfo(time_zone))
