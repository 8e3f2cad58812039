"""Passkeys: added after confirming access, then a second factor and a sign-in of their own.

The browser is played by a software authenticator (tests/passkey_helpers.py) that builds
real WebAuthn responses, so answers no honest browser sends can be tried too.
"""

from __future__ import annotations

import asyncio
import html
import json
import re
from datetime import timedelta

import httpx
import pytest

from backend.app.housekeeping import delete_expired
from backend.app.wiring import build_services
from backend.audit.models import SecurityEvent
from backend.auth.factors.models import PasskeyChallenge, PasskeyCredential
from backend.auth.factors.passkey.challenges import MAX_ANONYMOUS
from backend.auth.throttle.service import PASSKEY_STARTS
from backend.kernel import clock
from tests.conftest import settings_for, smtp_settings
from tests.helpers import PASSWORD, GraphQL, make_user
from tests.passkey_helpers import (
    DELETE,
    FINISH_REGISTRATION,
    FINISH_SIGN_IN,
    ORIGIN,
    START_REGISTRATION,
    START_SIGN_IN,
    SoftAuthenticator,
    register,
    sign_in_with,
)
from tests.test_pages import sign_in
from tests.test_signin_methods_page import hidden
from tests.test_twofactor_preferred import PREFER
from tests.test_twofactor_several import factors
from tests.twofactor_helpers import early_in_a_time_step, enable_totp, next_time_step, oathtool

VIEWER = "{ viewer { username reauthenticatedUntil passkeys { id name createdAt lastUsedAt } "
VIEWER += "twoFactor { enabled method recoveryCodesRemaining } } }"
SIGN_IN = """mutation($u: String!, $p: String!) { signIn(input: {username: $u, password: $p}) {
  status challenge methods passkeyOptions userErrors { code } } }"""
VERIFY = """mutation($ch: String!, $cr: String) {
  verifySignIn(input: {challenge: $ch, credential: $cr}) {
    status viewer { username } userErrors { field code } } }"""
FACTOR_KINDS = "{ viewer { twoFactor { authenticators { kind preferred } } } }"
RENAME = """mutation($id: ID!, $n: String!) { renamePasskey(input: {id: $id, name: $n}) {
  passkey { id name } userErrors { field code } } }"""


@pytest.fixture
def settings(database_url, smtp):
    return settings_for(database_url, smtp=smtp_settings(smtp.port))


async def refusals(user_id: int | None, kind: str) -> list[dict]:
    events = await SecurityEvent.filter(user_id=user_id, kind=kind).order_by("id")
    return [event.details for event in events]


async def test_a_passkey_turns_two_factor_on_and_signs_in_with_no_password(
    gql, client, smtp, alice
):
    key = SoftAuthenticator()
    added = await register(gql, key, name="Work laptop")
    assert added["userErrors"] == []
    assert added["passkey"]["name"] == "Work laptop"
    assert len(added["recoveryCodes"]) == 10  # the first factor: codes, as for any kind
    viewer = (await gql(VIEWER))["viewer"]
    assert viewer["twoFactor"] == {
        "enabled": True,
        "method": "PASSKEY",
        "recoveryCodesRemaining": 10,
    }
    assert [p["name"] for p in viewer["passkeys"]] == ["Work laptop"]
    assert viewer["passkeys"][0]["lastUsedAt"] is None
    kinds = (await gql(FACTOR_KINDS))["viewer"]["twoFactor"]["authenticators"]
    assert kinds == [  # the first factor is the preferred one, as for any kind
        {"kind": "RECOVERY_CODE", "preferred": False},
        {"kind": "PASSKEY", "preferred": True},
    ]
    assert "A passkey was added" in [m["Subject"] for m in smtp.to("alice@example.com")]
    assert await refusals(alice.id, "passkey.added") == [{"name": "Work laptop"}]

    await gql("mutation { signOut { userErrors { code } } }")
    client.cookies.clear()
    assert (await gql(VIEWER))["viewer"] is None
    signed_in = await sign_in_with(gql, key)
    assert signed_in == {"status": "SIGNED_IN", "viewer": {"username": "alice"}, "userErrors": []}
    viewer = (await gql(VIEWER))["viewer"]
    assert viewer["passkeys"][0]["lastUsedAt"] is not None
    # Both factors at once: sensitive changes need no code right after.
    assert viewer["reauthenticatedUntil"] is not None
    again = (await gql(START_REGISTRATION))["startPasskeyRegistration"]
    assert again["userErrors"] == [] and json.loads(again["options"])["excludeCredentials"]


async def test_adding_a_passkey_is_a_sensitive_change(gql, alice):
    clock.advance(timedelta(minutes=11))  # the sign-in's stamp is over
    refused = (await gql(START_REGISTRATION))["startPasskeyRegistration"]
    assert refused["userErrors"][0]["code"] == "REAUTHENTICATION_REQUIRED"
    wrong = (await gql(START_REGISTRATION, {"password": "nope"}))["startPasskeyRegistration"]
    assert wrong["userErrors"][0]["code"] == "INVALID_CREDENTIALS"
    assert (await register(gql, SoftAuthenticator(), password=PASSWORD))["userErrors"] == []


async def test_a_second_passkey_needs_a_code_of_a_factor_already_there(gql, alice):
    first = SoftAuthenticator()
    await register(gql, first)
    clock.advance(timedelta(minutes=11))
    refused = (await gql(START_REGISTRATION, {"password": PASSWORD}))["startPasskeyRegistration"]
    assert refused["userErrors"][0]["code"] == "OTP_REQUIRED"


async def test_a_passkey_answers_the_second_step_after_the_password(gql, client, alice):
    key = SoftAuthenticator(user_verifying=False)  # a security key without a PIN will do here
    await register(gql, key)
    client.cookies.clear()
    first = (await gql(SIGN_IN, {"u": "alice", "p": PASSWORD}))["signIn"]
    assert first["status"] == "SECOND_FACTOR_REQUIRED"
    assert first["methods"] == ["PASSKEY", "RECOVERY_CODE"]
    options = json.loads(first["passkeyOptions"])
    assert [c["id"] for c in options["allowCredentials"]] == [key.id]
    done = await gql(VERIFY, {"ch": first["challenge"], "cr": key.get(first["passkeyOptions"])})
    assert done["verifySignIn"]["status"] == "SIGNED_IN"
    assert (await gql(VIEWER))["viewer"]["username"] == "alice"


async def test_a_passkey_can_be_the_preferred_factor_and_sign_in_opens_on_it(gql, client, alice):
    early_in_a_time_step()
    secret, _ = await enable_totp(gql)
    key = SoftAuthenticator()
    added = await register(gql, key, password=PASSWORD, otp=oathtool(secret))
    assert added["userErrors"] == [] and added["recoveryCodes"] is None
    next_time_step()
    assert (await factors(gql))["method"] == "TOTP"  # the first factor stays preferred
    chosen = await gql(PREFER, {"id": added["passkey"]["id"], "p": PASSWORD, "o": oathtool(secret)})
    assert chosen["setPreferredAuthenticator"] == {
        "twoFactor": {
            "method": "PASSKEY",
            "authenticators": [
                {"kind": "RECOVERY_CODE", "preferred": False},
                {"kind": "TOTP", "preferred": False},
                {"kind": "PASSKEY", "preferred": True},
            ],
        },
        "userErrors": [],
    }

    client.cookies.clear()
    first = (await gql(SIGN_IN, {"u": "alice", "p": PASSWORD}))["signIn"]
    assert first["methods"] == ["PASSKEY", "TOTP", "RECOVERY_CODE"]
    assert json.loads(first["passkeyOptions"])["allowCredentials"][0]["id"] == key.id

    # The page's second step opens on the passkey; the app is one of the others.
    step = await sign_in(client)
    assert "Use your passkey, or enter a code from another factor." in step.text
    assert re.search(r"<button type=\"submit\" autofocus>Use my passkey</button>", step.text)
    assert 'data-method="TOTP"' in step.text and 'data-method="PASSKEY"' not in step.text
    options = html.unescape(re.search(r'data-options="([^"]*)"', step.text).group(1))
    done = await client.post(
        "/login/verify",
        data={
            "csrf_token": hidden(step.text, "csrf_token"),
            "challenge": hidden(step.text, "challenge"),
            "method": "PASSKEY",
            "methods": hidden(step.text, "methods"),
            "credential": key.get(options),
        },
    )
    assert done.status_code == 303 and done.headers["location"] == "/account"
    assert (await gql(VIEWER))["viewer"]["username"] == "alice"


async def test_passwordless_sign_in_needs_user_verification(gql, client, alice):
    key = SoftAuthenticator(user_verifying=False)
    await register(gql, key)
    client.cookies.clear()
    refused = await sign_in_with(gql, key)
    assert refused["status"] is None
    assert refused["userErrors"][0]["code"] == "INVALID_CREDENTIALS"
    assert (await gql(VIEWER))["viewer"] is None
    assert await refusals(alice.id, "sign_in.passkey_refused") == [{"reason": "user_not_verified"}]


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ({"origin": "http://evil.example:8000"}, "wrong_origin"),
        ({"origin": "https://localhost:8000"}, "wrong_origin"),
        ({"rp_id": "evil.example"}, "wrong_rp_id"),
    ],
)
async def test_an_answer_for_another_site_is_refused(gql, client, alice, answer, reason):
    key = SoftAuthenticator()
    await register(gql, key)
    client.cookies.clear()
    refused = await sign_in_with(gql, key, **answer)
    assert refused["userErrors"][0]["code"] == "INVALID_CREDENTIALS"
    assert (await gql(VIEWER))["viewer"] is None
    assert await refusals(alice.id, "sign_in.passkey_refused") == [{"reason": reason}]


async def test_registration_from_another_origin_is_refused(gql, alice):
    started = (await gql(START_REGISTRATION))["startPasskeyRegistration"]
    credential = SoftAuthenticator().create(started["options"], origin="http://evil.example")
    refused = await gql(FINISH_REGISTRATION, {"credential": credential})
    assert refused["finishPasskeyRegistration"]["userErrors"][0]["field"] == "credential"
    assert (await gql(VIEWER))["viewer"]["passkeys"] == []
    assert await refusals(alice.id, "passkey.add_failed") == [{"reason": "wrong_origin"}]


FRAMED = [
    pytest.param({"crossOrigin": True}, id="cross-origin"),
    pytest.param({"crossOrigin": True, "topOrigin": "https://evil.example"}, id="framed"),
    pytest.param({"topOrigin": "https://evil.example"}, id="top-origin"),
]


@pytest.mark.parametrize("framed", FRAMED)
async def test_a_sign_in_answered_in_another_sites_frame_is_refused(gql, client, alice, framed):
    """The origin is ours, but the page ran inside another site's frame."""
    key = SoftAuthenticator()
    await register(gql, key)
    client.cookies.clear()
    refused = await sign_in_with(gql, key, client_data=framed)
    assert refused["userErrors"][0]["code"] == "INVALID_CREDENTIALS"
    assert (await gql(VIEWER))["viewer"] is None
    assert await refusals(alice.id, "sign_in.passkey_refused") == [{"reason": "cross_origin"}]
    # Our own page, not framed, still signs in; so does one naming itself as top origin.
    assert (await sign_in_with(gql, key, client_data={"topOrigin": ORIGIN}))["status"] == (
        "SIGNED_IN"
    )


@pytest.mark.parametrize("framed", FRAMED)
async def test_a_second_step_answered_in_another_sites_frame_is_refused(gql, client, alice, framed):
    key = SoftAuthenticator(user_verifying=False)
    await register(gql, key)
    client.cookies.clear()
    first = (await gql(SIGN_IN, {"u": "alice", "p": PASSWORD}))["signIn"]
    answer = key.get(first["passkeyOptions"], client_data=framed)
    refused = (await gql(VERIFY, {"ch": first["challenge"], "cr": answer}))["verifySignIn"]
    assert refused["status"] is None and refused["userErrors"][0]["code"] == "INVALID_OTP"
    assert (await gql(VIEWER))["viewer"] is None


@pytest.mark.parametrize("framed", FRAMED)
async def test_registration_in_another_sites_frame_is_refused(gql, alice, framed):
    started = (await gql(START_REGISTRATION))["startPasskeyRegistration"]
    credential = SoftAuthenticator().create(started["options"], client_data=framed)
    refused = await gql(FINISH_REGISTRATION, {"credential": credential})
    assert refused["finishPasskeyRegistration"]["userErrors"][0]["field"] == "credential"
    assert (await gql(VIEWER))["viewer"]["passkeys"] == []
    assert await refusals(alice.id, "passkey.add_failed") == [{"reason": "cross_origin"}]


async def test_an_answer_is_used_once(gql, client, alice):
    key = SoftAuthenticator()
    await register(gql, key)
    client.cookies.clear()
    started = (await gql(START_SIGN_IN))["startPasskeySignIn"]
    credential = key.get(started["options"])
    variables = {"challenge": started["challenge"], "credential": credential}
    assert (await gql(FINISH_SIGN_IN, variables))["finishPasskeySignIn"]["status"] == "SIGNED_IN"
    client.cookies.clear()
    replayed = (await gql(FINISH_SIGN_IN, variables))["finishPasskeySignIn"]
    assert replayed["userErrors"][0]["code"] == "INVALID_CREDENTIALS"
    assert (await gql(VIEWER))["viewer"] is None
    assert await refusals(alice.id, "sign_in.passkey_refused") == [{"reason": "replayed_challenge"}]


async def test_a_challenge_lives_five_minutes(gql, client, alice):
    key = SoftAuthenticator()
    await register(gql, key)
    client.cookies.clear()
    started = (await gql(START_SIGN_IN))["startPasskeySignIn"]
    clock.advance(timedelta(minutes=5, seconds=1))
    credential = key.get(started["options"])
    late = await gql(FINISH_SIGN_IN, {"challenge": started["challenge"], "credential": credential})
    assert late["finishPasskeySignIn"]["userErrors"][0]["code"] == "INVALID_CREDENTIALS"
    assert await refusals(alice.id, "sign_in.passkey_refused") == [{"reason": "expired_challenge"}]


async def test_a_challenge_belongs_to_its_flow(gql, client, alice):
    """Options handed to one sign-in do not finish another."""
    key = SoftAuthenticator()
    await register(gql, key)
    client.cookies.clear()
    one = (await gql(START_SIGN_IN))["startPasskeySignIn"]
    other = (await gql(START_SIGN_IN))["startPasskeySignIn"]
    credential = key.get(one["options"])
    crossed = await gql(FINISH_SIGN_IN, {"challenge": other["challenge"], "credential": credential})
    assert crossed["finishPasskeySignIn"]["userErrors"][0]["code"] == "INVALID_CREDENTIALS"


async def test_a_sign_counter_going_backwards_is_refused_and_logged(gql, client, alice):
    key = SoftAuthenticator()
    await register(gql, key)
    client.cookies.clear()
    assert (await sign_in_with(gql, key, sign_count=7))["status"] == "SIGNED_IN"
    client.cookies.clear()
    cloned = await sign_in_with(gql, key, sign_count=3)  # a copy of the key lags behind
    assert cloned["userErrors"][0]["code"] == "INVALID_CREDENTIALS"
    assert await refusals(alice.id, "sign_in.passkey_refused") == [
        {"reason": "counter_not_increasing"}
    ]
    assert (await PasskeyCredential.get(user_id=alice.id)).sign_count == 7
    assert (await sign_in_with(gql, key, sign_count=8))["status"] == "SIGNED_IN"


async def test_another_users_passkey_does_not_answer_for_alice(
    gql, client, new_client, settings, alice
):
    alices = SoftAuthenticator()
    await register(gql, alices)
    await make_user(settings, "bob")
    async with new_client() as bob_client:
        bob = GraphQL(bob_client)
        await bob.sign_in("bob")
        bobs = SoftAuthenticator()
        await register(bob, bobs)
    client.cookies.clear()
    first = (await gql(SIGN_IN, {"u": "alice", "p": PASSWORD}))["signIn"]
    answer = bobs.get(first["passkeyOptions"])  # bob's key, alice's challenge
    refused = (await gql(VERIFY, {"ch": first["challenge"], "cr": answer}))["verifySignIn"]
    assert refused["userErrors"][0]["code"] == "INVALID_OTP"
    assert (await gql(VIEWER))["viewer"] is None
    # Nor can bob's key claim alice's account in a passwordless sign-in.
    started = (await gql(START_SIGN_IN))["startPasskeySignIn"]
    claimed = bobs.get(started["options"], user_handle=alices.user_handle)
    finished = await gql(FINISH_SIGN_IN, {"challenge": started["challenge"], "credential": claimed})
    assert finished["finishPasskeySignIn"]["userErrors"][0]["code"] == "INVALID_CREDENTIALS"
    assert (await gql(VIEWER))["viewer"] is None


async def test_one_credential_cannot_join_a_second_account(gql, new_client, settings, alice):
    key = SoftAuthenticator()
    await register(gql, key)
    await make_user(settings, "bob")
    async with new_client() as bob_client:
        bob = GraphQL(bob_client)
        await bob.sign_in("bob")
        again = await register(bob, key)
    assert again["userErrors"][0]["code"] == "CONFLICT"


async def test_two_parallel_finishes_of_one_challenge_let_one_in(gql, new_client, alice):
    key = SoftAuthenticator()
    await register(gql, key)
    started = (await gql(START_SIGN_IN))["startPasskeySignIn"]
    variables = {"challenge": started["challenge"], "credential": key.get(started["options"])}

    async def finish() -> dict:
        async with new_client() as http:
            return (await GraphQL(http)(FINISH_SIGN_IN, variables))["finishPasskeySignIn"]

    results = await asyncio.gather(*(finish() for _ in range(4)))
    assert sorted(str(result["status"]) for result in results) == [
        "None",
        "None",
        "None",
        "SIGNED_IN",
    ]


async def anonymous_challenges() -> int:
    return await PasskeyChallenge.filter(user_id=None).count()


async def test_one_address_starting_many_passkey_sign_ins_is_slowed_down(gql, client, app, alice):
    """Each start stores a challenge and anyone may ask: one address gets a budget."""
    key = SoftAuthenticator()
    await register(gql, key)
    budget = PASSKEY_STARTS.failures_before_lock
    for _ in range(budget):
        assert (await gql(START_SIGN_IN))["startPasskeySignIn"]["userErrors"] == []
    refused = (await gql(START_SIGN_IN))["startPasskeySignIn"]
    assert refused["challenge"] is None and refused["options"] is None
    assert refused["userErrors"] == [
        {
            "field": None,
            "code": "RATE_LIMITED",
            "message": "Too many passkey sign-ins were started. Try again in 1 minute.",
        }
    ]
    assert await anonymous_challenges() == budget  # the refused one stored nothing
    client.cookies.clear()
    login = await client.get("/login")  # the page's script is answered 429 with the words
    asked = await client.post(
        "/login/passkey/options", data={"csrf_token": hidden(login.text, "csrf_token")}
    )
    assert asked.status_code == 429
    assert asked.json() == {
        "errors": ["Too many passkey sign-ins were started. Try again in 1 minute."]
    }
    # Another address is not slowed down by this one.
    other = httpx.ASGITransport(app=app, client=("198.51.100.23", 50000))
    async with httpx.AsyncClient(transport=other, base_url="http://testserver") as http:
        assert (await sign_in_with(GraphQL(http), key))["status"] == "SIGNED_IN"
    clock.advance(timedelta(minutes=1, seconds=1))  # a minute's rest, and it starts again
    assert (await gql(START_SIGN_IN))["startPasskeySignIn"]["userErrors"] == []


async def test_parallel_starts_from_one_address_cannot_pass_the_budget(new_client):
    budget = PASSKEY_STARTS.failures_before_lock

    async def start() -> dict:
        async with new_client() as http:
            return (await GraphQL(http)(START_SIGN_IN))["startPasskeySignIn"]

    results = await asyncio.gather(*(start() for _ in range(budget + 10)))
    codes = [(result["userErrors"] or [{"code": "OK"}])[0]["code"] for result in results]
    assert sorted(codes) == ["OK"] * budget + ["RATE_LIMITED"] * 10
    assert await anonymous_challenges() == budget


async def test_stored_challenges_of_nobody_stay_bounded(gql, app, alice):
    """However many addresses start sign-ins, the oldest unfinished challenges make room."""
    key = SoftAuthenticator()
    await register(gql, key)
    await PasskeyChallenge.bulk_create(
        [
            PasskeyChallenge(
                binding=f"passwordless:{number}",
                challenge_hash=f"{number:064x}",
                expires_at=clock.now() + timedelta(minutes=5),
            )
            for number in range(MAX_ANONYMOUS)
        ],
        batch_size=1000,
    )
    assert await anonymous_challenges() == MAX_ANONYMOUS
    for _ in range(3):
        started = await sign_in_with(gql, key)
        assert started["status"] == "SIGNED_IN"  # the newest challenge is kept
    assert await anonymous_challenges() <= MAX_ANONYMOUS
    # The oldest went first.
    assert not await PasskeyChallenge.filter(binding="passwordless:0").exists()
    assert await PasskeyChallenge.filter(binding=f"passwordless:{MAX_ANONYMOUS - 1}").exists()


async def signed_in_with_first_passkey(gql, client) -> SoftAuthenticator:
    """Add a passkey and sign in with it: the session has proven both factors, so more
    can be added without a code for a while (with 2FA on, a password-only stamp would not do)."""
    key = SoftAuthenticator()
    await register(gql, key, name="First")
    client.cookies.clear()
    assert (await sign_in_with(gql, key))["status"] == "SIGNED_IN"
    return key


async def test_at_most_ten_passkeys(gql, client, alice):
    await signed_in_with_first_passkey(gql, client)
    for number in range(1, 10):
        added = await register(gql, SoftAuthenticator(), name=f"Key {number}")
        assert added["userErrors"] == [], number
    refused = (await gql(START_REGISTRATION))["startPasskeyRegistration"]
    assert refused["userErrors"][0]["code"] == "TOO_MANY_AUTHENTICATORS"
    assert len((await gql(VIEWER))["viewer"]["passkeys"]) == 10


async def test_parallel_registrations_cannot_pass_ten(gql, client, alice):
    await signed_in_with_first_passkey(gql, client)
    for number in range(1, 9):
        await register(gql, SoftAuthenticator(), name=f"Key {number}")
    keys = [SoftAuthenticator() for _ in range(3)]
    starts = [(await gql(START_REGISTRATION))["startPasskeyRegistration"] for _ in keys]
    answers = [key.create(start["options"]) for key, start in zip(keys, starts, strict=True)]
    results = await asyncio.gather(
        *(gql(FINISH_REGISTRATION, {"credential": answer}) for answer in answers)
    )
    codes = sorted(
        (r["finishPasskeyRegistration"]["userErrors"] or [{"code": "OK"}])[0]["code"]
        for r in results
    )
    assert codes == ["OK", "TOO_MANY_AUTHENTICATORS", "TOO_MANY_AUTHENTICATORS"]
    assert len((await gql(VIEWER))["viewer"]["passkeys"]) == 10


async def test_rename(gql, alice):
    added = await register(gql, SoftAuthenticator(), name="Phone")
    renamed = await gql(RENAME, {"id": added["passkey"]["id"], "n": "  Old phone "})
    assert renamed["renamePasskey"] == {
        "passkey": {"id": added["passkey"]["id"], "name": "Old phone"},
        "userErrors": [],
    }
    too_long = await gql(RENAME, {"id": added["passkey"]["id"], "n": "x" * 65})
    assert too_long["renamePasskey"]["userErrors"][0]["code"] == "VALIDATION_FAILED"
    missing = await gql(RENAME, {"id": "999999", "n": "Mine"})
    assert missing["renamePasskey"]["userErrors"][0]["code"] == "NOT_FOUND"


INVISIBLE = [pytest.param("\u202e", id="bidi-override"), pytest.param("\u200b", id="zero-width")]


@pytest.mark.parametrize("invisible", INVISIBLE)
async def test_a_passkey_name_with_invisible_characters_is_refused(gql, alice, invisible):
    """Such a name could read as another one in the list, the mails and the log."""
    refused = await register(gql, SoftAuthenticator(), name=f"Lap{invisible}top")
    assert refused["userErrors"] == [
        {
            "field": "name",
            "code": "VALIDATION_FAILED",
            "message": "Remove control or invisible characters.",
        }
    ]
    assert (await gql(VIEWER))["viewer"]["passkeys"] == []
    assert await refusals(alice.id, "passkey.added") == []

    added = await register(gql, SoftAuthenticator(), name="Laptop")
    passkey_id = added["passkey"]["id"]
    renamed = await gql(RENAME, {"id": passkey_id, "n": f"Old{invisible}phone"})
    assert renamed["renamePasskey"] == {
        "passkey": None,
        "userErrors": [{"field": "name", "code": "VALIDATION_FAILED"}],
    }
    assert [p["name"] for p in (await gql(VIEWER))["viewer"]["passkeys"]] == ["Laptop"]
    assert await refusals(alice.id, "passkey.renamed") == []


async def test_a_deleted_passkey_stops_working_at_once(gql, client, smtp, alice):
    key = SoftAuthenticator()
    added = await register(gql, key)
    # Started before the deletion, finished after it.
    started = (await gql(START_SIGN_IN))["startPasskeySignIn"]
    clock.advance(timedelta(minutes=11))
    needs_proof = (await gql(DELETE, {"id": added["passkey"]["id"]}))["deletePasskey"]
    assert needs_proof["userErrors"][0]["code"] == "REAUTHENTICATION_REQUIRED"
    # A recovery code cannot turn two-factor authentication off; the passkey itself can.
    recovery = added["recoveryCodes"][0]
    proof = {"password": PASSWORD, "otp": recovery}
    refused = await gql(DELETE, {"id": added["passkey"]["id"], **proof})
    assert refused["deletePasskey"]["userErrors"][0]["code"] == "INVALID_OTP"
    assert (await sign_in_with(gql, key))["status"] == "SIGNED_IN"  # re-authenticates too
    deleted = await gql(DELETE, {"id": added["passkey"]["id"]})
    assert deleted["deletePasskey"] == {"twoFactorEnabled": False, "userErrors": []}
    subjects = [m["Subject"] for m in smtp.to("alice@example.com")]
    assert "Two-factor authentication is off" in subjects
    assert await refusals(alice.id, "twofactor.disabled") == [{}]

    client.cookies.clear()
    credential = key.get(started["options"])
    late = await gql(FINISH_SIGN_IN, {"challenge": started["challenge"], "credential": credential})
    assert late["finishPasskeySignIn"]["userErrors"][0]["code"] == "INVALID_CREDENTIALS"
    assert (await sign_in_with(gql, key))["userErrors"][0]["code"] == "INVALID_CREDENTIALS"
    assert (await gql(VIEWER))["viewer"] is None


async def test_deleting_one_of_two_passkeys_keeps_two_factor_on(gql, client, smtp, alice):
    await signed_in_with_first_passkey(gql, client)
    await register(gql, SoftAuthenticator(), name="Second")
    first_id = (await gql(VIEWER))["viewer"]["passkeys"][0]["id"]
    deleted = (await gql(DELETE, {"id": first_id}))["deletePasskey"]
    assert deleted == {"twoFactorEnabled": True, "userErrors": []}
    assert [p["name"] for p in (await gql(VIEWER))["viewer"]["passkeys"]] == ["Second"]
    texts = [smtp.text(m) for m in smtp.to("alice@example.com")]
    assert any("(First) was removed" in text for text in texts)


async def test_not_someone_elses_passkey(gql, new_client, settings, alice):
    await make_user(settings, "bob")
    async with new_client() as bob_client:
        bob = GraphQL(bob_client)
        await bob.sign_in("bob")
        bobs = await register(bob, SoftAuthenticator())
    passkey_id = bobs["passkey"]["id"]
    assert (await gql(RENAME, {"id": passkey_id, "n": "Mine"}))["renamePasskey"]["userErrors"][0][
        "code"
    ] == "NOT_FOUND"
    gone = (await gql(DELETE, {"id": passkey_id, "password": PASSWORD}))["deletePasskey"]
    assert gone["userErrors"][0]["code"] == "NOT_FOUND"


async def test_odd_credentials_get_an_answer_not_an_error(gql, client, alice):
    await register(gql, SoftAuthenticator())
    started = (await gql(START_SIGN_IN))["startPasskeySignIn"]
    for odd in ["", "{", "[]", "{}", '{"id": 1}', json.dumps({"response": {}}), "x" * 20000]:
        answer = await gql(FINISH_SIGN_IN, {"challenge": started["challenge"], "credential": odd})
        assert answer["finishPasskeySignIn"]["userErrors"][0]["code"] == "INVALID_CREDENTIALS"
    odd_registration = await gql(FINISH_REGISTRATION, {"credential": "{}"})
    assert odd_registration["finishPasskeyRegistration"]["userErrors"][0]["field"] == "credential"


START_REAUTH = "mutation { startPasskeyReauthentication { options userErrors { code } } }"
REAUTH = """mutation($p: String!, $cr: String) {
  reauthenticate(input: {password: $p, credential: $cr}) {
    reauthenticatedUntil userErrors { field code } } }"""


async def test_reauthenticate_with_the_password_and_a_passkey(gql, new_client, alice):
    key = SoftAuthenticator()
    await register(gql, key)
    clock.advance(timedelta(minutes=11))
    assert (await gql(VIEWER))["viewer"]["reauthenticatedUntil"] is None
    options = (await gql(START_REAUTH))["startPasskeyReauthentication"]["options"]
    # Options given to this session do not confirm access for another one.
    async with new_client() as other_client:
        other = GraphQL(other_client)
        assert (await sign_in_with(other, key))["status"] == "SIGNED_IN"
        refused = (await other(REAUTH, {"p": PASSWORD, "cr": key.get(options)}))["reauthenticate"]
        assert refused["userErrors"] == [{"field": "credential", "code": "INVALID_OTP"}]
    options = (await gql(START_REAUTH))["startPasskeyReauthentication"]["options"]
    done = (await gql(REAUTH, {"p": PASSWORD, "cr": key.get(options)}))["reauthenticate"]
    assert done["userErrors"] == [] and done["reauthenticatedUntil"]
    # A stamp with a passkey proves the second factor: another passkey needs no code.
    assert (await register(gql, SoftAuthenticator(), name="Spare"))["userErrors"] == []


async def test_no_passkey_options_without_a_passkey(gql, alice):
    refused = (await gql(START_REAUTH))["startPasskeyReauthentication"]
    assert refused == {"options": None, "userErrors": [{"code": "NOT_FOUND"}]}


async def test_housekeeping_deletes_expired_passkey_challenges(gql, settings, alice):
    await gql(START_SIGN_IN)
    await gql(START_SIGN_IN)
    timeouts = build_services(settings).session_timeouts
    assert (await delete_expired(timeouts))["passkey_challenges"] == 0
    clock.advance(timedelta(minutes=5, seconds=1))
    assert (await delete_expired(timeouts))["passkey_challenges"] == 2
