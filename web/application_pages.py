"""Applications that sign users in through Latchkey: the consent page a third-party
application's sign-in stops at, and /account/applications with "Remove access".

The consent page sits between two visits to /oauth/authorize: the endpoint sends the user
here with `next`, the authorization to go back to; "Allow" records the answer through the
API and goes back there, which then hands the application its code. "Cancel" sends the
application `access_denied` at its registered redirect URI.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from backend.kernel.i18n import N_
from backend.server.oidc import UNSAFE_REDIRECT, answer_uri
from web import edge, navigation
from web.graphql_client import with_session_cookies
from web.scope_descriptions import describe
from web.sections import Page, Renderer, Section, redirect

CONSENT = "/oauth/consent"
APPLICATIONS = Page(
    path="/account/applications",
    title=N_("Applications"),
    sections=(Section("applications", "Applications"),),
)
State = tuple[dict[str, Any], int]


class ApplicationPages:
    def __init__(self, renderer: Renderer) -> None:
        self.renderer = renderer
        self.client = renderer.client

    def routes(self) -> list[BaseRoute]:
        remove = APPLICATIONS.path + "/{client_id}/remove"
        return [
            Route(APPLICATIONS.path, self.show, methods=["GET"]),
            self.renderer.form_route(remove, APPLICATIONS, "applications", self._remove),
            Route(CONSENT, self.consent, methods=["GET"]),
            Route(CONSENT, self.renderer.csrf_protected(self.answer), methods=["POST"]),
        ]

    async def show(self, request: Request) -> Response:
        return await self.renderer.page(request, APPLICATIONS)

    async def _remove(self, request: Request, form: FormData) -> State:
        client_id = request.path_params["client_id"]
        result = await self.client.run("RemoveApplicationAccess", request, clientId=client_id)
        if result.errors:
            return {"errors": result.errors}, 404
        return {"removed": str(form.get("name", ""))[:100]}, 200

    async def consent(self, request: Request) -> Response:
        back = request.query_params.get("next", "")
        if not navigation.is_authorization(back):
            return self._not_valid(request)
        if edge.identity(request).user is None:
            return redirect(request, navigation.sign_in(back))
        asked = _authorization(back)
        page = await self.client.execute(
            "ConsentPage", request, clientId=asked["client_id"], redirectUri=asked["redirect_uri"]
        )
        if page.data["application"] is None:
            return self._not_valid(request)
        platform = {scope["name"]: scope["description"] for scope in page.data["tokenScopes"]}
        context = {
            "viewer": page.data["viewer"],
            "application": page.data["application"],
            "scopes": [describe(name, platform) for name in asked["scope"].split()],
            "next": back,
        }
        return self.renderer.render(request, "consent.html", context)

    async def answer(self, request: Request, form: FormData) -> Response:
        back = str(form.get("next", ""))
        if not navigation.is_authorization(back):
            return self._not_valid(request)
        if edge.identity(request).user is None:
            return redirect(request, navigation.sign_in(back))
        asked = _authorization(back)
        if form.get("decision") != "allow":
            return await self._deny(request, asked)
        result = await self.client.run(
            "AllowApplication",
            request,
            clientId=asked["client_id"],
            scopes=asked["scope"].split(),
        )
        if result.errors:
            return self._not_valid(request)
        return with_session_cookies(request, redirect(request, back), self.renderer.services)

    async def _deny(self, request: Request, asked: dict[str, str]) -> Response:
        """`access_denied` at the application's redirect URI, once the API confirmed the
        URI is one it registered (RFC 6749 §4.1.2.1, with RFC 9207's `iss`)."""
        page = await self.client.execute(
            "ConsentPage", request, clientId=asked["client_id"], redirectUri=asked["redirect_uri"]
        )
        if page.data["application"] is None:
            return self._not_valid(request)
        issuer = self.renderer.settings.public_url.rstrip("/")
        denied = answer_uri(
            issuer,
            asked["redirect_uri"],
            asked["state"],
            error="access_denied",
            description="The user did not allow it.",
        )
        return redirect(request, denied)

    def _not_valid(self, request: Request) -> Response:
        title, message = UNSAFE_REDIRECT
        context = {"title": title, "message": message}
        return self.renderer.render(request, "error.html", context, status_code=400)


def _authorization(back: str) -> dict[str, str]:
    """The parameters of the authorization the consent page answers."""
    query = parse_qs(urlsplit(back).query)
    names = ("client_id", "redirect_uri", "scope", "state")
    return {name: query.get(name, [""])[0] for name in names}
