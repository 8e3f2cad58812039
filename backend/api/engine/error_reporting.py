"""What a GraphQL error may tell the client and the log: never an input value, whatever the input.

graphql-core quotes the offending input in its messages ("... Found: {'password': ...}",
"String cannot represent a non string value: ..."), and str(error) also prints the document
around it. Messages about an input value keep the type, field and path they name and lose the
value, before anything is returned or logged.
"""

from __future__ import annotations

import logging
from typing import Any

import strawberry
from graphql import (
    ArgumentNode,
    GraphQLError,
    ObjectFieldNode,
    ValueNode,
    VariableDefinitionNode,
)
from strawberry.exceptions import StrawberryGraphQLError
from strawberry.types import ExecutionContext

log = logging.getLogger("latchkey.graphql")

# Where graphql-core starts quoting the value in a message about an input value.
_VALUE_STARTS = (", but encountered error", ": ")
_FOUND = (", found", " Found", "; found")
_INPUT_NODES = (ValueNode, ObjectFieldNode, ArgumentNode, VariableDefinitionNode)


def is_unexpected(error: GraphQLError) -> bool:
    """A bug or an infrastructure failure, rather than a malformed or refused request."""
    original = error.original_error
    return original is not None and not isinstance(original, GraphQLError | StrawberryGraphQLError)


def is_about_input_value(error: GraphQLError) -> bool:
    return any(isinstance(node, _INPUT_NODES) for node in error.nodes or ())


def without_input_value(message: str) -> str:
    """The message up to where it starts quoting the value.

    "Variable '$input' has invalid value: Expected value of type 'IssueTokenInput' not to
    include unknown field 'expiresInDays'. Did you mean 'expiresAt'? Found: {...}." keeps
    everything but the found value; a variable's name and path are kept before the reason.
    """
    prefix = ""
    if message.startswith("Variable '$") and ": " in message:
        head, separator, message = message.partition(": ")
        prefix = head + separator
    cut = min((i for i in (message.find(s) for s in _VALUE_STARTS) if i >= 0), default=-1)
    if cut >= 0:
        message = message[:cut]
    for found in _FOUND:
        message = message.removesuffix(found)
    message = message.rstrip(".")
    return prefix + message + ("" if message.endswith("?") else ".")


def scrub(error: GraphQLError) -> None:
    """Drop the input value from the error, in place, so the response and the log agree."""
    if not is_about_input_value(error) or is_unexpected(error):
        return
    message = without_input_value(error.message)
    error.message = message
    error.args = (message,)
    # The original error holds the same message with the value in it.
    error.original_error = None


class Schema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            scrub(error)
            if is_unexpected(error):
                log.error("GraphQL error: %s", error.message, exc_info=error.original_error)
            else:
                # A client's mistake or a refused document: worth a line, not an alarm. Only
                # the message: str(error) would print the document, literals and all.
                log.info("GraphQL request refused: %s", error.message, extra=_where(error))


def _where(error: GraphQLError) -> dict[str, Any]:
    return {"path": list(error.path)} if error.path else {}
