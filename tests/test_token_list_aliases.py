"""The viewer's token list: read once however many aliases ask for it, from rows that hold
what the tokens' models hold."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from backend.api import types
from backend.api.token_types import Token
from backend.kernel import clock
from backend.tokens import service as tokens
from backend.tokens.models import RefreshToken
from tests.helpers import exchange
from tests.test_token_rotation import regenerate
from tests.test_token_scopes import issue


@pytest.fixture
def reads(monkeypatch) -> list[int]:
    """The users whose token list was read from the database, one entry per read."""
    users: list[int] = []
    original = types.viewer_tokens

    async def counted(user_id: int):
        users.append(user_id)
        return await original(user_id)

    monkeypatch.setattr(types, "viewer_tokens", counted)
    return users


async def test_aliased_token_lists_read_the_tokens_once(gql, alice, reads):
    await issue(gql, None, "first")
    await issue(gql, None, "second")
    data = await gql("{ viewer { a: tokens { name } b: tokens { name } } }")

    assert reads == [alice.id]
    names = ["second", "first"]
    assert [token["name"] for token in data["viewer"]["a"]] == names
    assert [token["name"] for token in data["viewer"]["b"]] == names


async def test_each_viewer_reads_its_own_list(gql, alice, reads):
    await issue(gql, None, "only")
    data = await gql("{ v: viewer { tokens { name } } w: viewer { tokens { name } } }")

    assert reads == [alice.id, alice.id]
    assert data["v"] == data["w"] == {"tokens": [{"name": "only"}]}


async def test_the_listed_tokens_hold_what_their_models_hold(gql, alice):
    used = (await issue(gql, ["account:read"], "used"))["secret"]
    assert (await exchange(gql.client, used)).status_code == 200
    renewed = await regenerate(gql, (await issue(gql, None, "renewed"))["token"]["id"])
    assert renewed["userErrors"] == []
    await issue(gql, None, "expiring")
    clock.advance(timedelta(days=31))  # "used" and "expiring" expire; "renewed" does not
    await RefreshToken.create(user_id=alice.id, name="plain", token_hash="h" * 64)

    listed = await tokens.list_for(alice.id)
    models = await RefreshToken.filter(user_id=alice.id, revoked_at=None).order_by(
        "-created_at", "-id"
    )
    assert [token.id for token in listed] == [model.id for model in models]
    for token, model in zip(listed, models, strict=True):
        for field in dataclasses.fields(token):
            assert getattr(token, field.name) == getattr(model, field.name), field.name
            assert repr(getattr(token, field.name)) == repr(getattr(model, field.name))

    await gql.sign_in("alice")
    shown = await gql(
        "{ viewer { tokens { id name createdAt expiresAt lastUsedAt lastUsedIpAddress status"
        " scopes regeneratedAt previousSecretValidUntil } } }"
    )
    expected = [Token.from_model(model) for model in models]
    assert [t["status"] for t in shown["viewer"]["tokens"]] == [t.status.value for t in expected]
    assert [t["createdAt"] for t in shown["viewer"]["tokens"]] == [
        t.created_at.isoformat() for t in expected
    ]
    assert [t["previousSecretValidUntil"] for t in shown["viewer"]["tokens"]] == [
        t.previous_secret_valid_until and t.previous_secret_valid_until.isoformat()
        for t in expected
    ]
