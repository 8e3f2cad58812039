"""Changing the password: the policy, concurrency, and what happens to other sessions."""

from __future__ import annotations

import asyncio

import pytest

from backend.accounts.models import User
from backend.auth.factors.models import TrustedDevice
from tests.conftest import settings_for, smtp_settings
from tests.helpers import PASSWORD, GraphQL, make_user

CHANGE = """mutation($c: String!, $n: String!, $r: String!) {
  changePassword(input: {currentPassword: $c, newPassword: $n, newPasswordConfirmation: $r}) {
    userErrors { field code message } } }"""
NEW = "a brand new long passphrase"


@pytest.fixture
def settings(database_url, smtp):
    return settings_for(database_url, smtp=smtp_settings(smtp.port))


@pytest.fixture
async def alice(gql, settings):
    user = await make_user(settings, "aliceliddell", email="alice@example.com")
    await gql.sign_in("aliceliddell")
    return user


async def change(gql, new: str, repeat: str | None = None, current: str = PASSWORD) -> list:
    data = await gql(CHANGE, {"c": current, "n": new, "r": new if repeat is None else repeat})
    return [(e["field"], e["code"]) for e in data["changePassword"]["userErrors"]]


@pytest.mark.parametrize(
    ("new", "expected"),
    [
        ("x1y2z3w4v5u6t7", ("newPassword", "PASSWORD_TOO_SHORT")),  # 14 code points
        ("p" * 257, ("newPassword", "PASSWORD_TOO_LONG")),
        ("passwordpassword", ("newPassword", "PASSWORD_TOO_COMMON")),
        ("abcdefghijklmnop", ("newPassword", "PASSWORD_TOO_COMMON")),
        ("qwertyuiopasdfgh", ("newPassword", "PASSWORD_TOO_COMMON")),
        ("aliceliddell2024!", ("newPassword", "PASSWORD_TOO_SIMILAR")),
        ("alice@example.com1", ("newPassword", "PASSWORD_TOO_SIMILAR")),
        ("aliceliddell latchkey", ("newPassword", "PASSWORD_TOO_SIMILAR")),
        (PASSWORD, ("newPassword", "PASSWORD_UNCHANGED")),
    ],
)
async def test_the_policy(gql, alice, new, expected):
    assert await change(gql, new) == [expected]


@pytest.mark.parametrize(
    "new",
    [
        "purple tractor juggles umbrellas",
        "пароль очень длинный",
        "🔑🌵🚲🎻🦊🍋🧭🪁🛶🌋🎲🧩🪴🦉🍄",  # 15 code points, all outside the BMP
        "xkq9vbn2ml4pzr8t",
        "zyxwvutsr qponm lkj",
        "maple calico axle mile",  # the letters of alice@example.com, in another order
        "example decimal call",
        "long:256",
    ],
)
async def test_long_passwords_without_composition_rules_are_accepted(gql, alice, new):
    if new == "long:256":  # exactly at the limit
        new = ("a quiet harbour at dawn with gulls " * 8)[:256]
    assert await change(gql, new) == []
    if len(new) == 256:  # verified whole: a prefix does not sign in
        assert (await gql.sign_in("aliceliddell", new[:255]))["status"] is None
    assert (await gql.sign_in("aliceliddell", new))["status"] == "SIGNED_IN"


async def test_wrong_current_password_and_mismatch(gql, alice):
    assert await change(gql, NEW, current="not it") == [("currentPassword", "INVALID_CREDENTIALS")]
    assert await change(gql, NEW, repeat=NEW + "!") == [
        ("newPasswordConfirmation", "PASSWORD_MISMATCH")
    ]
    assert (await gql.sign_in("aliceliddell"))["status"] == "SIGNED_IN"  # unchanged


async def test_a_change_ends_other_sessions_keeps_this_one_and_tells_the_user(
    gql, client, new_client, smtp, alice
):
    old_cookie = client.cookies["latchkey_session"]
    async with new_client() as other:
        second = GraphQL(other)
        await second.sign_in("aliceliddell")
        await TrustedDevice.create(
            user=alice,
            token_hash="x" * 64,
            expires_at=(await User.get(id=alice.id)).created_at.replace(year=2100),
        )
        assert await change(gql, NEW) == []
        assert (await second("{ viewer { username } }"))["viewer"] is None
    assert (await gql("{ viewer { username } }"))["viewer"] == {"username": "aliceliddell"}
    assert client.cookies["latchkey_session"] != old_cookie  # the same session, a new id
    async with new_client() as copy:
        copy.cookies.set("latchkey_session", old_cookie)
        assert (await GraphQL(copy)("{ viewer { username } }"))["viewer"] is None
    assert len((await gql("{ viewer { sessions { id } } }"))["viewer"]["sessions"]) == 1
    assert not await TrustedDevice.exists()
    assert smtp.to("alice@example.com")[-1]["Subject"] == "Your password changed"
    assert (await gql.sign_in("aliceliddell", NEW))["status"] == "SIGNED_IN"
    assert (await gql.sign_in("aliceliddell", PASSWORD))["userErrors"]


async def test_two_concurrent_changes_with_the_same_current_password_one_wins(gql, alice):
    first, second = "first new long passphrase", "second new long passphrase"
    results = await asyncio.gather(change(gql, first), change(gql, second))
    assert sorted(results) == [[], [("currentPassword", "INVALID_CREDENTIALS")]]
    winner = first if results[0] == [] else second
    loser = second if winner == first else first
    assert (await gql.sign_in("aliceliddell", winner))["status"] == "SIGNED_IN"
    assert (await gql.sign_in("aliceliddell", loser))["userErrors"]


async def test_a_password_set_in_one_normal_form_works_in_the_other(gql, alice):
    assert await change(gql, "café au lait tous les matins") == []
    decomposed = "cafe\u0301 au lait tous les matins"
    assert (await gql.sign_in("aliceliddell", decomposed))["status"] == "SIGNED_IN"
    assert (await gql.sign_in("aliceliddell", "café au lait tous les matins "))["userErrors"]
