"""Forgot password: a link by email, a new password, and everything the old one opened ends."""

from __future__ import annotations

import asyncio
import statistics
import time
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller

from backend.app import housekeeping
from backend.app.wiring import build_services
from backend.auth.factors.models import TrustedDevice
from backend.auth.models import PasswordReset
from backend.infra.config import Settings
from backend.kernel import clock
from backend.kernel.crypto import digest
from backend.recovery import password_reset
from tests.conftest import settings_for, smtp_settings
from tests.helpers import PASSWORD, GraphQL, make_user, serving
from tests.live import free_port
from tests.outboxes import SmtpOutbox
from tests.recovery_helpers import (
    NEW_PASSWORD,
    REQUEST,
    VIEWER,
    ask_for_reset,
    codes,
    last_mail,
    reset,
    reset_token_in,
)
from tests.test_twofactor_settings import POLICY, sign_in_with_code
from tests.twofactor_helpers import enable_totp, oathtool

SUBJECT = "Reset your Latchkey password"


@pytest.fixture
def settings(database_url, smtp):
    return settings_for(database_url, smtp=smtp_settings(smtp.port))


async def test_a_mailed_link_sets_a_new_password_and_ends_every_session(
    gql, client, new_client, smtp, alice
):
    async with new_client() as other:
        other_gql = GraphQL(other)
        await other_gql.sign_in("alice")
        assert (await other_gql(VIEWER))["viewer"] == {"username": "alice"}

        assert await ask_for_reset(GraphQL(other), "alice") == {"userErrors": []}
        text = last_mail(smtp, subject=SUBJECT)
        assert "http://localhost:8000/password-reset/" in text
        token = reset_token_in(text)
        assert not await PasswordReset.filter(token_hash=token).exists()  # only its hash
        assert await PasswordReset.filter(token_hash=digest(token)).exists()

        assert await reset(gql, token) == {"userErrors": []}
        # Every session ended, this browser's too: a reset does not sign in.
        assert (await other_gql(VIEWER))["viewer"] is None
        assert (await gql(VIEWER))["viewer"] is None
        assert codes(await gql.sign_in("alice")) == ["INVALID_CREDENTIALS"]
        assert (await gql.sign_in("alice", NEW_PASSWORD))["status"] == "SIGNED_IN"
        # The link worked once.
        assert codes(await reset(gql, token, "yet another long passphrase")) == [
            "INVALID_RESET_TOKEN"
        ]
    notice = last_mail(smtp, subject="Your password was reset")
    assert "/secure-account/" in notice and token not in notice


async def test_the_link_expires_after_an_hour(gql, smtp, alice):
    await ask_for_reset(gql, "alice")
    token = reset_token_in(last_mail(smtp, subject=SUBJECT))
    clock.advance(timedelta(seconds=3601))
    answer = await reset(gql, token)
    assert codes(answer) == ["INVALID_RESET_TOKEN"]
    assert answer["userErrors"][0]["field"] == "token"
    assert (await gql.sign_in("alice"))["status"] == "SIGNED_IN"  # nothing changed


LINK = "query($token: String!) { passwordResetLink(token: $token) { expiresAt } }"


async def test_a_link_tells_before_use_whether_it_still_works(gql, smtp, alice):
    await ask_for_reset(gql, "alice")
    token = reset_token_in(last_mail(smtp, subject=SUBJECT))
    link = (await gql(LINK, {"token": token}))["passwordResetLink"]
    assert link is not None and link["expiresAt"]
    # Asking does not use it up.
    assert (await gql(LINK, {"token": token}))["passwordResetLink"] == link
    assert await reset(gql, token) == {"userErrors": []}
    assert (await gql(LINK, {"token": token}))["passwordResetLink"] is None  # used
    assert (await gql(LINK, {"token": token[:-1]}))["passwordResetLink"] is None  # mistyped
    await ask_for_reset(gql, "alice")
    token = reset_token_in(last_mail(smtp, subject=SUBJECT))
    clock.advance(timedelta(seconds=3601))
    assert (await gql(LINK, {"token": token}))["passwordResetLink"] is None  # expired


async def test_the_email_address_works_too_and_other_links_die(gql, smtp, alice):
    await ask_for_reset(gql, "ALICE@example.com")
    await ask_for_reset(gql, "alice")
    first, second = (reset_token_in(smtp.text(m)) for m in smtp.to("alice@example.com"))
    assert first != second
    assert await reset(gql, second) == {"userErrors": []}
    assert codes(await reset(gql, first, "yet another long passphrase")) == ["INVALID_RESET_TOKEN"]


@pytest.mark.parametrize(
    ("new", "repeat", "code", "field"),
    [
        ("short one", "short one", "PASSWORD_TOO_SHORT", "newPassword"),
        ("passwordpassword", "passwordpassword", "PASSWORD_TOO_COMMON", "newPassword"),
        (
            "alice@example.com1",
            "alice@example.com1",
            "PASSWORD_TOO_SIMILAR",
            "newPassword",
        ),
        (NEW_PASSWORD, NEW_PASSWORD + "!", "PASSWORD_MISMATCH", "newPasswordConfirmation"),
    ],
)
async def test_the_password_rules_of_a_change_apply_and_keep_the_link(
    gql, smtp, alice, new, repeat, code, field
):
    await ask_for_reset(gql, "alice")
    token = reset_token_in(last_mail(smtp, subject=SUBJECT))
    answer = await reset(gql, token, new, repeat)
    assert [(e["code"], e["field"]) for e in answer["userErrors"]][:1] == [(code, field)]
    assert await reset(gql, token) == {"userErrors": []}  # the link still works once


async def test_a_reset_keeps_two_factor_on_and_forgets_recognized_devices(gql, client, smtp, alice):
    secret, _ = await enable_totp(gql)
    await gql(POLICY, {"p": "UNRECOGNIZED_DEVICE", "pw": PASSWORD, "c": oathtool(secret)})
    client.cookies.clear()
    await sign_in_with_code(gql, secret, remember=True)
    assert await TrustedDevice.exists()

    await ask_for_reset(gql, "alice")
    assert await reset(gql, reset_token_in(last_mail(smtp, subject=SUBJECT))) == {"userErrors": []}
    assert not await TrustedDevice.exists()
    # The device cookie is still in the browser, but it names nothing any more.
    assert (await gql.sign_in("alice", NEW_PASSWORD))["status"] == "SECOND_FACTOR_REQUIRED"


async def test_unknown_logins_get_the_same_answer_and_no_mail(gql, smtp, alice):
    known = await ask_for_reset(gql, "alice")
    unknown = await ask_for_reset(gql, "nobody")
    unknown_email = await ask_for_reset(gql, "nobody@example.com")
    assert known == unknown == unknown_email == {"userErrors": []}
    assert [m["To"] for m in smtp.messages] == ["alice@example.com"]


async def test_requests_are_throttled_per_login_alike_for_known_and_unknown(gql, smtp, alice):
    for login in ("alice", "nobody"):
        answers = [codes(await ask_for_reset(gql, login)) for _ in range(6)]
        assert answers == [[]] * 5 + [["RATE_LIMITED"]], login
    assert len(smtp.to("alice@example.com")) == 5
    clock.advance(timedelta(hours=1, seconds=1))
    assert codes(await ask_for_reset(gql, "alice")) == []


async def test_one_account_gets_a_few_links_an_hour_however_it_is_named(gql, smtp, alice):
    for login in ("alice", "ALICE@example.com", "ａｌｉｃｅ") * 2:  # two logins, one account
        assert codes(await ask_for_reset(gql, login)) == []
    assert len(smtp.to("alice@example.com")) == 5


async def test_parallel_uses_of_one_link_reset_once(gql, new_client, smtp, alice):
    await ask_for_reset(gql, "alice")
    token = reset_token_in(last_mail(smtp, subject=SUBJECT))
    passwords = [f"parallel passphrase number {n}" for n in range(8)]
    clients = [new_client() for _ in passwords]
    try:
        answers = await asyncio.gather(
            *(reset(GraphQL(c), token, p) for c, p in zip(clients, passwords, strict=True))
        )
    finally:
        for c in clients:
            await c.aclose()
    winners = [p for p, answer in zip(passwords, answers, strict=True) if not codes(answer)]
    assert len(winners) == 1
    assert {tuple(codes(a)) for a in answers} == {(), ("INVALID_RESET_TOKEN",)}
    assert (await gql.sign_in("alice", winners[0]))["status"] == "SIGNED_IN"


async def test_a_burst_of_requests_for_one_login_sends_five_links(gql, new_client, smtp, alice):
    clients = [new_client() for _ in range(20)]
    try:
        answers = await asyncio.gather(*(GraphQL(c)(REQUEST, {"login": "alice"}) for c in clients))
    finally:
        for c in clients:
            await c.aclose()
    await password_reset.settle()
    answered = [codes(a["requestPasswordReset"]) for a in answers]
    assert answered.count([]) == 5 and answered.count(["RATE_LIMITED"]) == 15
    assert len(smtp.to("alice@example.com")) == 5


async def test_expired_links_are_cleared_away(gql, smtp, alice, settings):
    await ask_for_reset(gql, "alice")
    timeouts = build_services(settings).session_timeouts
    assert (await housekeeping.delete_expired(timeouts))["password_resets"] == 0
    clock.advance(timedelta(hours=1, seconds=1))
    assert (await housekeeping.delete_expired(timeouts))["password_resets"] == 1
    assert not await PasswordReset.exists()


async def test_the_lifetime_is_configurable(database_url, smtp):
    from_env = Settings.from_env(
        {"LATCHKEY_SECRET_KEY": "k", "LATCHKEY_PASSWORD_RESET_SECONDS": "600"}
    )
    assert from_env.password_reset_seconds == 600
    assert Settings.from_env({"LATCHKEY_SECRET_KEY": "k"}).password_reset_seconds == 3600
    settings = settings_for(database_url, smtp=smtp_settings(smtp.port), password_reset_seconds=600)
    async with serving(settings) as http:
        await make_user(settings, "alice")
        gql = GraphQL(http)
        await ask_for_reset(gql, "alice")
        text = last_mail(smtp, subject=SUBJECT)
        assert "within 10 minutes" in text
        clock.advance(timedelta(seconds=601))
        assert codes(await reset(gql, reset_token_in(text))) == ["INVALID_RESET_TOKEN"]


class SlowOutbox(SmtpOutbox):
    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        await asyncio.sleep(0.3)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def slow_smtp():
    outbox = SlowOutbox()
    port = free_port()
    controller = Controller(outbox, hostname="127.0.0.1", port=port)
    controller.start()
    outbox.port = port  # type: ignore[attr-defined]
    try:
        yield outbox
    finally:
        controller.stop()


async def test_known_and_unknown_logins_take_the_same_time(database_url, slow_smtp):
    """The mail server takes 300 ms a message; the answer does not wait for it or the lookup."""
    settings = settings_for(database_url, smtp=smtp_settings(slow_smtp.port))
    async with serving(settings) as http:
        await make_user(settings, "alice")
        gql = GraphQL(http)
        await ask_for_reset(gql, "warm-up")
        timings: dict[str, list[float]] = {"alice": [], "nobody": []}
        for _ in range(7):
            for login in timings:
                clock.advance(timedelta(hours=2))  # past the throttle's hour
                started = time.perf_counter()
                answer = await gql(REQUEST, {"login": login})
                timings[login].append(time.perf_counter() - started)
                assert answer == {"requestPasswordReset": {"userErrors": []}}
                await password_reset.settle()  # outside the timed part
        known, unknown = (statistics.median(t) for t in timings.values())
    assert len(slow_smtp.to("alice@example.com")) == 7  # the links did go out
    assert abs(known - unknown) < 0.1, (known, unknown)
