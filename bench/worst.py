"""The most expensive documents we can write within the document limits, and the server CPU
each one costs.

Every request differs from the one before by an alias, so no parser or validation cache helps;
the CPU is the served process's own (user + system, from /proc), so it includes HTTP, JSON,
parsing, validation, execution and the database driver, but not the client's work.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
from collections.abc import Callable

import graphql
import httpx

from backend.api.engine.document_limits import DATA_LIST_LENGTH, ITEM_WEIGHT, DocumentLimits
from backend.api.schema import MAX_TOKENS

LIMITS = DocumentLimits()
TOKEN_FIELDS = "id name createdAt expiresAt lastUsedAt status"
USER_FIELDS = "id username email firstName lastName description mobilePhone timeZone"


@dataclasses.dataclass(frozen=True)
class Document:
    name: str
    build: Callable[[int], str]  # a different document for every request number
    introspection: bool = False  # needs introspection on
    variables: Callable[[], dict] = dict


def _lists(fields: str) -> Callable[[int], str]:
    # As many aliased lists of tokens as the limits allow, each selecting these fields.
    per_list = 1 + DATA_LIST_LENGTH * (ITEM_WEIGHT + len(fields.split()))
    count = min(LIMITS.max_data_values // per_list, LIMITS.max_aliases)

    def build(n: int) -> str:
        lists = " ".join(f"t{i}_{n}: tokens {{ {fields} }}" for i in range(count))
        return f"{{ viewer {{ {lists} }} }}"

    return build


def _aliased_viewers(n: int) -> str:
    # As many aliases as the token limit allows, each repeating every field as often as allowed.
    fields = " ".join([USER_FIELDS] * LIMITS.max_repeats)
    count = min(LIMITS.max_aliases, (MAX_TOKENS - 2) // (len(fields.split()) + 4))
    viewers = " ".join(f"v{i}_{n}: viewer {{ {fields} }}" for i in range(count))
    return f"{{ {viewers} }}"


def _fragments(n: int) -> str:
    # A fragment spread as often as one place allows, holding a list.
    return (
        f"{{ u{n}: viewer {{ ...A }} }} "
        f"fragment A on User {{ ...B ...B ...B tokens {{ id name expiresAt }} }} "
        f"fragment B on User {{ {USER_FIELDS} }}"
    )


def _repeated_fields(n: int) -> str:
    # The overlapping-fields rule's favourite: one name, many times, with sub-selections.
    inner = f"{USER_FIELDS} groups {{ name selfService }}"
    body = " ".join([f"viewer {{ {inner} }}"] + [f"viewer {{ {USER_FIELDS} }}"] * 2)
    return f"{{ a{n}: __typename {body} }}"


def _long_strings(n: int) -> str:
    # As long as a document may be: a long comment and a long argument the lexer must read.
    padding = "#" + "x" * (LIMITS.max_characters // 2) + "\n"
    cursor = "y" * (LIMITS.max_characters // 2 - 200)
    events = f'securityEvents(first: 100, after: "{cursor}") {{ edges {{ node {{ kind }} }} }}'
    return f"{padding}{{ a{n}: viewer {{ {events} }} }}"


def _deep(n: int) -> str:
    return (
        f"{{ a{n}: viewer {{ securityEvents(first: 100) {{ edges {{ cursor node {{ id kind "
        f"description createdAt ipAddress browser }} }} pageInfo {{ hasNextPage endCursor }} }} "
        f"}} }}"
    )


def _issue_token(n: int) -> str:
    return f"mutation M{n}($input: IssueTokenInput!) {{ issueToken(input: $input) {{ secret }} }}"


def _unknown_input_fields() -> dict:
    # As many values as the variables may hold, all of them wrong.
    return {"input": {f"unknown{i}": i for i in range(LIMITS.max_variable_values - 1)}}


def _time_zones(n: int) -> str:
    # The longest list that does not depend on the user: every IANA time zone, ~600 names.
    count = min(LIMITS.max_data_values // (1 + DATA_LIST_LENGTH * ITEM_WEIGHT), LIMITS.max_aliases)
    return "{ " + " ".join(f"z{i}_{n}: timeZones" for i in range(count)) + " }"


def _graphiql_introspection(n: int) -> str:
    query = graphql.get_introspection_query(input_value_deprecation=True)
    return query.replace("__schema {", f"a{n}: __typename __schema {{", 1)


def _nested_introspection(n: int) -> str:
    lists = " ".join(
        f"t{i}: types {{ fields {{ type {{ fields {{ name }} }} }} }}" for i in range(5)
    )
    return f"{{ a{n}: __typename __schema {{ {lists} }} }}"


DOCUMENTS = [
    Document("floor: { __typename }", lambda n: f"{{ a{n}: __typename }}"),
    Document("aliased lists of tokens, every field", _lists(TOKEN_FIELDS)),
    Document("aliased lists of tokens, one field", _lists("id")),
    Document("aliased viewers, repeated fields", _aliased_viewers),
    Document("fragments spread in fragments", _fragments),
    Document("one field repeated, sub-selections", _repeated_fields),
    Document("longest document: comment and string", _long_strings),
    Document("security log page, nested", _deep),
    Document("aliased lists of time zones", _time_zones),
    Document("variables: unknown input fields", _issue_token, variables=_unknown_input_fields),
    Document("GraphiQL's introspection query", _graphiql_introspection, introspection=True),
    Document("nested introspection lists", _nested_introspection, introspection=True),
]


def process_cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rpartition(")")[2].split()
    # utime and stime are fields 14 and 15 of the file; 12 and 13 after "(comm) state".
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_per_request(
    port: int, pid: int, document: Document, headers: dict[str, str], requests: int
) -> tuple[float, str]:
    """Server CPU milliseconds per request, and the first answer's first error (if any)."""
    numbers = itertools.count()
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers) as client:
        for _ in range(10):  # warm up
            client.post("/graphql", json=_body(document, next(numbers)))
        before = process_cpu_seconds(pid)
        first_error = ""
        for _ in range(requests):
            response = client.post("/graphql", json=_body(document, next(numbers)))
            errors = response.json().get("errors") if response.status_code == 200 else None
            if errors and not first_error:
                first_error = errors[0]["message"]
            elif response.status_code != 200 and not first_error:
                first_error = f"HTTP {response.status_code}"
        spent = process_cpu_seconds(pid) - before
    return spent / requests * 1000, first_error


def _body(document: Document, number: int) -> dict:
    return {"query": document.build(number), "variables": document.variables()}
