"""API credentials: a client id and secret for the client_credentials grant."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from backend.accounts import administrators, limits
from backend.accounts.models import User
from backend.audit.service import record
from backend.auth import reauthentication
from backend.auth.services import Services
from backend.auth.sessions.models import Session
from backend.events.emit import emit
from backend.kernel import clock
from backend.kernel.client_info import ClientInfo
from backend.kernel.crypto import digest
from backend.kernel.errors import DomainError, NotFound
from backend.kernel.i18n import N_
from backend.notifications.notices import tell
from backend.tokens import client_secrets
from backend.tokens import scopes as scope_catalog
from backend.tokens.format import Kind, generate, new_client_id
from backend.tokens.models import ApiCredential
from backend.tokens.service import (
    LAST_USED_RESOLUTION,
    IssuedAccessToken,
    ScopeRefused,
    issue_access_token,
)


@dataclasses.dataclass(frozen=True)
class GeneratedCredentials:
    credential: ApiCredential
    secret: str  # shown to the user once, never stored


CLIENT_ID_LENGTH = ApiCredential._meta.fields_map["client_id"].max_length


class ClientRefused(Exception):
    """Unknown client id or wrong secret (`invalid_client`)."""


async def generate_for(
    services: Services,
    user: User,
    client: ClientInfo,
    *,
    session: Session | None,
    scopes: list[str] | None = None,
) -> GeneratedCredentials:
    """Create credentials, or give existing ones a new secret; the old secret dies at once."""
    chosen = scope_catalog.for_settings(services.settings).chosen(scopes)
    scope_catalog.check_holder(chosen, user)
    await reauthentication.require(services, user, session)
    secret = generate(Kind.CLIENT_SECRET)
    try:
        async with in_transaction():
            await limits.serialise_on_user(user.id)
            await administrators.refuse_disabled(user.id)
            credential = await _replace_secret(user, secret, scope_catalog.joined(chosen))
            await record(
                "api_credentials.generated",
                user=user,
                client=client,
                client_id=credential.client_id,
            )
            await emit(
                "api_credentials.generated",
                user=user,
                api_credentials={"client_id": credential.client_id},
            )
    except IntegrityError:  # a concurrent generate created them first
        raise DomainError("CONFLICT", "The credentials changed meanwhile; try again.") from None
    await tell(
        services.mailer,
        user.email,
        N_("New API credentials for your account"),
        N_(
            "A new client secret was generated for the API credentials {client_id} of "
            "your Latchkey account {username}, with the scopes {scopes}. "
            "Any earlier secret no longer works."
        ),
        user=user,
        params={
            "client_id": credential.client_id,
            "username": user.username,
            "scopes": ", ".join(chosen),
        },
    )
    return GeneratedCredentials(credential, secret)


async def _replace_secret(user: User, secret: str, scopes: str) -> ApiCredential:
    """A new row under the same client id: the old row's access tokens go with it.

    A new row, not an update, so that an exchange which checked the old secret just
    before cannot store a token afterwards: its insert refers to a row that is gone.
    The old row's access tokens go by the foreign key's cascade.
    """
    credential = await ApiCredential.get_or_none(user_id=user.id)
    client_id = credential.client_id if credential else new_client_id()
    if credential is not None:
        await credential.delete()
    return await ApiCredential.create(
        user=user, client_id=client_id, secret_hash=digest(secret), scopes=scopes
    )


async def remove(user: User, client_id: str, client: ClientInfo) -> None:
    if len(client_id) > CLIENT_ID_LENGTH:  # no such id; the database would refuse to compare
        raise NotFound("client_id")
    async with in_transaction():
        removed = await ApiCredential.filter(user_id=user.id, client_id=client_id).delete()
        if not removed:
            raise NotFound("client_id")
        await record("api_credentials.removed", user=user, client=client, client_id=client_id)
        await emit("api_credentials.removed", user=user, api_credentials={"client_id": client_id})


async def get_for(user_id: int) -> ApiCredential | None:
    return await ApiCredential.get_or_none(user_id=user_id)


async def authenticate(client_id: str, secret: str, client: ClientInfo) -> ApiCredential:
    """The credentials this secret belongs to; ClientRefused otherwise."""
    credential = await client_secrets.verify(
        client_id,
        secret,
        client,
        find=lambda wanted: ApiCredential.get_or_none(client_id=wanted),
        kind=Kind.CLIENT_SECRET,
    )
    if credential is None:
        raise ClientRefused
    return credential


async def issue_access_token_for(
    credential: ApiCredential,
    lifetime: timedelta,
    catalog: scope_catalog.Catalog | None = None,
    requested_scope: str | None = None,
) -> IssuedAccessToken:
    """The client_credentials grant: an access token that speaks for the credential's user.

    It carries the credentials' scopes, or the fewer ones asked for; ScopeRefused for
    a scope they do not have.
    """
    stored = scope_catalog.split(credential.scopes)
    granted = catalog.narrowed(stored, requested_scope) if catalog else stored
    if granted is None:
        raise ScopeRefused
    try:
        issued = await issue_access_token(
            lifetime, scopes=granted, user_id=credential.user_id, api_credential_id=credential.id
        )
    except IntegrityError:  # regenerated or removed since the secret was checked
        raise ClientRefused from None
    now = clock.now()
    if credential.last_used_at is None or now - credential.last_used_at >= LAST_USED_RESOLUTION:
        await ApiCredential.filter(id=credential.id).update(last_used_at=now)
    return issued
