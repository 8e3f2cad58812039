"""Several second factors on one account: sign in with any, remove one at a time."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from backend.audit.models import SecurityEvent
from backend.kernel import clock
from tests.conftest import settings_for, smtp_settings
from tests.helpers import PASSWORD
from tests.twofactor_helpers import (
    CONFIRM_CODES,
    START_CODES,
    START_TOTP,
    code_in,
    early_in_a_time_step,
    enable_totp,
    next_time_step,
    oathtool,
    verify,
)

SIGN_IN = """mutation($u: String!, $p: String!) { signIn(input: {username: $u, password: $p}) {
  status challenge secondFactorMethod methods userErrors { code } } }"""
VERIFY_WITH = """mutation($ch: String!, $c: String!, $m: TwoFactorMethod) {
  verifySignIn(input: {challenge: $ch, code: $c, method: $m}) {
    status userErrors { field code } } }"""
RESEND = """mutation($ch: String!, $m: TwoFactorMethod) {
  resendSignInCode(input: {challenge: $ch, method: $m}) { sent userErrors { code } } }"""
ADD_APP = """mutation($p: String!, $o: String) { startTotpSetup(input: {password: $p, otp: $o}) {
  secret userErrors { field code } } }"""
ADD_CODES = """mutation($m: TwoFactorMethod!, $p: String!, $o: String) {
  startCodeSetup(input: {method: $m, password: $p, otp: $o}) { sent userErrors { field code } } }"""
CONFIRM_NAMED_TOTP = """mutation($c: String!, $n: String) {
  confirmTotpSetup(input: {code: $c, name: $n}) { recoveryCodes userErrors { field code } } }"""
FACTORS = """{ viewer { twoFactor { enabled method recoveryCodesRemaining
  authenticators { id kind name lastUsedAt } } } }"""
SEND_STEP_UP = """mutation($p: String!) { sendStepUpCode(input: {password: $p}) {
  method userErrors { code } } }"""
REMOVE = """mutation($id: ID!, $p: String!, $c: String!) {
  removeAuthenticator(input: {id: $id, password: $p, code: $c}) {
    twoFactor { enabled method authenticators { kind } } userErrors { field code } } }"""


@pytest.fixture
def settings(database_url, smtp, sms):
    return settings_for(database_url, smtp=smtp_settings(smtp.port), sms_webhook_url=sms.url)


def emailed_code(smtp) -> str:
    return code_in(smtp.text(smtp.to("alice@example.com")[-1]))


async def add_email(gql, smtp, app_secret: str) -> dict:
    """Codes by email beside the app, proven by a code of the app (its time step is used)."""
    otp = oathtool(app_secret)
    started = (await gql(ADD_CODES, {"m": "EMAIL", "p": PASSWORD, "o": otp}))["startCodeSetup"]
    assert started["userErrors"] == [], started
    confirmed = (await gql(CONFIRM_CODES, {"c": emailed_code(smtp)}))["confirmCodeSetup"]
    next_time_step()
    return confirmed


async def factors(gql) -> dict:
    return (await gql(FACTORS))["viewer"]["twoFactor"]


async def test_an_app_and_email_codes_on_one_account_sign_in_with_either(gql, client, smtp, alice):
    early_in_a_time_step()
    secret, recovery = await enable_totp(gql)
    added = await add_email(gql, smtp, secret)
    assert added == {"recoveryCodes": None, "userErrors": []}  # the first codes stay valid
    state = await factors(gql)
    assert state["method"] == "TOTP" and state["recoveryCodesRemaining"] == 10
    assert [f["kind"] for f in state["authenticators"]] == ["RECOVERY_CODE", "TOTP", "EMAIL"]

    client.cookies.clear()
    first = (await gql(SIGN_IN, {"u": "alice", "p": PASSWORD}))["signIn"]
    assert first["status"] == "SECOND_FACTOR_REQUIRED"
    assert first["secondFactorMethod"] == "TOTP"
    assert first["methods"] == ["TOTP", "EMAIL", "RECOVERY_CODE"]
    assert smtp.to("alice@example.com")[-1]["Subject"] != "Your Latchkey code"  # none sent
    assert (await verify(gql, first["challenge"], oathtool(secret)))["status"] == "SIGNED_IN"

    client.cookies.clear()
    second = (await gql(SIGN_IN, {"u": "alice", "p": PASSWORD}))["signIn"]
    sent = (await gql(RESEND, {"ch": second["challenge"], "m": "EMAIL"}))["resendSignInCode"]
    assert sent == {"sent": True, "userErrors": []}
    done = await gql(
        VERIFY_WITH, {"ch": second["challenge"], "c": emailed_code(smtp), "m": "EMAIL"}
    )
    assert done["verifySignIn"]["status"] == "SIGNED_IN"
    used = {f["kind"]: f["lastUsedAt"] for f in (await factors(gql))["authenticators"]}
    assert used["EMAIL"] is not None and used["TOTP"] is not None

    client.cookies.clear()
    third = (await gql(SIGN_IN, {"u": "alice", "p": PASSWORD}))["signIn"]
    next_time_step()
    app_code = oathtool(secret)
    # Told the code is from the email, an app code does not pass; a recovery code always does.
    wrong = await gql(VERIFY_WITH, {"ch": third["challenge"], "c": app_code, "m": "EMAIL"})
    assert wrong["verifySignIn"]["userErrors"] == [{"field": "code", "code": "INVALID_OTP"}]
    rescued = await gql(VERIFY_WITH, {"ch": third["challenge"], "c": recovery[0], "m": "EMAIL"})
    assert rescued["verifySignIn"]["status"] == "SIGNED_IN"


async def test_two_named_apps_each_sign_in(gql, client, alice):
    early_in_a_time_step()
    first_secret, _ = await enable_totp(gql)
    start = (await gql(ADD_APP, {"p": PASSWORD, "o": oathtool(first_secret)}))["startTotpSetup"]
    confirmed = await gql(CONFIRM_NAMED_TOTP, {"c": oathtool(start["secret"]), "n": "Tablet"})
    assert confirmed["confirmTotpSetup"] == {"recoveryCodes": None, "userErrors": []}
    names = [(f["kind"], f["name"]) for f in (await factors(gql))["authenticators"]]
    assert names == [("RECOVERY_CODE", ""), ("TOTP", "Authenticator app"), ("TOTP", "Tablet")]
    for secret in (first_secret, start["secret"]):
        next_time_step()
        client.cookies.clear()
        challenge = (await gql.sign_in("alice"))["challenge"]
        assert (await verify(gql, challenge, oathtool(secret)))["status"] == "SIGNED_IN"


@pytest.mark.parametrize("invisible", ["\u202e", "\u200b"], ids=["bidi-override", "zero-width"])
async def test_an_authenticator_name_with_invisible_characters_is_refused(gql, alice, invisible):
    """The rule for token and profile names: such a name could read as another one."""
    early_in_a_time_step()
    start = (await gql(START_TOTP, {"p": PASSWORD}))["startTotpSetup"]
    named = {"c": oathtool(start["secret"]), "n": f"Tab{invisible}let"}
    refused = (await gql(CONFIRM_NAMED_TOTP, named))["confirmTotpSetup"]
    assert refused == {
        "recoveryCodes": None,
        "userErrors": [{"field": "name", "code": "VALIDATION_FAILED"}],
    }
    assert (await factors(gql))["authenticators"] == []
    turned_on = ["twofactor.enabled", "twofactor.factor_added"]
    assert not await SecurityEvent.filter(user_id=alice.id, kind__in=turned_on).exists()
    # The setup is still there: the same code with a plain name turns it on.
    named["n"] = "Tablet"
    confirmed = (await gql(CONFIRM_NAMED_TOTP, named))["confirmTotpSetup"]
    assert confirmed["userErrors"] == []
    names = [(f["kind"], f["name"]) for f in (await factors(gql))["authenticators"]]
    assert names == [("RECOVERY_CODE", ""), ("TOTP", "Tablet")]


async def test_removing_one_of_two_keeps_it_on_and_removing_the_last_turns_it_off(
    gql, client, smtp, alice
):
    early_in_a_time_step()
    secret, recovery = await enable_totp(gql)
    await add_email(gql, smtp, secret)
    ids = {f["kind"]: f["id"] for f in (await factors(gql))["authenticators"]}

    wrong = await gql(REMOVE, {"id": ids["TOTP"], "p": PASSWORD, "c": "000000"})
    assert wrong["removeAuthenticator"]["userErrors"] == [{"field": "code", "code": "INVALID_OTP"}]
    removed = await gql(REMOVE, {"id": ids["TOTP"], "p": PASSWORD, "c": oathtool(secret)})
    assert removed["removeAuthenticator"] == {
        "twoFactor": {
            "enabled": True,
            "method": "EMAIL",  # the preferred factor moves to one that is left
            "authenticators": [{"kind": "RECOVERY_CODE"}, {"kind": "EMAIL"}],
        },
        "userErrors": [],
    }
    assert smtp.to("alice@example.com")[-1]["Subject"] == "A second factor was removed"

    client.cookies.clear()
    challenge = (await gql.sign_in("alice"))["challenge"]
    next_time_step()
    assert (await verify(gql, challenge, oathtool(secret)))["userErrors"][0]["code"] == (
        "INVALID_OTP"  # the removed app no longer signs in
    )
    assert (await verify(gql, challenge, emailed_code(smtp)))["status"] == "SIGNED_IN"

    # A recovery code cannot turn two-factor authentication off (on again, it would mint
    # new ones); the factor's own code can. Past the code of signing in, so that the
    # codes below are the session's only proof.
    clock.advance(timedelta(seconds=601))
    refused = await gql(REMOVE, {"id": ids["EMAIL"], "p": PASSWORD, "c": recovery[0]})
    assert refused["removeAuthenticator"]["userErrors"] == [
        {"field": "code", "code": "INVALID_OTP"}
    ]
    await gql(SEND_STEP_UP, {"p": PASSWORD})
    last = await gql(REMOVE, {"id": ids["EMAIL"], "p": PASSWORD, "c": emailed_code(smtp)})
    assert last["removeAuthenticator"] == {
        "twoFactor": {"enabled": False, "method": None, "authenticators": []},
        "userErrors": [],
    }
    client.cookies.clear()
    assert (await gql.sign_in("alice"))["status"] == "SIGNED_IN"


async def test_recovery_codes_are_not_removed_on_their_own(gql, alice):
    early_in_a_time_step()
    secret, _ = await enable_totp(gql)
    ids = {f["kind"]: f["id"] for f in (await factors(gql))["authenticators"]}
    refused = await gql(REMOVE, {"id": ids["RECOVERY_CODE"], "p": PASSWORD, "c": oathtool(secret)})
    assert refused["removeAuthenticator"]["userErrors"] == [
        {"field": "id", "code": "VALIDATION_FAILED"}
    ]
    assert (await factors(gql))["recoveryCodesRemaining"] == 10


async def test_a_second_email_factor_is_refused(gql, smtp, alice):
    started = (await gql(START_CODES, {"m": "EMAIL", "p": PASSWORD}))["startCodeSetup"]
    assert started["userErrors"] == []
    await gql(CONFIRM_CODES, {"c": emailed_code(smtp)})
    again = (await gql(START_CODES, {"m": "EMAIL", "p": PASSWORD}))["startCodeSetup"]
    assert [(e["field"], e["code"]) for e in again["userErrors"]] == [("method", "CONFLICT")]


@pytest.mark.parametrize("round", range(3))  # a race: a few rounds make a miss likelier
async def test_recovery_codes_cannot_remove_the_last_two_factors_at_once(
    gql, client, smtp, alice, round
):
    """Each removal sees the other's factor still there unless they take turns; the one
    that would leave none is refused, as a recovery code must not turn 2FA off."""
    early_in_a_time_step()
    secret, recovery = await enable_totp(gql)
    await add_email(gql, smtp, secret)
    # Past the app's code that added the email: the recovery codes below are the only
    # second factor this session proves.
    clock.advance(timedelta(seconds=601))
    ids = {f["kind"]: f["id"] for f in (await factors(gql))["authenticators"]}
    removals = await asyncio.gather(
        gql(REMOVE, {"id": ids["TOTP"], "p": PASSWORD, "c": recovery[0]}),
        gql(REMOVE, {"id": ids["EMAIL"], "p": PASSWORD, "c": recovery[1]}),
    )
    errors = sorted(r["removeAuthenticator"]["userErrors"] != [] for r in removals)
    assert errors == [False, True]
    state = await factors(gql)
    assert state["enabled"] is True and len(state["authenticators"]) == 2  # one + the codes
    client.cookies.clear()
    assert (await gql.sign_in("alice"))["status"] == "SECOND_FACTOR_REQUIRED"


async def test_adding_a_factor_while_on_needs_a_code_of_one_already_there(gql, alice):
    """A stolen session and password alone cannot plant a factor of their own."""
    early_in_a_time_step()
    secret, _ = await enable_totp(gql)
    for missing in (None, ""):
        refused = (await gql(ADD_APP, {"p": PASSWORD, "o": missing}))["startTotpSetup"]
        assert refused == {
            "secret": None,
            "userErrors": [{"field": "code", "code": "OTP_REQUIRED"}],
        }
    wrong = (await gql(ADD_APP, {"p": PASSWORD, "o": "000000"}))["startTotpSetup"]
    assert wrong["userErrors"] == [{"field": "otp", "code": "INVALID_OTP"}]
    allowed = (await gql(ADD_APP, {"p": PASSWORD, "o": oathtool(secret)}))["startTotpSetup"]
    assert allowed["userErrors"] == [] and allowed["secret"]
