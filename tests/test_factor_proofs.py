"""A second factor's proof is of its kind's own sort: a typed code in `code`, a passkey's
assertion in `credential` (backend/auth/factors/proof.py). Neither passes for the other."""

from __future__ import annotations

from datetime import timedelta

import pytest

from backend.kernel import clock
from tests.conftest import settings_for, smtp_settings
from tests.helpers import PASSWORD
from tests.passkey_helpers import SoftAuthenticator, register

SIGN_IN = """mutation($u: String!, $p: String!) { signIn(input: {username: $u, password: $p}) {
  status challenge passkeyOptions userErrors { code } } }"""
VERIFY = """mutation($ch: String!, $c: String, $cr: String) {
  verifySignIn(input: {challenge: $ch, code: $c, credential: $cr}) {
    status userErrors { field code } } }"""
START_REAUTH = "mutation { startPasskeyReauthentication { options userErrors { code } } }"
REAUTH = """mutation($p: String!, $c: String, $cr: String) {
  reauthenticate(input: {password: $p, code: $c, credential: $cr}) {
    reauthenticatedUntil userErrors { field code } } }"""


@pytest.fixture
def settings(database_url, smtp):
    return settings_for(database_url, smtp=smtp_settings(smtp.port))


async def second_step(gql, client, key):
    await register(gql, key)
    client.cookies.clear()
    first = (await gql(SIGN_IN, {"u": "alice", "p": PASSWORD}))["signIn"]
    assert first["status"] == "SECOND_FACTOR_REQUIRED"
    return first


async def test_a_passkey_answers_the_sign_in_in_credential_never_in_code(gql, client, alice):
    key = SoftAuthenticator()
    first = await second_step(gql, client, key)
    answer = key.get(first["passkeyOptions"])
    in_code = (await gql(VERIFY, {"ch": first["challenge"], "c": answer}))["verifySignIn"]
    assert in_code == {"status": None, "userErrors": [{"field": "code", "code": "INVALID_OTP"}]}
    # Not a typed code: the challenge it answers was not touched, the same answer still counts.
    done = (await gql(VERIFY, {"ch": first["challenge"], "cr": answer}))["verifySignIn"]
    assert done == {"status": "SIGNED_IN", "userErrors": []}


async def test_a_passkey_answers_reauthentication_in_credential_never_in_code(gql, alice):
    key = SoftAuthenticator()
    await register(gql, key)
    clock.advance(timedelta(minutes=11))
    answer = key.get((await gql(START_REAUTH))["startPasskeyReauthentication"]["options"])
    in_code = (await gql(REAUTH, {"p": PASSWORD, "c": answer}))["reauthenticate"]
    assert in_code == {
        "reauthenticatedUntil": None,
        "userErrors": [{"field": "code", "code": "INVALID_OTP"}],
    }
    done = (await gql(REAUTH, {"p": PASSWORD, "cr": answer}))["reauthenticate"]
    assert done["userErrors"] == [] and done["reauthenticatedUntil"]


@pytest.mark.parametrize("typed", ["123456", "abcd-efgh", "{not json", "[]"])
async def test_what_is_no_assertion_is_refused_in_credential(gql, client, alice, typed):
    key = SoftAuthenticator()
    first = await second_step(gql, client, key)
    refused = (await gql(VERIFY, {"ch": first["challenge"], "cr": typed}))["verifySignIn"]
    assert refused["userErrors"] == [{"field": "credential", "code": "VALIDATION_FAILED"}]
    # The challenge is still live: the passkey's real answer signs in.
    answer = key.get(first["passkeyOptions"])
    done = (await gql(VERIFY, {"ch": first["challenge"], "cr": answer}))["verifySignIn"]
    assert done["status"] == "SIGNED_IN"
    clock.advance(timedelta(minutes=11))
    refused = (await gql(REAUTH, {"p": PASSWORD, "cr": typed}))["reauthenticate"]
    assert refused["userErrors"] == [{"field": "credential", "code": "VALIDATION_FAILED"}]
