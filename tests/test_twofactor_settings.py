"""Policy, recognized devices, step-up for tokens, disabling, recovery codes, operator reset."""

from __future__ import annotations

import subprocess
from datetime import timedelta

import pytest

from backend.audit.models import SecurityEvent
from backend.auth.factors.models import TrustedDevice
from backend.kernel import clock
from tests.conftest import settings_for, smtp_settings
from tests.helpers import ISSUE_TOKEN, PASSWORD, GraphQL, days_ahead, make_user
from tests.live import LATCHKEY, environment
from tests.twofactor_helpers import TWO_FACTOR, enable_totp, next_time_step, oathtool, verify

POLICY = """mutation($p: TwoFactorPolicy!, $pw: String!, $c: String!) {
  setTwoFactorPolicy(input: {policy: $p, password: $pw, code: $c}) {
    twoFactor { policy } userErrors { field code } } }"""
DISABLE = """mutation($pw: String!, $c: String!) {
  disableTwoFactor(input: {password: $pw, code: $c}) {
    twoFactor { enabled } userErrors { field code } } }"""
REGENERATE = """mutation($pw: String!, $c: String) {
  regenerateRecoveryCodes(input: {password: $pw, code: $c}) {
    recoveryCodes userErrors { field code } } }"""
DEVICES = "{ viewer { trustedDevices { id browser ipAddress firstSeenAt lastSeenAt } } }"
FORGET = """mutation($id: ID!) { forgetTrustedDevice(input: {id: $id}) {
  forgottenCount userErrors { field code } } }"""
FORGET_ALL = "mutation { forgetAllTrustedDevices { forgottenCount userErrors { code } } }"
GENERATE = """mutation($pw: String!, $otp: String) {
  generateApiCredentials(input: {password: $pw, otp: $otp}) {
    clientId userErrors { field code } } }"""


@pytest.fixture
def settings(database_url, smtp):
    return settings_for(database_url, smtp=smtp_settings(smtp.port))


def codes(payload) -> list[str]:
    return [error["code"] for error in payload["userErrors"]]


async def sign_in_with_code(gql, secret: str, remember: bool = False) -> dict:
    first = await gql.sign_in("alice")
    if first["status"] == "SIGNED_IN":
        return first
    next_time_step()
    return await verify(gql, first["challenge"], oathtool(secret), remember)


async def test_remembered_device_skips_the_code_only_with_that_policy(gql, client, alice):
    secret, _ = await enable_totp(gql)
    changed = (
        await gql(POLICY, {"p": "UNRECOGNIZED_DEVICE", "pw": PASSWORD, "c": oathtool(secret)})
    )["setTwoFactorPolicy"]
    assert changed["twoFactor"] == {"policy": "UNRECOGNIZED_DEVICE"}
    client.cookies.clear()
    await sign_in_with_code(gql, secret, remember=True)
    assert "latchkey_device" in client.cookies
    client.cookies.delete("latchkey_session")
    assert (await gql.sign_in("alice"))["status"] == "SIGNED_IN"
    devices = (await gql(DEVICES))["viewer"]["trustedDevices"]
    assert len(devices) == 1 and devices[0]["ipAddress"] == "203.0.113.7"

    next_time_step()
    await gql(POLICY, {"p": "EVERY_SIGN_IN", "pw": PASSWORD, "c": oathtool(secret)})
    client.cookies.delete("latchkey_session")
    assert (await gql.sign_in("alice"))["status"] == "SECOND_FACTOR_REQUIRED"


async def test_forgetting_a_device_asks_for_the_code_again(gql, client, alice):
    secret, _ = await enable_totp(gql)
    await gql(POLICY, {"p": "UNRECOGNIZED_DEVICE", "pw": PASSWORD, "c": oathtool(secret)})
    client.cookies.clear()
    await sign_in_with_code(gql, secret, remember=True)
    [device] = (await gql(DEVICES))["viewer"]["trustedDevices"]
    assert (await gql(FORGET, {"id": device["id"]}))["forgetTrustedDevice"]["forgottenCount"] == 1
    client.cookies.delete("latchkey_session")
    assert (await gql.sign_in("alice"))["status"] == "SECOND_FACTOR_REQUIRED"


async def test_forget_all_and_a_tampered_or_foreign_cookie_is_ignored(
    gql, client, new_client, settings, alice
):
    secret, _ = await enable_totp(gql)
    await gql(POLICY, {"p": "UNRECOGNIZED_DEVICE", "pw": PASSWORD, "c": oathtool(secret)})
    client.cookies.clear()
    await sign_in_with_code(gql, secret, remember=True)
    cookie = client.cookies["latchkey_device"]
    await make_user(settings, "bob")
    async with new_client() as other:
        other.cookies.set("latchkey_device", cookie)  # alice's device, bob's sign-in
        await enable_totp_for_bob(other)
        other.cookies.delete("latchkey_session")
        assert (await GraphQL(other).sign_in("bob"))["status"] == "SECOND_FACTOR_REQUIRED"
    client.cookies.set("latchkey_device", cookie[:-1] + ("0" if cookie[-1] != "0" else "1"))
    client.cookies.delete("latchkey_session")
    assert (await gql.sign_in("alice"))["status"] == "SECOND_FACTOR_REQUIRED"
    client.cookies.set("latchkey_device", cookie)
    assert (await gql.sign_in("alice"))["status"] == "SIGNED_IN"
    assert (await gql(FORGET_ALL))["forgetAllTrustedDevices"]["forgottenCount"] == 1
    assert not await TrustedDevice.exists()


async def enable_totp_for_bob(http) -> None:
    gql = GraphQL(http)
    await gql.sign_in("bob")
    await enable_totp(gql)


async def test_a_remembered_device_expires(gql, client, alice):
    secret, _ = await enable_totp(gql)
    await gql(POLICY, {"p": "UNRECOGNIZED_DEVICE", "pw": PASSWORD, "c": oathtool(secret)})
    client.cookies.clear()
    await sign_in_with_code(gql, secret, remember=True)
    clock.advance(timedelta(days=30, minutes=1))
    client.cookies.delete("latchkey_session")
    assert (await gql.sign_in("alice"))["status"] == "SECOND_FACTOR_REQUIRED"


async def test_tokens_and_credentials_need_a_code_even_on_a_remembered_device(gql, client, alice):
    secret, _ = await enable_totp(gql)
    await gql(POLICY, {"p": "UNRECOGNIZED_DEVICE", "pw": PASSWORD, "c": oathtool(secret)})
    client.cookies.clear()
    await sign_in_with_code(gql, secret, remember=True)
    client.cookies.delete("latchkey_session")
    assert (await gql.sign_in("alice"))["status"] == "SIGNED_IN"  # the device stood in
    last = await SecurityEvent.filter(kind="sign_in.succeeded").order_by("-id").first()
    assert last.details["factor"] == "password+recognized_device"
    next_time_step()
    variables = {"name": "ci", "expiresAt": days_ahead(7), "password": PASSWORD}
    missing = (await gql(ISSUE_TOKEN, variables))["issueToken"]
    assert [(e["field"], e["code"]) for e in missing["userErrors"]] == [("code", "OTP_REQUIRED")]
    wrong = (await gql(ISSUE_TOKEN, {**variables, "otp": "000000"}))["issueToken"]
    assert codes(wrong) == ["INVALID_OTP"]
    code = oathtool(secret)
    issued = (await gql(ISSUE_TOKEN, {**variables, "otp": code}))["issueToken"]
    assert issued["userErrors"] == [] and issued["secret"]
    replay = (await gql(ISSUE_TOKEN, {**variables, "otp": code}))["issueToken"]
    assert codes(replay) == ["INVALID_OTP"]
    clock.advance(timedelta(seconds=601))  # past the code this session proved above
    credentials = (await gql(GENERATE, {"pw": PASSWORD, "otp": None}))["generateApiCredentials"]
    assert codes(credentials) == ["OTP_REQUIRED"]
    next_time_step()
    credentials = await gql(GENERATE, {"pw": PASSWORD, "otp": oathtool(secret)})
    assert credentials["generateApiCredentials"]["clientId"]


async def test_disabling_needs_password_and_code_and_forgets_devices(gql, client, smtp, alice):
    secret, _ = await enable_totp(gql)
    no_code = (await gql(DISABLE, {"pw": PASSWORD, "c": ""}))["disableTwoFactor"]
    assert codes(no_code) == ["OTP_REQUIRED"]
    wrong_password = await gql(DISABLE, {"pw": "nope", "c": oathtool(secret)})
    assert codes(wrong_password["disableTwoFactor"]) == ["INVALID_CREDENTIALS"]
    done = (await gql(DISABLE, {"pw": PASSWORD, "c": oathtool(secret)}))["disableTwoFactor"]
    assert done == {"twoFactor": {"enabled": False}, "userErrors": []}
    subjects = [m["Subject"] for m in smtp.to("alice@example.com")]
    assert subjects == ["Two-factor authentication is on", "Two-factor authentication is off"]
    client.cookies.clear()
    assert (await gql.sign_in("alice"))["status"] == "SIGNED_IN"


async def test_regenerating_recovery_codes_voids_the_old_ones(gql, client, smtp, alice):
    secret, old = await enable_totp(gql)
    regenerated = await gql(REGENERATE, {"pw": PASSWORD, "c": oathtool(secret)})
    new = regenerated["regenerateRecoveryCodes"]["recoveryCodes"]
    assert len(new) == 10 and not set(new) & set(old)
    notices = [m["Subject"] for m in smtp.to("alice@example.com")]
    assert notices.count("New recovery codes") == 1
    client.cookies.clear()
    challenge = (await gql.sign_in("alice"))["challenge"]
    assert codes(await verify(gql, challenge, old[0])) == ["INVALID_OTP"]
    assert (await verify(gql, challenge, new[0]))["status"] == "SIGNED_IN"


async def test_a_session_and_the_password_cannot_turn_recovery_codes_into_new_ones(
    gql, client, smtp, alice
):
    secret, old = await enable_totp(gql)
    password_only = (await gql(REGENERATE, {"pw": PASSWORD}))["regenerateRecoveryCodes"]
    assert password_only == {
        "recoveryCodes": None,
        "userErrors": [{"field": "code", "code": "OTP_REQUIRED"}],
    }
    with_recovery_code = await gql(REGENERATE, {"pw": PASSWORD, "c": old[0]})
    assert with_recovery_code["regenerateRecoveryCodes"] == {
        "recoveryCodes": None,
        "userErrors": [{"field": "code", "code": "INVALID_OTP"}],
    }
    assert (await gql(TWO_FACTOR))["viewer"]["twoFactor"]["recoveryCodesRemaining"] == 10
    assert "New recovery codes" not in [m["Subject"] for m in smtp.to("alice@example.com")]
    failed = await SecurityEvent.filter(kind="second_factor.failed").order_by("-id").first()
    assert failed.details["reason"] == "recovery_code_not_accepted"

    client.cookies.clear()  # the old codes still work, the one offered above too
    challenge = (await gql.sign_in("alice"))["challenge"]
    assert (await verify(gql, challenge, old[0]))["status"] == "SIGNED_IN"


async def test_every_change_is_in_the_security_log(gql, alice):
    secret, _ = await enable_totp(gql)
    await gql(REGENERATE, {"pw": PASSWORD, "c": oathtool(secret)})
    next_time_step()
    await gql(DISABLE, {"pw": PASSWORD, "c": "000000"})
    await gql(DISABLE, {"pw": PASSWORD, "c": oathtool(secret)})
    kinds = await SecurityEvent.all().order_by("id").values_list("kind", flat=True)
    # Inline proof re-authenticates the session first, as `reauthenticate` would.
    assert kinds[-6:] == [
        "twofactor.enabled",
        "reauthenticated",
        "recovery_codes.regenerated",
        "second_factor.failed",
        "reauthenticated",
        "twofactor.disabled",
    ]


async def test_operator_reset_turns_it_off_logs_and_tells_the_user(
    gql, client, smtp, settings, alice
):
    await enable_totp(gql)
    result = subprocess.run(
        [str(LATCHKEY), "user", "reset-2fa", "ALICE"],
        capture_output=True,
        text=True,
        env=environment(
            settings,
            LATCHKEY_SMTP_HOST="127.0.0.1",
            LATCHKEY_SMTP_PORT=str(smtp.port),
            LATCHKEY_SMTP_SECURITY="none",
        ),
    )
    assert result.returncode == 0, result.stderr
    assert "turned off" in result.stdout
    assert (await gql(TWO_FACTOR))["viewer"]["twoFactor"]["enabled"] is False
    assert await SecurityEvent.filter(kind="twofactor.reset_by_operator").exists()
    assert smtp.to("alice@example.com")[-1]["Subject"] == "Two-factor authentication was reset"
    unknown = subprocess.run(
        [str(LATCHKEY), "user", "reset-2fa", "nobody"],
        capture_output=True,
        text=True,
        env=environment(settings),
    )
    assert unknown.returncode == 1 and "no user" in unknown.stderr
