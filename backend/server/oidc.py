"""OpenID Connect at the HTTP edge: discovery, the authorization endpoint, userinfo, and the
authorization_code grant of /oauth/token. The rules are backend.oidc's."""

from __future__ import annotations

import html
from urllib.parse import urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from backend.api.outcome import SessionOutcome
from backend.auth.services import Services
from backend.auth.signin import service as signin
from backend.kernel import i18n
from backend.kernel.i18n import N_
from backend.oidc import access, authorization, claims, clients, logout, refresh, session_clients
from backend.oidc.models import AuthorizationCode, OidcClient, OidcRefreshToken
from backend.server.authentication import authenticate_session
from backend.server.client_info import client_info
from backend.server.cookies import apply_outcome
from backend.server.failure_answers import PAGE_CSP
from backend.tokens import service as tokens

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
REAUTHENTICATE = "/account/reauthenticate"  # the pages' "Confirm it's you"
CONSENT = "/oauth/consent"  # the pages' consent page, for third-party applications
SCOPES_SUPPORTED = [*authorization.STANDARD_SCOPES, authorization.OFFLINE_ACCESS]


class OidcEndpoints:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.issuer = services.settings.public_url.rstrip("/")

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/.well-known/openid-configuration", self.discovery, methods=["GET"]),
            Route("/oauth/authorize", self.authorize, methods=["GET"]),
            Route("/oauth/userinfo", self.userinfo, methods=["GET", "POST"]),
            Route("/oauth/logout", self.logout, methods=["GET"]),
        ]

    async def discovery(self, request: Request) -> Response:
        issuer = self.issuer
        body = {
            "issuer": issuer,
            "authorization_endpoint": f"{issuer}/oauth/authorize",
            "token_endpoint": f"{issuer}/oauth/token",
            "userinfo_endpoint": f"{issuer}/oauth/userinfo",
            "jwks_uri": f"{issuer}/oauth/jwks",
            "end_session_endpoint": f"{issuer}/oauth/logout",
            "revocation_endpoint": f"{issuer}/oauth/revoke",
            "introspection_endpoint": f"{issuer}/oauth/introspect",
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["ES256", "RS256"],
            "token_endpoint_auth_methods_supported": [
                "client_secret_basic",
                "client_secret_post",
                "none",
            ],
            "code_challenge_methods_supported": ["S256"],
            "scopes_supported": SCOPES_SUPPORTED,
            "claims_supported": [
                "sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "sid", "amr", "acr",
                "preferred_username", "name", "given_name", "family_name", "zoneinfo",
                "locale", "email", "email_verified", "phone_number", "phone_number_verified",
                "groups",
            ],
            "acr_values_supported": [claims.ACR_MFA, claims.ACR_PWD],
            "authorization_response_iss_parameter_supported": True,
            # Back-channel only: a logout token to each application's registered URI.
            "backchannel_logout_supported": True,
            "backchannel_logout_session_supported": True,
        }  # fmt: skip
        return JSONResponse(body, headers={"Cache-Control": "public, max-age=300"})

    async def authorize(self, request: Request) -> Response:
        params = dict(request.query_params)
        redirect_uri = params.get("redirect_uri", "")
        try:
            client = await authorization.client_and_redirect(
                params.get("client_id", ""), redirect_uri
            )
        except authorization.UnsafeRedirect:
            return _error_page(request)
        try:
            asked = authorization.check(client, redirect_uri, params)
        except authorization.AuthorizationError as error:
            return self._back(
                redirect_uri, params, error=error.error, description=error.description
            )
        identity = await authenticate_session(request, self.services)
        session = identity.session
        silent = "none" in asked.prompt.split()
        # Once the user has signed in or confirmed it's them, prompt=login is satisfied.
        again = f"/oauth/authorize?{urlencode(_without_prompts(params, 'login'))}"
        if identity.user is None or session is None:
            if silent:
                return self._back(
                    redirect_uri, params, error="login_required", description="Sign in first."
                )
            return RedirectResponse(f"/login?{urlencode({'next': again})}", status_code=303)
        proven_at = max(session.created_at, session.reauthenticated_at or session.created_at)
        second_factor = session.reauthenticated_factor
        missing_factor = authorization.wants_second_factor(asked) and not second_factor
        if missing_factor and not await authorization.can_prove_second_factor(identity.user):
            return self._back(
                redirect_uri,
                params,
                error="unmet_authentication_requirements",
                description="This account has no second factor.",
            )
        if missing_factor or authorization.needs_fresh_proof(asked, proven_at):
            if silent:
                return self._back(
                    redirect_uri, params, error="login_required", description="Sign in again."
                )
            # "Confirm it's you" asks the password again, and the second factor when 2FA is on.
            confirm = f"{REAUTHENTICATE}?{urlencode({'next': again})}"
            return RedirectResponse(confirm, status_code=303)
        asks_consent = client.third_party and "consent" in asked.prompt.split()
        if asks_consent or await access.needs_consent(identity.user, client, asked.scopes):
            if silent:
                return self._back(
                    redirect_uri, params, error="consent_required", description="Ask the user."
                )
            answered = f"/oauth/authorize?{urlencode(_without_prompts(params, 'login', 'consent'))}"
            return RedirectResponse(f"{CONSENT}?{urlencode({'next': answered})}", status_code=303)
        await access.record_sign_in(identity.user, client, asked.scopes)
        signed_in = authorization.SignedInSession(
            id=session.id,
            sid=session_clients.sid_of(self.services.settings.secret_key, session.id),
            auth_time=proven_at,
            second_factor=second_factor,
        )
        try:
            code = await authorization.issue_code(asked, identity.user, signed_in)
        except authorization.SessionEnded:
            return RedirectResponse(f"/login?{urlencode({'next': again})}", status_code=303)
        return self._back(redirect_uri, params, code=code)

    async def logout(self, request: Request) -> Response:
        params = request.query_params
        try:
            asked = await logout.check(
                self.services.secret_box,
                params.get("id_token_hint", ""),
                params.get("post_logout_redirect_uri", ""),
            )
        except logout.LogoutRefused:
            return _error_page(request, LOGOUT_REFUSED)
        identity = await authenticate_session(request, self.services)
        ended = SessionOutcome()
        if identity.user is not None and claims.sub(identity.user) == asked.subject:
            await signin.sign_out(
                identity.session_token, identity.user, client_info(request, self.services.settings)
            )
            ended.session_ended()
        if asked.redirect_uri is None:
            response: Response = _page(request, SIGNED_OUT, 200)
        else:
            target, state = asked.redirect_uri, params.get("state")
            if state:
                target += ("&" if urlsplit(target).query else "?") + urlencode({"state": state})
            response = RedirectResponse(target, status_code=303)
        return apply_outcome(response, self.services.settings, ended)

    def _back(self, redirect_uri: str, params: dict[str, str], **answer: str) -> Response:
        target = answer_uri(self.issuer, redirect_uri, params.get("state", ""), **answer)
        return RedirectResponse(target, status_code=303)

    async def userinfo(self, request: Request) -> Response:
        scheme, _, secret = request.headers.get("authorization", "").partition(" ")
        bearer = (
            await tokens.access_token_bearer(secret.strip()) if scheme.lower() == "bearer" else None
        )
        if bearer is None:
            challenge = 'Bearer realm="latchkey", error="invalid_token"'
            return JSONResponse(
                {"error": "invalid_token"},
                status_code=401,
                headers={**NO_STORE, "WWW-Authenticate": challenge},
            )
        if "openid" not in bearer.scopes:
            challenge = 'Bearer realm="latchkey", error="insufficient_scope", scope="openid"'
            return JSONResponse(
                {"error": "insufficient_scope"},
                status_code=403,
                headers={**NO_STORE, "WWW-Authenticate": challenge},
            )
        body = await claims.user_claims(bearer.user, list(bearer.scopes))
        return JSONResponse(body, headers=NO_STORE)


def answer_uri(issuer: str, redirect_uri: str, state: str, **answer: str) -> str:
    """The authorization's answer at the client's registered redirect URI, with `state` and
    `iss` (RFC 9207); `description` becomes `error_description`."""
    query = {**answer, "iss": issuer}
    if state:
        query["state"] = state
    if "description" in query:
        query["error_description"] = query.pop("description")
    separator = "&" if urlsplit(redirect_uri).query else "?"
    return f"{redirect_uri}{separator}{urlencode(query)}"


async def exchange_code(
    services: Services, client: OidcClient, form: dict[str, str]
) -> dict[str, object] | None:
    """The authorization_code grant for an authenticated client; None for a bad grant."""
    try:
        grant = await authorization.redeem(
            form.get("code", ""),
            client,
            form.get("redirect_uri", ""),
            form.get("code_verifier", ""),
        )
    except authorization.InvalidGrant:
        return None
    body = await _tokens_for(services, client, grant)
    if refresh.wanted(grant.scopes):
        body["refresh_token"] = await refresh.first(grant)
    return body


async def exchange_refresh_token(
    services: Services, client: OidcClient, secret: str
) -> dict[str, object] | None:
    """The refresh_token grant of an application: rotated; None for a bad or reused one."""
    try:
        grant, successor = await refresh.rotate(secret, client)
    except refresh.RefreshRefused:
        return None
    return {**await _tokens_for(services, client, grant), "refresh_token": successor}


async def _tokens_for(
    services: Services, client: OidcClient, grant: AuthorizationCode | OidcRefreshToken
) -> dict[str, object]:
    scopes = tuple(grant.scopes.split())
    issued = await tokens.issue_access_token(
        services.access_token_lifetime,
        scopes,
        user_id=grant.user_id,
        oidc_client_id=client.id,
        oidc_grant=grant.grant if isinstance(grant, AuthorizationCode) else grant.family,
        oidc_sid=grant.sid or None,
    )
    issuer = services.settings.public_url.rstrip("/")
    return {
        "access_token": issued.secret,
        "token_type": "Bearer",
        "expires_in": issued.expires_in,
        "scope": grant.scopes,
        "id_token": await claims.id_token(services.secret_box, issuer, client, grant),
    }


async def authenticated_client(
    client_id: str, secret: str, *, exists_only: bool = False
) -> OidcClient | None:
    """client_secret_basic or _post for a confidential client, none for a public one;
    `exists_only`: the client the id names, before any secret is checked."""
    client = await clients.find(client_id)
    if client is None or exists_only:
        return client
    if clients.is_public(client):
        return client if not secret else None
    return client if clients.secret_matches(client, secret) else None


def _without_prompts(params: dict[str, str], *answered: str) -> dict[str, str]:
    """The request again, once the user answered what these prompt values asked for."""
    prompt = " ".join(value for value in params.get("prompt", "").split() if value not in answered)
    kept = {name: value for name, value in params.items() if name != "prompt"}
    return {**kept, "prompt": prompt} if prompt else kept


UNSAFE_REDIRECT = (
    N_("This sign-in link is not valid"),
    N_(
        "The application that sent you here is not registered with this address. "
        "Go back to it and try again, or tell its administrator."
    ),
)
LOGOUT_REFUSED = (
    N_("This sign-out link is not valid"),
    N_(
        "It did not come from an application you signed in to, so nothing was signed out. "
        "To sign out of Latchkey, use the menu on your account page."
    ),
)
SIGNED_OUT = (N_("Signed out"), N_("You are signed out of Latchkey. You can close this page."))


def _error_page(request: Request, words: tuple[str, str] = UNSAFE_REDIRECT) -> Response:
    """Shown instead of redirecting: the request named no client or a URI not registered."""
    return _page(request, words, 400)


def _page(request: Request, words: tuple[str, str], status_code: int) -> Response:
    language = i18n.from_accept_language(request.headers.get("accept-language", ""))
    title = html.escape(i18n.gettext(language, words[0]))
    message = html.escape(i18n.gettext(language, words[1]))
    page = (
        f'<!doctype html><html lang="{language}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title></head><body><h1>{title}</h1><p>{message}</p></body></html>"
    )
    headers = {**NO_STORE, "Content-Security-Policy": PAGE_CSP}
    return HTMLResponse(page, status_code=status_code, headers=headers)
