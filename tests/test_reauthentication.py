"""Re-authentication ("sudo mode"): one proof per session for a while, instead of each time."""

from __future__ import annotations

from datetime import datetime, timedelta

import graphql
import pytest
from asgi_lifespan import LifespanManager

from backend.accounts.models import Group
from backend.api.schema import build_schema
from backend.app.factory import create_app
from backend.auth.factors.models import Authenticator
from backend.kernel import clock
from tests.admin_helpers import MUTATIONS as ADMIN_MUTATIONS
from tests.admin_helpers import call as admin_call
from tests.admin_helpers import make_administrator
from tests.conftest import _client, settings_for
from tests.helpers import PASSWORD, GraphQL, days_ahead, exchange, issue_token, make_user
from tests.twofactor_helpers import enable_totp, next_time_step, oathtool, verify

REAUTHENTICATE_PASSWORD_ONLY = """mutation($p: String!) {
  reauthenticate(input: {password: $p}) { reauthenticatedUntil userErrors { field code } } }"""
REAUTHENTICATE = """mutation($p: String!, $c: String) {
  reauthenticate(input: {password: $p, code: $c}) {
    reauthenticatedUntil userErrors { field code message } } }"""
UNTIL = "{ viewer { reauthenticatedUntil } }"
# A sensitive change with no inline proof at all.
ISSUE = """mutation($n: String!, $e: DateTime) { issueToken(input: {name: $n, expiresAt: $e}) {
  secret userErrors { field code message } } }"""
ISSUE_WITH_PASSWORD = """mutation($e: DateTime, $p: String) {
  issueToken(input: {name: "inline", expiresAt: $e, password: $p}) {
    secret userErrors { field code message } } }"""
POLICY = """mutation($c: String) {
  setTwoFactorPolicy(input: {policy: UNRECOGNIZED_DEVICE, code: $c}) {
    twoFactor { policy } userErrors { field code message } } }"""
REGENERATE = """mutation($c: String) { regenerateRecoveryCodes(input: {code: $c}) {
  recoveryCodes userErrors { field code message } } }"""
SIGN_OUT_OTHERS = "mutation { signOutOtherSessions { signedOutCount userErrors { field code } } }"
CHANGE_PASSWORD = """mutation { changePassword(input: {newPassword: "a brand new passphrase 42",
  newPasswordConfirmation: "a brand new passphrase 42"}) {
  viewer { username } userErrors { field code } } }"""

WINDOW = timedelta(seconds=600)  # LATCHKEY_REAUTH_SECONDS by default


@pytest.fixture
async def app_with_short_window(database_url):
    """alice, signed in on a server whose window is one minute."""
    settings = settings_for(database_url, reauth_window=timedelta(seconds=60))
    async with LifespanManager(create_app(settings)) as manager, _client(manager.app) as http:
        gql = GraphQL(http)
        await make_user(settings, "alice")
        await gql.sign_in("alice")
        yield gql


def errors(payload):
    return [(error["field"], error["code"]) for error in payload["userErrors"]]


async def issue(gql: GraphQL, name: str = "deploy") -> dict:
    return (await gql(ISSUE, {"n": name, "e": days_ahead(7)}))["issueToken"]


def expire_the_stamp() -> None:
    clock.advance(WINDOW + timedelta(seconds=1))


async def test_signing_in_opens_the_window_for_changes_without_the_password(gql, alice):
    until = datetime.fromisoformat((await gql(UNTIL))["viewer"]["reauthenticatedUntil"])
    assert clock.now() + WINDOW - timedelta(seconds=5) < until <= clock.now() + WINDOW
    issued = await issue(gql)
    assert issued["userErrors"] == [] and issued["secret"].startswith("lk_rt_")


async def test_without_a_stamp_or_proof_a_change_needs_reauthentication(gql, alice, smtp):
    expire_the_stamp()
    assert (await gql(UNTIL))["viewer"]["reauthenticatedUntil"] is None
    refused = await issue(gql)
    assert errors(refused) == [("password", "REAUTHENTICATION_REQUIRED")]
    assert refused["secret"] is None
    assert (await gql("{ viewer { tokens { id } } }"))["viewer"]["tokens"] == []
    # The inline password still works as before.
    inline = (await gql(ISSUE_WITH_PASSWORD, {"e": days_ahead(7), "p": PASSWORD}))["issueToken"]
    assert inline["userErrors"] == []


async def test_reauthenticating_stamps_the_session_until_the_window_ends(gql, alice):
    expire_the_stamp()
    wrong = (await gql(REAUTHENTICATE, {"p": "not my password"}))["reauthenticate"]
    assert errors(wrong) == [("password", "INVALID_CREDENTIALS")]
    assert wrong["reauthenticatedUntil"] is None
    assert errors(await issue(gql)) == [("password", "REAUTHENTICATION_REQUIRED")]

    done = (await gql(REAUTHENTICATE, {"p": PASSWORD}))["reauthenticate"]
    assert done["userErrors"] == []
    assert (await gql(UNTIL))["viewer"]["reauthenticatedUntil"] == done["reauthenticatedUntil"]
    log = await gql("{ viewer { securityEvents(first: 2) { edges { node { description } } } } }")
    described = [edge["node"]["description"] for edge in log["viewer"]["securityEvents"]["edges"]]
    assert described == [
        "Re-authenticated (confirmed it was you)",
        "Failed access confirmation (wrong password)",
    ]
    assert (await issue(gql, "first"))["userErrors"] == []

    clock.advance(WINDOW - timedelta(seconds=5))
    assert (await issue(gql, "second"))["userErrors"] == []
    clock.advance(timedelta(seconds=6))
    assert errors(await issue(gql, "third")) == [("password", "REAUTHENTICATION_REQUIRED")]
    assert (await gql(UNTIL))["viewer"]["reauthenticatedUntil"] is None


async def test_the_window_follows_the_setting(app_with_short_window):
    gql = app_with_short_window
    clock.advance(timedelta(seconds=61))
    assert errors(await issue(gql)) == [("password", "REAUTHENTICATION_REQUIRED")]


async def test_a_stamp_belongs_to_its_session_only(gql, new_client, alice):
    async with new_client() as other_browser:
        other = GraphQL(other_browser)
        await other.sign_in("alice")
        expire_the_stamp()
        assert (await gql(REAUTHENTICATE, {"p": PASSWORD}))["reauthenticate"]["userErrors"] == []
        assert (await issue(gql))["userErrors"] == []
        assert errors(await issue(other, "other")) == [("password", "REAUTHENTICATION_REQUIRED")]
        assert (await other(UNTIL))["viewer"]["reauthenticatedUntil"] is None


async def test_reauthenticating_gives_the_session_a_new_cookie(client, gql, alice, settings):
    old = client.cookies[settings.session_cookie_name]
    assert (await gql(REAUTHENTICATE, {"p": PASSWORD}))["reauthenticate"]["userErrors"] == []
    assert client.cookies[settings.session_cookie_name] != old
    assert (await gql("{ viewer { username } }"))["viewer"] == {"username": "alice"}
    client.cookies.set(settings.session_cookie_name, old)
    assert (await gql("{ viewer { username } }"))["viewer"] is None


async def test_with_two_factor_a_password_only_stamp_does_not_stand_in_for_the_code(gql, alice):
    secret, _ = await enable_totp(gql)  # this session's stamp came from a password-only sign-in
    assert (await gql(UNTIL))["viewer"]["reauthenticatedUntil"] is None
    assert errors((await gql(POLICY))["setTwoFactorPolicy"]) == [("code", "OTP_REQUIRED")]
    assert errors((await gql(REAUTHENTICATE, {"p": PASSWORD}))["reauthenticate"]) == [
        ("code", "OTP_REQUIRED")
    ]
    wrong = (await gql(REAUTHENTICATE, {"p": PASSWORD, "c": "000000"}))["reauthenticate"]
    assert errors(wrong) == [("code", "INVALID_OTP")]
    assert (await gql(UNTIL))["viewer"]["reauthenticatedUntil"] is None

    done = (await gql(REAUTHENTICATE, {"p": PASSWORD, "c": oathtool(secret)}))["reauthenticate"]
    assert done["userErrors"] == [] and done["reauthenticatedUntil"]
    changed = (await gql(POLICY))["setTwoFactorPolicy"]
    assert changed["userErrors"] == []
    assert changed["twoFactor"]["policy"] == "UNRECOGNIZED_DEVICE"


async def test_signing_in_with_the_second_factor_stamps_both(gql, new_client, alice):
    secret, _ = await enable_totp(gql)
    async with new_client() as other_browser:
        other = GraphQL(other_browser)
        challenge = (await other.sign_in("alice"))["challenge"]
        assert (await verify(other, challenge, oathtool(secret)))["status"] == "SIGNED_IN"
        assert (await other(UNTIL))["viewer"]["reauthenticatedUntil"] is not None
        assert (await other(POLICY))["setTwoFactorPolicy"]["userErrors"] == []


async def test_a_stamp_from_a_recovery_code_cannot_mint_recovery_codes(gql, alice):
    secret, recovery = await enable_totp(gql)
    done = (await gql(REAUTHENTICATE, {"p": PASSWORD, "c": recovery[0]}))["reauthenticate"]
    assert done["userErrors"] == []
    assert errors((await gql(REGENERATE))["regenerateRecoveryCodes"]) == [("code", "OTP_REQUIRED")]
    regenerated = (await gql(REGENERATE, {"c": oathtool(secret)}))["regenerateRecoveryCodes"]
    assert regenerated["userErrors"] == [] and len(regenerated["recoveryCodes"]) == 10


async def test_a_bearer_token_can_neither_reauthenticate_nor_make_security_changes(
    gql, client, alice
):
    secret = (await issue_token(gql))["secret"]
    access = (await exchange(client, secret)).json()["access_token"]
    client.cookies.clear()
    token = {"Authorization": f"Bearer {access}"}
    assert (await gql("{ viewer { username reauthenticatedUntil } }", **token))["viewer"] == {
        "username": "alice",
        "reauthenticatedUntil": None,
    }
    refused = (await gql(REAUTHENTICATE, {"p": PASSWORD}, **token))["reauthenticate"]
    assert errors(refused) == [(None, "INSUFFICIENT_SCOPE")]
    assert "token" in refused["userErrors"][0]["message"]
    inline = await gql(ISSUE_WITH_PASSWORD, {"e": days_ahead(7), "p": PASSWORD}, **token)
    assert errors(inline["issueToken"]) == [(None, "INSUFFICIENT_SCOPE")]
    others = (await gql(SIGN_OUT_OTHERS, **token))["signOutOtherSessions"]
    assert errors(others) == [(None, "INSUFFICIENT_SCOPE")]


async def test_signing_out_other_sessions_needs_proof(gql, new_client, alice):
    async with new_client() as other_browser:
        other = GraphQL(other_browser)
        await other.sign_in("alice")
        expire_the_stamp()
        assert errors((await gql(SIGN_OUT_OTHERS))["signOutOtherSessions"]) == [
            ("password", "REAUTHENTICATION_REQUIRED")
        ]
        assert (await other("{ viewer { username } }"))["viewer"] == {"username": "alice"}
        assert (await gql(REAUTHENTICATE, {"p": PASSWORD}))["reauthenticate"]["userErrors"] == []
        assert (await gql(SIGN_OUT_OTHERS))["signOutOtherSessions"]["signedOutCount"] == 1


async def test_a_stamp_changes_the_password_without_the_current_one(gql, alice):
    assert (await gql(CHANGE_PASSWORD))["changePassword"]["userErrors"] == []
    expire_the_stamp()
    assert errors((await gql(CHANGE_PASSWORD))["changePassword"]) == [
        ("currentPassword", "REAUTHENTICATION_REQUIRED")
    ]


# Every mutation is either sensitive (it needs proof) or plain; a new one must pick a side.
SENSITIVE = {
    "updateAccount": 'updateAccount(input: {mobilePhone: "+14155552671"})',
    "changePassword": (
        'changePassword(input: {newPassword: "a brand new passphrase 42", '
        'newPasswordConfirmation: "a brand new passphrase 42"})'
    ),
    "revokeSession": "revokeSession(input: {id: $session})",
    "signOutOtherSessions": "signOutOtherSessions",
    "issueToken": 'issueToken(input: {name: "x", expiresAt: $expires})',
    "regenerateToken": "regenerateToken(input: {id: $token, expiresAt: $expires})",
    "generateApiCredentials": "generateApiCredentials(input: {})",
    "startTotpSetup": "startTotpSetup(input: {})",
    "startCodeSetup": "startCodeSetup(input: {method: EMAIL})",
    "setTwoFactorPolicy": "setTwoFactorPolicy(input: {policy: UNRECOGNIZED_DEVICE})",
    "removeAuthenticator": "removeAuthenticator(input: {id: $factor})",
    "setPreferredAuthenticator": "setPreferredAuthenticator(input: {id: $factor})",
    "disableTwoFactor": "disableTwoFactor(input: {})",
    "regenerateRecoveryCodes": "regenerateRecoveryCodes(input: {})",
    "startPasskeyRegistration": "startPasskeyRegistration(input: {})",
    "deletePasskey": "deletePasskey(input: {id: $passkey})",
    "exportAccountData": "exportAccountData(input: {})",
    "scheduleAccountDeletion": 'scheduleAccountDeletion(input: {confirmation: "alice"})',
}
PLAIN = {
    "signIn",
    "verifySignIn",
    "resendSignInCode",
    "signOut",
    "reauthenticate",  # the proof itself
    "verifyEmailChange",  # the code sent to the new address, after a sensitive updateAccount
    "resendEmailChangeCode",  # to the address that sensitive updateAccount set
    "cancelEmailChange",  # keeps the current address: nothing to guard
    "joinGroup",
    "leaveGroup",
    "deleteToken",
    "removeApiCredentials",
    "confirmTotpSetup",  # after a sensitive start
    "confirmCodeSetup",
    "sendStepUpCode",  # asks for the password itself
    "forgetTrustedDevice",
    "forgetAllTrustedDevices",
    "finishPasskeyRegistration",  # after a sensitive start, with its challenge
    "renamePasskey",
    "startPasskeySignIn",
    "finishPasskeySignIn",  # the proof itself
    "startPasskeyReauthentication",  # options for reauthenticate
    "requestPasswordReset",  # signed out: the emailed link is the proof
    "resetPassword",
    "secureAccount",
    "allowApplication",  # the consent page's answer, like GitHub's "Authorize"
    "removeApplicationAccess",  # only ends access, like deleteToken
    "cancelAccountDeletion",  # signed out: the emailed link is the proof
}


# Administrators' changes to other accounts (tests/admin_helpers.py calls each): sensitive
# as well, the administrator's own session re-authenticated; a bearer token with admin:write
# may make those a provisioning script needs (tests/test_admin_api.py tries every caller).
ADMINISTRATORS = set(ADMIN_MUTATIONS)


def test_every_mutation_is_sensitive_or_plain():
    names = set(graphql.build_schema(build_schema().as_str()).mutation_type.fields)
    assert names == set(SENSITIVE) | PLAIN | ADMINISTRATORS
    assert not (set(SENSITIVE) | PLAIN) & ADMINISTRATORS


async def test_every_administrators_change_needs_the_administrators_reauthentication(gql, settings):
    await make_administrator(settings, "root1")
    bob = await make_user(settings, "bob")
    await gql.sign_in("root1")
    expire_the_stamp()
    for name in ADMIN_MUTATIONS:
        answer = await admin_call(gql, name, str(bob.id))
        assert answer["userErrors"] == [{"field": None, "code": "REAUTHENTICATION_REQUIRED"}], name
    assert (await gql(REAUTHENTICATE_PASSWORD_ONLY, {"p": PASSWORD}))["reauthenticate"][
        "userErrors"
    ] == []
    await Group.create(name="ops")
    for name in ADMIN_MUTATIONS:
        assert (await admin_call(gql, name, str(bob.id)))["userErrors"] == [], name


async def test_every_sensitive_mutation_needs_reauthentication(gql, new_client, alice):
    async with new_client() as other:
        await GraphQL(other).sign_in("alice")
        token = (await issue_token(gql))["token"]["id"]
        await enable_totp(gql)
        factors = await gql("{ viewer { twoFactor { authenticators { id kind } } } }")
        factor = next(
            f["id"] for f in factors["viewer"]["twoFactor"]["authenticators"] if f["kind"] == "TOTP"
        )
        sessions = (await gql("{ viewer { sessions { id current } } }"))["viewer"]["sessions"]
        theirs = next(s["id"] for s in sessions if not s["current"])
        expire_the_stamp()
        passkey = await Authenticator.create(user=alice, kind="passkey", name="Key")
        values = {
            "session": theirs,
            "expires": days_ahead(7),
            "factor": factor,
            "passkey": str(passkey.id),
            "token": token,
        }
        types = {
            "session": "ID!",
            "expires": "DateTime",
            "factor": "ID!",
            "passkey": "ID!",
            "token": "ID!",
        }
        for name, call in SENSITIVE.items():
            used = [variable for variable in types if f"${variable}" in call]
            declared = ", ".join(f"${variable}: {types[variable]}" for variable in used)
            head = f"mutation({declared})" if used else "mutation"
            document = f"{head} {{ {call} {{ userErrors {{ code }} }} }}"
            variables = {variable: values[variable] for variable in used}
            payload = (await gql(document, variables))[name]
            assert payload["userErrors"] == [{"code": "REAUTHENTICATION_REQUIRED"}], name


async def test_a_stamp_with_both_factors_is_not_lowered_by_an_inline_password(gql, alice):
    """More proof never gives less access: the password sent along with a change renews the
    password's time and keeps the code this session proved earlier."""
    secret, _ = await enable_totp(gql)
    done = (await gql(REAUTHENTICATE, {"p": PASSWORD, "c": oathtool(secret)}))["reauthenticate"]
    assert done["userErrors"] == []
    clock.advance(timedelta(seconds=300))
    with_password = await gql(ISSUE_WITH_PASSWORD, {"e": days_ahead(7), "p": PASSWORD})
    assert with_password["issueToken"]["userErrors"] == []
    assert with_password["issueToken"]["secret"].startswith("lk_rt_")
    # The code proven 300 seconds ago still ends where it did: the password renewed alone.
    clock.advance(timedelta(seconds=301))
    assert (await gql(UNTIL))["viewer"]["reauthenticatedUntil"] is None
    assert errors((await gql(POLICY))["setTwoFactorPolicy"]) == [("code", "OTP_REQUIRED")]


async def test_an_inline_recovery_code_does_not_replace_a_stronger_stamp(gql, alice):
    secret, recovery = await enable_totp(gql)
    done = (await gql(REAUTHENTICATE, {"p": PASSWORD, "c": oathtool(secret)}))["reauthenticate"]
    assert done["userErrors"] == []
    # A recovery code sent along with a change that accepts one is checked and used up...
    changed = (await gql(POLICY, {"c": recovery[0]}))["setTwoFactorPolicy"]
    assert changed["userErrors"] == []
    # ...and the session may still mint recovery codes on the app's code it proved.
    regenerated = (await gql(REGENERATE))["regenerateRecoveryCodes"]
    assert regenerated["userErrors"] == [] and len(regenerated["recoveryCodes"]) == 10


async def test_inline_proof_renews_the_cookie_only_when_it_raises_the_stamp(
    client, gql, alice, settings
):
    signed_in = client.cookies[settings.session_cookie_name]
    # The stamp of signing in holds the password: sending it again keeps the session id.
    inline = (await gql(ISSUE_WITH_PASSWORD, {"e": days_ahead(7), "p": PASSWORD}))["issueToken"]
    assert inline["userErrors"] == []
    assert client.cookies[settings.session_cookie_name] == signed_in
    expire_the_stamp()
    inline = (await gql(ISSUE_WITH_PASSWORD, {"e": days_ahead(7), "p": PASSWORD}))["issueToken"]
    assert inline["userErrors"] == []
    renewed = client.cookies[settings.session_cookie_name]
    assert renewed != signed_in
    assert (await gql(UNTIL))["viewer"]["reauthenticatedUntil"] is not None
    client.cookies.set(settings.session_cookie_name, signed_in)
    assert (await gql("{ viewer { username } }"))["viewer"] is None


CODE_AND_OTP = """mutation($p: String, $c: String, $o: String, $e: DateTime) {
  issueToken(input: {name: "both", expiresAt: $e, password: $p, code: $c, otp: $o}) {
    secret userErrors { field code } } }"""


async def test_code_and_its_deprecated_name_otp_must_agree(gql, alice):
    secret, _ = await enable_totp(gql)
    expire_the_stamp()
    code = oathtool(secret)
    differ = {"p": PASSWORD, "c": code, "o": "000000", "e": days_ahead(7)}
    refused = (await gql(CODE_AND_OTP, differ))["issueToken"]
    assert errors(refused) == [("otp", "VALIDATION_FAILED")] and refused["secret"] is None
    agree = {"p": PASSWORD, "c": code, "o": code, "e": days_ahead(7)}
    assert errors((await gql(CODE_AND_OTP, agree))["issueToken"]) == []
    next_time_step()
    expire_the_stamp()
    wrong = {"p": PASSWORD, "o": "000000", "e": days_ahead(7)}
    assert errors((await gql(CODE_AND_OTP, wrong))["issueToken"]) == [("otp", "INVALID_OTP")]
    wrong = {"p": PASSWORD, "c": "000000", "e": days_ahead(7)}
    assert errors((await gql(CODE_AND_OTP, wrong))["issueToken"]) == [("code", "INVALID_OTP")]


def test_otp_is_a_deprecated_alias_of_code_in_the_schema():
    schema = graphql.build_schema(build_schema().as_str())
    with_otp = [
        type_
        for type_ in schema.type_map.values()
        if isinstance(type_, graphql.GraphQLInputObjectType) and "otp" in type_.fields
    ]
    assert len(with_otp) == 9
    for type_ in with_otp:
        assert "code" in type_.fields, type_.name
        assert type_.fields["otp"].deprecation_reason, type_.name
        assert type_.fields["code"].deprecation_reason is None, type_.name
    for type_ in schema.type_map.values():
        if isinstance(type_, graphql.GraphQLInputObjectType) and "password" in type_.fields:
            second_factor = {"code", "otp"} & set(type_.fields)
            assert second_factor in (set(), {"code"}, {"code", "otp"}), type_.name


# Every sensitive mutation, as called with its inline proof (`{proof}`): which proof field
# holds the password, whether it asks for a second factor, whether its input has `otp`.
TABLE = {
    "updateAccount": ('updateAccount(input: {mobilePhone: "+14155552671"{proof}})', True),
    "changePassword": (
        'changePassword(input: {newPassword: "a brand new passphrase 42", '
        'newPasswordConfirmation: "a brand new passphrase 42"{proof}})',
        False,
    ),
    "revokeSession": ("revokeSession(input: {id: $session{proof}})", False),
    "signOutOtherSessions": ("signOutOtherSessions(input: {confirm: true{proof}})", False),
    "issueToken": ('issueToken(input: {name: "x", expiresAt: $expires{proof}})', True),
    "regenerateToken": ("regenerateToken(input: {id: $token, expiresAt: $expires{proof}})", True),
    "generateApiCredentials": ("generateApiCredentials(input: {scopes: null{proof}})", True),
    "startTotpSetup": ("startTotpSetup(input: {password: null{proof}})", True),
    "startCodeSetup": ("startCodeSetup(input: {method: EMAIL{proof}})", True),
    "setTwoFactorPolicy": (
        "setTwoFactorPolicy(input: {policy: UNRECOGNIZED_DEVICE{proof}})",
        True,
    ),
    "removeAuthenticator": ("removeAuthenticator(input: {id: $factor{proof}})", True),
    "setPreferredAuthenticator": ("setPreferredAuthenticator(input: {id: $factor{proof}})", True),
    "disableTwoFactor": ("disableTwoFactor(input: {password: null{proof}})", True),
    "regenerateRecoveryCodes": ("regenerateRecoveryCodes(input: {password: null{proof}})", True),
    "startPasskeyRegistration": ("startPasskeyRegistration(input: {password: null{proof}})", True),
    "deletePasskey": ("deletePasskey(input: {id: $passkey{proof}})", True),
    "exportAccountData": ("exportAccountData(input: {password: null{proof}})", True),
    "scheduleAccountDeletion": (
        'scheduleAccountDeletion(input: {confirmation: "alice"{proof}})',
        True,
    ),
}
TYPES = {
    "session": "ID!",
    "expires": "DateTime",
    "factor": "ID!",
    "passkey": "ID!",
    "token": "ID!",
    "p": "String",
    "c": "String",
}


def test_the_table_names_every_sensitive_mutation():
    assert set(TABLE) == set(SENSITIVE)


class Account:
    """alice with two-factor authentication on (an app), another session, a token and a
    passkey: what each sensitive mutation acts on. Her session's stamp has ended."""

    def __init__(self, gql: GraphQL, secret: str, refresh: str, values: dict) -> None:
        self.gql, self.secret, self.refresh, self.values = gql, secret, refresh, values

    def code(self) -> str:
        next_time_step()  # each code of the app works once
        return oathtool(self.secret)

    async def call(self, name: str, proof: dict[str, str], headers: dict | None = None) -> dict:
        call, _ = TABLE[name]
        password_field = "currentPassword" if name == "changePassword" else "password"
        fields = {"password": password_field, "code": "code", "otp": "otp"}
        given = "".join(f", {fields[key]}: ${'p' if key == 'password' else 'c'}" for key in proof)
        call = call.replace("{proof}", given)
        if (
            name
            in {
                "startTotpSetup",
                "disableTwoFactor",
                "regenerateRecoveryCodes",
                "startPasskeyRegistration",
                "exportAccountData",
            }
            and "password" in proof
        ):
            call = call.replace("password: null, ", "")
        variables = {name: value for name, value in self.values.items() if f"${name}" in call}
        variables |= {("p" if key == "password" else "c"): value for key, value in proof.items()}
        declared = ", ".join(f"${variable}: {TYPES[variable]}" for variable in variables)
        head = f"mutation({declared})" if variables else "mutation"
        document = f"{head} {{ {call} {{ userErrors {{ field code }} }} }}"
        return (await self.gql(document, variables, **(headers or {})))[name]


@pytest.fixture
async def account(gql, new_client, alice):
    async with new_client() as other:
        await GraphQL(other).sign_in("alice")
        issued = await issue_token(gql)
        token = issued["token"]["id"]
        refresh = issued["secret"]
        secret, _ = await enable_totp(gql)
        factors = await gql("{ viewer { twoFactor { authenticators { id kind } } } }")
        ids = {f["kind"]: f["id"] for f in factors["viewer"]["twoFactor"]["authenticators"]}
        sessions = (await gql("{ viewer { sessions { id current } } }"))["viewer"]["sessions"]
        passkey = await Authenticator.create(user=alice, kind="passkey", name="Key")
        values = {
            "session": next(s["id"] for s in sessions if not s["current"]),
            "expires": days_ahead(7),
            "factor": ids["TOTP"],
            "passkey": str(passkey.id),
            "token": token,
        }
        expire_the_stamp()
        yield Account(gql, secret, refresh, values)


def needs_code(name: str) -> bool:
    return TABLE[name][1]


@pytest.mark.parametrize("name", TABLE)
async def test_without_proof_every_sensitive_mutation_needs_reauthentication(account, name):
    field = "currentPassword" if name == "changePassword" else "password"
    assert (await account.call(name, {}))["userErrors"] == [
        {"field": field, "code": "REAUTHENTICATION_REQUIRED"}
    ]


@pytest.mark.parametrize("code_name", ["code", "otp"])
@pytest.mark.parametrize("name", TABLE)
async def test_inline_proof_is_enough_for_every_sensitive_mutation(account, name, code_name):
    if code_name == "otp" and not needs_code(name):
        pytest.skip("no second factor asked for")
    proof = {"password": PASSWORD}
    if needs_code(name):
        if code_name == "otp" and name in {
            "setTwoFactorPolicy",
            "removeAuthenticator",
            "disableTwoFactor",
            "regenerateRecoveryCodes",
            "exportAccountData",
            "scheduleAccountDeletion",
        }:
            pytest.skip("its input never had `otp`")
        proof[code_name] = account.code()
    assert (await account.call(name, proof))["userErrors"] == []


@pytest.mark.parametrize("name", TABLE)
async def test_a_fresh_stamp_is_enough_for_every_sensitive_mutation(account, name):
    stamped = await account.gql(REAUTHENTICATE, {"p": PASSWORD, "c": account.code()})
    assert stamped["reauthenticate"]["userErrors"] == []
    assert (await account.call(name, {}))["userErrors"] == []


@pytest.mark.parametrize("name", TABLE)
async def test_a_stamp_is_never_refused_because_the_password_comes_too(account, name):
    stamped = await account.gql(REAUTHENTICATE, {"p": PASSWORD, "c": account.code()})
    assert stamped["reauthenticate"]["userErrors"] == []
    assert (await account.call(name, {"password": PASSWORD}))["userErrors"] == []


@pytest.mark.parametrize("name", TABLE)
async def test_a_stamp_without_the_second_factor_asks_for_the_code(account, name):
    stamped = await account.gql(REAUTHENTICATE_PASSWORD_ONLY, {"p": PASSWORD})
    # reauthenticate itself asks for the code; an inline password alone stamps the password.
    assert errors(stamped["reauthenticate"]) == [("code", "OTP_REQUIRED")]
    answer = await account.call(name, {"password": PASSWORD})
    if needs_code(name):
        assert answer["userErrors"] == [{"field": "code", "code": "OTP_REQUIRED"}]
    else:
        assert answer["userErrors"] == []


@pytest.mark.parametrize("name", TABLE)
async def test_a_bearer_token_makes_no_sensitive_change(account, client, name):
    access = (await exchange(client, account.refresh)).json()["access_token"]
    client.cookies.clear()
    bearer = {"Authorization": f"Bearer {access}"}
    assert (await account.gql("{ viewer { username } }", **bearer))["viewer"] is not None
    proofs = [{}, {"password": PASSWORD}]
    if needs_code(name):
        proofs.append({"password": PASSWORD, "code": account.code()})
    for proof in proofs:
        answer = await account.call(name, proof, bearer)
        assert answer["userErrors"] == [{"field": None, "code": "INSUFFICIENT_SCOPE"}], proof
