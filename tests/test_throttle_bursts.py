"""Attempt budgets hold for parallel requests: each attempt is counted before it is checked.

A burst of wrong secrets gets no more checks than the policy allows, and the right secret
after it is refused. A right secret inside a burst gets in only if it is reserved among the
first attempts (requests overtake each other), and its success starts the count afresh.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest

from backend.accounts.models import User
from backend.audit.models import SecurityEvent
from backend.auth.factors import codes as one_time_codes
from backend.auth.factors.models import OneTimeCode
from backend.auth.throttle.keys import account_key
from backend.auth.throttle.models import ThrottleCounter
from backend.kernel import clock
from tests.conftest import settings_for, smtp_settings
from tests.helpers import PASSWORD, SIGN_IN, issue_token, make_user, most_checks_in_a_burst
from tests.twofactor_helpers import (
    CONFIRM_CODES,
    START_CODES,
    code_in,
    early_in_a_time_step,
    enable_totp,
    oathtool,
    verify,
)

BUDGET = 5  # PER_ACCOUNT: attempts before the lock
UPDATE = """mutation($input: UpdateAccountInput!) { updateAccount(input: $input) {
  emailVerificationSent userErrors { field code } } }"""
VERIFY_EMAIL = """mutation($code: String!) { verifyEmailChange(input: {code: $code}) {
  viewer { email } userErrors { field code } } }"""


@pytest.fixture
def settings(database_url, smtp, sms):
    return settings_for(database_url, smtp=smtp_settings(smtp.port), sms_webhook_url=sms.url)


def codes(payload: dict) -> list[str]:
    return [error["code"] for error in payload["userErrors"]]


def wrong_and_one_right(right: str, wrong: list[str]) -> list[str]:
    middle = len(wrong) // 2
    return [*wrong[:middle], right, *wrong[middle:]]


async def events(kind: str) -> list[dict]:
    return await SecurityEvent.filter(kind=kind).values_list("details", flat=True)


async def test_a_burst_of_sign_ins_checks_at_most_the_budget_and_refuses_the_right_one(
    gql, settings
):
    await make_user(settings, "alice")
    passwords = wrong_and_one_right(PASSWORD, [f"wrong guess {n}" for n in range(59)])
    responses = await asyncio.gather(
        *(gql.raw(SIGN_IN, {"username": "alice", "password": p}) for p in passwords)
    )
    ended_ms = clock.now().timestamp() * 1000
    assert {response.status_code for response in responses} == {200}
    answers = [response.json()["data"]["signIn"] for response in responses]
    right_one_got_in = any(answer["status"] == "SIGNED_IN" for answer in answers)
    assert {tuple(codes(answer)) for answer in answers} <= {
        ("INVALID_CREDENTIALS",),
        ("RATE_LIMITED",),
        *([()] if right_one_got_in else []),
    }
    checked = len(await events("sign_in.failed"))  # one per password checked
    assert checked <= most_checks_in_a_burst(BUDGET, right_one_got_in=right_one_got_in)
    if right_one_got_in:
        return  # it started the count afresh: the guesses after it may not reach the lock
    # The budget locked the account beyond the burst (on a slow machine the burst itself
    # may outlast a short lock, so the lock is read rather than raced).
    counter = await ThrottleCounter.get(key=account_key("alice"))
    assert counter.locked_until_ms > ended_ms
    if clock.now().timestamp() * 1000 < counter.locked_until_ms - 5000:
        assert codes(await gql.sign_in("alice")) == ["RATE_LIMITED"]


async def test_a_burst_of_step_up_passwords_checks_at_most_the_budget(gql, alice):
    results = await asyncio.gather(
        *(issue_token(gql, f"ci-{n}", password=f"wrong guess {n}") for n in range(30))
    )
    assert {tuple(codes(result)) for result in results} <= {
        ("INVALID_CREDENTIALS",),
        ("RATE_LIMITED",),
    }
    assert len(await events("token.issue.failed")) <= BUDGET  # one per password checked
    assert codes(await issue_token(gql, "ci")) == ["RATE_LIMITED"]


@pytest.mark.parametrize("kind", ["authenticator", "recovery"])
async def test_a_burst_of_second_factor_codes_checks_at_most_the_budget(gql, client, alice, kind):
    secret, recovery = await enable_totp(gql)
    client.cookies.clear()
    early_in_a_time_step()
    challenges = [(await gql.sign_in("alice"))["challenge"] for _ in range(31)]
    shape = "{:06d}" if kind == "authenticator" else "aaaa-bbbb-cccc-{:04d}"
    results = await asyncio.gather(
        *(verify(gql, challenge, shape.format(n)) for n, challenge in enumerate(challenges[1:]))
    )
    assert {tuple(codes(result)) for result in results} <= {("INVALID_OTP",), ("RATE_LIMITED",)}
    assert len(await events("second_factor.failed")) <= BUDGET  # one per code checked
    right = oathtool(secret) if kind == "authenticator" else recovery[0]
    assert codes(await verify(gql, challenges[0], right)) == ["RATE_LIMITED"]


async def test_a_burst_of_email_change_codes_compares_at_most_five(gql, alice, smtp):
    await gql(UPDATE, {"input": {"email": "alice.new@example.com", "password": PASSWORD}})
    [message] = smtp.to("alice.new@example.com")
    right = code_in(smtp.text(message))
    wrong = [f"{n:06d}" for n in range(31) if f"{n:06d}" != right][:30]
    await asyncio.gather(*(gql(VERIFY_EMAIL, {"code": code}) for code in wrong))
    failures = await events("email.change_failed")
    not_compared = "no pending change, expired or too many attempts"
    compared = [event for event in failures if event.get("reason") != not_compared]
    assert len(failures) == 30 and len(compared) <= 5
    refused = (await gql(VERIFY_EMAIL, {"code": right}))["verifyEmailChange"]
    assert refused["viewer"] is None
    assert (await gql("{ viewer { email } }"))["viewer"]["email"] == "alice@example.com"


async def test_a_burst_of_one_time_codes_compares_at_most_five(settings, app):
    user = await make_user(settings, "bob")
    secret_key = settings.secret_key
    right = await one_time_codes.issue(user, "sign-in:1", secret_key)
    wrong = [f"{n:06d}" for n in range(30) if f"{n:06d}" != right][:19]
    await asyncio.gather(
        *(one_time_codes.consume(user, "sign-in:1", code, secret_key) for code in [*wrong, right])
    )
    # Every comparison is counted on the code, so its count is the number compared.
    assert (await OneTimeCode.get(user=user)).failed_attempts == one_time_codes.MAX_FAILED_ATTEMPTS


async def test_parallel_sign_ins_send_at_most_five_text_messages(gql, client, alice, sms):
    await User.filter(id=alice.id).update(mobile_phone="+14155552671")
    await gql(START_CODES, {"m": "SMS", "p": PASSWORD})
    await gql(CONFIRM_CODES, {"c": code_in(sms.messages[-1]["text"])})
    client.cookies.clear()
    answers = await asyncio.gather(*(gql.sign_in("alice") for _ in range(5)))
    assert all(answer["status"] == "SECOND_FACTOR_REQUIRED" for answer in answers)
    assert len(sms.messages) == 5  # the setup and four sign-ins; the fifth got no message


async def test_a_username_of_300_characters_is_counted_and_logged(gql, settings):
    long_name = "a" * 300
    for spelling in [long_name, long_name.upper(), "ａ" * 300, long_name, long_name]:
        assert codes(await gql.sign_in(spelling, "wrong")) == ["INVALID_CREDENTIALS"]
    assert codes(await gql.sign_in(long_name, "wrong")) == ["RATE_LIMITED"]
    assert len(await events("sign_in.failed")) == BUDGET
    assert all(len(key) <= 255 for key in await ThrottleCounter.all().values_list("key", flat=True))


class TestClientSecrets:
    """Client ids are not secret: a stranger's wrong secrets must not lock out the owner."""

    GENERATE = """mutation($password: String!) {
      generateApiCredentials(input: {password: $password}) { clientId clientSecret } }"""

    @pytest.fixture
    async def credentials(self, gql, alice) -> tuple[str, str]:
        data = (await gql(self.GENERATE, {"password": PASSWORD}))["generateApiCredentials"]
        return data["clientId"], data["clientSecret"]

    @staticmethod
    async def token(http, client_id: str, secret: str):
        return await http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(client_id, secret),
        )

    async def test_a_strangers_wrong_secrets_leave_the_owner_working(
        self, client, credentials, other_address
    ):
        client_id, secret = credentials
        for _ in range(10):
            await self.token(other_address, client_id, "lk_cs_" + "x" * 40)
        assert (await self.token(other_address, client_id, secret)).status_code == 429
        assert (await self.token(client, client_id, secret)).status_code == 200

    async def test_a_burst_of_wrong_secrets_checks_at_most_the_budget(self, client, credentials):
        client_id, secret = credentials
        secrets = wrong_and_one_right(secret, [f"lk_cs_wrong{n:035d}" for n in range(59)])
        responses = await asyncio.gather(*(self.token(client, client_id, s) for s in secrets))
        statuses = [response.status_code for response in responses]
        right_one_got_in = 200 in statuses
        assert set(statuses) <= {200, 401, 429} and statuses.count(200) <= 1
        checked = statuses.count(401)  # one per secret checked
        assert checked <= most_checks_in_a_burst(BUDGET, right_one_got_in=right_one_got_in)

    async def test_parallel_requests_with_the_right_secret_all_get_in(self, client, credentials):
        # A service's requests overlap: none may hold the others' attempts while in flight.
        client_id, secret = credentials
        responses = await asyncio.gather(
            *(self.token(client, client_id, secret) for _ in range(20))
        )
        assert [response.status_code for response in responses] == [200] * 20

    async def test_one_address_guessing_many_client_ids_is_locked(self, client, credentials):
        client_id, secret = credentials
        for number in range(50):
            await self.token(client, f"lk_ci_unknown{number}", "lk_cs_" + "x" * 40)
        assert (await self.token(client, client_id, secret)).status_code == 429


@pytest.fixture
async def other_address(app):
    """A client at another address than `client`."""
    transport = httpx.ASGITransport(app=app, client=("198.51.100.23", 50000))  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http
