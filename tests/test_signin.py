"""Signing in and out through the GraphQL API."""

from __future__ import annotations

from datetime import timedelta

from backend.accounts.models import User
from backend.accounts.passwords import PasswordHasher
from backend.audit.models import SecurityEvent
from backend.auth.sessions.models import Session
from backend.kernel import clock
from tests.conftest import settings_for
from tests.helpers import PASSWORD, SIGN_IN, GraphQL, make_user, serving

VIEWER = "{ viewer { username email createdAt } }"


async def test_viewer_is_null_when_signed_out(client):
    response = await client.post("/graphql", json={"query": "{ viewer { username } }"})
    assert response.status_code == 200
    assert response.json() == {"data": {"viewer": None}}


async def test_sign_in_sets_an_httponly_lax_session_cookie(gql, client, settings):
    await make_user(settings, "Alice")
    response = await gql.raw(SIGN_IN, {"username": "Alice", "password": PASSWORD})
    payload = response.json()["data"]["signIn"]
    assert payload == {
        "status": "SIGNED_IN",
        "challenge": None,
        "viewer": {"username": "Alice"},
        "userErrors": [],
    }
    set_cookie = response.headers["set-cookie"]
    assert set_cookie.startswith("latchkey_session=")
    assert "HttpOnly" in set_cookie and "SameSite=lax" in set_cookie and "Path=/" in set_cookie
    assert "Secure" not in set_cookie  # plain-http localhost
    viewer = (await gql(VIEWER))["viewer"]
    assert viewer["username"] == "Alice"
    assert viewer["createdAt"].endswith("+00:00")


async def test_cookie_is_host_prefixed_and_secure_over_https(database_url):
    settings = settings_for(database_url, public_url="https://id.example")
    async with serving(settings, "https://id.example") as http:
        await make_user(settings, "bob")
        response = await GraphQL(http).raw(SIGN_IN, {"username": "bob", "password": PASSWORD})
        http.cookies.clear()
        login = await http.get("/login")
    set_cookie = response.headers["set-cookie"]
    assert set_cookie.startswith("__Host-latchkey_session=")
    assert "Secure" in set_cookie and "HttpOnly" in set_cookie and "Domain" not in set_cookie
    csrf_cookie = login.headers["set-cookie"]
    assert csrf_cookie.startswith("__Host-latchkey_csrf=") and "Secure" in csrf_cookie
    assert login.headers["strict-transport-security"].startswith("max-age=31536000")


async def test_username_lookup_ignores_case_and_width(gql, settings):
    await make_user(settings, "alice")
    for spelling in ["ALICE", "Alice", "ａｌｉｃｅ"]:
        assert (await gql.sign_in(spelling))["status"] == "SIGNED_IN"


async def test_wrong_password_and_unknown_user_answer_the_same(gql, client, settings):
    await make_user(settings, "alice")
    wrong = await gql.raw(SIGN_IN, {"username": "alice", "password": "not the password at all"})
    unknown = await gql.raw(SIGN_IN, {"username": "nobody", "password": "not the password"})
    assert wrong.status_code == unknown.status_code == 200
    assert wrong.json() == unknown.json()
    error = wrong.json()["data"]["signIn"]["userErrors"][0]
    assert error["code"] == "INVALID_CREDENTIALS"
    assert "set-cookie" not in wrong.headers and "set-cookie" not in unknown.headers


async def test_unknown_user_costs_one_password_hash_like_a_known_one(gql, settings, monkeypatch):
    calls = []
    original = PasswordHasher._verify

    def counting(self, workspace, stored, password):
        calls.append(stored)
        return original(self, workspace, stored, password)

    monkeypatch.setattr(PasswordHasher, "_verify", counting)
    await make_user(settings, "alice")
    await gql.sign_in("alice", "wrong password here")
    await gql.sign_in("nobody", "wrong password here")
    assert len(calls) == 2


async def test_each_sign_in_issues_a_fresh_session_and_ends_the_old_one(gql, client, settings):
    await make_user(settings, "alice")
    await gql.sign_in("alice")
    first = client.cookies["latchkey_session"]
    await gql.sign_in("alice")
    second = client.cookies["latchkey_session"]
    assert first != second
    assert await Session.all().count() == 1
    client.cookies.set("latchkey_session", first)
    assert (await gql(VIEWER))["viewer"] is None


async def test_the_database_keeps_only_a_digest_of_the_session_cookie(gql, client, settings):
    await make_user(settings, "alice")
    await gql.sign_in("alice")
    cookie = client.cookies["latchkey_session"]
    stored = await Session.get()
    assert cookie not in stored.token_hash and len(stored.token_hash) == 64


async def test_sign_out_ends_the_session_server_side(gql, client, settings):
    await make_user(settings, "alice")
    await gql.sign_in("alice")
    cookie = client.cookies["latchkey_session"]
    data = await gql("mutation { signOut { userErrors { code } } }")
    assert data["signOut"]["userErrors"] == []
    assert (await gql(VIEWER))["viewer"] is None
    client.cookies.set("latchkey_session", cookie)  # a copy of the cookie is dead too
    assert (await gql(VIEWER))["viewer"] is None
    assert await Session.all().count() == 0


async def test_sign_out_everywhere_ends_other_browsers(gql, new_client, settings):
    await make_user(settings, "alice")
    async with new_client() as other:
        other_gql = GraphQL(other)
        await other_gql.sign_in("alice")
        await gql.sign_in("alice")
        await gql("mutation { signOut(input: {everywhere: true}) { userErrors { code } } }")
        assert (await other_gql(VIEWER))["viewer"] is None


async def test_sign_out_without_a_session_is_a_user_error(gql):
    data = await gql("mutation { signOut { userErrors { code } } }")
    assert data["signOut"]["userErrors"] == [{"code": "UNAUTHENTICATED"}]


async def test_session_ends_after_an_hour_idle(gql, settings):
    await make_user(settings, "alice")
    await gql.sign_in("alice")
    clock.advance(timedelta(minutes=59))
    assert (await gql(VIEWER))["viewer"] is not None
    clock.advance(timedelta(minutes=61))
    assert (await gql(VIEWER))["viewer"] is None


async def test_session_ends_twelve_hours_after_sign_in_even_when_active(gql, settings):
    await make_user(settings, "alice")
    await gql.sign_in("alice")
    for _ in range(24):  # active every 30 minutes for 12 hours
        clock.advance(timedelta(minutes=30))
        viewer = (await gql(VIEWER))["viewer"]
    assert viewer is None


async def test_sessions_survive_a_restart(settings):
    async with serving(settings) as http:
        await make_user(settings, "alice")
        await GraphQL(http).sign_in("alice")
        cookie = http.cookies["latchkey_session"]
    async with serving(settings) as restarted:
        restarted.cookies.set("latchkey_session", cookie)
        assert (await GraphQL(restarted)(VIEWER))["viewer"]["username"] == "alice"


async def test_sign_in_success_and_failure_are_in_the_security_log(gql, settings):
    user = await make_user(settings, "alice")
    await gql.sign_in("alice", "wrong password here")
    await gql.sign_in("alice")
    kinds = await SecurityEvent.filter(user=user).order_by("id").values_list("kind", flat=True)
    assert kinds == ["sign_in.failed", "sign_in.succeeded"]
    event = await SecurityEvent.filter(kind="sign_in.succeeded").first()
    assert event.ip_address == "203.0.113.7"


async def test_password_hash_is_upgraded_when_parameters_change(settings):
    async with serving(settings):
        await make_user(settings, "alice")
        old_hash = (await User.get()).password_hash
    stronger = settings_for(settings.database_url, argon2_memory_kib=2048, argon2_time_cost=2)
    async with serving(stronger) as http:
        await GraphQL(http).sign_in("alice", "wrong password here")
        assert (await User.get()).password_hash == old_hash  # a failure rewrites nothing
        await GraphQL(http).sign_in("alice")
        new_hash = (await User.get()).password_hash
    assert new_hash != old_hash and "m=2048,t=2" in new_hash


async def test_signing_in_again_ends_the_session_the_browser_had(gql, client, settings):
    await make_user(settings, "alice")
    await gql.sign_in("alice")
    first = client.cookies["latchkey_session"]
    await gql.sign_in("alice")
    assert client.cookies["latchkey_session"] != first
    assert await Session.filter(user__username="alice").count() == 1
    client.cookies.set("latchkey_session", first)
    assert (await gql(VIEWER))["viewer"] is None
