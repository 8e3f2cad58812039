"""Bounding what one document may ask for, in one linear pass before validation runs.

Validation is not linear: graphql-core's overlapping-fields rule compares the fields of a
selection set pairwise, so a few hundred repeated fields cost a second of CPU, and documents
that differ by one alias miss every cache. A list field multiplies the work again by its
length, and aliases multiply the list. So before parsing, bound the document's length and the
variables' size; after parsing and before validation, count (fragment spreads expanded) the
fields, aliases, list selections, list nesting, fields repeated in one place, and the values
that lists of the user's data may answer. The limits fit GraphiQL's introspection query and
keep the worst document we know at about 12 ms of server CPU (`make bench`).
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterator
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLOutputType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)
from graphql.type import get_named_type
from strawberry.extensions import SchemaExtension

from backend.api.by_text import ByText

MAX_ALIASES = 15
# The most items a list of the user's data holds: tokens and sessions per user, events per page.
DATA_LIST_LENGTH = 100
# An item of such a list costs about as much as four of its fields (measured with `make bench`):
# it is loaded from the database and built before its fields are resolved.
ITEM_WEIGHT = 4
# Lists that hold a few items whatever the data: a mutation's errors, ten recovery codes,
# a user's second factors (account_settings/second_factors.py MAX_AUTHENTICATORS) and their kinds,
# and the scopes the operator configured (a token's are among them).
SHORT_LISTS = frozenset(
    {
        "userErrors",
        "recoveryCodes",
        "authenticators",
        "methods",
        "secondFactors",
        "scopes",
        "tokenScopes",
    }
)


@dataclasses.dataclass(frozen=True)
class DocumentLimits:
    # GraphiQL's introspection query selects 473 fields (fragments expanded), 16 of them lists
    # nested 3 deep, and no field twice in one place; these leave it a little room.
    max_fields: int = 500
    max_list_fields: int = 16
    max_list_nesting: int = 3
    # A user's tokens, sessions, groups, devices and events: a field inside such a list is
    # answered once per item, and a list holds up to DATA_LIST_LENGTH items.
    # The groups page (two lists of groups) weighs 1303; the security log page (100 events of
    # 7 fields) 1104, at about 14 ms of CPU.
    max_data_values: int = 1500
    # The overlapping-fields rule compares every pair of fields with the same name.
    max_repeats: int = 3
    max_aliases: int = MAX_ALIASES
    # Deeper than the depth limit allows anyway; it keeps this walk's recursion shallow.
    max_depth: int = 40
    # Comments and strings are not tokens but still cost the lexer; GraphiQL's introspection
    # query is 1.9 KB.
    max_characters: int = 20_000
    # Values in the variables (object entries, list items, scalars). graphql-core quotes a whole
    # input object in each of up to 50 errors about it, so 10,000 unknown fields cost 100 ms;
    # our inputs hold a dozen values.
    max_variable_values: int = 250


@dataclasses.dataclass
class _Cost:
    fields: int = 0
    aliases: int = 0
    list_fields: int = 0
    list_nesting: int = 0
    data_values: int = 0  # fields, each counted as often as the lists around it may repeat it
    repeats: int = 0

    def add(self, other: _Cost, *, nested_in_list: bool = False) -> None:
        self.fields += other.fields
        self.aliases += other.aliases
        self.list_fields += other.list_fields
        self.data_values += other.data_values
        self.list_nesting = max(self.list_nesting, other.list_nesting + nested_in_list)
        self.repeats = max(self.repeats, other.repeats)


@dataclasses.dataclass
class _Selections:
    cost: _Cost
    names: Counter[str]  # response names selected at this level, through fragments too


class _TooDeep(Exception):
    pass


class _Counter:
    def __init__(self, schema: GraphQLSchema, document: DocumentNode, max_depth: int) -> None:
        self.schema = schema
        self.max_depth = max_depth
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.fragment_costs: dict[str, _Selections] = {}
        self.counting: set[str] = set()

    def document(self, document: DocumentNode) -> _Cost:
        total = _Cost()
        for definition in document.definitions:
            if isinstance(definition, OperationDefinitionNode):
                root = self.schema.get_root_type(definition.operation)
                total.add(self.selections(definition.selection_set, root, 0).cost)
        for name in self.fragments.keys() - self.fragment_costs.keys():
            # Validated even where unused, so counted once on its own.
            total.add(self.fragment(name, 0).cost)
        return total

    def selections(
        self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType | None, depth: int
    ) -> _Selections:
        if depth > self.max_depth:
            raise _TooDeep
        here = _Selections(_Cost(), Counter())
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                here.cost.add(self.field(selection, parent, depth))
                here.names[(selection.alias or selection.name).value] += 1
                continue
            if isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self.schema.get_type(condition.name.value) if condition else parent
                nested = self.selections(selection.selection_set, inner, depth + 1)
            elif isinstance(selection, FragmentSpreadNode):
                nested = self.fragment(selection.name.value, depth + 1)
            else:
                continue
            here.cost.add(nested.cost)
            here.names.update(nested.names)
        if here.names:
            here.cost.repeats = max(here.cost.repeats, max(here.names.values()))
        return here

    def field(self, node: FieldNode, parent: GraphQLNamedType | None, depth: int) -> _Cost:
        field_type = self._field_type(node.name.value, parent)
        is_list = _is_list(field_type)
        # Introspection lists are as long as the schema is; the others grow with the user's data.
        is_data_list = (
            is_list
            and parent is not None
            and not parent.name.startswith("__")
            and node.name.value not in SHORT_LISTS
        )
        named = get_named_type(field_type) if field_type else None
        inner = self.selections(node.selection_set, named, depth + 1).cost
        values = inner.data_values
        if is_data_list:
            values = DATA_LIST_LENGTH * (ITEM_WEIGHT + values)
        cost = _Cost(
            fields=1,
            aliases=int(node.alias is not None),
            list_fields=int(is_list),
            data_values=1 + values,
        )
        inner.data_values = 0  # counted above
        cost.add(inner, nested_in_list=is_list)
        if is_list:
            cost.list_nesting = max(cost.list_nesting, 1)
        return cost

    def fragment(self, name: str, depth: int) -> _Selections:
        if name in self.fragment_costs:
            return self.fragment_costs[name]
        definition = self.fragments.get(name)
        if definition is None or name in self.counting:
            # Unknown or cyclic: validation refuses the document.
            return _Selections(_Cost(), Counter())
        self.counting.add(name)
        condition = self.schema.get_type(definition.type_condition.name.value)
        counted = self.selections(definition.selection_set, condition, depth)
        self.counting.discard(name)
        self.fragment_costs[name] = counted
        return counted

    def _field_type(self, name: str, parent: GraphQLNamedType | None) -> GraphQLOutputType | None:
        if name == "__schema":
            return self.schema.get_type("__Schema")  # type: ignore[return-value]
        if name == "__type":
            return self.schema.get_type("__Type")  # type: ignore[return-value]
        fields = getattr(parent, "fields", None)
        field = fields.get(name) if fields else None
        return field.type if field else None


def _is_list(field_type: GraphQLOutputType | None) -> bool:
    if isinstance(field_type, GraphQLNonNull):
        field_type = field_type.of_type
    return isinstance(field_type, GraphQLList)


def _more_values_than(variables: dict[str, Any], most: int) -> bool:
    """Whether the decoded JSON holds more than `most` values; stops counting there."""
    pending: list[Any] = [variables]
    count = 0
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
        count += 1
        if count > most + 1:  # the variables object itself is not a value
            return True
    return False


def problems(schema: GraphQLSchema, document: DocumentNode, limits: DocumentLimits) -> list[str]:
    """What in the document goes past the limits, in words; empty when nothing does."""
    try:
        cost = _Counter(schema, document, limits.max_depth).document(document)
    except _TooDeep:
        return [f"nests selections more than {limits.max_depth} deep"]
    checks = [
        (cost.fields, limits.max_fields, "selects {} fields"),
        (cost.aliases, limits.max_aliases, "has {} aliases"),
        (cost.list_fields, limits.max_list_fields, "selects list fields {} times"),
        (cost.data_values, limits.max_data_values, "may answer {} values from lists"),
        (cost.list_nesting, limits.max_list_nesting, "nests lists {} deep"),
        (cost.repeats, limits.max_repeats, "selects one field {} times in one place"),
    ]
    return [
        f"{words.format(found)} (at most {most})" for found, most, words in checks if found > most
    ]


# What each document text was found to ask for too much.
_counted: ByText[list[str]] = ByText(256)


class DocumentLimiter(SchemaExtension):
    """Refuses a parsed document that asks for too much, before it is validated."""

    limits = DocumentLimits()

    def on_parse(self) -> Iterator[None]:
        query = self.execution_context.query or ""
        if len(query) > self.limits.max_characters:
            raise GraphQLError(
                f"The document is too long: {len(query)} characters "
                f"(at most {self.limits.max_characters}).",
                extensions={"code": "DOCUMENT_TOO_LONG"},
            )
        variables = self.execution_context.variables or {}
        if _more_values_than(variables, self.limits.max_variable_values):
            raise GraphQLError(
                f"The variables hold too many values (at most {self.limits.max_variable_values}).",
                extensions={"code": "VARIABLES_TOO_LARGE"},
            )
        yield
        document = self.execution_context.graphql_document
        if document is None:
            return
        found = _counted.get(self.execution_context.schema, query)
        if found is None:
            found = problems(self.execution_context.schema._schema, document, self.limits)
            _counted.put(self.execution_context.schema, query, found)
        if found:
            raise GraphQLError(
                f"The document is too costly: it {' and '.join(found)}.",
                extensions={"code": "DOCUMENT_TOO_COSTLY"},
            )
