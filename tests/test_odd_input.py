"""Odd input gets a clear answer (a userError, an OAuth error, a form error), never a 500.

NUL cannot be stored in PostgreSQL text, a lone surrogate cannot be encoded at all, and
ids past BIGINT or spelled with non-ASCII digits cannot name a row. Every case runs on
SQLite and on PostgreSQL.
"""

from __future__ import annotations

import base64
import json
import logging

import pytest

from backend.accounts import groups
from backend.accounts.models import Group
from backend.app.factory import create_app
from backend.auth.throttle.models import ThrottleCounter
from backend.kernel.errors import DomainError
from tests.helpers import PASSWORD, SIGN_IN, GraphQL, make_user, submit
from tests.test_account_pages import csrf
from tests.test_pages import sign_in
from tests.twofactor_helpers import enable_totp

ODD_IDS = ["12345678901234567890", "9223372036854775808", "²", "١٢٣", "0", "-1", "1\x00", ""]
GROUP = """
mutation Group($name: String!) {
  joinGroup(input: {name: $name}) { group { name } userErrors { field code message } }
  leaveGroup(input: {name: $name}) { group { name } userErrors { field code message } }
}
"""


def error_of(payload: dict) -> tuple[str | None, str]:
    (error,) = payload["userErrors"]
    return error["field"], error["code"]


async def test_sign_in_with_nul_in_the_username_is_an_unknown_user_and_counts(gql, alice):
    unknown = (await gql(SIGN_IN, {"username": "nobody", "password": PASSWORD}))["signIn"]
    for _ in range(5):
        nul = (await gql(SIGN_IN, {"username": "alice\x00", "password": PASSWORD}))["signIn"]
        assert nul["userErrors"] == unknown["userErrors"]
        assert nul["userErrors"][0]["code"] == "INVALID_CREDENTIALS"
    # The failures were counted: the name is now locked like any other.
    locked = (await gql(SIGN_IN, {"username": "alice\x00", "password": PASSWORD}))["signIn"]
    assert locked["userErrors"][0]["code"] == "RATE_LIMITED"
    # ...and alice herself is not: the odd name is not hers.
    assert (await gql.sign_in("alice"))["status"] == "SIGNED_IN"


async def test_group_names_with_nul_are_validation_errors(gql, alice):
    await groups.create("Friends", self_service=True)
    data = await gql(GROUP, {"name": "Friends\x00"})
    assert error_of(data["joinGroup"]) == ("name", "VALIDATION_FAILED")
    assert error_of(data["leaveGroup"]) == ("name", "VALIDATION_FAILED")


@pytest.mark.parametrize("invisible", ["\u202e", "\u200b"], ids=["bidi-override", "zero-width"])
async def test_group_names_with_invisible_characters_are_refused(app, invisible):
    """An operator's group name follows the rule of every name a user gives."""
    with pytest.raises(DomainError) as refused:
        await groups.create(f"Op{invisible}s")
    problem = refused.value.problems[0]
    assert (problem.code, problem.field) == ("VALIDATION_FAILED", "name")
    assert not await Group.exists()


async def test_a_client_id_with_nul_is_a_validation_error(gql, alice):
    data = await gql(
        """mutation { removeApiCredentials(input: {clientId: "lk_ci_\\u0000"}) {
             removedClientId userErrors { field code message } } }"""
    )
    payload = data["removeApiCredentials"]
    assert payload["removedClientId"] is None
    assert error_of(payload) == ("clientId", "VALIDATION_FAILED")


async def test_token_names_with_nul_or_a_lone_surrogate_are_refused(client, alice):
    # Sent as ASCII JSON, the way a client can deliver a lone surrogate.
    for name in ("deploy\x00", "deploy \ud800"):
        body = json.dumps(
            {
                "query": """mutation($name: String!, $password: String!) {
                  issueToken(input: {name: $name, password: $password}) {
                    secret userErrors { field code message } } }""",
                "variables": {"name": name, "password": PASSWORD},
            }
        )
        response = await client.post(
            "/graphql", content=body, headers={"Content-Type": "application/json"}
        )
        payload = response.json()["data"]["issueToken"]
        assert payload["secret"] is None
        assert error_of(payload) == ("name", "VALIDATION_FAILED")


@pytest.mark.parametrize("odd_id", ODD_IDS)
async def test_odd_ids_name_nothing(gql, alice, odd_id):
    for mutation in ("revokeSession", "forgetTrustedDevice", "deleteToken"):
        data = await gql(
            f"""mutation($id: ID!) {{ {mutation}(input: {{id: $id}}) {{
                  userErrors {{ field code message }} }} }}""",
            {"id": odd_id},
        )
        assert error_of(data[mutation]) == ("id", "NOT_FOUND"), mutation


SECURITY_LOG = """
query($after: String) {
  viewer { securityEvents(first: 1, after: $after) {
    edges { cursor node { kind } } pageInfo { hasNextPage endCursor } } }
}
"""


@pytest.mark.parametrize(
    "cursor",
    [
        base64.urlsafe_b64encode(b"event:12345678901234567890").decode(),
        base64.urlsafe_b64encode("event:²".encode()).decode(),
        base64.urlsafe_b64encode(b"event:\x00").decode(),
        "not base64 at all \x00",
        "²",
    ],
)
async def test_a_cursor_that_names_no_event_gives_an_empty_page(gql, alice, cursor):
    first = (await gql(SECURITY_LOG))["viewer"]["securityEvents"]
    assert first["edges"]  # the sign-in is there
    page = (await gql(SECURITY_LOG, {"after": cursor}))["viewer"]["securityEvents"]
    assert page == {"edges": [], "pageInfo": {"hasNextPage": False, "endCursor": None}}


ODD_CLIENT_IDS = ["lk_ci_" + "A" * 35, "lk_ci_\x00", "lk_ci_\x1b[31m", "lk_ci_é"]


@pytest.mark.parametrize("client_id", ODD_CLIENT_IDS)
@pytest.mark.parametrize("path", ["/oauth/token", "/oauth/introspect"])
async def test_odd_client_ids_are_invalid_client_before_any_lookup(client, path, client_id):
    form = {"grant_type": "client_credentials", "token": "lk_at_x"}
    in_form = await client.post(
        path, data={**form, "client_id": client_id, "client_secret": "lk_cs_x"}
    )
    basic = base64.b64encode(f"{client_id}:lk_cs_x".encode()).decode()
    in_header = await client.post(path, data=form, headers={"Authorization": f"Basic {basic}"})
    for response in (in_form, in_header):
        assert response.status_code == 401, response.text
        assert response.json()["error"] == "invalid_client"
    # Refused before authentication: no failure counter was even looked for or written.
    assert await ThrottleCounter.all().count() == 0


# -- pages ---------------------------------------------------------------------------


@pytest.fixture
async def page(client, settings):
    await make_user(settings, "alice")
    await sign_in(client)
    return await client.get("/account")


async def test_the_policy_form_without_a_policy_shows_a_form_error(client, page):
    await enable_totp(GraphQL(client))
    for form in ({}, {"policy": "SOMETIMES"}, {"policy": "\x00"}):
        response = await submit(
            client,
            "/account/security/two-factor/policy",
            data={"csrf_token": csrf(page.text), "password": PASSWORD, **form},
        )
        assert "Choose when to ask for the code." in response.text


async def test_the_setup_form_without_a_method_shows_a_form_error(client, page):
    response = await submit(
        client,
        "/account/security/two-factor/start",
        data={"csrf_token": csrf(page.text), "password": PASSWORD},
    )
    assert "Choose a method." in response.text


@pytest.mark.parametrize("odd_id", ["12345678901234567890", "²", "0"])
async def test_odd_ids_in_page_paths_come_back_to_the_page_with_a_message(client, page, odd_id):
    token = csrf(page.text)
    for path in (
        f"/account/sessions/{odd_id}/revoke",
        f"/account/security/two-factor/devices/{odd_id}/forget",
        f"/account/tokens/{odd_id}/delete",
    ):
        response = await submit(client, path, data={"csrf_token": token, "confirm": "yes"})
        assert "Nothing with this id exists." in response.text, path


async def test_every_page_form_answers_missing_and_odd_fields_without_a_500(settings, client, page):
    forms = [
        route.path.replace("{id}", "99")
        for route in create_app(settings).routes
        if "POST" in (getattr(route, "methods", None) or ())
        and not route.path.startswith(("/oauth", "/graphql"))
    ]
    assert "/account/security/two-factor/policy" in forms and "/login" in forms
    odd = "\x00²" + "9" * 20
    fields = ["name", "policy", "method", "code", "otp", "password", "client_id", "challenge"]
    fields += ["username", "expiry", "custom_date", "confirm", "email", "time_zone"]
    # Signing out goes last: every other form needs the session.
    for path in sorted(forms, key=lambda path: path == "/logout"):
        for form in ({}, dict.fromkeys(fields, odd)):
            current = await client.get("/account")
            assert current.status_code == 200, (path, current.status_code)
            response = await client.post(path, data={"csrf_token": csrf(current.text), **form})
            assert response.status_code < 500, (path, form, response.text)
            if path == "/logout":
                break


# -- bodies that cannot be read ------------------------------------------------------

_VIEWER_WITH = b'{"query": "{ viewer { username } }", "variables": {"x": %s}}'
UNREADABLE_GRAPHQL_BODIES = {
    "not UTF-8": _VIEWER_WITH % b'"\xff\xfe"',
    "nested 1,000 deep": _VIEWER_WITH % (b"[" * 1_000 + b"]" * 1_000),
    "nested 100,000 deep": _VIEWER_WITH % (b"[" * 100_000 + b"]" * 100_000),
}


@pytest.mark.parametrize("body", UNREADABLE_GRAPHQL_BODIES.values(), ids=UNREADABLE_GRAPHQL_BODIES)
async def test_graphql_bodies_that_cannot_be_read_are_400_without_a_traceback(client, caplog, body):
    response = await client.post(
        "/graphql", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400, response.text
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert "UTF-8" in error["message"]
    assert not [record for record in caplog.records if record.exc_info]
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]


@pytest.mark.parametrize("token", [b"lk_rt_\xff\xfe", b"lk_rt_%FF%FE"], ids=["raw", "percent"])
@pytest.mark.parametrize("path", ["/oauth/token", "/oauth/revoke", "/oauth/introspect"])
async def test_oauth_forms_that_are_not_utf8_are_invalid_request(client, caplog, path, token):
    body = b"grant_type=refresh_token&refresh_token=" + token + b"&token=" + token
    response = await client.post(
        path, content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_request"
    assert not [record for record in caplog.records if record.exc_info]
