"""Bearer tokens reach only what their scopes allow: on every root field, and on every
field that leads into account data, wherever it is in the document.

A query field outside the token's scopes resolves to null with a GraphQL error whose
`extensions.code` is INSUFFICIENT_SCOPE; a mutation outside them answers its payload with
the userError INSUFFICIENT_SCOPE and does not run. Account data follows its own scope, not
the entry point: a mutation's payload that holds the viewer is null with the same GraphQL
error for a token that may make the change but not read the account. Which scope each
field and type needs is the domain's (backend.tokens.scopes); sessions are not limited.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError
from strawberry.extensions.field_extension import FieldExtension
from strawberry.types.base import StrawberryContainer, get_object_definition
from strawberry.types.field import StrawberryField
from strawberry.types.union import StrawberryUnion

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
            raise refused_field()
        if scopes.allows_mutation(granted, name):
            return None
        refused = user_errors(scopes.insufficient(), info.context.language)
        return self.field.type(user_errors=refused)


def limit_bearer_scopes(root: type, kind: str) -> type:
    """Check scopes on every field of a root type, outside every other field extension."""
    for field in root.__strawberry_definition__.fields:
        field.extensions.append(BearerScopes(kind))
    return root


class ScopedData(FieldExtension):
    """On a field whose value is account data: null and INSUFFICIENT_SCOPE without its scope."""

    def __init__(self, type_name: str) -> None:
        self.type_name = type_name

    def resolve(self, next_, source, info, **kwargs):
        self._check(info)
        return next_(source, info, **kwargs)

    async def resolve_async(self, next_, source, info, **kwargs):
        self._check(info)
        return await next_(source, info, **kwargs)

    def _check(self, info) -> None:
        granted = info.context.identity.scopes
        if granted is not None and not scopes.allows_data(granted, self.type_name):
            raise refused_field()


def limit_account_data(*roots: type) -> None:
    """Guard every field, reachable from `roots`, that leads into account data.

    Checked where a document enters the data (Query.viewer, a payload's viewer, a
    payload's token...), not again on the fields inside it, which the entry already
    allowed. A payload added later is covered without remembering to.
    """
    seen: set[str] = set()
    pending = [get_object_definition(root, strict=True) for root in roots]
    while pending:
        definition = pending.pop()
        if definition.name in seen:
            continue
        seen.add(definition.name)
        inside = scopes.DATA_SCOPES.get(definition.name)
        for field in definition.fields:
            for target in _object_types(field.type):
                needed = scopes.DATA_SCOPES.get(target.name)
                if scopes.needed_inside(inside, needed):
                    field.extensions.append(ScopedData(target.name))
                pending.append(target)


def _object_types(annotation: Any) -> list:
    """The object types a field's value may be, through lists, optionals and unions."""
    while isinstance(annotation, StrawberryContainer):
        annotation = annotation.of_type
    if isinstance(annotation, StrawberryUnion):
        return [t for member in annotation.types for t in _object_types(member)]
    definition = get_object_definition(annotation)
    return [definition] if definition is not None and not definition.is_input else []


def refused_field() -> GraphQLError:
    return GraphQLError(
        scopes.insufficient().problems[0].message, extensions={"code": "INSUFFICIENT_SCOPE"}
    )
