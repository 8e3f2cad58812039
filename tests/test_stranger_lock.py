"""A stranger who knows only the username cannot keep the owner out.

Guesses lock guessing: the per-account throttle and the lock after 100 failures stop
strangers' password attempts, but not the owner's passkeys, and not a browser that signed
in to the account before (OWASP's device cookies). A lock never tells a stranger that the
account exists.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from backend.auth import lockout
from backend.auth.models import SignInLockout
from backend.kernel import clock
from tests.conftest import settings_for, smtp_settings
from tests.helpers import PASSWORD, GraphQL, make_user
from tests.passkey_helpers import SoftAuthenticator, register, sign_in_with
from tests.recovery_helpers import (
    NEW_PASSWORD,
    ask_for_reset,
    codes,
    last_mail,
    reset,
    reset_token_in,
)

CHANGE_PASSWORD = """mutation($c: String!, $n: String!) { changePassword(input: {
  currentPassword: $c, newPassword: $n, newPasswordConfirmation: $n}) { userErrors { code } } }"""


@pytest.fixture
def settings(database_url, smtp):
    return settings_for(database_url, smtp=smtp_settings(smtp.port))


async def lock_out(stranger: GraphQL, guesses: int = 5) -> None:
    for n in range(guesses):
        await stranger.sign_in("alice", f"a wrong guess {n}")
    assert codes(await stranger.sign_in("alice", "one more")) == ["RATE_LIMITED"]


async def test_a_stranger_lock_spares_a_browser_that_signed_in_before(gql, new_client, settings):
    await make_user(settings, "alice")
    assert (await gql.sign_in("alice"))["status"] == "SIGNED_IN"  # the owner's laptop
    async with new_client() as guesser:
        stranger = GraphQL(guesser)
        await lock_out(stranger)
        # The right password from a browser the account never saw waits like a guess.
        assert codes(await stranger.sign_in("alice")) == ["RATE_LIMITED"]
    assert (await gql.sign_in("alice"))["status"] == "SIGNED_IN"


async def test_the_known_browser_cookie_is_bound_to_its_account(gql, client, new_client, settings):
    await make_user(settings, "alice")
    await make_user(settings, "bob")
    assert (await gql.sign_in("bob"))["status"] == "SIGNED_IN"  # known to bob, not alice
    async with new_client() as guesser:
        await lock_out(GraphQL(guesser))
    assert codes(await gql.sign_in("alice")) == ["RATE_LIMITED"]
    known = next(c for c in client.cookies.jar if c.name == "latchkey_known")
    known.value = known.value.split(".")[0] + "." + "0" * 32  # a forged signature
    client.cookies.jar.set_cookie(known)
    assert codes(await gql.sign_in("alice")) == ["RATE_LIMITED"]


async def test_a_browser_that_signed_in_before_has_a_lock_of_its_own(gql, settings):
    """Its own wrong passwords still slow it down: a stolen laptop is no guessing machine."""
    await make_user(settings, "alice")
    await gql.sign_in("alice")
    for n in range(5):
        assert codes(await gql.sign_in("alice", f"wrong {n}")) == ["INVALID_CREDENTIALS"]
    assert codes(await gql.sign_in("alice")) == ["RATE_LIMITED"]


async def test_password_guesses_never_lock_the_owners_passkey(gql, new_client, settings):
    await make_user(settings, "alice")
    await gql.sign_in("alice")
    passkey = SoftAuthenticator()
    assert (await register(gql, passkey, password=PASSWORD))["userErrors"] == []
    async with new_client() as guesser:
        await lock_out(GraphQL(guesser))
    async with new_client() as phone:  # a browser that never signed in with a password
        signed_in = await sign_in_with(GraphQL(phone), passkey)
    assert signed_in["status"] == "SIGNED_IN", signed_in


async def test_after_a_reset_the_stranger_cannot_lock_the_owner_out_again(
    new_client, smtp, settings
):
    await make_user(settings, "alice")
    async with new_client() as guesser, new_client() as owner_http:
        stranger, owner = GraphQL(guesser), GraphQL(owner_http)
        await lock_out(stranger)
        await ask_for_reset(owner, "alice")
        token = reset_token_in(last_mail(smtp, subject="Reset your Latchkey password"))
        assert await reset(owner, token) == {"userErrors": []}
        await lock_out(stranger)  # at once, again
        assert (await owner.sign_in("alice", NEW_PASSWORD))["status"] == "SIGNED_IN"


# -- the lock after 100 failures -------------------------------------------------------


async def test_the_lock_does_not_tell_a_stranger_that_the_account_exists(gql, new_client, settings):
    await make_user(settings, "bob")
    assert (await gql.sign_in("bob"))["status"] == "SIGNED_IN"
    alice = await make_user(settings, "alice")
    await SignInLockout.create(user_id=alice.id, failures=lockout.MAX_FAILURES)
    async with new_client() as guesser:
        stranger = GraphQL(guesser)
        for password in (PASSWORD, "a wrong guess"):  # the right one too
            clock.advance(timedelta(hours=2))
            assert codes(await stranger.sign_in("alice", password)) == ["INVALID_CREDENTIALS"]
            clock.advance(timedelta(hours=2))
            assert codes(await stranger.sign_in("nobody", password)) == ["INVALID_CREDENTIALS"]


async def test_the_owners_browser_is_told_of_the_lock(gql, settings):
    user = await make_user(settings, "alice")
    assert (await gql.sign_in("alice"))["status"] == "SIGNED_IN"
    await SignInLockout.create(user_id=user.id, failures=lockout.MAX_FAILURES)
    answer = await gql.sign_in("alice")
    assert codes(answer) == ["ACCOUNT_LOCKED"] and answer["status"] is None


async def test_a_passkey_signs_in_while_passwords_are_locked(gql, new_client, settings):
    user = await make_user(settings, "alice")
    await gql.sign_in("alice")
    passkey = SoftAuthenticator()
    assert (await register(gql, passkey, password=PASSWORD))["userErrors"] == []
    await SignInLockout.create(user_id=user.id, failures=lockout.MAX_FAILURES)
    async with new_client() as phone:
        assert (await sign_in_with(GraphQL(phone), passkey))["status"] == "SIGNED_IN"


async def test_a_password_change_in_a_live_session_lifts_the_lock(gql, new_client, settings):
    user = await make_user(settings, "alice")
    await gql.sign_in("alice")
    await SignInLockout.create(user_id=user.id, failures=lockout.MAX_FAILURES)
    changed = await gql(CHANGE_PASSWORD, {"c": PASSWORD, "n": NEW_PASSWORD})
    assert changed["changePassword"]["userErrors"] == []
    async with new_client() as other:
        assert (await GraphQL(other).sign_in("alice", NEW_PASSWORD))["status"] == "SIGNED_IN"
