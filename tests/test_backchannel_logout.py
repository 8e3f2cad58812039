"""Back-channel logout: whenever someone ends a Latchkey session, each application that signed
in through it gets one logout token at its registered URI, which a real receiver on loopback
verifies against /oauth/jwks; an application that did not sign in through that session gets
none, and a session that merely expires sends nothing."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import hashlib
import secrets
from collections.abc import AsyncIterator
from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet
from tortoise.transactions import in_transaction

from backend.accounts.models import User
from backend.app import housekeeping
from backend.auth.sessions import service as sessions
from backend.kernel import clock
from backend.kernel.errors import DomainError
from backend.kernel.secret_box import SecretBox
from backend.oidc import backchannel, clients
from backend.oidc.models import BackchannelLogout, OidcClient, SessionClient
from tests.conftest import settings_for, smtp_settings
from tests.helpers import PASSWORD, GraphQL, issue_token, make_user
from tests.outboxes import LogoutInbox, backchannel_logout_receiver
from tests.recovery_helpers import (
    NEW_PASSWORD,
    SECURE,
    ask_for_reset,
    last_mail,
    reset,
    reset_token_in,
    secure_token_in,
)

ISSUER = "http://localhost:8000"
CALLBACK = "https://platform.example/callback"
BYE = "https://platform.example/bye"
SESSIONS = "{ viewer { sessions { id current } } }"
REVOKE = """mutation($id: ID!) { revokeSession(input: {id: $id}) { userErrors { code } } }"""
OTHERS = "mutation { signOutOtherSessions { signedOutCount userErrors { code } } }"
SIGN_OUT = "mutation { signOut { userErrors { code } } }"
CHANGE = """mutation($c: String!, $n: String!) {
  changePassword(input: {currentPassword: $c, newPassword: $n, newPasswordConfirmation: $n}) {
    userErrors { code } } }"""
VIEWER = "{ viewer { username } }"


@pytest.fixture
def settings(database_url, smtp):
    return settings_for(database_url, smtp=smtp_settings(smtp.port))


@pytest.fixture
def box(settings) -> SecretBox:
    return SecretBox(settings.secret_key)


@dataclasses.dataclass
class RelyingParty:
    client: OidcClient
    secret: str
    inbox: LogoutInbox


async def _relying_party(name: str, **options: str) -> AsyncIterator[RelyingParty]:
    with backchannel_logout_receiver(ISSUER) as inbox:
        client, secret = await clients.create(
            name, [CALLBACK], backchannel_logout_uri=inbox.url, **options
        )
        inbox.audience = client.client_id
        yield RelyingParty(client, secret or "", inbox)


@pytest.fixture
async def portal(app):
    async for party in _relying_party("Portal", post_logout_redirect_uris=[BYE]):
        yield party


@pytest.fixture
async def wiki(app):
    async for party in _relying_party("Wiki", id_token_alg="RS256"):
        yield party


@pytest.fixture
async def docs(app):
    async for party in _relying_party("Docs"):
        yield party


async def sign_in_to(browser: httpx.AsyncClient, party: RelyingParty) -> dict:
    """The authorization code flow through `browser`'s session; the ID token's claims and,
    under "id_token", the token itself."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    query = {
        "client_id": party.client.client_id,
        "redirect_uri": CALLBACK,
        "response_type": "code",
        "scope": "openid",
        "nonce": "n-1",
        "code_challenge": challenge.rstrip(b"=").decode(),
        "code_challenge_method": "S256",
    }
    answer = await browser.get(f"/oauth/authorize?{urlencode(query)}")
    code = parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]
    tokens = await _redeem(browser, party, code, verifier)
    keys = KeySet.import_key_set((await browser.get("/oauth/jwks")).json())
    party.inbox.keys = keys  # what the relying party fetched from jwks_uri
    claims = jwt.decode(tokens.json()["id_token"], keys, algorithms=["ES256", "RS256"]).claims
    return {**claims, "id_token": tokens.json()["id_token"]}


async def _redeem(browser, party: RelyingParty, code: str, verifier: str) -> httpx.Response:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": CALLBACK,
        "code_verifier": verifier,
    }
    return await browser.post(
        "/oauth/token", data=form, auth=(party.client.client_id, party.secret)
    )


def timeouts(settings) -> sessions.Timeouts:
    return sessions.Timeouts(settings.session_idle, settings.session_absolute)


async def owed(party: RelyingParty) -> list[BackchannelLogout]:
    """The logout tokens written for the application: in the same transaction as the end."""
    return await BackchannelLogout.filter(client_id=party.client.id).order_by("id")


async def delivered(box: SecretBox, party: RelyingParty, count: int = 1) -> list[dict]:
    """Run a worker's delivery (the app's own job runs each second as well) until the
    receiver accepted `count` tokens; they, once every row says delivered."""
    for _ in range(200):
        await backchannel.deliver_due(box, ISSUER)
        rows = await owed(party)
        if len(party.inbox.accepted) >= count and all(row.delivered_at for row in rows):
            assert party.inbox.refused == []
            assert all(row.next_attempt_at is None for row in rows)  # nothing more is sent
            return party.inbox.accepted
        await asyncio.sleep(0.05)
    raise AssertionError(f"not delivered: {party.inbox.accepted} {party.inbox.refused}")


async def logged_out_once(box: SecretBox, party: RelyingParty, signed_in: dict) -> dict:
    """Exactly one logout token for the session `signed_in` came from, verified."""
    assert len(await owed(party)) == 1
    [token] = await delivered(box, party)
    assert token["sid"] == signed_in["sid"] and token["sub"] == signed_in["sub"]
    assert token["exp"] - token["iat"] <= 120 and token["jti"]
    assert party.inbox.requests == 1
    return token


async def test_signing_out_sends_a_verified_logout_token_to_the_applications_of_that_session(
    client, gql, alice, new_client, portal, wiki, box
):
    through_this = await sign_in_to(client, portal)
    async with new_client() as other:
        await GraphQL(other).sign_in("alice")
        through_other = await sign_in_to(other, wiki)
        assert through_other["sid"] != through_this["sid"]
        assert (await gql(SIGN_OUT))["signOut"]["userErrors"] == []
        assert await owed(wiki) == []  # Wiki signed in through the session that goes on
        token = await logged_out_once(box, portal, through_this)
        assert token["alg"] == "ES256"
        assert (await GraphQL(other)(VIEWER))["viewer"] == {"username": "alice"}
    assert wiki.inbox.requests == 0


@pytest.mark.parametrize("how", ["revokeSession", "signOutOtherSessions"])
async def test_ending_another_session_logs_out_only_the_applications_of_that_one(
    client, alice, new_client, portal, wiki, box, how
):
    through_first = await sign_in_to(client, portal)
    async with new_client() as other:
        second = GraphQL(other)
        await second.sign_in("alice")
        through_second = await sign_in_to(other, wiki)
        if how == "revokeSession":
            first = next(
                s for s in (await second(SESSIONS))["viewer"]["sessions"] if not s["current"]
            )
            assert (await second(REVOKE, {"id": first["id"]}))[how]["userErrors"] == []
        else:
            assert (await second(OTHERS))[how]["signedOutCount"] == 1
        assert await owed(wiki) == []
        await logged_out_once(box, portal, through_first)
        # The session that stayed is still Wiki's: its own end reaches Wiki, with its sid.
        assert (await second(SIGN_OUT))["signOut"]["userErrors"] == []
        token = await logged_out_once(box, wiki, through_second)
        assert token["alg"] == "RS256"  # Wiki's ID tokens' algorithm, and key


async def test_a_password_change_logs_out_the_applications_of_every_other_session(
    client, alice, new_client, portal, wiki, box
):
    through_first = await sign_in_to(client, portal)
    async with new_client() as other:
        second = GraphQL(other)
        await second.sign_in("alice")
        through_second = await sign_in_to(other, wiki)
        assert (await second(CHANGE, {"c": PASSWORD, "n": NEW_PASSWORD}))["changePassword"][
            "userErrors"
        ] == []
        assert await owed(wiki) == []  # the session that changed it goes on, under a new cookie
        await logged_out_once(box, portal, through_first)
        assert (await second(SIGN_OUT))["signOut"]["userErrors"] == []
        await logged_out_once(box, wiki, through_second)  # the same session, the same sid


async def test_a_password_reset_logs_out_each_application_once_per_session(
    client, gql, alice, new_client, settings, smtp, portal, wiki, docs, box
):
    through_first = await sign_in_to(client, portal)
    await sign_in_to(client, portal)  # signing in again through the same session
    await make_user(settings, "bob")
    async with new_client() as other, new_client() as bobs:
        await GraphQL(other).sign_in("alice")
        through_second = await sign_in_to(other, portal)
        wiki_through_second = await sign_in_to(other, wiki)
        await GraphQL(bobs).sign_in("bob")
        await sign_in_to(bobs, docs)

        await ask_for_reset(gql, "alice")
        assert (await reset(gql, reset_token_in(last_mail(smtp))))["userErrors"] == []
        assert await owed(docs) == []  # bob's session goes on
        tokens = await delivered(box, portal, 2)
        assert sorted(t["sid"] for t in tokens) == sorted(
            [through_first["sid"], through_second["sid"]]
        )
        assert len(await owed(portal)) == 2 and portal.inbox.requests == 2
        await logged_out_once(box, wiki, wiki_through_second)
        assert (await GraphQL(bobs)(VIEWER))["viewer"] == {"username": "bob"}


async def test_this_was_not_me_logs_out_the_applications_of_every_session(
    client, gql, alice, new_client, settings, smtp, portal, docs, box
):
    through_this = await sign_in_to(client, portal)
    await make_user(settings, "bob")
    async with new_client() as bobs:
        await GraphQL(bobs).sign_in("bob")
        await sign_in_to(bobs, docs)
        await issue_token(gql, name="deploy")  # its notice carries a "This wasn't me" link
        link = secure_token_in(last_mail(smtp, subject="A new token for your account"))
        async with new_client() as mail_reader:
            secured = await GraphQL(mail_reader)(SECURE, {"t": link})
        assert secured == {"secureAccount": {"userErrors": []}}
        assert await owed(docs) == []
        await logged_out_once(box, portal, through_this)


async def test_logout_at_the_application_logs_out_it_and_the_others_of_that_session(
    client, gql, alice, new_client, portal, wiki, docs, box
):
    through_this = await sign_in_to(client, portal)
    wiki_through_this = await sign_in_to(client, wiki)
    async with new_client() as other:
        await GraphQL(other).sign_in("alice")
        await sign_in_to(other, docs)
        query = {"id_token_hint": through_this["id_token"], "post_logout_redirect_uri": BYE}
        out = await client.get(f"/oauth/logout?{urlencode(query)}")
        assert out.status_code == 303 and (await gql(VIEWER))["viewer"] is None
        assert await owed(docs) == []
        await logged_out_once(box, portal, through_this)  # the one that asked, too
        await logged_out_once(box, wiki, wiki_through_this)


async def test_signing_in_over_a_live_session_logs_out_the_applications_of_the_old_one(
    client, gql, alice, portal, box
):
    through_old = await sign_in_to(client, portal)
    await gql.sign_in("alice")  # a new session replaces the one this browser had
    await logged_out_once(box, portal, through_old)


async def test_a_session_that_expires_sends_nothing(
    client, gql, alice, new_client, settings, portal, wiki, box
):
    await sign_in_to(client, portal)
    async with new_client() as other:
        await GraphQL(other).sign_in("alice")
        await sign_in_to(other, wiki)
        clock.advance(settings.session_idle + timedelta(minutes=1))
        assert (await gql(VIEWER))["viewer"] is None  # found expired, and deleted
        await housekeeping.delete_expired(timeouts(settings))
        assert (await GraphQL(other)(VIEWER))["viewer"] is None
    assert await owed(portal) == [] and await owed(wiki) == []
    assert not await SessionClient.exists()  # gone with the sessions
    await backchannel.deliver_due(box, ISSUER)
    assert portal.inbox.requests == wiki.inbox.requests == 0


async def test_a_failed_delivery_is_retried_and_then_delivered_once(
    client, gql, alice, settings, portal, box
):
    signed_in = await sign_in_to(client, portal)
    portal.inbox.answers = [500]
    await gql(SIGN_OUT)
    for _ in range(100):
        await backchannel.deliver_due(box, ISSUER)
        [row] = await owed(portal)
        if row.attempts:
            break
        await asyncio.sleep(0.05)
    assert portal.inbox.requests == 1 and portal.inbox.accepted == []
    assert row.last_status == 500 and row.delivered_at is None and row.next_attempt_at
    clock.advance(timedelta(seconds=6))  # the first retry's wait
    [token] = await delivered(box, portal)
    assert token["sid"] == signed_in["sid"] and portal.inbox.requests == 2
    [row] = await owed(portal)
    assert row.attempts == 2 and row.last_status == 200
    clock.advance(timedelta(days=1))
    await backchannel.deliver_due(box, ISSUER)
    assert portal.inbox.requests == 2  # delivered: never again
    # Kept a while for the operator, then dropped as webhook deliveries are.
    clock.advance(housekeeping.LOGOUT_TOKENS_KEPT)
    removed = await housekeeping.delete_expired(timeouts(settings))
    assert removed["backchannel_logouts"] == 1 and await owed(portal) == []


async def test_an_end_that_rolls_back_sends_nothing(client, gql, alice, portal, box):
    signed_in = await sign_in_to(client, portal)
    user = await User.get(username="alice")
    with pytest.raises(RuntimeError):
        async with in_transaction():
            assert await sessions.end_all(user) == 1
            assert len(await owed(portal)) == 1  # written with the end
            raise RuntimeError("the change fails after the session ended")
    assert await owed(portal) == []
    assert (await gql(VIEWER))["viewer"] == {"username": "alice"}
    await backchannel.deliver_due(box, ISSUER)
    assert portal.inbox.requests == 0
    # The session still knows its application: its real end reaches it.
    await gql(SIGN_OUT)
    await logged_out_once(box, portal, signed_in)


async def test_a_code_whose_session_ended_is_refused(client, gql, alice, portal, box):
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    query = {
        "client_id": portal.client.client_id,
        "redirect_uri": CALLBACK,
        "response_type": "code",
        "scope": "openid",
        "code_challenge": challenge.rstrip(b"=").decode(),
        "code_challenge_method": "S256",
    }
    answer = await client.get(f"/oauth/authorize?{urlencode(query)}")
    code = parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]
    portal.inbox.keys = KeySet.import_key_set((await client.get("/oauth/jwks")).json())
    await gql(SIGN_OUT)
    refused = await _redeem(client, portal, code, verifier)
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
    assert len(await owed(portal)) == 1  # told of the end already


@pytest.mark.parametrize("uri", ["ftp://rp.example/logout", "/logout", "https://rp.example/l#x"])
async def test_a_back_channel_logout_uri_is_a_whole_web_address(app, uri):
    with pytest.raises(DomainError):
        await clients.create("Odd", [CALLBACK], backchannel_logout_uri=uri)
    internal, _ = await clients.create(
        "Intranet", [CALLBACK], backchannel_logout_uri="http://10.0.0.5/bcl"
    )
    assert internal.backchannel_logout_uri == "http://10.0.0.5/bcl"
