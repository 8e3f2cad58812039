"""Sessions, groups and the security log of the viewer."""

from __future__ import annotations

import subprocess
from datetime import timedelta

import pytest
import ua_parser

from backend.accounts import groups
from backend.accounts.models import User
from backend.api.activity_types import FACTOR_NAMES
from backend.audit.descriptions import describe
from backend.audit.service import record
from backend.auth.factors import devices, registry
from backend.auth.sessions import service as sessions_service
from backend.kernel import clock
from backend.kernel.client_info import ClientInfo
from tests.conftest import settings_for
from tests.helpers import GraphQL, issue_token, make_user
from tests.live import LATCHKEY, environment

SESSIONS = "{ viewer { sessions { id current ipAddress userAgent browser lastSeenAt } } }"
REVOKE = """mutation($id: ID!) { revokeSession(input: {id: $id}) {
  revokedSessionId userErrors { field code } } }"""
OTHERS = "mutation { signOutOtherSessions { signedOutCount userErrors { code } } }"
EVENTS = """query($first: Int, $after: String) {
  viewer { securityEvents(first: $first, after: $after) {
  edges { cursor node { kind description createdAt ipAddress } }
  pageInfo { hasNextPage endCursor } } } }"""
GROUPS = "{ viewer { groups { name selfService } joinableGroups { name description } } }"
JOIN = (
    "mutation($n: String!) { joinGroup(input: {name: $n}) { group { name } userErrors { code } } }"
)
LEAVE = (
    "mutation($n: String!) { leaveGroup(input: {name: $n}) { group { name } userErrors { code } } }"
)
DELETE_TOKEN = """mutation($id: ID!) { deleteToken(input: {id: $id}) {
  deletedTokenId userErrors { code } } }"""
FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:140.0) Gecko/20100101 Firefox/140.0"


async def test_sessions_are_listed_with_the_browser_in_words(gql, new_client, alice):
    async with new_client() as other:
        other.headers["user-agent"] = FIREFOX
        await GraphQL(other).sign_in("alice")
        sessions = (await gql(SESSIONS))["viewer"]["sessions"]
    assert len(sessions) == 2
    mine = next(s for s in sessions if s["current"])
    theirs = next(s for s in sessions if not s["current"])
    assert theirs["browser"] == "Firefox on Windows" and theirs["userAgent"] == FIREFOX
    assert mine["ipAddress"] == "203.0.113.7"


async def test_the_session_in_use_comes_first_even_when_another_was_active_later(
    gql, new_client, alice
):
    async with new_client() as other:
        clock.advance(timedelta(seconds=30))  # within a minute: this session's time stays
        other.headers["user-agent"] = FIREFOX
        await GraphQL(other).sign_in("alice")
        sessions = (await gql(SESSIONS))["viewer"]["sessions"]
        assert [s["current"] for s in sessions] == [True, False]
        assert sessions[0]["lastSeenAt"] < sessions[1]["lastSeenAt"]
        theirs = (await GraphQL(other)(SESSIONS))["viewer"]["sessions"]
        assert [s["current"] for s in theirs] == [True, False]


async def test_log_entries_name_the_token_group_factor_and_device(gql, new_client, alice):
    issued = await issue_token(gql, "nightly backup")
    await gql(DELETE_TOKEN, {"id": issued["token"]["id"]})
    await groups.create("book-club", self_service=True)
    await gql(JOIN, {"n": "book-club"})
    async with new_client() as other:
        other.headers["user-agent"] = FIREFOX
        await GraphQL(other).sign_in("alice")
        theirs = next(s for s in (await gql(SESSIONS))["viewer"]["sessions"] if not s["current"])
        await gql(REVOKE, {"id": theirs["id"]})
    events = (await gql(EVENTS, {"first": 10}))["viewer"]["securityEvents"]["edges"]
    said = {e["node"]["kind"]: e["node"]["description"] for e in reversed(events)}
    assert said["token.issued"] == "Token issued: \u201cnightly backup\u201d"
    assert said["token.deleted"] == "Token deleted: \u201cnightly backup\u201d"
    assert said["group.joined"] == "Joined a group: group \u201cbook-club\u201d"
    assert said["session.revoked"] == "Session signed out: Firefox on Windows"


async def test_factor_events_name_the_factor():
    app, phone = registry.KINDS[0], registry.KINDS[-1]
    assert describe("twofactor.factor_added", {"method": app.kind}, FACTOR_NAMES) == (
        f"Second factor added: {app.default_name}"
    )
    preferred = {"method": phone.kind, "name": "Work phone"}
    assert describe("twofactor.preferred_changed", preferred, FACTOR_NAMES) == (
        f"Preferred second factor changed: Work phone ({phone.default_name})"
    )
    assert describe("second_factor.failed", {"method": "any"}, FACTOR_NAMES) == (
        "Wrong two-factor code"
    )
    assert describe("sign_in.succeeded", {}, FACTOR_NAMES) == "Signed in"


async def test_revoking_a_session_signs_that_browser_out(gql, new_client, settings, alice):
    async with new_client() as other:
        second = GraphQL(other)
        await second.sign_in("alice")
        theirs = next(s for s in (await gql(SESSIONS))["viewer"]["sessions"] if not s["current"])
        assert (await gql(REVOKE, {"id": theirs["id"]}))["revokeSession"]["userErrors"] == []
        assert (await second("{ viewer { username } }"))["viewer"] is None
    await make_user(settings, "mallory")
    async with new_client() as attacker:
        mallory = GraphQL(attacker)
        await mallory.sign_in("mallory")
        mine = next(s for s in (await gql(SESSIONS))["viewer"]["sessions"] if s["current"])
        refused = (await mallory(REVOKE, {"id": mine["id"]}))["revokeSession"]
    assert refused["userErrors"] == [{"field": "id", "code": "NOT_FOUND"}]
    assert (await gql("{ viewer { username } }"))["viewer"] == {"username": "alice"}


async def test_sign_out_other_sessions_keeps_this_one(gql, new_client, alice):
    async with new_client() as one, new_client() as two:
        await GraphQL(one).sign_in("alice")
        await GraphQL(two).sign_in("alice")
        assert (await gql(OTHERS))["signOutOtherSessions"]["signedOutCount"] == 2
        assert (await GraphQL(one)("{ viewer { username } }"))["viewer"] is None
    assert len((await gql(SESSIONS))["viewer"]["sessions"]) == 1


async def test_the_security_log_pages_newest_first(gql, alice):
    for _ in range(3):
        await gql.sign_in("alice", "a wrong password")
    await gql.sign_in("alice")
    page = (await gql(EVENTS, {"first": 2}))["viewer"]["securityEvents"]
    kinds = [edge["node"]["kind"] for edge in page["edges"]]
    assert kinds == ["sign_in.succeeded", "sign_in.failed"]
    assert page["pageInfo"]["hasNextPage"] is True
    assert page["edges"][0]["node"]["description"] == "Signed in"
    rest = await gql(EVENTS, {"first": 100, "after": page["pageInfo"]["endCursor"]})
    rest_kinds = [e["node"]["kind"] for e in rest["viewer"]["securityEvents"]["edges"]]
    assert rest_kinds == ["sign_in.failed", "sign_in.failed", "sign_in.succeeded"]
    assert rest["viewer"]["securityEvents"]["pageInfo"]["hasNextPage"] is False


async def test_page_size_is_capped(gql, alice):
    for _ in range(3):
        await gql.sign_in("alice")
    page = (await gql(EVENTS, {"first": 100000}))["viewer"]["securityEvents"]
    assert len(page["edges"]) <= 100


async def test_self_service_groups_can_be_joined_and_left_others_cannot(gql, alice):
    await groups.create("book-club", description="Reading together", self_service=True)
    await groups.create("admins")
    assert (await gql(GROUPS))["viewer"]["joinableGroups"] == [
        {"name": "book-club", "description": "Reading together"}
    ]
    assert (await gql(JOIN, {"n": "book-club"}))["joinGroup"]["group"] == {"name": "book-club"}
    assert (await gql(GROUPS))["viewer"]["groups"] == [{"name": "book-club", "selfService": True}]
    assert (await gql(JOIN, {"n": "admins"}))["joinGroup"]["userErrors"] == [{"code": "NOT_FOUND"}]
    await groups.add_member("admins", alice)
    assert (await gql(LEAVE, {"n": "admins"}))["leaveGroup"]["userErrors"] == [
        {"code": "NOT_FOUND"}
    ]
    assert (await gql(LEAVE, {"n": "book-club"}))["leaveGroup"]["group"] == {"name": "book-club"}
    assert (await gql(GROUPS))["viewer"]["groups"] == [{"name": "admins", "selfService": False}]


def run_cli(settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LATCHKEY), *args], capture_output=True, text=True, env=environment(settings)
    )


def test_operators_manage_groups_from_the_command_line(database_url):
    settings = settings_for(database_url)
    subprocess.run(
        [str(LATCHKEY), "user", "create", "alice", "--email", "a@example.com", "--password-stdin"],
        input="a long enough password",
        text=True,
        check=True,
        env=environment(settings),
        capture_output=True,
    )
    assert run_cli(settings, "group", "create", "ops", "--self-service").stdout == (
        "Created self-service group ops.\n"
    )
    duplicate = run_cli(settings, "group", "create", "ops")
    assert duplicate.returncode == 1 and "exists already" in duplicate.stderr
    assert run_cli(settings, "group", "add-member", "ops", "ALICE").returncode == 0
    missing = run_cli(settings, "group", "add-member", "nope", "alice")
    assert missing.returncode == 1 and "no group named nope" in missing.stderr
    assert run_cli(settings, "group", "remove-member", "ops", "alice").returncode == 0
    again = run_cli(settings, "group", "remove-member", "ops", "alice")
    assert again.returncode == 1 and "is not in ops" in again.stderr


@pytest.fixture
def parsed(monkeypatch) -> list[str]:
    """Every user agent handed to the parser (ua_parser's own function, counted)."""
    seen: list[str] = []
    real = ua_parser.parse

    def counting(user_agent: str, *args, **kwargs):
        seen.append(user_agent)
        return real(user_agent, *args, **kwargs)

    monkeypatch.setattr(ua_parser, "parse", counting)
    return seen


async def test_lists_name_browsers_without_parsing_user_agents_as_they_are_read(
    gql, client, settings, alice, parsed
):
    """A page of events with as many different user agents parsed each one on every read:
    hundreds of milliseconds that anyone could add to someone's log by failing sign-ins."""
    user = await User.get(username="alice")
    for number in range(100):
        agent = FIREFOX.replace("140.0", f"{number}.0")
        client_info = ClientInfo("198.51.100.9", agent)
        await record("sign_in.failed", user=user, client=client_info)
        if number:  # 99 more sessions and this one: the most a user keeps
            await sessions_service.start(user, client_info)
        await devices.remember(user, client_info, settings.secret_key, 30)
    written = len(parsed)
    parsed.clear()

    viewer = {}
    for read in (
        "securityEvents(first: 100) { edges { node { browser } } }",
        "sessions { browser }",
        "trustedDevices { browser }",
    ):
        viewer.update((await gql(f"{{ viewer {{ {read} }} }}"))["viewer"])
    pages = [await client.get(path) for path in ("/account/log", "/account/sessions")]
    assert parsed == []
    assert written == 100  # once for each request, whatever it wrote
    events = [edge["node"]["browser"] for edge in viewer["securityEvents"]["edges"]]
    assert events == ["Firefox on Windows"] * 100
    assert [s["browser"] for s in viewer["sessions"]].count("Firefox on Windows") == 99
    assert [d["browser"] for d in viewer["trustedDevices"]] == ["Firefox on Windows"] * 100
    for page in pages:
        assert page.status_code == 200 and "Firefox on Windows" in page.text
