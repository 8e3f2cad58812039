"""Editing the account: validation per field, all-or-nothing, and the verified email change."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

import pytest

from backend.accounts.models import User
from backend.accounts.passwords import PasswordHasher
from backend.auth.factors.models import Authenticator
from backend.kernel import clock
from tests.conftest import settings_for, smtp_settings
from tests.helpers import PASSWORD, make_user
from tests.twofactor_helpers import code_in, enable_totp, oathtool

UPDATE = """mutation($input: UpdateAccountInput!) { updateAccount(input: $input) {
  viewer { email firstName lastName description mobilePhone timeZone }
  emailVerificationSent userErrors { field code message } } }"""
VERIFY_EMAIL = """mutation($code: String!) { verifyEmailChange(input: {code: $code}) {
  viewer { email } userErrors { field code } } }"""
VIEWER = "{ viewer { email pendingEmail firstName lastName description mobilePhone timeZone } }"


@pytest.fixture
def settings(database_url, smtp):
    return settings_for(database_url, smtp=smtp_settings(smtp.port))


async def update(gql, **fields) -> dict:
    return (await gql(UPDATE, {"input": fields}))["updateAccount"]


def errors(payload) -> list[tuple[str, str]]:
    return [(e["field"], e["code"]) for e in payload["userErrors"]]


async def test_names_are_trimmed_and_stored_in_nfc(gql, alice):
    result = await update(gql, firstName="  Zoe\u0301 ", lastName="Ålund")
    assert result["userErrors"] == []
    assert result["viewer"]["firstName"] == "Zoé" and len(result["viewer"]["firstName"]) == 3


@pytest.mark.parametrize(
    "name",
    ["", "   ", "x" * 101, "Ali\u200bce", "Al\u0007ice", "evil\u202eecilA", "tab\tname"],
)
async def test_bad_names_are_refused(gql, alice, name):
    assert errors(await update(gql, firstName=name)) == [("firstName", "VALIDATION_FAILED")]


async def test_a_hundred_code_points_are_fine_even_astral_ones(gql, alice):
    assert (await update(gql, lastName="🔑" * 100))["userErrors"] == []


async def test_description_allows_line_breaks_up_to_a_thousand_characters(gql, alice):
    ok = await update(gql, description="Line one\nLine two")
    assert ok["viewer"]["description"] == "Line one\nLine two"
    assert errors(await update(gql, description="x" * 1001)) == [
        ("description", "VALIDATION_FAILED")
    ]


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("+1 (415) 555-2671", "+14155552671"),
        ("+44 20 7946 0958", "+442079460958"),
        ("＋１４１５５５５２６７１", "+14155552671"),
    ],
)
async def test_phone_numbers_are_stored_in_e164(gql, alice, given, stored):
    result = await update(gql, mobilePhone=given, password=PASSWORD)
    assert result["viewer"]["mobilePhone"] == stored


@pytest.mark.parametrize("number", ["4155552671", "+0123", "+1415555267100000", "call me"])
async def test_bad_phone_numbers_are_refused(gql, alice, number):
    result = await update(gql, mobilePhone=number, password=PASSWORD)
    assert errors(result) == [("mobilePhone", "VALIDATION_FAILED")]


async def test_an_empty_phone_clears_it_unless_sms_is_the_second_factor(gql, alice):
    await update(gql, mobilePhone="+14155552671", password=PASSWORD)
    await Authenticator.create(user=alice, kind="sms")
    refused = await update(gql, mobilePhone="", password=PASSWORD)
    assert errors(refused) == [("mobilePhone", "PHONE_REQUIRED_FOR_SMS")]
    await Authenticator.filter(user=alice).delete()
    assert (await update(gql, mobilePhone="", password=PASSWORD))["viewer"]["mobilePhone"] is None


@pytest.mark.parametrize(
    "zone", ["Atlantis", "../../etc/passwd", "UTC\x00", "", "X" * 1000, "Etc", "berlin/europe"]
)
async def test_time_zones_must_be_iana_names_or_their_cities(gql, alice, zone):
    assert errors(await update(gql, timeZone=zone)) == [("timeZone", "VALIDATION_FAILED")]


@pytest.mark.parametrize(
    ("typed", "saved"),
    [
        ("Berlin", "Europe/Berlin"),  # the page's hint suggests a city
        ("new york", "America/New_York"),
        (" Tokyo ", "Asia/Tokyo"),
        ("europe/berlin", "Europe/Berlin"),
        ("Louisville", "America/Louisville"),  # two zones share it: the shorter name
    ],
)
async def test_a_city_or_a_zone_in_any_case_is_saved_as_the_zones_name(gql, alice, typed, saved):
    assert (await update(gql, timeZone=typed))["viewer"]["timeZone"] == saved


async def test_a_valid_time_zone_is_saved(gql, alice):
    assert (await update(gql, timeZone="Europe/Berlin"))["viewer"]["timeZone"] == "Europe/Berlin"


async def test_one_invalid_field_saves_nothing_and_every_error_is_reported(gql, alice):
    result = await update(gql, firstName="Alice", lastName="", timeZone="Mars/Base")
    assert errors(result) == [("lastName", "VALIDATION_FAILED"), ("timeZone", "VALIDATION_FAILED")]
    viewer = (await gql(VIEWER))["viewer"]
    assert viewer["firstName"] == "" and viewer["timeZone"] == "UTC"


async def test_the_username_cannot_be_changed(gql, alice):
    response = await gql.raw(UPDATE, {"input": {"username": "mallory"}})
    assert "username" in response.json()["errors"][0]["message"]
    assert (await User.get(id=alice.id)).username == "alice"


async def test_phone_and_email_changes_need_the_password(gql, alice, smtp):
    clock.advance(timedelta(seconds=601))  # past the re-authentication of signing in
    for fields in ({"mobilePhone": "+14155552671"}, {"email": "new@example.com"}):
        assert errors(await update(gql, **fields)) == [("password", "REAUTHENTICATION_REQUIRED")]
        assert errors(await update(gql, **fields, password="wrong")) == [
            ("password", "INVALID_CREDENTIALS")
        ]
    assert (await gql(VIEWER))["viewer"]["mobilePhone"] is None
    assert smtp.messages == []


async def test_with_two_factor_on_phone_and_email_changes_need_a_code_too(gql, alice, smtp):
    secret, _ = await enable_totp(gql)
    for fields in ({"mobilePhone": "+14155552671"}, {"email": "new@example.com"}):
        missing = await update(gql, **fields, password=PASSWORD)
        assert errors(missing) == [("code", "OTP_REQUIRED")]
        wrong = await update(gql, **fields, password=PASSWORD, otp="000000")
        assert errors(wrong) == [("otp", "INVALID_OTP")]
    assert (await gql(VIEWER))["viewer"]["mobilePhone"] is None
    changed = await update(gql, mobilePhone="+14155552671", password=PASSWORD, otp=oathtool(secret))
    assert changed["viewer"]["mobilePhone"] == "+14155552671"
    named = await update(gql, firstName="Alice")  # other fields need neither
    assert named["userErrors"] == []


async def test_an_email_change_applies_only_after_the_code_sent_to_the_new_address(
    gql, alice, smtp
):
    result = await update(gql, email="Alice.New@Example.COM", password=PASSWORD)
    assert result["emailVerificationSent"] is True
    viewer = (await gql(VIEWER))["viewer"]
    assert viewer["email"] == "alice@example.com"
    assert viewer["pendingEmail"] == "Alice.New@example.com"
    [message] = smtp.to("Alice.New@example.com")
    wrong = (await gql(VERIFY_EMAIL, {"code": "000000"}))["verifyEmailChange"]
    assert errors(wrong) == [("code", "INVALID_OTP")]
    done = (await gql(VERIFY_EMAIL, {"code": code_in(smtp.text(message))}))["verifyEmailChange"]
    assert done["viewer"] == {"email": "Alice.New@example.com"}
    [notice] = smtp.to("alice@example.com")
    assert notice["Subject"] == "Your email address changed"
    assert "Alice.New@example.com" in smtp.text(notice)
    assert (await gql(VIEWER))["viewer"]["pendingEmail"] is None


RESEND = "mutation { resendEmailChangeCode { viewer { pendingEmail } userErrors { field code } } }"
CANCEL = "mutation { cancelEmailChange { viewer { pendingEmail } userErrors { field code } } }"


async def test_a_new_code_replaces_the_first_and_a_cancel_keeps_the_address(gql, alice, smtp):
    assert errors((await gql(RESEND))["resendEmailChangeCode"]) == [("code", "NOT_FOUND")]
    await update(gql, email="alice.new@example.com", password=PASSWORD)
    [first] = smtp.to("alice.new@example.com")
    resent = (await gql(RESEND))["resendEmailChangeCode"]
    assert resent == {"viewer": {"pendingEmail": "alice.new@example.com"}, "userErrors": []}
    first_code, [_, second] = code_in(smtp.text(first)), smtp.to("alice.new@example.com")
    second_code = code_in(smtp.text(second))
    if first_code != second_code:  # one in a million they are the same
        stale = (await gql(VERIFY_EMAIL, {"code": first_code}))["verifyEmailChange"]
        assert errors(stale) == [("code", "INVALID_OTP")]

    cancelled = (await gql(CANCEL))["cancelEmailChange"]
    assert cancelled == {"viewer": {"pendingEmail": None}, "userErrors": []}
    late = (await gql(VERIFY_EMAIL, {"code": second_code}))["verifyEmailChange"]
    assert errors(late) == [("code", "INVALID_OTP")]
    assert (await gql(VIEWER))["viewer"]["email"] == "alice@example.com"
    kinds = [
        edge["node"]["kind"]
        for edge in (await gql(LOG_OF_FIVE))["viewer"]["securityEvents"]["edges"]
    ]
    assert {"email.change_cancelled", "email.change_code_resent"} <= set(kinds)


async def test_new_codes_count_with_the_address_changes(gql, alice, smtp):
    await update(gql, email="alice.new@example.com", password=PASSWORD)
    answers = [(await gql(RESEND))["resendEmailChangeCode"] for _ in range(5)]
    assert [errors(answer) for answer in answers] == [[]] * 4 + [[(None, "RATE_LIMITED")]]
    assert len(smtp.to("alice.new@example.com")) == 5


LOG_OF_FIVE = "{ viewer { securityEvents(first: 5) { edges { node { kind } } } } }"
LOG = "{ viewer { pendingEmail securityEvents(first: 1) { edges { node { kind } } } } }"


async def test_an_address_another_account_uses_is_answered_like_a_free_one_but_gets_no_code(
    gql, alice, settings, smtp
):
    await make_user(settings, "bob", email="bob@example.com")
    taken = await update(gql, email="BOB@example.com", password=PASSWORD)
    after_taken = (await gql(LOG))["viewer"]
    free = await update(gql, email="carol@example.com", password=PASSWORD)
    after_free = (await gql(LOG))["viewer"]

    assert taken == free
    assert taken["userErrors"] == [] and taken["emailVerificationSent"] is True
    assert after_taken["pendingEmail"] == "BOB@example.com"
    assert after_free["pendingEmail"] == "carol@example.com"
    # The newest entry of alice's own security log reads the same.
    assert after_taken["securityEvents"] == after_free["securityEvents"]
    # The code goes to the free address only; the owner of the taken one is told, not alice.
    [code] = smtp.to("carol@example.com")
    assert code_in(smtp.text(code))
    [notice] = smtp.to("BOB@example.com")
    assert notice["Subject"] == "Your email address was given for another account"
    told = smtp.text(notice)
    assert "bob" in told and "alice" not in told.lower()
    assert re.search(r"\b\d{6}\b", told) is None  # no code in it
    assert (await User.get(username="bob")).email == "bob@example.com"


async def test_email_change_requests_have_a_budget_that_holds_in_parallel(
    gql, alice, settings, smtp
):
    await make_user(settings, "bob", email="bob@example.com")
    # Signing in just now counts as proof: no password, so only this budget can refuse.
    addresses = ["bob@example.com" if i % 2 else f"new{i}@example.com" for i in range(8)]
    answers = await asyncio.gather(*(update(gql, email=address) for address in addresses))
    accepted = [answer for answer in answers if answer["userErrors"] == []]
    limited = [answer for answer in answers if errors(answer) == [(None, "RATE_LIMITED")]]
    assert (len(accepted), len(limited)) == (5, 3)
    assert len(smtp.messages) == 5  # one code or notice for each accepted request
    for address in ("bob@example.com", "free@example.com"):  # taken or free: the same wait
        refused = await update(gql, email=address)
        assert errors(refused) == [(None, "RATE_LIMITED")]
        assert "email address changes" in refused["userErrors"][0]["message"]
    assert len(smtp.messages) == 5
    clock.advance(timedelta(hours=1, seconds=1))
    await gql.sign_in("alice")
    later = await update(gql, email="later@example.com")
    assert later["userErrors"] == [] and len(smtp.to("later@example.com")) == 1


@pytest.mark.parametrize("proof", [{"password": "not the password at all"}, {}])
async def test_without_proof_a_taken_and_a_free_address_get_the_same_answer(
    gql, alice, settings, smtp, proof
):
    await make_user(settings, "bob", email="bob@example.com")
    clock.advance(settings.reauth_window + timedelta(seconds=1))  # signing in no longer counts
    taken = await update(gql, email="bob@example.com", **proof)
    free = await update(gql, email="carol@example.com", **proof)
    assert taken == free
    assert errors(taken) in (
        [("password", "INVALID_CREDENTIALS")],
        [("password", "REAUTHENTICATION_REQUIRED")],
    )
    assert (await gql(VIEWER))["viewer"]["pendingEmail"] is None
    assert smtp.messages == []


async def test_an_address_taken_after_its_code_was_sent_is_a_conflict_for_the_codes_holder(
    gql, alice, settings, smtp
):
    assert (await update(gql, email="new@example.com", password=PASSWORD))["userErrors"] == []
    [message] = smtp.to("new@example.com")
    await make_user(settings, "bob", email="new@example.com")
    done = (await gql(VERIFY_EMAIL, {"code": code_in(smtp.text(message))}))["verifyEmailChange"]
    assert errors(done) == [("email", "CONFLICT")]
    assert (await gql(VIEWER))["viewer"]["email"] == "alice@example.com"


@pytest.mark.parametrize("address", ["not-an-address", "x@y.z\r\nBcc: v@w.x", "a" * 250 + "@b.co"])
async def test_bad_email_addresses_are_refused(gql, alice, address):
    assert errors(await update(gql, email=address, password=PASSWORD)) == [
        ("email", "VALIDATION_FAILED")
    ]


async def test_ten_megabytes_get_a_clear_413_before_any_password_hash(client, alice, monkeypatch):
    hashed = []
    monkeypatch.setattr(PasswordHasher, "_verify", lambda *a: hashed.append(1) or False)
    huge = "x" * 10_000_000
    query = "mutation($p: String!) { updateAccount(input: {description: $p, password: $p, "
    query += 'email: "new@example.com"}) { viewer { email } } }'
    response = await client.post("/graphql", json={"query": query, "variables": {"p": huge}})
    assert response.status_code == 413
    assert "too large" in response.text.lower()
    assert hashed == []
    assert (await User.get(id=alice.id)).description == ""
