"""A span per GraphQL operation, when tracing is on (backend.infra.tracing).

Strawberry's own OpenTelemetryExtension records the whole document and every resolver's
arguments, a password among them; this one records the operation's type and name only,
never the document or the variables. The pages run their operations through the same
schema, so theirs have spans too.
"""

from __future__ import annotations

from collections.abc import Iterator

from graphql import DocumentNode, OperationDefinitionNode
from strawberry import Schema
from strawberry.extensions import SchemaExtension

from backend.infra import tracing

UNKNOWN = "graphql"  # the span's name when the document names no operation it can run


class OperationSpans(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        tracer = tracing.tracer()
        if tracer is None:
            yield
            return
        # Named when the document is parsed; what runs inside (statements) is its children.
        with tracer.start_as_current_span(UNKNOWN) as span:
            yield
            context = self.execution_context
            operation = _operation(context.graphql_document, context.operation_name)
            if operation is None:
                return
            kind = operation.operation.value  # query, mutation, subscription
            span.set_attribute("graphql.operation.type", kind)
            if operation.name is not None:
                span.set_attribute("graphql.operation.name", operation.name.value)
                span.update_name(f"{kind} {operation.name.value}")
            else:
                span.update_name(kind)


def _operation(document: DocumentNode | None, asked: str | None) -> OperationDefinitionNode | None:
    """The operation that runs: the one named `asked`, or the document's only one. A name
    the document does not define is never returned (it could be any text)."""
    if document is None:
        return None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if asked is None:
        return operations[0] if len(operations) == 1 else None
    return next((o for o in operations if o.name and o.name.value == asked), None)


def with_operation_spans(schema: Schema) -> Schema:
    """The schema, with a span per operation added to the extensions it was built with."""
    if OperationSpans not in schema.extensions:
        schema.extensions = (*schema.extensions, OperationSpans)
    return schema
