"""/login and /logout: plain HTML forms that work without JavaScript."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from web import edge, navigation, outcomes, page_language
from web.factors import FACTOR_KINDS
from web.graphql_client import with_session_cookies
from web.sections import Renderer, redirect


class SignInPages:
    def __init__(self, renderer: Renderer) -> None:
        self.renderer = renderer
        self.client = renderer.client

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/", self.home, methods=["GET"]),
            Route("/login", self.login_form, methods=["GET"]),
            Route("/login", self.renderer.csrf_protected(self.login), methods=["POST"]),
            Route("/login/verify", self.renderer.csrf_protected(self.verify), methods=["POST"]),
            Route("/login/resend", self.renderer.csrf_protected(self.resend), methods=["POST"]),
            Route("/logout", self.renderer.csrf_protected(self.logout), methods=["POST"]),
            *self.passkey_routes(),
            *(
                Route(path, self.renderer.back_to(page), methods=["GET"])
                for path, page in (
                    ("/login/verify", "/login"),
                    ("/login/resend", "/login"),
                    ("/logout", "/account"),
                )
            ),
        ]

    async def home(self, request: Request) -> Response:
        return RedirectResponse("/account", status_code=303)

    async def login_form(self, request: Request) -> Response:
        back = self._after(request.query_params.get("next"))
        if edge.identity(request).user:
            return RedirectResponse(back, status_code=303)
        settings = self.renderer.settings
        waiting = outcomes.take(request, settings, "/login")
        hint = navigation.login_hint(back)  # an application's sign-in may name the user
        context = waiting[1] if waiting else {"username": hint, "errors": [], "next": back}
        response = self.renderer.render(request, "login.html", context)
        return outcomes.forget(request, response, settings)

    async def login(self, request: Request, form: FormData) -> Response:
        username, password = str(form.get("username", "")), str(form.get("password", ""))
        request.state.next = self._after(form.get("next"))
        outcome = await self.client.execute(
            "SignIn",
            request,
            username=username,
            password=password,
        )
        payload = outcome.data["signIn"]
        if payload["userErrors"]:
            # Back to the form (post/redirect/get), the username kept, never the password.
            context = {
                "username": username,
                "errors": payload["userErrors"],
                "next": request.state.next,
            }
            if request.headers.get("hx-request") == "true":
                return self.renderer.render(request, "login.html", context, status_code=401)
            response = RedirectResponse("/login", status_code=303)
            return outcomes.keep(response, self.renderer.settings, "/login", "login", context)
        if payload["status"] == "SECOND_FACTOR_REQUIRED":
            methods = payload["methods"] or [payload["secondFactorMethod"]]
            request.state.passkey_options = payload.get("passkeyOptions")
            request.state.can_remember_device = bool(payload.get("canRememberDevice"))
            return self._code_step(request, payload["challenge"], methods[0], methods)
        return self._with_cookies(request, redirect(request, _next(request)))

    async def verify(self, request: Request, form: FormData) -> Response:
        """The second step: a code from the app, the email or SMS, or a recovery code."""
        challenge, method, methods = _step_fields(form)
        page_language.carry(request, form.get("language"))
        request.state.next = self._after(form.get("next"))
        request.state.passkey_options = str(form.get("passkey_options", "")) or None
        request.state.can_remember_device = form.get("can_remember_device") == "1"
        if form.get("credential"):
            return await self.verify_with_passkey(request, form)
        outcome = await self.client.execute(
            "VerifySignIn",
            request,
            challenge=challenge,
            code=str(form.get("code", "")),
            rememberDevice=form.get("remember_device") == "on",
        )
        errors = outcome.data["verifySignIn"]["userErrors"]
        if any(error["code"] == "CHALLENGE_EXPIRED" for error in errors):
            context = {"username": "", "errors": errors, "next": _next(request)}
            return self.renderer.render(request, "login.html", context, status_code=401)
        if errors:
            return self._code_step(
                request, challenge, method, methods, errors=errors, status_code=401
            )
        return self._with_cookies(request, redirect(request, _next(request)))

    async def resend(self, request: Request, form: FormData) -> Response:
        """Send a code (again), or switch to another method ("Use another method")."""
        challenge, method, methods = _step_fields(form)
        page_language.carry(request, form.get("language"))
        request.state.next = self._after(form.get("next"))
        request.state.passkey_options = str(form.get("passkey_options", "")) or None
        request.state.can_remember_device = form.get("can_remember_device") == "1"
        if method not in CODES_SENT:  # the app or a recovery code: nothing to send
            return self._code_step(request, challenge, method, methods)
        outcome = await self.client.execute(
            "ResendSignInCode",
            request,
            challenge=challenge,
            method=method,
        )
        errors = outcome.data["resendSignInCode"]["userErrors"]
        return self._code_step(
            request, challenge, method, methods, errors=errors, resent=not errors
        )

    def _code_step(
        self,
        request: Request,
        challenge: str,
        method: str,
        methods: list[str],
        *,
        errors=(),
        resent=False,
        status_code: int = 200,
    ) -> Response:
        context = {
            "step": "code",
            "challenge": challenge,
            "method": method,
            "methods": methods,
            "other_methods": [other for other in methods if other != method],
            "errors": list(errors),
            "resent": resent,
            "username": "",
            "passkey_options": getattr(request.state, "passkey_options", None),
            "can_remember_device": getattr(request.state, "can_remember_device", False),
            "next": _next(request),
        }
        return self.renderer.render(request, "login.html", context, status_code=status_code)

    async def logout(self, request: Request, form: FormData) -> Response:
        identity = edge.identity(request)
        if identity.user is None:
            return redirect(request, "/login")
        await self.client.execute("SignOut", request)
        return self._with_cookies(request, redirect(request, "/login"))

    # -- passkeys -------------------------------------------------------------------

    def passkey_routes(self) -> list[BaseRoute]:
        protected = self.renderer.csrf_protected
        return [
            Route("/login/passkey/options", protected(self.passkey_options), methods=["POST"]),
            Route("/login/passkey", protected(self.sign_in_with_passkey), methods=["POST"]),
        ]

    async def passkey_options(self, request: Request, form: FormData) -> Response:
        """For static/passkeys.js: a challenge and request options for any passkey."""
        outcome = await self.client.execute("StartPasskeySignIn", request)
        payload = outcome.data["startPasskeySignIn"]
        if payload["userErrors"]:  # too many started from this address: the script says so
            errors = [error["message"] for error in payload["userErrors"]]
            return JSONResponse({"errors": errors}, status_code=429)
        return JSONResponse({"challenge": payload["challenge"], "options": payload["options"]})

    async def sign_in_with_passkey(self, request: Request, form: FormData) -> Response:
        request.state.next = self._after(form.get("next"))
        outcome = await self.client.execute(
            "FinishPasskeySignIn",
            request,
            challenge=str(form.get("challenge", "")),
            credential=str(form.get("credential", "")),
            rememberDevice=form.get("remember_device") == "on",
        )
        errors = outcome.data["finishPasskeySignIn"]["userErrors"]
        if errors:
            context = {"username": "", "errors": errors, "next": _next(request)}
            return self.renderer.render(request, "login.html", context, status_code=401)
        return self._with_cookies(request, redirect(request, _next(request)))

    async def verify_with_passkey(self, request: Request, form: FormData) -> Response:
        """The second step answered by a passkey (its options came with the first)."""
        challenge, method, methods = _step_fields(form)
        page_language.carry(request, form.get("language"))
        request.state.next = self._after(form.get("next"))
        outcome = await self.client.execute(
            "VerifySignInWithPasskey",
            request,
            challenge=challenge,
            credential=str(form.get("credential", "")),
            rememberDevice=form.get("remember_device") == "on",
        )
        errors = outcome.data["verifySignIn"]["userErrors"]
        if any(error["code"] == "CHALLENGE_EXPIRED" for error in errors):
            context = {"username": "", "errors": errors, "next": _next(request)}
            return self.renderer.render(request, "login.html", context, status_code=401)
        if errors:  # the passkey's challenge is used up: a code or a new sign-in
            others = [other for other in methods if FACTOR_KINDS[other].typed]
            method = others[0] if others else ""
            return self._code_step(
                request, challenge, method, methods, errors=errors, status_code=401
            )
        return self._with_cookies(request, redirect(request, _next(request)))

    def _after(self, value: object) -> str:
        """Where this sign-in goes on to: see navigation.after_sign_in."""
        return navigation.after_sign_in(value, self.renderer.settings.sign_in_origins)

    def _with_cookies(self, request: Request, response: Response) -> Response:
        return with_session_cookies(request, response, self.renderer.services)


METHODS = tuple(FACTOR_KINDS)
CODES_SENT = tuple(name for name, kind in FACTOR_KINDS.items() if kind.sends_codes)


def _next(request: Request) -> str:
    """Where this sign-in goes on to (navigation.after_sign_in), read from its form."""
    return getattr(request.state, "next", navigation.HOME)


def _step_fields(form: FormData) -> tuple[str, str, list[str]]:
    """The challenge, the method shown, and the account's methods, carried by the form."""
    methods = [m for m in str(form.get("methods", "")).split(",") if m in METHODS]
    method = str(form.get("method", ""))
    if method not in METHODS:
        method = methods[0] if methods else ""
    return str(form.get("challenge", "")), method, methods
