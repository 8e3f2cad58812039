"""Validation results, remembered by the document's text (see by_text): Strawberry's
ValidationCache keys on the parsed document, whose hash walks every node at every
request."""

from __future__ import annotations

from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

from backend.api.by_text import ByText

_results: ByText[list[GraphQLError]] = ByText(256)


class ValidationByText(SchemaExtension):
    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        schema = context.schema._schema
        key = (context.query, tuple(context.validation_rules))
        errors = _results.get(context.schema, key) if context.query is not None else None
        if errors is None:
            errors = validate_document(schema, context.graphql_document, context.validation_rules)
            if context.query is not None:  # a document given already parsed has no text
                _results.put(context.schema, key, errors)
        context.pre_execution_errors = errors
        yield
