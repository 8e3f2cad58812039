"""Choosing the preferred second factor: sign-in opens on it."""

from __future__ import annotations

import pytest

from backend.auth.factors.models import Authenticator
from tests.conftest import settings_for, smtp_settings
from tests.helpers import PASSWORD, make_user
from tests.test_twofactor_several import SIGN_IN, add_email, emailed_code, factors
from tests.twofactor_helpers import ADD_SMS, code_in, early_in_a_time_step, enable_totp, oathtool

PREFER = """mutation($id: ID!, $p: String, $o: String) {
  setPreferredAuthenticator(input: {id: $id, password: $p, otp: $o}) {
    twoFactor { method authenticators { kind preferred } } userErrors { field code } } }"""
REMOVE = """mutation($id: ID!, $p: String!, $c: String!) {
  removeAuthenticator(input: {id: $id, password: $p, code: $c}) {
    twoFactor { method authenticators { kind preferred } } userErrors { field code } } }"""
UPDATE_PHONE = """mutation { updateAccount(input: {mobilePhone: "+14155552671"}) {
  userErrors { code } } }"""
CONFIRM_SMS = """mutation($c: String!) { confirmCodeSetup(input: {code: $c}) {
  userErrors { code } } }"""
EVENTS = "{ viewer { securityEvents(first: 5) { edges { node { kind description } } } } }"


@pytest.fixture
def settings(database_url, smtp, sms):
    return settings_for(database_url, smtp=smtp_settings(smtp.port), sms_webhook_url=sms.url)


async def app_and_email(gql, smtp) -> tuple[str, list[str], dict[str, str]]:
    early_in_a_time_step()
    secret, recovery = await enable_totp(gql)
    await add_email(gql, smtp, secret)
    ids = {f["kind"]: f["id"] for f in (await factors(gql))["authenticators"]}
    return secret, recovery, ids


async def test_the_preferred_factor_opens_the_sign_in_and_is_logged(gql, client, smtp, alice):
    secret, _, ids = await app_and_email(gql, smtp)
    assert (await factors(gql))["method"] == "TOTP"  # the first one stays preferred

    chosen = await gql(PREFER, {"id": ids["EMAIL"], "p": PASSWORD, "o": oathtool(secret)})
    assert chosen["setPreferredAuthenticator"] == {
        "twoFactor": {
            "method": "EMAIL",
            "authenticators": [
                {"kind": "RECOVERY_CODE", "preferred": False},
                {"kind": "TOTP", "preferred": False},
                {"kind": "EMAIL", "preferred": True},
            ],
        },
        "userErrors": [],
    }
    events = (await gql(EVENTS))["viewer"]["securityEvents"]["edges"]
    assert events[0]["node"] == {
        "kind": "twofactor.preferred_changed",
        "description": "Preferred second factor changed: Code by email",  # which one
    }

    client.cookies.clear()
    sent_before = len(smtp.to("alice@example.com"))
    step = (await gql(SIGN_IN, {"u": "alice", "p": PASSWORD}))["signIn"]
    assert step["methods"] == ["EMAIL", "TOTP", "RECOVERY_CODE"]
    assert step["secondFactorMethod"] == "EMAIL"
    # The preferred factor sends codes: its code goes out with the first step.
    assert len(smtp.to("alice@example.com")) == sent_before + 1
    assert emailed_code(smtp)


async def test_a_stamp_or_inline_proof_is_needed(gql, client, smtp, alice):
    secret, _, ids = await app_and_email(gql, smtp)
    wrong = await gql(PREFER, {"id": ids["EMAIL"], "p": PASSWORD, "o": "000000"})
    assert wrong["setPreferredAuthenticator"]["userErrors"] == [
        {"field": "otp", "code": "INVALID_OTP"}
    ]
    bad_password = await gql(PREFER, {"id": ids["EMAIL"], "p": "not the password at all"})
    assert bad_password["setPreferredAuthenticator"]["userErrors"][0]["code"] == (
        "INVALID_CREDENTIALS"
    )
    assert (await factors(gql))["method"] == "TOTP"  # nothing changed


async def test_only_the_users_own_factors_and_never_recovery_codes(
    gql, client, smtp, alice, settings
):
    secret, _, ids = await app_and_email(gql, smtp)
    bob = await make_user(settings, "bob")
    theirs = await Authenticator.create(user=bob, kind="totp", name="Bob's phone")
    # The inline proof is applied first and stays on the session: one code is enough.
    proof = {"o": oathtool(secret)}
    for other in (str(theirs.id), "999999999", "x1"):
        refused = await gql(PREFER, {"id": other, "p": PASSWORD, **proof})
        proof = {}
        assert refused["setPreferredAuthenticator"]["userErrors"] == [
            {"field": "id", "code": "NOT_FOUND"}
        ], other
    refused = await gql(PREFER, {"id": ids["RECOVERY_CODE"], "p": PASSWORD})
    assert refused["setPreferredAuthenticator"]["userErrors"] == [
        {"field": "id", "code": "VALIDATION_FAILED"}
    ]
    assert (await factors(gql))["method"] == "TOTP"
    assert not (await Authenticator.get(id=theirs.id)).preferred


async def test_removing_the_preferred_factor_prefers_the_next_in_registry_order(
    gql, client, smtp, sms, alice
):
    phone = await gql(UPDATE_PHONE)
    assert phone["updateAccount"]["userErrors"] == []
    secret, recovery, _ = await app_and_email(gql, smtp)
    added = await gql(ADD_SMS, {"p": PASSWORD, "o": oathtool(secret)})  # never a recovery code
    assert added["startCodeSetup"]["userErrors"] == [], added
    confirmed = await gql(CONFIRM_SMS, {"c": code_in(sms.messages[-1]["text"])})
    assert confirmed["confirmCodeSetup"]["userErrors"] == []
    sms_id = next(f["id"] for f in (await factors(gql))["authenticators"] if f["kind"] == "SMS")
    chosen = await gql(PREFER, {"id": sms_id, "p": PASSWORD, "o": recovery[1]})
    assert chosen["setPreferredAuthenticator"]["twoFactor"]["method"] == "SMS"

    removed = await gql(REMOVE, {"id": sms_id, "p": PASSWORD, "c": recovery[2]})
    assert removed["removeAuthenticator"]["twoFactor"] == {
        "method": "TOTP",  # the authenticator app comes before email in the registry
        "authenticators": [
            {"kind": "RECOVERY_CODE", "preferred": False},
            {"kind": "TOTP", "preferred": True},
            {"kind": "EMAIL", "preferred": False},
        ],
    }
