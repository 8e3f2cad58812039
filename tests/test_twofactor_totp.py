"""Authenticator apps: setup with a QR code, sign-in with a second step, replay, recovery codes."""

from __future__ import annotations

import asyncio
import base64
import subprocess
from datetime import timedelta

import pytest

from backend.audit.models import SecurityEvent
from backend.auth.factors.models import Authenticator, PendingSetup, RecoveryCode
from backend.kernel import clock
from backend.tokens.models import RefreshToken
from tests.helpers import ISSUE_TOKEN, PASSWORD, days_ahead
from tests.twofactor_helpers import (
    CONFIRM_TOTP,
    START_TOTP,
    TWO_FACTOR,
    early_in_a_time_step,
    enable_totp,
    next_time_step,
    oathtool,
    verify,
)


def codes(payload) -> list[str]:
    return [error["code"] for error in payload["userErrors"]]


async def test_setup_needs_the_password(gql, alice):
    start = (await gql(START_TOTP, {"p": "wrong password"}))["startTotpSetup"]
    assert codes(start) == ["INVALID_CREDENTIALS"] and start["secret"] is None


async def test_setup_gives_a_secret_uri_and_a_qr_code_that_decodes_to_the_uri(gql, alice, tmp_path):
    start = (await gql(START_TOTP, {"p": PASSWORD}))["startTotpSetup"]
    secret, uri = start["secret"], start["otpauthUri"]
    assert len(base64.b32decode(secret)) >= 20  # 160 bits
    assert uri == f"otpauth://totp/Latchkey:alice?secret={secret}&issuer=Latchkey"
    svg = start["qrCodeSvg"].replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1)
    (tmp_path / "qr.svg").write_text(svg)
    subprocess.run(
        ["rsvg-convert", "-w", "400", "-o", str(tmp_path / "qr.png"), str(tmp_path / "qr.svg")],
        check=True,
    )
    decoded = subprocess.run(
        ["zbarimg", "--quiet", "--raw", str(tmp_path / "qr.png")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert decoded.stdout.strip() == uri


async def test_the_pending_secret_is_kept_encrypted_server_side(gql, alice):
    secret = (await gql(START_TOTP, {"p": PASSWORD}))["startTotpSetup"]["secret"]
    pending = await PendingSetup.get()
    assert secret not in pending.totp_secret and pending.totp_secret.startswith("v1:")


async def test_confirming_with_a_current_code_turns_it_on_with_ten_recovery_codes(gql, alice):
    start = (await gql(START_TOTP, {"p": PASSWORD}))["startTotpSetup"]
    wrong = (await gql(CONFIRM_TOTP, {"c": "000000"}))["confirmTotpSetup"]
    assert codes(wrong) == ["INVALID_OTP"]
    assert (await gql(TWO_FACTOR))["viewer"]["twoFactor"]["enabled"] is False
    confirm = (await gql(CONFIRM_TOTP, {"c": oathtool(start["secret"])}))["confirmTotpSetup"]
    recovery = confirm["recoveryCodes"]
    assert len(recovery) == 10 and len(set(recovery)) == 10
    assert (await gql(TWO_FACTOR))["viewer"]["twoFactor"] == {
        "enabled": True,
        "method": "TOTP",
        "policy": "EVERY_SIGN_IN",
        "recoveryCodesRemaining": 10,
    }
    stored = await Authenticator.get(kind="totp")
    assert start["secret"] not in stored.secret
    hashes = await RecoveryCode.all().values_list("code_hash", flat=True)
    assert not any(code in hashes for code in recovery)


async def test_a_setup_expires_after_ten_minutes(gql, alice):
    secret = (await gql(START_TOTP, {"p": PASSWORD}))["startTotpSetup"]["secret"]
    clock.advance(timedelta(minutes=10, seconds=1))
    confirm = (await gql(CONFIRM_TOTP, {"c": oathtool(secret)}))["confirmTotpSetup"]
    assert codes(confirm) == ["SETUP_EXPIRED"]


async def test_sign_in_then_asks_for_the_code_and_grants_nothing_before_it(gql, client, alice):
    secret, _ = await enable_totp(gql)
    client.cookies.clear()
    first = await gql.sign_in("alice")
    assert first["status"] == "SECOND_FACTOR_REQUIRED" and first["challenge"]
    assert first["viewer"] is None and "latchkey_session" not in client.cookies
    assert (await gql("{ viewer { username } }"))["viewer"] is None
    done = await verify(gql, first["challenge"], oathtool(secret))
    assert done == {"status": "SIGNED_IN", "viewer": {"username": "alice"}, "userErrors": []}
    assert (await gql("{ viewer { username } }"))["viewer"] == {"username": "alice"}


async def test_the_code_that_confirmed_the_setup_cannot_sign_in(gql, client, alice):
    start = (await gql(START_TOTP, {"p": PASSWORD}))["startTotpSetup"]
    code = oathtool(start["secret"])
    await gql(CONFIRM_TOTP, {"c": code})
    client.cookies.clear()
    challenge = (await gql.sign_in("alice"))["challenge"]
    assert codes(await verify(gql, challenge, code)) == ["INVALID_OTP"]


async def test_a_code_is_accepted_once_and_a_reuse_answers_like_a_wrong_code(gql, client, alice):
    secret, _ = await enable_totp(gql)
    code = oathtool(secret)
    client.cookies.clear()
    assert (await verify(gql, (await gql.sign_in("alice"))["challenge"], code))["status"]
    client.cookies.clear()
    challenge = (await gql.sign_in("alice"))["challenge"]
    reused = await verify(gql, challenge, code)
    wrong = await verify(gql, challenge, "123456" if code != "123456" else "654321")
    assert reused == wrong and codes(reused) == ["INVALID_OTP"]
    reasons = await SecurityEvent.filter(kind="second_factor.failed").values_list(
        "details", flat=True
    )
    assert [r["reason"] for r in reasons] == ["replayed", "wrong"]


@pytest.mark.parametrize(
    ("offset", "accepted"), [(-30, True), (30, True), (-60, False), (60, False)]
)
async def test_one_time_step_of_drift_either_way(gql, client, alice, offset, accepted):
    secret, _ = await enable_totp(gql)
    clock.advance(timedelta(minutes=2))
    early_in_a_time_step()  # the offsets are meant exactly: no boundary may pass meanwhile
    client.cookies.clear()
    result = await verify(gql, (await gql.sign_in("alice"))["challenge"], oathtool(secret, offset))
    assert (result["status"] == "SIGNED_IN") is accepted


async def test_recovery_codes_work_once_and_are_counted(gql, client, alice):
    _, recovery = await enable_totp(gql)
    client.cookies.clear()
    used = await verify(gql, (await gql.sign_in("alice"))["challenge"], recovery[0].upper())
    assert used["status"] == "SIGNED_IN"
    assert (await gql(TWO_FACTOR))["viewer"]["twoFactor"]["recoveryCodesRemaining"] == 9
    client.cookies.clear()
    again = await verify(gql, (await gql.sign_in("alice"))["challenge"], recovery[0])
    assert codes(again) == ["INVALID_OTP"]


async def test_five_wrong_codes_lock_code_entry_even_for_the_right_code(gql, client, alice):
    secret, _ = await enable_totp(gql)
    client.cookies.clear()
    challenge = (await gql.sign_in("alice"))["challenge"]
    for _ in range(5):
        assert codes(await verify(gql, challenge, "000000")) == ["INVALID_OTP"]
    assert codes(await verify(gql, challenge, oathtool(secret))) == ["RATE_LIMITED"]


async def test_a_challenge_is_single_use_and_short_lived(gql, client, alice):
    secret, _ = await enable_totp(gql)
    client.cookies.clear()
    challenge = (await gql.sign_in("alice"))["challenge"]
    assert (await verify(gql, challenge, oathtool(secret)))["status"] == "SIGNED_IN"
    next_time_step()
    assert codes(await verify(gql, challenge, oathtool(secret))) == ["CHALLENGE_EXPIRED"]
    client.cookies.clear()
    late = (await gql.sign_in("alice"))["challenge"]
    clock.advance(timedelta(minutes=5, seconds=1))
    assert codes(await verify(gql, late, oathtool(secret))) == ["CHALLENGE_EXPIRED"]


async def test_one_recovery_code_sent_ten_times_at_once_signs_in_once(gql, client, alice):
    _, recovery = await enable_totp(gql)
    client.cookies.clear()
    challenges = [(await gql.sign_in("alice"))["challenge"] for _ in range(10)]
    results = await asyncio.gather(*(verify(gql, ch, recovery[0]) for ch in challenges))
    assert [r["status"] for r in results].count("SIGNED_IN") == 1
    assert await RecoveryCode.filter(used_at__isnull=False).count() == 1


async def test_one_code_issues_at_most_one_token_even_at_once(gql, alice):
    secret, _ = await enable_totp(gql)
    code = oathtool(secret)
    variables = {"name": "ci", "expiresAt": days_ahead(7), "password": PASSWORD, "otp": code}
    results = await asyncio.gather(*(gql(ISSUE_TOKEN, variables) for _ in range(5)))
    issued = [r["issueToken"]["secret"] for r in results if r["issueToken"]["secret"]]
    assert len(issued) == 1
    assert await RefreshToken.all().count() == 1
