"""Which applications a user let in, and with what: the consent a third-party application
needs, the record behind /account/applications, and "Remove access"."""

from __future__ import annotations

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from backend.accounts.models import User
from backend.kernel import clock
from backend.kernel.errors import DomainError, NotFound
from backend.kernel.i18n import N_
from backend.oidc import authorization, clients
from backend.oidc.models import ApplicationAccess, AuthorizationCode, OidcClient, OidcRefreshToken
from backend.tokens import service as tokens


async def needs_consent(user: User, client: OidcClient, scopes: tuple[str, ...]) -> bool:
    """First-party applications never ask; a third-party one asks until the user allowed
    every scope it now wants."""
    if not client.third_party:
        return False
    access = await ApplicationAccess.get_or_none(user_id=user.id, client_id=client.id)
    allowed = set(access.consented_scopes.split()) if access and access.consented_at else set()
    return not set(scopes) <= allowed


async def allow(user: User, client_id: str, scopes: tuple[str, ...]) -> OidcClient:
    """The user's answer on the consent page: these scopes, remembered until it wants more."""
    client = await clients.find(client_id)
    if client is None:
        raise NotFound("clientId")
    if not set(scopes) <= authorization.may_ask(client):
        raise DomainError(
            "VALIDATION_FAILED", N_("This application may not ask for these scopes."), "scopes"
        )
    access = await _access(user, client)
    consented = set(access.consented_scopes.split()) | set(scopes)
    access.consented_scopes = " ".join(_in_order(consented))
    access.consented_at = clock.now()
    await access.save(update_fields=["consented_scopes", "consented_at"])
    return client


async def record_sign_in(user: User, client: OidcClient, scopes: tuple[str, ...]) -> None:
    """An application got a code for the user: it is listed, with every scope it was given."""
    access = await _access(user, client)
    access.scopes = " ".join(_in_order(set(access.scopes.split()) | set(scopes)))
    access.last_used_at = clock.now()
    await access.save(update_fields=["scopes", "last_used_at"])


async def record_use(user_id: int, client_id: int) -> None:
    """A refresh: the application still uses the access (shown as its last use)."""
    await ApplicationAccess.filter(user_id=user_id, client_id=client_id).update(
        last_used_at=clock.now()
    )


async def of_user_id(user_id: int) -> list[ApplicationAccess]:
    return (
        await ApplicationAccess.filter(user_id=user_id)
        .select_related("client")
        .order_by("-last_used_at", "id")
    )


async def remove(user: User, client_id: str) -> None:
    """ "Remove access": the consent, the codes not yet redeemed and every token the
    application holds for the user end at once; signing in again starts afresh."""
    client = await clients.find(client_id)
    if client is None:
        raise NotFound("clientId")
    async with in_transaction():
        removed = await ApplicationAccess.filter(user_id=user.id, client_id=client.id).delete()
        if not removed:
            raise NotFound("clientId")
        await tokens.end_access_tokens(user_id=user.id, oidc_client_id=client.id)
        await OidcRefreshToken.filter(user_id=user.id, client_id=client.id, revoked_at=None).update(
            revoked_at=clock.now()
        )
        await AuthorizationCode.filter(user_id=user.id, client_id=client.id, used_at=None).update(
            used_at=clock.now()
        )


def _in_order(scopes: set[str]) -> list[str]:
    """The standard scopes in the order OpenID Connect lists them, then the platform's."""
    standard = (*authorization.STANDARD_SCOPES, authorization.OFFLINE_ACCESS)
    return sorted(
        scopes,
        key=lambda name: (standard.index(name), "") if name in standard else (len(standard), name),
    )


async def _access(user: User, client: OidcClient) -> ApplicationAccess:
    access = await ApplicationAccess.get_or_none(user_id=user.id, client_id=client.id)
    if access is not None:
        return access
    try:
        return await ApplicationAccess.create(user_id=user.id, client_id=client.id)
    except IntegrityError:  # made by a parallel request a moment ago
        return await ApplicationAccess.get(user_id=user.id, client_id=client.id)
