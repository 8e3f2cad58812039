"""exportAccountData: one versioned JSON document with every kind of record Latchkey holds
about the account, and never a secret, hash or code (the test scans for each it made)."""

from __future__ import annotations

import json
from datetime import timedelta

from backend.accounts import groups
from backend.accounts.models import User
from backend.auth.factors.models import Authenticator, PasskeyCredential, TrustedDevice
from backend.auth.factors.registry import PASSKEY
from backend.auth.models import PasswordReset
from backend.auth.sessions.models import Session
from backend.kernel import clock
from backend.oidc import clients
from backend.oidc.models import ApplicationAccess
from backend.tokens.models import ApiCredential, RefreshToken
from tests.admin_helpers import expire_the_stamp
from tests.helpers import PASSWORD, issue_token
from tests.twofactor_helpers import enable_totp, oathtool

EXPORT = """mutation($p: String, $c: String) { exportAccountData(input: {password: $p, code: $c})
  { data userErrors { field code } } }"""
GENERATE = """mutation { generateApiCredentials(input: {}) { clientId clientSecret
  userErrors { code } } }"""


async def test_the_export_holds_every_kind_of_record_and_no_secret(gql, alice):
    secrets = [PASSWORD]
    await groups.create("ops", self_service=True)
    await gql('mutation { joinGroup(input: {name: "ops"}) { userErrors { code } } }')
    issued = await issue_token(gql, "deploy")
    secrets.append(issued["secret"])
    generated = (await gql(GENERATE))["generateApiCredentials"]
    assert generated["userErrors"] == []
    secrets.append(generated["clientSecret"])
    totp, recovery_codes = await enable_totp(gql)
    secrets += [totp, *recovery_codes]
    user = await User.get(username="alice")
    factor = await Authenticator.create(user=user, kind=PASSKEY, name="Yubikey on the desk")
    await PasskeyCredential.create(
        authenticator=factor, user=user, credential_id="cred-id-xyz", public_key="pk-abc-123"
    )
    await TrustedDevice.create(
        user=user,
        token_hash="d" * 64,
        expires_at=clock.now() + timedelta(days=30),
        ip_address="198.51.100.9",
        browser_name="Firefox",
    )
    await PasswordReset.create(user=user, token_hash="r" * 64, expires_at=clock.now())
    application, client_secret = await clients.create("Wiki", ["https://wiki.example.com/cb"])
    secrets.append(client_secret)
    await ApplicationAccess.create(user=user, client=application, scopes="openid profile")
    # Every stored hash and sealed value is a secret too.
    secrets.append(user.password_hash)
    secrets += [row.token_hash for row in await Session.filter(user_id=user.id)]
    secrets += [row.token_hash for row in await RefreshToken.filter(user_id=user.id)]
    secrets += [row.secret_hash for row in await ApiCredential.filter(user_id=user.id)]
    secrets += [row.secret for row in await Authenticator.filter(user_id=user.id) if row.secret]
    secrets += ["d" * 64, "r" * 64, "pk-abc-123", "cred-id-xyz", application.secret_hash]

    expire_the_stamp()
    refused = (await gql(EXPORT))["exportAccountData"]
    assert refused["data"] is None
    assert refused["userErrors"] == [{"field": "password", "code": "REAUTHENTICATION_REQUIRED"}]
    answer = (await gql(EXPORT, {"p": PASSWORD, "c": oathtool(totp)}))["exportAccountData"]
    assert answer["userErrors"] == []
    text = answer["data"]
    document = json.loads(text)

    assert document["format"] == "latchkey-account-export" and document["version"] == 1
    assert document["profile"]["username"] == "alice"
    assert document["profile"]["email"] == "alice@example.com"
    assert document["account_type"] == "USER"
    assert document["groups"] == ["ops"]
    assert document["two_factor"]["enabled"] is True
    kinds = {factor["kind"] for factor in document["second_factors"]}
    assert len(kinds) >= 2  # the app and its recovery codes
    assert [key["name"] for key in document["passkeys"]] == ["Yubikey on the desk"]
    assert document["recognized_devices"][0]["browser"] == "Firefox"
    assert len(document["sessions"]) == 1
    assert [token["name"] for token in document["tokens"]] == ["deploy"]
    assert document["api_credentials"][0]["client_id"] == generated["clientId"]
    assert document["applications"][0]["name"] == "Wiki"
    assert "twofactor.enabled" in {event["kind"] for event in document["security_log"]}

    leaked = [secret for secret in secrets if secret and secret in text]
    assert leaked == []
    assert "$argon2" not in text and "hash" not in text.lower()
