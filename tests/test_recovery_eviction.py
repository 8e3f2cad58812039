"""Recovery evicts an attacker, and recovery codes never mint new factors or codes.

The attack: a stolen session and the password. The attacker adds a passkey and an
authenticator app and regenerates the recovery codes. The owner answers a notice with
"This wasn't me" and resets the password: nothing the attacker added or learned signs in,
and the owner's own factor from before the attack still does.
"""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from backend.auth.factors.models import Authenticator
from backend.kernel import clock
from tests.conftest import settings_for, smtp_settings
from tests.helpers import PASSWORD, GraphQL
from tests.passkey_helpers import SoftAuthenticator, register, sign_in_with
from tests.recovery_helpers import (
    NEW_PASSWORD,
    SECURE,
    VIEWER,
    codes,
    last_mail,
    reset,
    reset_token_in,
    secure_token_in,
)
from tests.test_twofactor_settings import sign_in_with_code
from tests.twofactor_helpers import (
    ADD_SMS,
    CONFIRM_CODES,
    code_in,
    enable_totp,
    next_time_step,
    oathtool,
    verify,
)

# With the session's fresh re-authentication, as a thief holding the cookie would send them.
ADD_APP = """mutation { startTotpSetup(input: {}) { secret userErrors { code } } }"""
CONFIRM_APP = """mutation($c: String!) { confirmTotpSetup(input: {code: $c, name: "Mine"}) {
  userErrors { code } } }"""
REGENERATE = """mutation { regenerateRecoveryCodes(input: {}) {
  recoveryCodes userErrors { code } } }"""
SECURED = "Your account was secured"


@pytest.fixture
def settings(database_url, smtp, sms):
    return settings_for(database_url, smtp=smtp_settings(smtp.port), sms_webhook_url=sms.url)


def stolen(owner: httpx.AsyncClient, thief: httpx.AsyncClient) -> GraphQL:
    """The thief's client, carrying a copy of the owner's session cookie."""
    for cookie in owner.cookies.jar:
        if cookie.name == "latchkey_session":
            thief.cookies.jar.set_cookie(cookie)
    return GraphQL(thief)


async def owner_with_an_old_app(gql: GraphQL, client: httpx.AsyncClient) -> str:
    """alice's authenticator app, set up long ago (its notice's link has expired); signed in."""
    secret, _ = await enable_totp(gql)
    clock.advance(timedelta(days=8))
    client.cookies.delete("latchkey_session")
    assert (await sign_in_with_code(gql, secret))["status"] == "SIGNED_IN"
    return secret


async def test_recovery_evicts_every_factor_the_attacker_added(
    gql, client, new_client, smtp, alice
):
    owner_app = await owner_with_an_old_app(gql, client)
    passkey = SoftAuthenticator()
    async with new_client() as thief_http:
        thief = stolen(client, thief_http)
        assert (await register(thief, passkey, name="Spare"))["userErrors"] == []
        thief_app = (await thief(ADD_APP))["startTotpSetup"]["secret"]
        next_time_step()
        confirmed = await thief(CONFIRM_APP, {"c": oathtool(thief_app)})
        assert confirmed["confirmTotpSetup"]["userErrors"] == []
        thief_codes = (await thief(REGENERATE))["regenerateRecoveryCodes"]["recoveryCodes"]
        assert len(thief_codes) == 10

        # The owner answers the last notice; the passkey, added first, goes all the same.
        notice = last_mail(smtp, subject="New recovery codes")
        assert await gql(SECURE, {"t": secure_token_in(notice)}) == {
            "secureAccount": {"userErrors": []}
        }
        assert (await thief(VIEWER))["viewer"] is None
        assert await Authenticator.filter(kind="passkey").count() == 0
        assert await Authenticator.filter(kind="totp").count() == 1

        # Until the reset, the password signs nobody in, whoever knows it.
        thief_http.cookies.clear()
        assert codes(await thief.sign_in("alice")) == ["INVALID_CREDENTIALS"]
        passwordless = await sign_in_with(thief, passkey)
        assert passwordless["status"] is None
        assert codes(passwordless) == ["INVALID_CREDENTIALS"]

    token = reset_token_in(last_mail(smtp, subject=SECURED))
    assert await reset(gql, token) == {"userErrors": []}
    challenge = (await gql.sign_in("alice", NEW_PASSWORD))["challenge"]
    next_time_step()
    assert codes(await verify(gql, challenge, oathtool(thief_app))) == ["INVALID_OTP"]
    assert codes(await verify(gql, challenge, thief_codes[0])) == ["INVALID_OTP"]
    assert (await verify(gql, challenge, oathtool(owner_app)))["status"] == "SIGNED_IN"


async def test_a_factor_from_before_the_reported_change_stays(gql, client, smtp, alice):
    """Whoever holds only the mailbox cannot turn two-factor authentication off with it."""
    owner_app = await owner_with_an_old_app(gql, client)
    next_time_step()
    generated = await gql(
        """mutation($p: String!, $c: String) { generateApiCredentials(input: {password: $p,
        otp: $c}) { userErrors { code } } }""",
        {"p": PASSWORD, "c": oathtool(owner_app)},
    )
    assert generated["generateApiCredentials"]["userErrors"] == []
    notice = smtp.to("alice@example.com")[-1]
    assert await gql(SECURE, {"t": secure_token_in(smtp.text(notice))}) == {
        "secureAccount": {"userErrors": []}
    }
    await reset(gql, reset_token_in(last_mail(smtp, subject=SECURED)))
    assert (await gql.sign_in("alice", NEW_PASSWORD))["status"] == "SECOND_FACTOR_REQUIRED"


async def test_codes_sent_to_a_phone_the_attacker_set_stop_with_the_recovery(
    gql, client, new_client, smtp, sms, alice
):
    phone = await gql(
        """mutation($p: String!) { updateAccount(input: {mobilePhone: "+14155552671",
        password: $p}) { userErrors { code } } }""",
        {"p": PASSWORD},
    )
    assert phone["updateAccount"]["userErrors"] == []
    app, _ = await enable_totp(gql)
    added = await gql(ADD_SMS, {"p": PASSWORD, "o": oathtool(app)})
    assert added["startCodeSetup"]["userErrors"] == []
    confirmed = await gql(CONFIRM_CODES, {"c": code_in(sms.messages[-1]["text"])})
    assert confirmed["confirmCodeSetup"]["userErrors"] == []
    clock.advance(timedelta(days=8))  # both set up long ago
    client.cookies.delete("latchkey_session")
    assert (await sign_in_with_code(gql, app))["status"] == "SIGNED_IN"
    # The profile saved with the same number changes nothing of the factor.
    same = await gql("""mutation { updateAccount(input: {mobilePhone: "+14155552671",
      firstName: "Alice"}) { userErrors { code } } }""")
    assert same["updateAccount"]["userErrors"] == []
    async with new_client() as thief_http:
        thief = stolen(client, thief_http)
        moved = await thief("""mutation { updateAccount(input: {mobilePhone: "+14155550199"}) {
          userErrors { code } } }""")
        assert moved["updateAccount"]["userErrors"] == []
    notice = last_mail(smtp, subject="Your mobile phone number changed")
    await gql(SECURE, {"t": secure_token_in(notice)})
    kinds = set(await Authenticator.all().values_list("kind", flat=True))
    assert kinds == {"totp", "recovery_code"}  # the texted codes would reach the thief


async def test_saving_the_same_phone_number_keeps_the_texted_codes(gql, client, smtp, sms, alice):
    await gql(
        """mutation($p: String!) { updateAccount(input: {mobilePhone: "+14155552671",
        password: $p}) { userErrors { code } } }""",
        {"p": PASSWORD},
    )
    app, _ = await enable_totp(gql)
    await gql(ADD_SMS, {"p": PASSWORD, "o": oathtool(app)})
    await gql(CONFIRM_CODES, {"c": code_in(sms.messages[-1]["text"])})
    clock.advance(timedelta(days=8))
    client.cookies.delete("latchkey_session")
    await sign_in_with_code(gql, app)
    await gql("""mutation { updateAccount(input: {mobilePhone: "+14155552671",
      firstName: "Alice"}) { userErrors { code } } }""")
    next_time_step()
    await gql(
        """mutation($p: String!, $c: String) { generateApiCredentials(input: {password: $p,
        otp: $c}) { userErrors { code } } }""",
        {"p": PASSWORD, "c": oathtool(app)},
    )
    await gql(SECURE, {"t": secure_token_in(smtp.text(smtp.to("alice@example.com")[-1]))})
    kinds = set(await Authenticator.all().values_list("kind", flat=True))
    assert kinds == {"totp", "sms", "recovery_code"}


async def test_the_reset_link_is_the_only_way_back_in_until_used(gql, new_client, smtp, alice):
    """ "This wasn't me" locks password sign-in: the owner's browser is told why, a stranger
    only that the password is wrong."""
    await gql(
        """mutation($p: String!) { generateApiCredentials(input: {password: $p}) {
        userErrors { code } } }""",
        {"p": PASSWORD},
    )
    await gql(SECURE, {"t": secure_token_in(last_mail(smtp))})
    told = await gql.sign_in("alice")  # this browser signed in to alice before
    assert codes(told) == ["ACCOUNT_LOCKED"] and "new password" in told["userErrors"][0]["message"]
    async with new_client() as stranger:
        assert codes(await GraphQL(stranger).sign_in("alice")) == ["INVALID_CREDENTIALS"]
    assert await reset(gql, reset_token_in(last_mail(smtp, subject=SECURED))) == {"userErrors": []}
    assert (await gql.sign_in("alice", NEW_PASSWORD))["status"] == "SIGNED_IN"


# -- recovery codes get the owner in, never new factors or codes -------------------------

START_APP = """mutation($p: String!, $o: String) { startTotpSetup(input: {password: $p, otp: $o}) {
  secret userErrors { field code } } }"""
DISABLE = """mutation($p: String!, $c: String) { disableTwoFactor(input: {password: $p, code: $c}) {
  userErrors { field code } } }"""
REMOVE = """mutation($id: ID!, $p: String!, $c: String!) {
  removeAuthenticator(input: {id: $id, password: $p, code: $c}) { userErrors { field code } } }"""
START_PASSKEY = """mutation($p: String!, $o: String) {
  startPasskeyRegistration(input: {password: $p, otp: $o}) {
    options userErrors { field code } } }"""
ENABLED = "{ viewer { twoFactor { enabled recoveryCodesRemaining } } }"
FACTORS = "{ viewer { twoFactor { authenticators { id kind } } } }"


async def signed_in_with_a_recovery_code(gql, client) -> list[str]:
    """alice with an authenticator app, signed in again with one of her recovery codes."""
    _, recovery = await enable_totp(gql)
    client.cookies.delete("latchkey_session")
    challenge = (await gql.sign_in("alice"))["challenge"]
    assert (await verify(gql, challenge, recovery[0]))["status"] == "SIGNED_IN"
    return recovery[1:]


async def test_a_recovery_code_adds_no_factor(gql, client, alice):
    recovery = await signed_in_with_a_recovery_code(gql, client)
    app = (await gql(START_APP, {"p": PASSWORD, "o": recovery[0]}))["startTotpSetup"]
    assert app["secret"] is None and codes(app) == ["INVALID_OTP"]
    passkey = await gql(START_PASSKEY, {"p": PASSWORD, "o": recovery[1]})
    assert codes(passkey["startPasskeyRegistration"]) == ["INVALID_OTP"]
    stamped = (await gql(ADD_APP))["startTotpSetup"]  # the recovery code's stamp: no more
    assert stamped["secret"] is None and codes(stamped) == ["OTP_REQUIRED"]


async def test_a_recovery_code_cannot_turn_two_factor_off(gql, client, alice):
    """Off and on again would mint a fresh set of recovery codes."""
    recovery = await signed_in_with_a_recovery_code(gql, client)
    refused = await gql(DISABLE, {"p": PASSWORD, "c": recovery[0]})
    assert codes(refused["disableTwoFactor"]) == ["INVALID_OTP"]
    factors = (await gql(FACTORS))["viewer"]["twoFactor"]["authenticators"]
    app = next(factor["id"] for factor in factors if factor["kind"] == "TOTP")
    last = await gql(REMOVE, {"id": app, "p": PASSWORD, "c": recovery[1]})
    assert codes(last["removeAuthenticator"]) == ["INVALID_OTP"]
    assert (await gql(ENABLED))["viewer"]["twoFactor"]["enabled"] is True
