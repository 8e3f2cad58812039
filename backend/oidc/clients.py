"""The applications registered to sign users in: `latchkey oidc-client create|list|remove`."""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from tortoise.exceptions import IntegrityError

from backend.kernel.crypto import digest, same
from backend.kernel.errors import DomainError, NotFound
from backend.kernel.i18n import N_
from backend.kernel.text import can_name
from backend.oidc.keys import ALGORITHMS
from backend.oidc.models import OidcClient
from backend.tokens.scopes import ACCOUNT_READ, ACCOUNT_WRITE, ADMIN_READ, ADMIN_WRITE

ACCOUNT_SCOPES = (ACCOUNT_READ, ACCOUNT_WRITE, ADMIN_READ, ADMIN_WRITE)


async def create(
    name: str,
    redirect_uris: list[str],
    *,
    public: bool = False,
    third_party: bool = False,
    post_logout_redirect_uris: list[str] | None = None,
    backchannel_logout_uri: str = "",
    scopes: list[str] | None = None,
    known_scopes: tuple[str, ...] = (),
    id_token_alg: str = ALGORITHMS[0],
) -> tuple[OidcClient, str | None]:
    """A new client and, for a confidential one, its secret (shown once). `scopes` are
    platform scopes among `known_scopes`; the account's own never go to a third party."""
    unknown = [name for name in scopes or [] if name not in known_scopes]
    if unknown:
        raise DomainError(
            "VALIDATION_FAILED", N_("Unknown scope: {name}."), "scope", name=unknown[0]
        )
    if third_party and set(scopes or []) & set(ACCOUNT_SCOPES):
        raise DomainError(
            "VALIDATION_FAILED",
            N_("A third-party application never gets the account's own scopes."),
            "scope",
        )
    if not redirect_uris:
        raise DomainError(
            "VALIDATION_FAILED", N_("Give at least one redirect URI."), "redirect_uri"
        )
    for uri in [*redirect_uris, *(post_logout_redirect_uris or [])]:
        _check_uri(uri)
    if backchannel_logout_uri:
        _check_backchannel_uri(backchannel_logout_uri)
    if id_token_alg not in ALGORITHMS:
        raise DomainError("VALIDATION_FAILED", N_("Sign ID tokens with ES256 or RS256."), "alg")
    secret = None if public else secrets.token_urlsafe(32)
    try:
        client = await OidcClient.create(
            client_id=secrets.token_urlsafe(18),
            name=name,
            secret_hash=digest(secret) if secret else None,
            third_party=third_party,
            redirect_uris=redirect_uris,
            post_logout_redirect_uris=post_logout_redirect_uris or [],
            backchannel_logout_uri=backchannel_logout_uri,
            scopes=scopes or [],
            id_token_alg=id_token_alg,
        )
    except IntegrityError:
        raise DomainError("CONFLICT", N_("A client of this name exists already."), "name") from None
    return client, secret


def _check_uri(uri: str) -> None:
    parts = urlsplit(uri)
    local = parts.hostname in ("localhost", "127.0.0.1", "::1")
    if parts.fragment or not parts.hostname or parts.scheme not in ("https", "http"):
        raise DomainError("VALIDATION_FAILED", N_("A redirect URI is an absolute URL."), "uri")
    if parts.scheme == "http" and not local:
        raise DomainError(
            "VALIDATION_FAILED", N_("A redirect URI uses https, except on localhost."), "uri"
        )


def _check_backchannel_uri(uri: str) -> None:
    """Any address the operator names, private ones included (like a webhook's), but a
    whole one (a fragment is never sent, so it would be a mistake)."""
    parts = urlsplit(uri)
    if parts.fragment or not parts.hostname or parts.scheme not in ("https", "http"):
        raise DomainError(
            "VALIDATION_FAILED", N_("Give an http:// or https:// URL."), "backchannel_logout_uri"
        )


async def find(client_id: str) -> OidcClient | None:
    """The client with this id; None for one no client can have (too long, a NUL...)."""
    if not client_id or not can_name(OidcClient, "client_id", client_id):
        return None
    return await OidcClient.get_or_none(client_id=client_id)


def is_public(client: OidcClient) -> bool:
    return client.secret_hash is None


def secret_matches(client: OidcClient, secret: str) -> bool:
    return client.secret_hash is not None and same(client.secret_hash, digest(secret))


async def listed() -> list[OidcClient]:
    return await OidcClient.all().order_by("name")


async def remove(name: str) -> None:
    if not await OidcClient.filter(name=name).delete():
        raise NotFound("name")
