"""/auth/forward, the sub-request a reverse proxy sends before each request it protects:
who the session cookie, bearer token or Basic token names, what the application is told,
and that nothing stale or guessed ever passes."""

from __future__ import annotations

import base64
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from urllib.parse import parse_qs, unquote, urlsplit

import httpx
import pytest
from asgi_lifespan import LifespanManager

from backend.accounts import groups
from backend.accounts.models import User
from backend.app.factory import create_app
from backend.audit.models import SecurityEvent
from backend.auth.sessions.models import Session
from backend.auth.throttle.models import ThrottleCounter
from backend.infra.config import Settings
from backend.infra.logs import JsonFormatter
from backend.kernel import clock
from backend.tokens.models import ApiCredential, RefreshToken
from tests.conftest import _client, settings_for
from tests.helpers import PASSWORD, GraphQL, QueryCounter, make_user

PLATFORM = "orders:read=Read orders;orders:write=Change orders"
FORWARD = "/auth/forward"
PUBLIC_URL = "https://accounts.example.com"
ISSUE = """mutation($n: String!, $e: DateTime, $s: [String!]) {
  issueToken(input: {name: $n, expiresAt: $e, password: "@PASSWORD@", scopes: $s}) {
    token { id } secret userErrors { code } } }""".replace("@PASSWORD@", PASSWORD)
GENERATE = """mutation { generateApiCredentials(input: {password: "@PASSWORD@"}) {
  clientSecret userErrors { code } } }""".replace("@PASSWORD@", PASSWORD)
DELETE = "mutation($id: ID!) { deleteToken(input: {id: $id}) { userErrors { code } } }"
SIGN_OUT = "mutation { signOut { userErrors { code } } }"
LEAVE = 'mutation { leaveGroup(input: {name: "staff"}) { userErrors { code } } }'
IDENTITY = [
    "x-latchkey-user",
    "x-latchkey-user-id",
    "x-latchkey-email",
    "x-latchkey-name",
    "x-latchkey-groups",
    "x-latchkey-account-type",
    "x-latchkey-language",
    "x-latchkey-auth",
    "x-latchkey-scopes",
]


class Platform:
    """Latchkey in-process with alice signed in on `browser`."""

    def __init__(self, settings: Settings, browser: httpx.AsyncClient, app: object) -> None:
        self.settings = settings
        self.browser = browser
        self.gql = GraphQL(browser)
        self.app = app
        self.alice: User

    def script(self) -> httpx.AsyncClient:
        """Another client, without alice's cookie, on the same address."""
        return _client(self.app)

    @property
    def cookie(self) -> dict[str, str]:
        name = self.settings.session_cookie_name
        return {"Cookie": f"{name}={self.browser.cookies[name]}"}

    async def refresh_token(self, scopes: list[str] | None = None) -> tuple[str, str]:
        """A new refresh token of alice's: its id and secret."""
        issued = (await self.gql(ISSUE, {"n": "proxy", "e": _days(30), "s": scopes}))["issueToken"]
        assert issued["userErrors"] == []
        return issued["token"]["id"], issued["secret"]

    async def access_token(self, scopes: list[str] | None = None) -> tuple[str, str]:
        """A refresh token's id, and an access token exchanged for it."""
        token_id, secret = await self.refresh_token(scopes)
        exchanged = await self.browser.post(
            "/oauth/token", data={"grant_type": "refresh_token", "refresh_token": secret}
        )
        return token_id, exchanged.json()["access_token"]

    async def forward(self, headers: dict[str, str], **params: str | list[str]) -> httpx.Response:
        async with self.script() as script:
            return await script.get(FORWARD, headers=headers, params=params)


@pytest.fixture
async def platform(database_url: str) -> AsyncIterator[Platform]:
    async with _platform(settings_for(database_url, scopes=PLATFORM)) as made:
        yield made


def _platform(settings: Settings, **overrides: object):
    import contextlib

    @contextlib.asynccontextmanager
    async def started() -> AsyncIterator[Platform]:
        async with LifespanManager(create_app(settings)) as manager, _client(manager.app) as http:
            made = Platform(settings, http, manager.app)
            made.alice = await make_user(settings, "alice")
            await User.filter(id=made.alice.id).update(first_name="Alice", last_name="Liddell")
            await groups.create("staff", self_service=True)
            await groups.create("admins")
            await groups.add_member("staff", made.alice)
            await made.gql.sign_in("alice")
            yield made

    return started()


def _days(days: int) -> str:
    return (clock.now() + timedelta(days=days)).isoformat()


def basic(username: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{username}:{secret}".encode()).decode()}


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def told(answer: httpx.Response) -> dict[str, str]:
    """What the proxy passes on to the application."""
    assert answer.status_code == 200, answer.text
    return {name: answer.headers[name] for name in IDENTITY}


# -- who the credentials name -----------------------------------------------------------


async def test_a_session_cookie_tells_the_application_who_signed_in(platform):
    answer = await platform.forward(platform.cookie)
    assert told(answer) == {
        "x-latchkey-user": "alice",
        "x-latchkey-user-id": str(platform.alice.id),
        "x-latchkey-email": "alice@example.com",
        "x-latchkey-name": "Alice Liddell",
        "x-latchkey-groups": "staff",
        "x-latchkey-account-type": "USER",
        "x-latchkey-language": "en",
        "x-latchkey-auth": "session",
        "x-latchkey-scopes": "",  # a session is the person: no scope limits it
    }
    assert answer.content == b""


async def test_the_user_id_is_the_subject_openid_connect_gives_applications(platform):
    viewer = await platform.gql("{ viewer { id } }")
    answer = await platform.forward(platform.cookie)
    assert answer.headers["x-latchkey-user-id"] == viewer["viewer"]["id"]


async def test_the_account_type_and_name_come_from_the_account_as_it_is_now(platform):
    await User.filter(id=platform.alice.id).update(
        account_type="ADMINISTRATOR", first_name="", last_name=""
    )
    seen = told(await platform.forward(platform.cookie))
    assert seen["x-latchkey-account-type"] == "ADMINISTRATOR"
    assert seen["x-latchkey-name"] == "alice"  # no name given: the username, as everywhere


async def test_a_bearer_access_token_passes_with_its_scopes(platform):
    _, access = await platform.access_token(["orders:read", "account:read"])
    headers = told(await platform.forward(bearer(access)))
    assert headers["x-latchkey-user"] == "alice"
    assert headers["x-latchkey-auth"] == "bearer"
    assert set(headers["x-latchkey-scopes"].split(" ")) == {"orders:read", "account:read"}


async def test_basic_with_the_username_and_a_refresh_token_passes(platform):
    token_id, secret = await platform.refresh_token(["orders:read"])
    headers = told(await platform.forward(basic("alice", secret)))
    assert (headers["x-latchkey-user"], headers["x-latchkey-auth"]) == ("alice", "basic")
    assert headers["x-latchkey-scopes"] == "orders:read"
    # The tokens page shows it in use.
    assert (await RefreshToken.get(id=token_id)).last_used_at is not None
    # The username is matched as sign-in matches it.
    assert (await platform.forward(basic("ALICE", secret))).status_code == 200


async def test_basic_with_the_username_and_the_api_credentials_secret_passes(platform):
    secret = (await platform.gql(GENERATE))["generateApiCredentials"]["clientSecret"]
    headers = told(await platform.forward(basic("alice", secret)))
    assert (headers["x-latchkey-user"], headers["x-latchkey-auth"]) == ("alice", "basic")
    assert (await ApiCredential.get(user_id=platform.alice.id)).last_used_at is not None


async def test_a_token_with_another_username_is_refused(platform):
    await make_user(platform.settings, "bob")
    _, refresh = await platform.refresh_token()
    credentials = (await platform.gql(GENERATE))["generateApiCredentials"]["clientSecret"]
    for secret in (refresh, credentials):
        for username in ("bob", "nobody", "", "x" * 500):
            answer = await platform.forward(basic(username, secret))
            assert answer.status_code == 401, (username, answer.text)
            assert answer.json()["error"] == "invalid_token"
            assert "x-latchkey-user" not in answer.headers


async def test_an_access_token_in_basic_is_no_token_basic_takes(platform):
    _, access = await platform.access_token()
    answer = await platform.forward(basic("alice", access))
    assert answer.status_code == 401 and answer.json()["error"] == "token_required"


async def test_a_password_in_basic_is_refused_without_being_checked(platform):
    """Right or wrong, a password gets the same answer, which says to use a token; so
    /auth/forward cannot be used to guess passwords, and it counts no failed sign-in."""
    events_before = await SecurityEvent.all().count()
    counters_before = await _counters()
    answers = [
        await platform.forward(basic("alice", password))
        for password in [PASSWORD, "wrong password, quite long"] * 15
    ]
    assert {(a.status_code, a.text) for a in answers} == {(answers[0].status_code, answers[0].text)}
    assert answers[0].status_code == 401
    assert answers[0].json()["error"] == "token_required"
    assert "token" in answers[0].json()["error_description"]
    assert "never the account's password" in answers[0].json()["error_description"]
    # No throttle moved and nothing was logged against the account: sign-in works as before.
    assert await _counters() == counters_before
    assert await SecurityEvent.all().count() == events_before
    async with platform.script() as script:
        assert (await GraphQL(script).sign_in("alice"))["status"] == "SIGNED_IN"


async def _counters() -> list[dict]:
    return await ThrottleCounter.all().order_by("key").values()


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer lk_at_notavalidtokenatallnotavalidtokenat"},
        {"Authorization": "Bearer "},
        {"Authorization": "Negotiate abc"},
        {"Authorization": "Basic !!!not base64"},
        {"Authorization": "Basic " + base64.b64encode(b"no colon").decode()},
        {"Cookie": "latchkey_session=made-up"},
    ],
)
async def test_no_or_bad_credentials_answer_401_with_a_sign_in_link(platform, headers):
    answer = await platform.forward(headers)
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"].startswith('Bearer realm="latchkey"')
    assert answer.headers["x-latchkey-login"] == "http://localhost:8000/login"
    assert answer.json()["sign_in"] == answer.headers["x-latchkey-login"]
    assert not any(name in answer.headers for name in IDENTITY)


async def test_a_bad_token_is_told_apart_from_no_credentials(platform):
    missing = await platform.forward({})
    assert missing.headers["www-authenticate"] == 'Bearer realm="latchkey"'
    invalid = await platform.forward(bearer("lk_at_" + "A" * 38))
    assert invalid.headers["www-authenticate"] == 'Bearer realm="latchkey", error="invalid_token"'


async def test_the_authorization_header_decides_even_beside_a_session(platform):
    answer = await platform.forward({**platform.cookie, **bearer("lk_at_" + "A" * 38)})
    assert answer.status_code == 401


@pytest.mark.parametrize("method", ["HEAD", "POST", "PUT", "DELETE", "OPTIONS"])
async def test_any_method_a_proxy_uses_gets_the_same_answer(platform, method):
    async with platform.script() as script:
        answer = await script.request(method, FORWARD, headers=platform.cookie)
    assert answer.status_code == 200
    assert answer.headers["x-latchkey-user"] == "alice"


# -- requirements -------------------------------------------------------------------------


async def test_a_group_requirement_passes_members_of_any_named_group(platform):
    assert (await platform.forward(platform.cookie, group="admins")).status_code == 403
    assert (await platform.forward(platform.cookie, group=["admins", "staff"])).status_code == 200
    refused = await platform.forward(platform.cookie, group="admins")
    assert refused.json()["error"] == "forbidden"
    assert "x-latchkey-user" not in refused.headers


async def test_a_scope_requirement_needs_every_named_scope_of_a_token(platform):
    _, reader = await platform.access_token(["orders:read"])
    assert (await platform.forward(bearer(reader), scope="orders:read")).status_code == 200
    refused = await platform.forward(bearer(reader), scope=["orders:read", "orders:write"])
    assert refused.status_code == 403
    assert refused.json()["error"] == "insufficient_scope"
    assert refused.headers["www-authenticate"] == (
        'Bearer realm="latchkey", error="insufficient_scope", scope="orders:read orders:write"'
    )
    _, refresh = await platform.refresh_token(["account:read"])
    assert (await platform.forward(basic("alice", refresh), scope="orders:read")).status_code == 403


async def test_a_session_meets_scope_requirements_but_not_group_ones(platform):
    assert (await platform.forward(platform.cookie, scope="orders:write")).status_code == 200
    both = await platform.forward(platform.cookie, scope="orders:write", group="admins")
    assert both.status_code == 403


# -- nothing stale passes -------------------------------------------------------------------


async def test_a_deleted_token_is_refused_at_the_next_request(platform):
    token_id, access = await platform.access_token()
    issued_id, refresh = await platform.refresh_token()
    assert (await platform.forward(bearer(access))).status_code == 200
    assert (await platform.forward(basic("alice", refresh))).status_code == 200
    for deleted in (token_id, issued_id):
        assert (await platform.gql(DELETE, {"id": deleted}))["deleteToken"]["userErrors"] == []
    assert (await platform.forward(bearer(access))).status_code == 401
    assert (await platform.forward(basic("alice", refresh))).status_code == 401


async def test_an_expired_token_is_refused(platform):
    _, access = await platform.access_token()
    clock.advance(timedelta(seconds=platform.settings.access_token_seconds + 1))
    assert (await platform.forward(bearer(access))).status_code == 401


async def test_signing_out_stops_the_session_passing_at_once(platform):
    cookie = platform.cookie
    assert (await platform.forward(cookie)).status_code == 200
    assert (await platform.gql(SIGN_OUT))["signOut"]["userErrors"] == []
    assert (await platform.forward(cookie)).status_code == 401


async def test_a_revoked_session_is_refused(platform):
    cookie = platform.cookie
    await Session.filter(user_id=platform.alice.id).delete()  # as revokeSession does
    assert (await platform.forward(cookie)).status_code == 401


async def test_leaving_a_group_fails_its_requirement_at_the_next_request(platform):
    assert (await platform.forward(platform.cookie, group="staff")).status_code == 200
    assert (await platform.gql(LEAVE))["leaveGroup"]["userErrors"] == []
    assert (await platform.forward(platform.cookie, group="staff")).status_code == 403
    assert (await platform.forward(platform.cookie)).headers["x-latchkey-groups"] == ""


async def test_an_idle_session_ends_and_use_through_the_proxy_keeps_it_alive(platform):
    idle = platform.settings.session_idle
    cookie = platform.cookie
    for _ in range(3):  # three idle periods in all, never idle for one
        clock.advance(idle - timedelta(minutes=5))
        assert (await platform.forward(cookie)).status_code == 200
    clock.advance(idle + timedelta(seconds=1))
    assert (await platform.forward(cookie)).status_code == 401


async def test_a_session_past_its_absolute_lifetime_is_refused(platform):
    cookie = platform.cookie
    ends = clock.now() + platform.settings.session_absolute
    step = platform.settings.session_idle - timedelta(minutes=1)
    while clock.now() + step < ends:  # in use all along
        clock.advance(step)
        assert (await platform.forward(cookie)).status_code == 200
    clock.advance(step)
    assert (await platform.forward(cookie)).status_code == 401


# -- cost -----------------------------------------------------------------------------------


async def test_a_session_or_bearer_answer_is_one_statement_and_last_seen_is_batched(platform):
    _, access = await platform.access_token()
    cookie = platform.cookie
    await platform.forward(cookie)  # any first touch of the session done
    seen = (await Session.get(user_id=platform.alice.id)).last_seen_at
    for headers in (cookie, bearer(access)):
        with QueryCounter() as counter:
            assert (await platform.forward(headers)).status_code == 200
        assert counter.trips == 1, counter.queries
    clock.advance(timedelta(seconds=59))
    await platform.forward(cookie)
    assert (await Session.get(user_id=platform.alice.id)).last_seen_at == seen
    clock.advance(timedelta(seconds=2))
    with QueryCounter() as counter:
        await platform.forward(cookie)
    assert counter.trips == 2  # the read, then the once-a-minute touch
    assert (await Session.get(user_id=platform.alice.id)).last_seen_at > seen


# -- what the application is told -------------------------------------------------------


async def test_values_that_are_not_ascii_are_percent_encoded(platform):
    await User.filter(id=platform.alice.id).update(first_name="Zoë", last_name="山田 100%")
    await groups.create("café, bar")
    await groups.add_member("café, bar", platform.alice)
    headers = told(await platform.forward(platform.cookie))
    assert headers["x-latchkey-name"] == "Zo%C3%AB %E5%B1%B1%E7%94%B0 100%25"
    assert unquote(headers["x-latchkey-name"]) == "Zoë 山田 100%"
    names = headers["x-latchkey-groups"].split(",")
    assert [unquote(name) for name in names] == ["café, bar", "staff"]


async def test_the_language_is_the_users_choice_else_the_browsers(platform):
    french_or_japanese = {"Accept-Language": "fr, ja;q=0.8", **platform.cookie}
    assert told(await platform.forward(french_or_japanese))["x-latchkey-language"] == "ja"
    await User.filter(id=platform.alice.id).update(language="en")
    assert told(await platform.forward(french_or_japanese))["x-latchkey-language"] == "en"


# -- the original request -----------------------------------------------------------------

FORWARDED = {
    "X-Forwarded-Method": "POST",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "app.example.com",
    "X-Forwarded-Uri": "/reports?year=2025&q=a b",
}


async def test_from_a_trusted_proxy_the_sign_in_link_returns_to_the_original_address(
    database_url,
):
    settings = settings_for(database_url, public_url=PUBLIC_URL, trusted_proxies=("203.0.113.7",))
    async with _platform(settings) as trusted:
        answer = await trusted.forward({"X-Original-URL": "https://app.example.com/a?b=1&c=2"})
        login = answer.headers["x-latchkey-login"]
        assert login.startswith(f"{PUBLIC_URL}/login?next=")
        assert parse_qs(urlsplit(login).query) == {"next": ["https://app.example.com/a?b=1&c=2"]}
        answer = await trusted.forward({**FORWARDED, "X-Forwarded-Uri": "/reports?year=2025"})
        assert parse_qs(urlsplit(answer.headers["x-latchkey-login"]).query) == {
            "next": ["https://app.example.com/reports?year=2025"]
        }
        for odd in ("javascript:alert(1)", "/relative", "https://app.example.com/a b", "x" * 3000):
            answer = await trusted.forward({"X-Original-URL": odd})
            assert answer.headers["x-latchkey-login"] == f"{PUBLIC_URL}/login"


async def test_x_forwarded_headers_from_an_untrusted_peer_are_ignored(platform, caplog):
    caplog.set_level(logging.INFO, logger="latchkey")
    answer = await platform.forward({**FORWARDED, "X-Original-URL": "https://evil.example/"})
    assert answer.headers["x-latchkey-login"] == "http://localhost:8000/login"
    assert "evil.example" not in _logged(caplog) and "app.example.com" not in _logged(caplog)
    # Nor do they decide who is signed in.
    assert told(await platform.forward({**FORWARDED, **platform.cookie}))["x-latchkey-user"] == (
        "alice"
    )


async def test_no_secret_reaches_the_log(database_url, caplog):
    caplog.set_level(logging.DEBUG, logger="latchkey")
    settings = settings_for(database_url, trusted_proxies=("203.0.113.7",))
    async with _platform(settings) as trusted:
        _, access = await trusted.access_token()
        _, refresh = await trusted.refresh_token()
        original = {"X-Original-URL": "https://app.example.com/page?api_key=app-secret-123"}
        secrets = [access, refresh, PASSWORD, "app-secret-123", trusted.cookie["Cookie"]]
        for headers in (bearer(access), basic("alice", refresh), basic("alice", PASSWORD)):
            await trusted.forward({**headers, **original})
        await trusted.forward({**trusted.cookie, **original}, group="admins")
        await trusted.forward(original)
    logged = _logged(caplog)
    assert "forward auth refused" in logged and "app.example.com/page" in logged
    for secret in secrets:
        assert secret.split("=", 1)[-1] not in logged


def _logged(caplog: pytest.LogCaptureFixture) -> str:
    """Every line as the service writes it, with its fields."""
    return "\n".join(JsonFormatter().format(record) for record in caplog.records)


async def test_a_disabled_account_stops_passing_at_the_next_request(platform):
    _, access = await platform.access_token()
    _, refresh = await platform.refresh_token()
    for credentials in (platform.cookie, bearer(access), basic("alice", refresh)):
        assert (await platform.forward(credentials)).status_code == 200
    await User.filter(id=platform.alice.id).update(disabled_at=clock.now())
    for credentials in (platform.cookie, bearer(access), basic("alice", refresh)):
        assert (await platform.forward(credentials)).status_code == 401


async def test_administrators_scopes_stop_when_the_owner_is_no_longer_one(platform):
    await User.filter(id=platform.alice.id).update(account_type="ADMINISTRATOR")
    _, access = await platform.access_token(["admin:read", "account:read"])
    answer = await platform.forward(bearer(access), scope="admin:read")
    assert answer.status_code == 200 and "admin:read" in answer.headers["x-latchkey-scopes"]
    await User.filter(id=platform.alice.id).update(account_type="USER")
    assert (await platform.forward(bearer(access), scope="admin:read")).status_code == 403
    assert (await platform.forward(bearer(access))).headers["x-latchkey-scopes"] == "account:read"
