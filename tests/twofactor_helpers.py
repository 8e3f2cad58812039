"""Helpers for two-factor tests: an independent TOTP (oathtool) and the setup steps."""

from __future__ import annotations

import re
import subprocess
from datetime import timedelta

from backend.kernel import clock
from tests.helpers import PASSWORD, GraphQL

START_TOTP = """mutation($p: String!) { startTotpSetup(input: {password: $p}) {
  secret otpauthUri qrCodeSvg userErrors { field code message } } }"""
CONFIRM_TOTP = """mutation($c: String!) { confirmTotpSetup(input: {code: $c}) {
  recoveryCodes userErrors { field code message } } }"""
START_CODES = """mutation($m: TwoFactorMethod!, $p: String!) {
  startCodeSetup(input: {method: $m, password: $p}) { sent userErrors { field code message } } }"""
CONFIRM_CODES = """mutation($c: String!) { confirmCodeSetup(input: {code: $c}) {
  recoveryCodes userErrors { field code message } } }"""
# Codes by SMS beside a factor already on, proven by that factor's code.
ADD_SMS = """mutation($p: String, $o: String) {
  startCodeSetup(input: {method: SMS, password: $p, otp: $o}) { userErrors { field code } } }"""
VERIFY = """mutation($ch: String!, $c: String!, $r: Boolean!) {
  verifySignIn(input: {challenge: $ch, code: $c, rememberDevice: $r}) {
    status viewer { username } userErrors { field code message } } }"""
TWO_FACTOR = "{ viewer { twoFactor { enabled method policy recoveryCodesRemaining } } }"


def oathtool(secret: str, offset_seconds: int = 0) -> str:
    """The code an authenticator app shows at the server's current time (plus an offset)."""
    moment = int((clock.now() + timedelta(seconds=offset_seconds)).timestamp())
    result = subprocess.run(
        ["oathtool", "--totp", "-b", secret, "--now", f"@{moment}"],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def early_in_a_time_step() -> None:
    """Move the clock to just after a step boundary, so no boundary passes during a test."""
    into_step = clock.now().timestamp() % 30
    clock.advance(timedelta(seconds=30 - into_step + 1))


def next_time_step() -> None:
    """Wait (on the test clock) for the authenticator to show a new code."""
    clock.advance(timedelta(seconds=30))


async def enable_totp(gql: GraphQL) -> tuple[str, list[str]]:
    start = (await gql(START_TOTP, {"p": PASSWORD}))["startTotpSetup"]
    assert start["userErrors"] == [], start
    confirm = (await gql(CONFIRM_TOTP, {"c": oathtool(start["secret"])}))["confirmTotpSetup"]
    assert confirm["userErrors"] == [], confirm
    next_time_step()  # the confirming code is used up
    return start["secret"], confirm["recoveryCodes"]


async def verify(gql: GraphQL, challenge: str, code: str, remember: bool = False) -> dict:
    return (await gql(VERIFY, {"ch": challenge, "c": code, "r": remember}))["verifySignIn"]


def code_in(text: str) -> str:
    return re.search(r"\b(\d{6})\b", text).group(1)
