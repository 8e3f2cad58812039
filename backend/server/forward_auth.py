"""`/auth/forward`: the HTTP edge of forward authentication (the rules are backend.forward_auth).

A reverse proxy sends it a sub-request before each request of the application it protects:
200 with the `X-Latchkey-*` headers lets the request through, 401 asks for a sign-in (the
proxy's configuration sends browsers to `X-Latchkey-Login`), 403 refuses a signed-in user
a group or scope demands. Every `X-Latchkey-*` header is sent on every 200, empty when it
has no value, so that a proxy copying them never passes on a client's own copy.
"""

from __future__ import annotations

import base64
import binascii
import logging
from urllib.parse import quote, urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from backend.auth.services import Services
from backend.forward_auth.callers import Caller, Refusal, identify
from backend.forward_auth.credentials import (
    BasicSecret,
    BearerToken,
    Credentials,
    SessionCookie,
    Unreadable,
)
from backend.forward_auth.requirements import Requirements, Unmet
from backend.infra import metrics
from backend.kernel import i18n
from backend.server.client_info import client_info
from backend.server.original_request import OriginalRequest, original_request

PATH = "/auth/forward"
# Whatever method the proxy's sub-request uses: nginx and Caddy send GET, others the original.
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
# Every account is a user until accounts of other types exist.
CHALLENGE = 'Bearer realm="latchkey"'
INVALID_TOKEN = 'Bearer realm="latchkey", error="invalid_token"'
# What a header value keeps as it is: printable ASCII but `%`, so that decoding is safe.
_KEPT = "".join(chr(c) for c in range(0x20, 0x7F) if chr(c) != "%")
_KEPT_IN_A_LIST = _KEPT.replace(",", "")
_KEPT_QUOTED = _KEPT.replace('"', "").replace("\\", "")

_NONE = Requirements()

log = logging.getLogger("latchkey.forward_auth")

_REFUSALS = {
    Refusal.MISSING: (
        "unauthenticated",
        "Sign in first: no live session or token came with the request.",
        CHALLENGE,
    ),
    Refusal.INVALID: (
        "invalid_token",
        "The token or credentials are invalid, expired, revoked, or not this user's.",
        INVALID_TOKEN,
    ),
    Refusal.NOT_A_TOKEN: (
        "token_required",
        "Basic authentication takes a refresh token or the API credentials' secret as its "
        "password, never the account's password: issue a token on the account's Tokens page "
        "and use it instead.",
        CHALLENGE,
    ),
}


class ForwardAuthEndpoint:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.sign_in = f"{services.settings.public_url.rstrip('/')}/login"

    def routes(self) -> list[BaseRoute]:
        return [Route(PATH, self.answer, methods=METHODS)]

    async def answer(self, request: Request) -> Response:
        settings = self.services.settings
        original = original_request(request, settings)
        caller = await identify(
            presented(request, settings.session_cookie_name),
            self.services.session_timeouts,
            client_info(request, settings),
        )
        if isinstance(caller, Refusal):
            metrics.forward_auth("unauthenticated")
            return self._unauthenticated(caller, original)
        requirements = _NONE
        if request.scope["query_string"]:  # most locations ask for nothing more
            requirements = Requirements(
                any_of_groups=frozenset(request.query_params.getlist("group")),
                all_of_scopes=frozenset(request.query_params.getlist("scope")),
            )
        unmet = requirements.unmet_by(caller)
        if unmet is not None:
            metrics.forward_auth("forbidden")
            return _forbidden(unmet, caller, requirements, original)
        language = i18n.choose(caller.language, request.headers.get("accept-language"))
        log.debug(
            "forward auth passed",
            extra={"user_id": caller.user_id, "kind": caller.method.value, **_logged(original)},
        )
        metrics.forward_auth("allowed")
        return Response(status_code=200, headers=identity_headers(caller, language))

    def _unauthenticated(self, refusal: Refusal, original: OriginalRequest) -> Response:
        error, description, challenge = _REFUSALS[refusal]
        login = self.sign_in
        if original.url:
            login += "?" + urlencode({"next": original.url})
        log.info(
            "forward auth refused", extra={"reason": error, "status": 401, **_logged(original)}
        )
        return JSONResponse(
            {"error": error, "error_description": description, "sign_in": login},
            status_code=401,
            headers={"WWW-Authenticate": challenge, "X-Latchkey-Login": login},
        )


def presented(request: Request, cookie_name: str) -> Credentials:
    """The `Authorization` header when there is one (the cookie then does not count), else
    the session cookie."""
    authorization = request.headers.get("authorization")
    if authorization is None:
        cookie = request.cookies.get(cookie_name)
        return SessionCookie(cookie) if cookie else None
    scheme, _, value = authorization.strip().partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer" and value:
        return BearerToken(value)
    if scheme.lower() == "basic" and value:
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return Unreadable()
        username, colon, secret = decoded.partition(":")
        return BasicSecret(username, secret) if colon else Unreadable()
    return Unreadable()


def identity_headers(caller: Caller, language: str) -> dict[str, str]:
    """The contract's headers; values that are not printable ASCII are percent-encoded
    (UTF-8), `%` too so that decoding is always safe, and `,` inside a group's name."""
    return {
        "X-Latchkey-User": _encoded(caller.username),
        "X-Latchkey-User-Id": str(caller.user_id),
        "X-Latchkey-Email": _encoded(caller.email),
        "X-Latchkey-Name": _encoded(caller.name),
        "X-Latchkey-Groups": ",".join(_encoded(group, in_a_list=True) for group in caller.groups),
        "X-Latchkey-Account-Type": caller.account_type,
        "X-Latchkey-Language": language,
        "X-Latchkey-Auth": caller.method.value,
        "X-Latchkey-Scopes": " ".join(caller.scopes or ()),
    }


def _encoded(value: str, *, in_a_list: bool = False) -> str:
    # Printable ASCII but `%` (and `,` in a list) is kept as it is: most values are only
    # that, and are sent without quote()'s work.
    plain = value.isascii() and value.isprintable() and "%" not in value
    if plain and not (in_a_list and "," in value):
        return value
    return quote(value, safe=_KEPT_IN_A_LIST if in_a_list else _KEPT)


def _forbidden(
    unmet: Unmet, caller: Caller, requirements: Requirements, original: OriginalRequest
) -> Response:
    log.info(
        "forward auth forbade",
        extra={
            "reason": unmet.value,
            "status": 403,
            "user_id": caller.user_id,
            **_logged(original),
        },
    )
    if unmet is Unmet.GROUP:
        described = "This needs membership of a group you are not in."
        return JSONResponse({"error": "forbidden", "error_description": described}, 403)
    wanted = " ".join(sorted(requirements.all_of_scopes))
    return JSONResponse(
        {
            "error": "insufficient_scope",
            "error_description": f"The token needs the scopes {wanted}.",
        },
        status_code=403,
        headers={
            "WWW-Authenticate": f'Bearer realm="latchkey", error="insufficient_scope", '
            f'scope="{quote(wanted, safe=_KEPT_QUOTED)}"'
        },
    )


def _logged(original: OriginalRequest) -> dict[str, str]:
    return {"method": original.method, "original_url": original.loggable}
