"""Validation results, remembered by the document's text.

Strawberry's ValidationCache keys on the parsed document, and graphql-core's nodes are
frozen dataclasses whose hash walks every node of the document, at every request. The
text is hashed once (Python keeps a string's hash), and one text always parses to one
document, so the text is the key here.
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

MAX_DOCUMENTS = 256

_Key = tuple[str, tuple[type, ...]]  # the text, the validation rules
_results: weakref.WeakKeyDictionary[object, OrderedDict[_Key, list[GraphQLError]]] = (
    weakref.WeakKeyDictionary()
)


class ValidationByText(SchemaExtension):
    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        schema = context.schema._schema
        if context.query is None:  # a document given already parsed
            context.pre_execution_errors = validate_document(
                schema, context.graphql_document, context.validation_rules
            )
            yield
            return
        known = _results.setdefault(context.schema, OrderedDict())
        key = (context.query, tuple(context.validation_rules))
        errors = known.get(key)
        if errors is None:
            errors = validate_document(schema, context.graphql_document, context.validation_rules)
            known[key] = errors
            if len(known) > MAX_DOCUMENTS:
                known.popitem(last=False)
        else:
            known.move_to_end(key)
        context.pre_execution_errors = errors
        yield
