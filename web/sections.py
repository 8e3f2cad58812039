"""Pages made of sections. A section is one `.graphql` query plus one template.

A form inside a section posts to its own URL. The handler runs a mutation, then answers
with the section alone when htmx asked (`HX-Request`). A browser without JavaScript gets
a 303 to the page, anchored at the section, which then shows the outcome once (see
`web/outcomes.py`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from backend.auth.services import Services
from backend.kernel.i18n import N_
from web import csrf, edge, navigation, outcomes
from web.content_security import for_forms_going_to
from web.first_error import focus_first_error
from web.graphql_client import GraphQLClient, ReauthenticationNeeded, with_session_cookies
from web.templating import templates


@dataclasses.dataclass(frozen=True)
class Section:
    name: str  # the template is partials/<name>.html
    operation: str  # the query that fills it: operations/<operation>.graphql
    params: tuple[str, ...] = ()  # query-string parameters passed on as its variables
    # Or the variables drawn from the request some other way (an id in the path, a filter
    # checked against its choices); it replaces `params`.
    variables: Callable[[Request], dict[str, Any]] | None = None

    @property
    def template(self) -> str:
        return f"partials/{self.name}.html"


@dataclasses.dataclass(frozen=True)
class Page:
    path: str
    title: str
    sections: tuple[Section, ...]
    # Sections without typed input that every htmx answer brings up to date as well
    # (out-of-band), so that e.g. the security log shows what the user just did.
    live: tuple[str, ...] = ()
    # (answering, refreshed): an answer of the first section changes the second as well (a
    # passkey is a second factor), so htmx gets both.
    refreshes: tuple[tuple[str, str], ...] = ()
    # Its changes ask for re-authentication: the page says so once, under its title.
    asks_reauthentication: bool = False

    def section(self, name: str) -> Section:
        return next(section for section in self.sections if section.name == name)

    def at(self, request: Request) -> Page:
        """This page for the request's path parameters: a path such as /admin/users/{id}
        names one page per account, and its outcomes and return address are that one's."""
        if "{" not in self.path:
            return self
        return dataclasses.replace(self, path=self.path.format(**request.path_params))


class CsrfFailed(Exception):
    pass


class Elsewhere(Exception):  # noqa: N818 (an outcome, not a failure)
    """An action's outcome belongs on another page: the one it acted on is gone (a deleted
    account's page), so the answer goes to `page`'s `section`, shown once."""

    def __init__(self, page: Page, section: str, state: dict[str, Any]) -> None:
        super().__init__(page.path)
        self.page, self.section, self.state = page, section, state


# A form action: runs mutations for the posted form, returns the section's state and status.
Action = Callable[[Request, FormData], Awaitable[tuple[dict[str, Any], int]]]


class Renderer:
    """Renders pages and sections for the signed-in viewer the edge found (web/edge.py)."""

    def __init__(self, client: GraphQLClient, services: Services) -> None:
        self.client = client
        self.services = services
        self.settings = services.settings

    async def form(self, request: Request) -> FormData:
        form = await request.form()
        if not await csrf.is_valid(request, self.settings, _text(form.get(csrf.FIELD))):
            raise CsrfFailed
        return form

    def csrf_protected(
        self, handler: Callable[[Request, FormData], Awaitable[Response]]
    ) -> Callable[[Request], Awaitable[Response]]:
        """A POST endpoint that hands `handler` the form only when its CSRF token is good."""

        async def endpoint(request: Request) -> Response:
            try:
                form = await self.form(request)
            except CsrfFailed:
                return self.csrf_failed(request)
            return await handler(request, form)

        return endpoint

    @staticmethod
    def back_to(path: str) -> Callable[[Request], Awaitable[Response]]:
        """GET on a form's address: the page the form lives on, instead of a bare 405."""

        async def endpoint(request: Request) -> Response:
            return RedirectResponse(path, status_code=303)

        return endpoint

    def form_endpoint(
        self, template: Page, section: str, action: Action
    ) -> Callable[[Request], Awaitable[Response]]:
        """A POST endpoint: check CSRF and the session, run `action`, answer with the section."""

        async def endpoint(request: Request, form: FormData) -> Response:
            page = template.at(request)
            if edge.identity(request).user is None:
                return await self.page(request, page)
            try:
                state, status = await action(request, form)
            except ReauthenticationNeeded:
                # To "Confirm it's you", and back to this page; the change is not replayed.
                response = redirect(request, navigation.reauthenticate(page.path))
                return with_session_cookies(request, response, self.services)
            except Elsewhere as moved:
                response = redirect(request, f"{moved.page.path}#{moved.section}")
                outcomes.keep(response, self.settings, moved.page.path, moved.section, moved.state)
                return with_session_cookies(request, response, self.services)
            response = None
            if not is_htmx(request):
                # With errors, no anchor: browsers skip `autofocus` on a page opened at
                # one, and the focused first error scrolls into view by itself.
                anchor = "" if status >= 400 else f"#{section}"
                response = RedirectResponse(f"{page.path}{anchor}", status_code=303)
                try:
                    outcomes.keep(response, self.settings, page.path, section, state)
                except outcomes.TooLarge:
                    response = None
            if response is None:
                response = await self.respond(request, page, section, state, status)
            return with_session_cookies(request, response, self.services)

        protected = self.csrf_protected(endpoint)

        async def get_or_post(request: Request) -> Response:
            if request.method == "GET":  # a form's address opened again: back to its page
                return RedirectResponse(f"{template.at(request).path}#{section}", status_code=303)
            return await protected(request)

        return get_or_post

    def form_route(self, path: str, page: Page, section: str, action: Action) -> Route:
        """The route of one section form: POST runs it, GET goes back to its page."""
        return Route(path, self.form_endpoint(page, section, action), methods=["GET", "POST"])

    def csrf_failed(self, request: Request) -> Response:
        message = N_("The form expired or came from another site. Reload and try again.")
        context = {"message": message}
        return self.render(request, "error.html", context, status_code=403)

    async def page(
        self,
        request: Request,
        page: Page,
        states: dict[str, dict[str, Any]] | None = None,
        status_code: int = 200,
    ) -> Response:
        page = page.at(request)
        if edge.identity(request).user is None:
            back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(navigation.sign_in(back), status_code=303)
        header = await self.client.execute("Header", request)
        waiting = None if states is not None else outcomes.take(request, self.settings, page.path)
        states = {waiting[0]: waiting[1]} if waiting else (states or {})
        rendered = [
            await self._section_context(request, section, states.get(section.name))
            for section in page.sections
        ]
        context = {"viewer": header.data["viewer"], "page": page, "sections": rendered}
        response = self.render(request, "page.html", context, status_code)
        return outcomes.forget(request, response, self.settings)

    async def respond(
        self,
        request: Request,
        page: Page,
        section_name: str,
        state: dict[str, Any],
        status_code: int = 200,
    ) -> Response:
        """The outcome of a form post: the section for htmx, the whole page otherwise."""
        page = page.at(request)
        if not is_htmx(request):
            return await self.page(request, page, {section_name: state}, status_code)
        header = await self.client.execute("Header", request)
        main = await self._section_context(request, page.section(section_name), state)
        refreshed = [name for answering, name in page.refreshes if answering == section_name]
        live = [
            await self._section_context(request, page.section(name), None)
            for name in (*page.live, *refreshed)
            if name != section_name
        ]
        context = {"viewer": header.data["viewer"], "main": main, "live": live}
        return self.render(request, "sections.html", context, status_code)

    def render(
        self, request: Request, template: str, context: dict[str, Any], status_code: int = 200
    ) -> Response:
        context = {
            "csrf_token": csrf.token(request, self.settings),
            "site_host": urlsplit(self.settings.public_url).hostname or "latchkey",
            **context,
        }
        response = templates().TemplateResponse(request, template, context, status_code=status_code)
        if not is_htmx(request):  # htmx answers are focused by static/forms.js
            _focus_first_error(response)
        # A sign-in form's `next` may be an application's sign-in, which ends on its site.
        response.headers["Content-Security-Policy"] = for_forms_going_to(context.get("next"))
        return csrf.remember(request, response, self.settings)

    async def _section_context(
        self,
        request: Request,
        section: Section,
        state: dict[str, Any] | None,
    ) -> dict[str, Any]:
        if section.variables is not None:
            variables = section.variables(request)
        else:
            variables = {name: request.query_params.get(name) for name in section.params}
        outcome = await self.client.execute(section.operation, request, **variables)
        return {
            "section": section,
            "data": outcome.data.get("viewer"),
            "query": outcome.data,
            "state": state or {},
        }


def _focus_first_error(response: Response) -> None:
    html = bytes(response.body).decode()
    focused = focus_first_error(html)
    if focused != html:
        response.body = focused.encode()
        response.headers["content-length"] = str(len(response.body))


def redirect(request: Request, url: str) -> Response:
    """To another page: a 303, or for htmx (which would follow it inside fetch) HX-Redirect."""
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
