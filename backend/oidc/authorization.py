"""The authorization code flow (OpenID Connect Core §3.1, RFC 7636): checking a request,
issuing a code to a signed-in user, and redeeming it once."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import secrets
from datetime import datetime, timedelta

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from backend.accounts.models import User
from backend.auth.factors.models import TwoFactor
from backend.infra import hot_sql
from backend.kernel import clock
from backend.kernel.crypto import digest, same
from backend.oidc import clients, grants, session_clients
from backend.oidc.models import AuthorizationCode, OidcClient

CODE_LIFETIME = timedelta(seconds=60)
ACR_MFA = "urn:latchkey:acr:mfa"
ACR_PWD = "urn:latchkey:acr:pwd"
STANDARD_SCOPES = ("openid", "profile", "email", "phone", "groups")
OFFLINE_ACCESS = "offline_access"  # a refresh token


class UnsafeRedirect(Exception):
    """An unknown client or a redirect URI it did not register: say so on a page, never
    redirect (it could be anyone's address)."""


class AuthorizationError(Exception):
    """Sent back to the client's redirect URI, as RFC 6749 §4.1.2.1 says."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


class InvalidGrant(Exception):
    pass


class SessionEnded(Exception):
    """The session ended while its code was being issued: the user signs in again."""


@dataclasses.dataclass(frozen=True)
class AuthorizationRequest:
    client: OidcClient
    redirect_uri: str
    scopes: tuple[str, ...]
    state: str
    nonce: str
    code_challenge: str
    prompt: str
    max_age: int | None
    acr_values: tuple[str, ...] = ()


async def client_and_redirect(client_id: str, redirect_uri: str) -> OidcClient:
    client = await clients.find(client_id)
    # Exact match: one character off is another address.
    if client is None or redirect_uri not in client.redirect_uris:
        raise UnsafeRedirect
    return client


def may_ask(client: OidcClient) -> set[str]:
    """The scopes this client may ask for: the standard ones and its platform scopes."""
    return {*STANDARD_SCOPES, OFFLINE_ACCESS, *client.scopes}


def check(client: OidcClient, redirect_uri: str, params: dict[str, str]) -> AuthorizationRequest:
    if params.get("response_type") != "code":
        raise AuthorizationError(
            "unsupported_response_type", "Only the authorization code flow: response_type=code."
        )
    scopes = tuple(dict.fromkeys(params.get("scope", "").split()))
    if "openid" not in scopes:
        raise AuthorizationError("invalid_scope", "Ask for the openid scope.")
    if not set(scopes) <= may_ask(client):
        raise AuthorizationError("invalid_scope", "Ask only for scopes this client may have.")
    challenge = params.get("code_challenge", "")
    method = params.get("code_challenge_method", "")
    if challenge and method != "S256":
        raise AuthorizationError("invalid_request", "PKCE needs code_challenge_method=S256.")
    if not challenge and clients.is_public(client):
        raise AuthorizationError("invalid_request", "A public client must send a PKCE challenge.")
    if challenge and not 43 <= len(challenge) <= 128:
        raise AuthorizationError("invalid_request", "The PKCE challenge is malformed.")
    max_age = params.get("max_age")
    if max_age is not None and not max_age.isdigit():
        raise AuthorizationError("invalid_request", "max_age is a number of seconds.")
    return AuthorizationRequest(
        client=client,
        redirect_uri=redirect_uri,
        scopes=scopes,
        state=params.get("state", ""),
        nonce=params.get("nonce", "")[:500],
        code_challenge=challenge,
        prompt=params.get("prompt", ""),
        max_age=int(max_age) if max_age is not None else None,
        acr_values=tuple(params.get("acr_values", "").split()),
    )


def needs_fresh_proof(request: AuthorizationRequest, proven_at: datetime) -> bool:
    """prompt=login (which the caller drops once the user proved it again), or a password
    proof older than max_age."""
    if "login" in request.prompt.split():
        return True
    if request.max_age is not None:
        return clock.now() - proven_at > timedelta(seconds=request.max_age)
    return False


def wants_second_factor(request: AuthorizationRequest) -> bool:
    return ACR_MFA in request.acr_values


async def can_prove_second_factor(user: User) -> bool:
    return await TwoFactor.filter(user_id=user.id).exists()


@dataclasses.dataclass(frozen=True)
class SignedInSession:
    """The Latchkey session a code is issued in, and its `sid` (session_clients.py)."""

    id: int
    sid: str
    auth_time: datetime
    second_factor: str | None


async def issue_code(request: AuthorizationRequest, user: User, session: SignedInSession) -> str:
    """A code for the client; the client is remembered as signed in through the session,
    in the same transaction, so that the session's end reaches it."""
    code = secrets.token_urlsafe(32)
    try:
        await _write_code(request, user, session, digest(code))
    except IntegrityError:  # the session's row is gone
        raise SessionEnded from None
    return code


async def _write_code(
    request: AuthorizationRequest, user: User, session: SignedInSession, code_hash: str
) -> None:
    async with in_transaction():
        await AuthorizationCode.create(
            code_hash=code_hash,
            client=request.client,
            user=user,
            redirect_uri=request.redirect_uri,
            scopes=" ".join(request.scopes),
            nonce=request.nonce,
            code_challenge=request.code_challenge,
            auth_time=session.auth_time,
            second_factor=session.second_factor,
            expires_at=clock.now() + CODE_LIFETIME,
            session_id=session.id,
            sid=session.sid,
        )
        await session_clients.remember(session.id, request.client.id, session.sid)


async def redeem(
    code: str, client: OidcClient, redirect_uri: str, verifier: str
) -> AuthorizationCode:
    """The code's grant, used up; InvalidGrant for a code that is unknown, used, expired,
    another client's or another redirect URI's, whose PKCE verifier does not match, or whose
    session has ended."""
    row = await _code_with_user(digest(code))
    if row is None or row.client_id != client.id or row.redirect_uri != redirect_uri:
        raise InvalidGrant
    if row.code_challenge and not same(row.code_challenge, _s256(verifier)):
        raise InvalidGrant
    if not row.code_challenge and verifier:
        raise InvalidGrant
    now = clock.now()
    grant = grants.new_id()
    used = len(await hot_sql.fetch(AuthorizationCode, _USE, [now, grant, row.id]))
    if used != 1:
        spent = await AuthorizationCode.get_or_none(id=row.id)
        if spent is not None and spent.grant:  # a second use: end what the first one gave
            await grants.revoke(spent.grant)
        raise InvalidGrant
    # Signed out in the meantime: the client was sent its logout token already.
    if not await session_clients.signed_in(row.session_id, client.id):
        raise InvalidGrant
    row.used_at, row.grant = now, grant
    return row


# The code with its user's columns as user__<column>, in one statement ($1 its digest).
_USER_COLUMNS = tuple(User._meta.fields_db_projection.values())
_USER_SELECT = ", ".join(f'u."{column}" AS "user__{column}"' for column in _USER_COLUMNS)
_CODE_WITH_USER = f"""
SELECT c.*, {_USER_SELECT} FROM oidc_authorization_codes c JOIN users u ON u.id = c.user_id
WHERE c.code_hash = $1
"""  # noqa: S608 the models' own column names
# Used up, unless used or expired already: $1 now, $2 the grant, $3 the code's id.
_USE = """
UPDATE oidc_authorization_codes SET used_at = $1, "grant" = $2
WHERE id = $3 AND used_at IS NULL AND expires_at > $1
RETURNING id
"""


async def _code_with_user(code_hash: str) -> AuthorizationCode | None:
    rows = await hot_sql.fetch(AuthorizationCode, _CODE_WITH_USER, [code_hash])
    if not rows:
        return None
    columns = rows[0]
    user = {column: columns.pop(f"user__{column}") for column in _USER_COLUMNS}
    row = hot_sql.as_model(AuthorizationCode, columns)
    row.user = hot_sql.as_model(User, user)
    return row


def _s256(verifier: str) -> str:
    if not 43 <= len(verifier) <= 128:
        return ""
    hashed = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(hashed).rstrip(b"=").decode()
