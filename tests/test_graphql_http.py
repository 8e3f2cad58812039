"""/graphql over HTTP: GraphiQL, CSRF-safe transport, limits, and the exported schema."""

from __future__ import annotations

import json
import re
from pathlib import Path

from backend.api.schema import build_schema

schema = build_schema()

ROOT = Path(__file__).resolve().parents[1]


async def test_a_browser_get_shows_graphiql(client):
    response = await client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


async def test_graphiql_can_be_turned_off(database_url):
    from tests.conftest import settings_for
    from tests.helpers import serving

    async with serving(settings_for(database_url, graphiql=False)) as http:
        response = await http.get("/graphql", headers={"Accept": "text/html"})
        assert response.status_code == 404
        assert (await http.get("/static/npm/graphiql/graphiql.min.js")).status_code == 404
        query = "{ __schema { types { name } } }"
        introspection = await http.post("/graphql", json={"query": query})
        assert "introspection has been disabled" in introspection.text
        typo = await http.post("/graphql", json={"query": "{ viewr { username } }"})
        assert "viewr" in typo.text and "Did you mean" not in typo.text


async def test_queries_and_mutations_are_not_run_over_get(client):
    response = await client.get("/graphql", params={"query": "{ viewer { username } }"})
    assert response.status_code in {400, 405}


async def test_form_posts_are_refused_so_html_forms_cannot_forge_requests(client, alice):
    query = "mutation { signOut { userErrors { code } } }"
    response = await client.post("/graphql", data={"query": query})
    assert response.status_code == 400
    # The JSON body a cross-site form can send as text/plain (no preflight) is refused too;
    # GraphiQL's requests carry application/json, which only our own origin may send.
    forged = await client.post(
        "/graphql",
        content=json.dumps({"query": query}),
        headers={"Content-Type": "text/plain"},
    )
    assert forged.status_code == 400
    viewer = await client.post("/graphql", json={"query": "{ viewer { username } }"})
    assert viewer.json()["data"]["viewer"] == {"username": "alice"}


async def test_batches_are_refused(client):
    response = await client.post("/graphql", json=[{"query": "{ viewer { username } }"}] * 2)
    assert response.status_code == 400


async def test_deep_queries_are_refused(client):
    query = "{ viewer { groups { name " + "".join(["__typename "] * 1) + "} } }"
    assert (await client.post("/graphql", json={"query": query})).status_code == 200
    deep = "query { " + "viewer { " * 12 + "username" + " }" * 12 + " }"
    body = (await client.post("/graphql", json={"query": deep})).json()
    assert "exceeds maximum operation depth" in body["errors"][0]["message"]


async def test_oversized_bodies_get_413_before_parsing(client):
    response = await client.post(
        "/graphql",
        content=b'{"query": "' + b"x" * (1024 * 1024) + b'"}',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413


async def test_unknown_fields_are_validation_errors_not_500s(client):
    response = await client.post("/graphql", json={"query": "{ viewer { passwordHash } }"})
    assert response.status_code == 200
    assert "Cannot query field 'passwordHash'" in response.json()["errors"][0]["message"]


def test_schema_graphql_matches_the_code():
    committed = (ROOT / "schema.graphql").read_text()
    assert committed == schema.as_str() + "\n", "run `make schema` and commit schema.graphql"


def test_the_schema_has_no_secret_or_hint_fields():
    sdl = schema.as_str().lower()
    for word in ["passwordhash", "hint", "securityquestion", "tokenhash"]:
        assert word not in sdl
    names = [
        f"{type_name}.{field}"
        for type_name, graphql_type in schema._schema.type_map.items()
        if not type_name.startswith("__")
        for field in getattr(graphql_type, "fields", {})
    ]
    assert names and not [n for n in names if re.search(r"hint|question|secret_?answer", n, re.I)]


def test_there_are_no_password_composition_rules():
    codes = schema._schema.type_map["UserErrorCode"].values
    assert "PASSWORD_TOO_SHORT" in codes
    assert not [code for code in codes if re.search(r"NEEDS|MUST_CONTAIN|UPPER|DIGIT|SYMBOL", code)]


async def test_a_failure_inside_reads_as_unexpected_error_without_its_text(
    client, alice, monkeypatch
):
    from backend.tokens import service as tokens

    async def broken(user_id: int):
        raise RuntimeError("db password=hunter2")

    monkeypatch.setattr(tokens, "list_for", broken)
    response = await client.post("/graphql", json={"query": "{ viewer { tokens { name } } }"})
    assert response.json()["errors"][0]["message"] == "Unexpected error."
    assert "hunter2" not in response.text and "Traceback" not in response.text
    wrong = await client.post("/graphql", json={"query": "{ viewer { nope } }"})
    assert "Cannot query field 'nope'" in wrong.json()["errors"][0]["message"]
