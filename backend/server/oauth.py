"""OAuth 2.0 endpoints: token (RFC 6749), revocation (RFC 7009), introspection (RFC 7662)."""

from __future__ import annotations

import base64
import binascii
import re
from urllib.parse import parse_qsl, unquote_plus

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from backend.auth.services import Services
from backend.infra import metrics
from backend.kernel.errors import RateLimited
from backend.oidc import keys as signing_keys
from backend.server import oidc
from backend.server.client_info import client_info
from backend.serviceclients import service as service_clients
from backend.tokens import credentials as api_credentials
from backend.tokens import scopes as scope_catalog
from backend.tokens import service as tokens
from backend.tokens.models import ApiCredential

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
BASIC_CHALLENGE = 'Basic realm="latchkey"'
# RFC 6749 Appendix A.1: a client_id is visible ASCII (VSCHAR), and no longer than ours are.
CLIENT_ID_MAX_LENGTH = ApiCredential._meta.fields_map["client_id"].max_length
CLIENT_ID = re.compile(rf"[\x20-\x7e]{{1,{CLIENT_ID_MAX_LENGTH}}}")


class OAuthError(Exception):
    """An error response as RFC 6749 §5.2 shapes it."""

    def __init__(
        self,
        error: str,
        description: str,
        status_code: int = 400,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status_code = status_code
        self.headers = headers or {}

    def response(self) -> Response:
        return JSONResponse(
            {"error": self.error, "error_description": self.description},
            status_code=self.status_code,
            headers={**NO_STORE, **self.headers},
        )


def invalid_client(description: str = "Client authentication failed.") -> OAuthError:
    return OAuthError("invalid_client", description, 401, {"WWW-Authenticate": BASIC_CHALLENGE})


class OAuthEndpoints:
    def __init__(self, services: Services) -> None:
        self.services = services

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/oauth/token", self._handled(self.token), methods=["POST"]),
            Route("/oauth/revoke", self._handled(self.revoke), methods=["POST"]),
            Route("/oauth/introspect", self._handled(self.introspect), methods=["POST"]),
            Route("/oauth/jwks", self.jwks, methods=["GET"]),
        ]

    async def jwks(self, request: Request) -> Response:
        """The public keys that sign ID tokens (RFC 7517). Relying parties cache it; a token
        with a kid they do not know makes them fetch it again."""
        await signing_keys.ensure(self.services.secret_box)  # made here on a first start
        body = await signing_keys.jwks(self.services.secret_box)
        return JSONResponse(body, headers={"Cache-Control": "public, max-age=300"})

    def _handled(self, endpoint):
        async def handle(request: Request) -> Response:
            try:
                return await endpoint(request, await _form(request))
            except OAuthError as error:
                return error.response()
            except RateLimited as limited:
                return _client_locked(limited).response()

        return handle

    async def token(self, request: Request, form: dict[str, str]) -> Response:
        grant_type = form.get("grant_type", "")
        try:
            answer = await self._token(request, form)
        except OAuthError:  # the grant, client or scope refused
            metrics.token_grant(grant_type, "failure")
            raise
        except RateLimited:  # the client is locked after wrong secrets
            metrics.token_grant(grant_type, "throttled")
            raise
        except Exception:
            metrics.token_grant(grant_type, "error")
            raise
        metrics.token_grant(grant_type, "success")
        return answer

    async def _token(self, request: Request, form: dict[str, str]) -> Response:
        grant_type = _required(form, "grant_type")
        # RFC 6749 §6 and §4.4.2: fewer scopes than granted may be asked for, never more.
        requested = form.get("scope") or None
        catalog = scope_catalog.for_settings(self.services.settings)
        lifetime = self.services.access_token_lifetime
        if grant_type == "refresh_token" and await _names_an_application(request, form):
            # An application's offline_access token (OpenID Connect), rotated on each use.
            client_id, secret = _presented_credentials(request, form, public=True)
            client = await oidc.authenticated_client(client_id, secret)
            if client is None:
                raise invalid_client()
            body = await oidc.exchange_refresh_token(
                self.services, client, _required(form, "refresh_token")
            )
            if body is None:
                raise OAuthError(
                    "invalid_grant", "The refresh token is invalid, used, expired or revoked."
                )
            return JSONResponse(body, headers=NO_STORE)
        if grant_type == "refresh_token":
            try:
                issued = await tokens.exchange(
                    _required(form, "refresh_token"),
                    client_info(request, self.services.settings),
                    lifetime,
                    catalog,
                    requested,
                )
            except tokens.GrantRefused:
                raise OAuthError(
                    "invalid_grant", "The refresh token is invalid, expired or revoked."
                ) from None
            except tokens.ScopeRefused:
                raise _invalid_scope() from None
        elif grant_type == "authorization_code":
            client_id, secret = _presented_credentials(request, form, public=True)
            client = await oidc.authenticated_client(client_id, secret)
            if client is None:
                raise invalid_client()
            body = await oidc.exchange_code(self.services, client, form)
            if body is None:
                raise OAuthError(
                    "invalid_grant", "The code is invalid, used, expired or not this client's."
                )
            return JSONResponse(body, headers=NO_STORE)
        elif grant_type == "client_credentials":
            credential = await self._client(request, form)
            try:
                issued = await api_credentials.issue_access_token_for(
                    credential, lifetime, catalog, requested
                )
            except api_credentials.ClientRefused:
                raise invalid_client() from None
            except tokens.ScopeRefused:
                raise _invalid_scope() from None
        else:
            raise OAuthError(
                "unsupported_grant_type",
                "Use grant_type authorization_code, refresh_token or client_credentials.",
            )
        body = {
            "access_token": issued.secret,
            "token_type": "Bearer",
            "expires_in": issued.expires_in,
            "scope": scope_catalog.joined(issued.scopes),
        }
        return JSONResponse(body, headers=NO_STORE)

    async def revoke(self, request: Request, form: dict[str, str]) -> Response:
        token = _required(form, "token")
        await tokens.revoke_by_secret(token, client_info(request, self.services.settings))
        return Response(status_code=200, headers=NO_STORE)

    async def introspect(self, request: Request, form: dict[str, str]) -> Response:
        try:
            await self._service_client(request, form)
        except (OAuthError, RateLimited):
            metrics.introspection("unauthorized")
            raise
        info = await tokens.describe(_required(form, "token"))
        metrics.introspection("inactive" if info is None else "active")
        if info is None:
            return JSONResponse({"active": False}, headers=NO_STORE)
        user = info.user
        body: dict[str, object] = {
            "active": True,
            # The stable id, as in ID tokens: one user has one subject everywhere.
            "sub": str(user.id),
            "username": user.username,
            "token_type": info.token_type,
            "scope": scope_catalog.joined(info.scopes),
            "iat": int(info.issued_at.timestamp()),
            # Who the user is, so a service needs no user table of its own.
            "email": user.email,
            "name": user.display_name,
            "groups": list(info.groups),
            "account_type": user.account_type,
            "zoneinfo": user.time_zone,
        }
        if user.language:
            body["locale"] = user.language
        if info.expires_at is not None:
            body["exp"] = int(info.expires_at.timestamp())
        if info.client_id:
            body["client_id"] = info.client_id
        if info.audience:
            body["aud"] = info.audience
        if info.sid:
            body["sid"] = info.sid
        return JSONResponse(body, headers=NO_STORE)

    async def _client(self, request: Request, form: dict[str, str]) -> ApiCredential:
        """Client authentication: HTTP Basic (RFC 6749 §2.3.1) or form parameters."""
        client_id, secret = _client_credentials(request, form)
        try:
            return await api_credentials.authenticate(
                client_id, secret, client_info(request, self.services.settings)
            )
        except api_credentials.ClientRefused:
            raise invalid_client() from None

    async def _service_client(self, request: Request, form: dict[str, str]) -> None:
        """Only the platform's service clients may introspect; users' API credentials may not."""
        client_id, secret = _client_credentials(request, form)
        try:
            await service_clients.authenticate(
                client_id, secret, client_info(request, self.services.settings)
            )
        except service_clients.ServiceClientRefused:
            raise invalid_client() from None


def _invalid_scope() -> OAuthError:
    return OAuthError("invalid_scope", "Ask only for scopes the token or credentials were given.")


def _client_locked(limited: RateLimited) -> OAuthError:
    return OAuthError(
        "invalid_client",
        limited.problems[0].message,
        429,
        {"Retry-After": str(limited.retry_after_seconds)},
    )


async def _form(request: Request) -> dict[str, str]:
    """The form body; a parameter sent twice is an error (RFC 6749 §3.1)."""
    if request.headers.get("content-type", "").split(";")[0].strip() != (
        "application/x-www-form-urlencoded"
    ):
        raise OAuthError("invalid_request", "Send the parameters form-encoded.")
    try:
        # Bytes that are not UTF-8, sent as is or percent-encoded, name no token or client.
        pairs = parse_qsl(
            (await request.body()).decode("utf-8"), keep_blank_values=True, errors="strict"
        )
    except UnicodeDecodeError:
        raise OAuthError("invalid_request", "Send the parameters in UTF-8.") from None
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:
            raise OAuthError("invalid_request", f"The parameter {name} was sent twice.")
        form[name] = value
    return form


def _required(form: dict[str, str], name: str) -> str:
    value = form.get(name, "")
    if not value:
        raise OAuthError("invalid_request", f"The parameter {name} is missing.")
    return value


def _client_credentials(request: Request, form: dict[str, str]) -> tuple[str, str]:
    """The client id and secret; an id no client can have is refused before any query."""
    client_id, secret = _presented_credentials(request, form)
    if not CLIENT_ID.fullmatch(client_id):
        raise invalid_client()
    return client_id, secret


async def _names_an_application(request: Request, form: dict[str, str]) -> bool:
    """Whether the request names a registered OpenID Connect client; a user's own refresh
    token comes with no client, or with whatever a generic OAuth library sends."""
    try:
        client_id, _ = _presented_credentials(request, form, public=True)
    except OAuthError:
        return False
    return await oidc.authenticated_client(client_id, "", exists_only=True) is not None


def _presented_credentials(
    request: Request, form: dict[str, str], *, public: bool = False
) -> tuple[str, str]:
    """`public`: a client_id alone is a public client's authentication (method none)."""
    authorization = request.headers.get("authorization", "")
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() == "basic":
        if "client_id" in form or "client_secret" in form:
            raise OAuthError("invalid_request", "Authenticate the client one way only.")
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise invalid_client("Malformed Basic credentials.") from None
        client_id, separator, secret = decoded.partition(":")
        if not separator:
            raise invalid_client("Malformed Basic credentials.")
        return unquote_plus(client_id), unquote_plus(secret)
    if authorization:
        raise invalid_client("Use HTTP Basic or form parameters for client authentication.")
    if not form.get("client_id") or not (public or form.get("client_secret")):
        raise invalid_client("Client authentication is required.")
    return form["client_id"], form.get("client_secret", "")
