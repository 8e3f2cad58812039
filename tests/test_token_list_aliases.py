"""Aliases of the viewer's token list read the tokens once, and all show the same list."""

from __future__ import annotations

from backend.api import types
from tests.test_token_scopes import issue


async def test_aliased_token_lists_read_the_tokens_once(gql, alice, monkeypatch):
    await issue(gql, None, "first")
    await issue(gql, None, "second")
    reads = []
    original = types.viewer_tokens

    async def counted(user_id: int):
        reads.append(user_id)
        return await original(user_id)

    monkeypatch.setattr(types, "viewer_tokens", counted)
    data = await gql("{ viewer { a: tokens { name } b: tokens { name } } }")

    assert reads == [alice.id]
    names = ["second", "first"]
    assert [token["name"] for token in data["viewer"]["a"]] == names
    assert [token["name"] for token in data["viewer"]["b"]] == names


async def test_each_viewer_reads_its_own_list(gql, alice, monkeypatch):
    await issue(gql, None, "only")
    reads = []
    original = types.viewer_tokens

    async def counted(user_id: int):
        reads.append(user_id)
        return await original(user_id)

    monkeypatch.setattr(types, "viewer_tokens", counted)
    data = await gql("{ v: viewer { tokens { name } } w: viewer { tokens { name } } }")

    assert reads == [alice.id, alice.id]
    assert data["v"] == data["w"] == {"tokens": [{"name": "only"}]}
