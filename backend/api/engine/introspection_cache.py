"""Introspection answers, executed once per schema and document text (see by_text).

An introspection document asks only about the schema, so its answer is the same for every
caller; GraphiQL sends the same one at every page load, and executing it costs 30 to 40 ms of
CPU, more than any other document. A document that selects anything else, or takes variables,
is executed as usual.
"""

from __future__ import annotations

from collections.abc import Iterator

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
)
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

from backend.api.by_text import ByText

# An answer to GraphiQL's query holds about 0.4 MiB; GraphiQL's versions and options make a
# few texts.
_answers: ByText[ExecutionResult] = ByText(4)
_META_FIELDS = frozenset({"__schema", "__type", "__typename"})


class IntrospectionByText(SchemaExtension):
    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        key = _key(context)
        answer = _answers.get(context.schema, key) if key else None
        if answer is not None:
            context.result = answer  # Strawberry then skips execution
        yield
        result = context.result
        if key and answer is None and isinstance(result, ExecutionResult) and not result.errors:
            _answers.put(context.schema, key, result)


def _key(context: ExecutionContext) -> tuple[str, str | None] | None:
    document = context.graphql_document
    if context.query is None or context.variables or document is None:
        return None
    return (context.query, context.operation_name) if asks_only_about_the_schema(document) else None


def asks_only_about_the_schema(document: DocumentNode) -> bool:
    """Whether every operation is a query whose root selections are all __schema, __type or
    __typename (through fragments too). Only the root level: below those fields is the schema."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }

    def only_meta(selection_set: SelectionSetNode, seen: frozenset[str]) -> bool:
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                if selection.name.value not in _META_FIELDS:
                    return False
            elif isinstance(selection, InlineFragmentNode):
                if not only_meta(selection.selection_set, seen):
                    return False
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = fragments.get(name)
                if fragment is None or name in seen:
                    return False
                if not only_meta(fragment.selection_set, seen | {name}):
                    return False
        return True

    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    return bool(operations) and all(
        op.operation == OperationType.QUERY and only_meta(op.selection_set, frozenset())
        for op in operations
    )
