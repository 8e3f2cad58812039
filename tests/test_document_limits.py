"""Costly documents are refused before validation; GraphiQL's introspection query still runs."""

from __future__ import annotations

import graphql
import pytest

from backend.api.engine.document_limits import DATA_LIST_LENGTH, ITEM_WEIGHT, DocumentLimits
from backend.api.schema import MAX_TOKENS
from tests.helpers import issue_token

LIMITS = DocumentLimits()


def tokens_aliases(count: int) -> str:
    return "{ viewer { " + " ".join(f"t{n}: tokens {{ id }}" for n in range(count)) + " } }"


async def errors_of(client, query: str) -> list[str]:
    response = await client.post("/graphql", json={"query": query})
    assert response.status_code == 200
    return [error["message"] for error in response.json().get("errors", [])]


async def test_490_repeated_fields_are_refused_before_validation(client):
    # 10 KB: more tokens than a document may have, so it is not even parsed to the end.
    [message] = await errors_of(client, "{" + " viewer { username }" * 490 + " }")
    assert f"more than {MAX_TOKENS} tokens" in message


async def test_the_token_limit_is_exact(client):
    def braces_around(tokens: int) -> str:
        return "{" + " __typename" * (tokens - 2) + " }"

    [message] = await errors_of(client, braces_around(MAX_TOKENS))
    assert "tokens" not in message  # parsed, then refused for repeating a field
    [message] = await errors_of(client, braces_around(MAX_TOKENS + 1))
    assert f"more than {MAX_TOKENS} tokens" in message


async def test_a_document_too_long_to_read_is_refused_before_parsing(client):
    comment = "#" + "x" * LIMITS.max_characters + "\n"
    [message] = await errors_of(client, comment + "{ __typename }")
    assert "too long" in message
    fits = "#" + "x" * (LIMITS.max_characters - 20) + "\n{ __typename }"
    assert await errors_of(client, fits) == []


async def test_a_field_repeated_past_the_limit_is_refused_with_a_clear_error(client):
    # Within the token limit, but the overlapping-fields rule would compare every pair.
    at_limit = "{" + " viewer { username }" * LIMITS.max_repeats + " }"
    assert await errors_of(client, at_limit) == []
    [message] = await errors_of(client, "{" + " viewer { username }" * 60 + " }")
    assert "too costly" in message and "one field 60 times" in message


async def test_aliases_of_a_list_are_capped_at_the_limit(client, alice, gql):
    await issue_token(gql, "deploy")
    # Each `tokens { id }` weighs itself, and DATA_LIST_LENGTH tokens with their ids;
    # `viewer` one more.
    most = (LIMITS.max_data_values - 1) // (1 + DATA_LIST_LENGTH * (ITEM_WEIGHT + 1))
    assert most >= 2
    response = await client.post("/graphql", json={"query": tokens_aliases(most)})
    viewer = response.json()["data"]["viewer"]
    assert len(viewer) == most and viewer[f"t{most - 1}"] == viewer["t0"] != []
    [message] = await errors_of(client, tokens_aliases(most + 1))
    assert "too costly" in message and "values from lists" in message
    [message] = await errors_of(client, tokens_aliases(15))
    assert "too costly" in message


async def test_fragments_count_as_often_as_they_are_spread(client):
    # Twenty fragments, each spreading the next twice: a million fields once expanded.
    fragments = [f"fragment F{n} on User {{ ...F{n + 1} ...F{n + 1} }}" for n in range(20)]
    fragments.append("fragment F20 on User { username }")
    [message] = await errors_of(client, "{ viewer { ...F0 } } " + " ".join(fragments))
    assert "too costly" in message and "selects 1048577 fields" in message


async def test_aliases_hidden_in_fragments_are_counted(client):
    fragment = "fragment A on User { " + " ".join(f"a{n}: username" for n in range(4)) + " }"
    query = "{ viewer { ...A } v2: viewer { ...A } v3: viewer { ...A } v4: viewer { ...A } } "
    [message] = await errors_of(client, query + fragment)
    assert "has 19 aliases" in message


async def test_a_fragment_cycle_is_a_validation_error_not_a_crash(client):
    query = "{ viewer { ...A } } fragment A on User { ...B } fragment B on User { ...A }"
    [message] = await errors_of(client, query)
    assert "Cannot spread fragment 'A' within itself" in message


async def test_deep_nesting_is_refused_without_a_crash(client):
    for depth in [LIMITS.max_depth + 5, 200]:
        query = "{" + " viewer {" * depth + " username" + " }" * depth + " }"
        [message] = await errors_of(client, query)
        assert any(words in message for words in ["too costly", "too deeply", "tokens"])


@pytest.mark.parametrize(
    "options",
    [
        # What GraphiQL (as served on GET /graphql) sends.
        {"input_value_deprecation": True},
        # Every option graphql-core offers, in case a newer GraphiQL asks for more.
        {
            "descriptions": True,
            "specified_by_url": True,
            "directive_is_repeatable": True,
            "schema_description": True,
            "input_value_deprecation": True,
            "one_of": True,
        },
    ],
)
async def test_graphiqls_introspection_query_passes(client, options):
    query = graphql.get_introspection_query(**options)
    response = await client.post("/graphql", json={"query": query})
    body = response.json()
    assert "errors" not in body, body["errors"]
    names = {t["name"] for t in body["data"]["__schema"]["types"]}
    assert {"User", "Token", "IssueTokenInput"} <= names


async def test_variables_holding_too_many_values_are_refused_before_coercion(client):
    query = "mutation($input: IssueTokenInput!) { issueToken(input: $input) { secret } }"
    most = LIMITS.max_variable_values

    async def message_for(entries: int) -> str:
        variables = {"input": {f"unknown{n}": n for n in range(entries)}}
        response = await client.post("/graphql", json={"query": query, "variables": variables})
        return response.json()["errors"][0]["message"]

    assert "IssueTokenInput" in await message_for(most - 1)  # with the input itself: most
    assert "too many values" in await message_for(most)
