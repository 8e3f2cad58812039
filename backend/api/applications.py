"""Applications that sign users in through Latchkey (OpenID Connect), as the user sees
them: the consent page's question, the list on /account/applications, "Remove access"."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from backend.api.context import Context
from backend.api.engine.input_guard import guard_inputs
from backend.api.errors import UserError
from backend.oidc import access, authorization
from backend.oidc.models import ApplicationAccess, OidcClient


@strawberry.type(description="An application registered to sign users in through Latchkey.")
class Application:
    client_id: str
    name: str
    third_party: bool = strawberry.field(
        description="Run by someone other than the platform: it asks the user's consent."
    )

    @classmethod
    def from_model(cls, client: OidcClient) -> Application:
        return cls(client_id=client.client_id, name=client.name, third_party=client.third_party)


@strawberry.type(description="An application the user signed in to or allowed.")
class ApplicationAccessGrant:
    application: Application
    scopes: list[str] = strawberry.field(description="Every scope it was given.")
    consented_at: datetime | None = strawberry.field(
        description="When the user allowed it on the consent page; null for the platform's own."
    )
    last_used_at: datetime

    @classmethod
    def from_model(cls, row: ApplicationAccess) -> ApplicationAccessGrant:
        return cls(
            application=Application.from_model(row.client),
            scopes=row.scopes.split(),
            consented_at=row.consented_at,
            last_used_at=row.last_used_at,
        )


async def viewer_applications(user_id: int) -> list[ApplicationAccessGrant]:
    rows = await access.of_user_id(user_id)
    return [ApplicationAccessGrant.from_model(row) for row in rows]


async def application(client_id: str, redirect_uri: str) -> Application | None:
    """The application a sign-in request names, when the redirect URI is one it registered:
    the consent page shows nothing for any other. Public, as the sign-in request itself is."""
    try:
        client = await authorization.client_and_redirect(client_id, redirect_uri)
    except authorization.UnsafeRedirect:
        return None
    return Application.from_model(client)


@strawberry.input
class AllowApplicationInput:
    client_id: str
    scopes: list[str]


@strawberry.type
class AllowApplicationPayload:
    application: Application | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class RemoveApplicationAccessInput:
    client_id: str


@strawberry.type
class RemoveApplicationAccessPayload:
    removed_client_id: str | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@guard_inputs
@strawberry.type
class ApplicationMutations:
    @strawberry.mutation(
        description="The consent page's answer: the application may have these scopes, until "
        "it asks for more. Sessions only."
    )
    async def allow_application(
        self, info: Info[Context, None], input: AllowApplicationInput
    ) -> AllowApplicationPayload:
        user = info.context.require_viewer()
        client = await access.allow(user, input.client_id, tuple(input.scopes))
        return AllowApplicationPayload(application=Application.from_model(client))

    @strawberry.mutation(
        description="Remove access: the consent and the application's tokens end at once."
    )
    async def remove_application_access(
        self, info: Info[Context, None], input: RemoveApplicationAccessInput
    ) -> RemoveApplicationAccessPayload:
        await access.remove(info.context.require_viewer(), input.client_id)
        return RemoveApplicationAccessPayload(removed_client_id=input.client_id)
