"""An introspection query is executed once per document text; everything else every time."""

from __future__ import annotations

import graphql
import pytest
import strawberry.schema.schema

from tests.conftest import settings_for
from tests.helpers import make_user, serving


@pytest.fixture
def executions(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The documents graphql-core was asked to execute, as Strawberry calls it."""
    executed: list[str] = []
    execute = strawberry.schema.schema.execute

    def counting(schema, document, *args, **kwargs):
        executed.append(graphql.print_ast(document))
        return execute(schema, document, *args, **kwargs)

    monkeypatch.setattr(strawberry.schema.schema, "execute", counting)
    return executed


async def test_graphiqls_introspection_query_is_executed_once(client, executions):
    query = graphql.get_introspection_query(descriptions=True)
    body = {"query": query, "operationName": "IntrospectionQuery"}
    first = await client.post("/graphql", json=body)
    second = await client.post("/graphql", json=body)
    assert first.status_code == 200 and "errors" not in first.json()
    assert first.json()["data"]["__schema"]["queryType"]["name"] == "Query"
    assert second.json() == first.json()
    assert len(executions) == 1


async def test_anything_else_is_executed_every_time(gql, settings, executions):
    mixed = "{ __typename viewer { username } }"
    by_name = "query($n: String!) { __type(name: $n) { name } }"
    assert await gql(mixed) == {"__typename": "Query", "viewer": None}
    assert await gql(by_name, {"n": "User"}) == {"__type": {"name": "User"}}
    assert await gql(by_name, {"n": "TokenScope"}) == {"__type": {"name": "TokenScope"}}
    await make_user(settings, "alice")
    await gql.sign_in("alice")
    assert await gql(mixed) == {"__typename": "Query", "viewer": {"username": "alice"}}
    assert len([e for e in executions if "__type" in e]) == 4


async def test_without_graphiql_introspection_stays_refused(database_url, executions):
    query = graphql.get_introspection_query()
    async with serving(settings_for(database_url, graphiql=False)) as http:
        for _ in range(2):
            answer = (await http.post("/graphql", json={"query": query})).json()
            assert "introspection has been disabled" in answer["errors"][0]["message"]
            assert answer.get("data") is None
    assert executions == []
