"""A document's validation is remembered by its text: repeated documents are validated
once, never hashed node by node, and unique texts cannot grow the memory without bound."""

from __future__ import annotations

import graphql
import pytest

from backend.api.engine import validation_cache


@pytest.fixture
def validations(monkeypatch):
    """The documents validated, in order, while the test runs."""
    seen: list[str] = []
    validate = validation_cache.validate_document

    def counting(schema, document, rules):
        seen.append(graphql.print_ast(document))
        return validate(schema, document, rules)

    monkeypatch.setattr(validation_cache, "validate_document", counting)
    return seen


async def answer(client, query: str) -> dict:
    response = await client.post("/graphql", json={"query": query})
    assert response.status_code == 200
    return response.json()


async def test_a_repeated_document_is_validated_once_and_answered_alike(client, validations):
    answers = [await answer(client, "{ passwordPolicy { minLength } }") for _ in range(3)]
    assert answers[0]["data"]["passwordPolicy"]["minLength"] > 0
    assert answers[1:] == answers[:2]
    for _ in range(3):
        body = await answer(client, "{ passwordPolicy { nothing } }")
        assert "nothing" in body["errors"][0]["message"]
    assert len(validations) == 2


async def test_a_remembered_document_is_not_hashed_node_by_node(client, monkeypatch):
    await answer(client, "{ passwordPolicy { maxLength } }")

    def refuse(node):
        raise AssertionError("the document was hashed")

    monkeypatch.setattr(graphql.language.ast.DocumentNode, "__hash__", refuse)
    body = await answer(client, "{ passwordPolicy { maxLength } }")
    assert body["data"]["passwordPolicy"]["maxLength"] > 0


async def test_unique_texts_push_the_oldest_out(client, validations, monkeypatch):
    monkeypatch.setattr(validation_cache._results, "size", 2)
    texts = [f"{{ passwordPolicy {{ minLength }} }} # {n}" for n in range(3)]
    for text in texts:
        await answer(client, text)
    await answer(client, texts[2])  # still known
    await answer(client, texts[0])  # forgotten: validated again
    assert len(validations) == 4
