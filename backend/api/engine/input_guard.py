"""Every mutation's input passes one check before its resolver runs: text must be storable.
And every DomainError the resolver raises becomes its payload's `userErrors`, in one place.

Applied to whole mutation classes, so a new mutation is guarded without remembering to.
A field marked `ANY_TEXT` is let through: the domain answers for it (sign-in treats an
impossible username as an unknown one, with the same answer and cost).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import strawberry
from strawberry.extensions.field_extension import FieldExtension
from strawberry.types.field import StrawberryField

from backend.api.errors import user_errors
from backend.kernel.errors import DomainError, NotFound
from backend.kernel.text import is_storable, require_storable

ANY_TEXT = {"any_text": True}


class StorableInput(FieldExtension):
    """Answers a payload with VALIDATION_FAILED on the field that holds unstorable text, and
    with the problems of any DomainError the resolver raises."""

    def apply(self, field: StrawberryField) -> None:
        self.field = field

    def resolve(self, next_, source, info, **kwargs):
        try:
            _check_all(kwargs)
            return next_(source, info, **kwargs)
        except DomainError as error:
            return self.refusal(error, info.context.language)

    async def resolve_async(self, next_, source, info, **kwargs):
        try:
            _check_all(kwargs)
            return await next_(source, info, **kwargs)
        except DomainError as error:
            return self.refusal(error, info.context.language)

    def refusal(self, error: DomainError, language: str) -> Any:
        return self.field.type(user_errors=user_errors(error, language))


def guard_inputs(mutations: type) -> type:
    """Class decorator for a `@strawberry.type` of mutations."""
    for field in mutations.__strawberry_definition__.fields:
        field.extensions.append(StorableInput())
    return mutations


def _check_all(arguments: dict[str, Any]) -> None:
    for name, value in arguments.items():
        _check(value, name)


def _check(value: Any, field: str) -> None:
    if isinstance(value, str):
        require_storable(value, field)
    elif isinstance(value, list | tuple):
        for item in value:
            _check(item, field)
    elif hasattr(value, "__strawberry_definition__") and dataclasses.is_dataclass(value):
        for input_field in value.__strawberry_definition__.fields:
            given = getattr(value, input_field.python_name)
            if (input_field.metadata or {}).get("any_text"):
                continue
            if input_field.type is strawberry.ID:
                # An id that cannot be stored names nothing, like any other odd id.
                if isinstance(given, str) and not is_storable(given):
                    raise NotFound(input_field.python_name)
                continue
            _check(given, input_field.python_name)
