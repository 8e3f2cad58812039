"""Bearer tokens reach only what their scopes allow: checked once, on every root field.

A query field outside the token's scopes resolves to null with a GraphQL error whose
`extensions.code` is INSUFFICIENT_SCOPE; a mutation outside them answers its payload with
the userError INSUFFICIENT_SCOPE and does not run. Which scope each field needs is the
domain's (backend.tokens.scopes); sessions are not limited.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError
from strawberry.extensions.field_extension import FieldExtension
from strawberry.types.field import StrawberryField

from backend.api.errors import user_errors
from backend.tokens import scopes

QUERY = "query"
MUTATION = "mutation"


class BearerScopes(FieldExtension):
    def __init__(self, kind: str) -> None:
        self.kind = kind

    def apply(self, field: StrawberryField) -> None:
        self.field = field

    def resolve(self, next_, source, info, **kwargs):
        refused = self._refusal(info)
        return refused if refused is not None else next_(source, info, **kwargs)

    async def resolve_async(self, next_, source, info, **kwargs):
        refused = self._refusal(info)
        if refused is not None:
            return refused
        return await next_(source, info, **kwargs)

    def _refusal(self, info) -> Any:
        granted = info.context.identity.scopes
        if granted is None:  # a session, or nobody: not limited by scopes
            return None
        name = info.field_name
        if self.kind == QUERY:
            if scopes.allows_query(granted, name):
                return None
            raise GraphQLError(
                scopes.insufficient().problems[0].message,
                extensions={"code": "INSUFFICIENT_SCOPE"},
            )
        if scopes.allows_mutation(granted, name):
            return None
        refused = user_errors(scopes.insufficient(), info.context.language)
        return self.field.type(user_errors=refused)


def limit_bearer_scopes(root: type, kind: str) -> type:
    """Check scopes on every field of a root type, outside every other field extension."""
    for field in root.__strawberry_definition__.fields:
        field.extensions.append(BearerScopes(kind))
    return root
