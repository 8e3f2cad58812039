"""The OAuth 2.0 endpoints: token (RFC 6749), revocation (RFC 7009), introspection (RFC 7662)."""

from __future__ import annotations

import base64
import re
from datetime import timedelta

import pytest
from prometheus_client import REGISTRY

from backend.audit.models import SecurityEvent
from backend.infra import metrics
from backend.kernel import clock
from backend.kernel.client_info import ClientInfo
from backend.serviceclients import service as service_clients
from backend.tokens import credentials as api_credentials
from backend.tokens.models import AccessToken, ApiCredential
from tests.helpers import PASSWORD, GraphQL, QueryCounter, exchange, issue_token, make_user

GENERATE = """
mutation($password: String!) {
  generateApiCredentials(input: {password: $password}) {
    apiCredentials { clientId createdAt lastUsedAt }
    clientId clientSecret
    userErrors { field code message }
  }
}
"""
REMOVE = """
mutation($clientId: String!) {
  removeApiCredentials(input: {clientId: $clientId}) { removedClientId userErrors { field code } }
}
"""


@pytest.fixture
async def credentials(gql, alice) -> tuple[str, str]:
    data = (await gql(GENERATE, {"password": PASSWORD}))["generateApiCredentials"]
    assert data["userErrors"] == []
    return data["clientId"], data["clientSecret"]


def basic(client_id: str, secret: str) -> dict[str, str]:
    encoded = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {encoded}"}


async def client_credentials(client, client_id, secret, **form):
    return await client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", **form},
        headers=basic(client_id, secret),
    )


def _grants_counted() -> dict[str, float]:
    return {
        outcome: REGISTRY.get_sample_value(
            "latchkey_token_grants_total",
            {"grant_type": "client_credentials", "outcome": outcome},
        )
        or 0.0
        for outcome in metrics.TOKEN_OUTCOMES
    }


def error_of(response) -> tuple[int, str]:
    assert response.headers["cache-control"] == "no-store"
    return response.status_code, response.json()["error"]


# -- /oauth/token errors (RFC 6749 §5.2) ------------------------------------------


async def test_missing_grant_type_is_invalid_request(client):
    assert error_of(await client.post("/oauth/token", data={})) == (400, "invalid_request")


async def test_unknown_grant_type_is_unsupported(client):
    response = await client.post(
        "/oauth/token", data={"grant_type": "password", "username": "a", "password": "b"}
    )
    assert error_of(response) == (400, "unsupported_grant_type")


async def test_a_parameter_sent_twice_is_invalid_request(client):
    response = await client.post(
        "/oauth/token",
        content="grant_type=refresh_token&grant_type=refresh_token&refresh_token=x",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert error_of(response) == (400, "invalid_request")


async def test_json_bodies_are_invalid_request(client):
    response = await client.post("/oauth/token", json={"grant_type": "refresh_token"})
    assert error_of(response) == (400, "invalid_request")


async def test_missing_refresh_token_is_invalid_request(client):
    response = await client.post("/oauth/token", data={"grant_type": "refresh_token"})
    assert error_of(response) == (400, "invalid_request")


@pytest.mark.parametrize("token", ["lk_rt_" + "A" * 38, "garbage", "lk_rt_short"])
async def test_unknown_or_malformed_refresh_tokens_are_invalid_grant(client, token):
    assert error_of(await exchange(client, token)) == (400, "invalid_grant")


async def test_an_access_token_is_not_a_refresh_token(gql, client, alice):
    access = (await exchange(client, (await issue_token(gql))["secret"])).json()["access_token"]
    assert error_of(await exchange(client, access)) == (400, "invalid_grant")


async def test_scopes_are_refused(gql, client, alice):
    secret = (await issue_token(gql))["secret"]
    response = await client.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": secret, "scope": "admin"},
    )
    assert error_of(response) == (400, "invalid_scope")


async def test_get_is_not_allowed(client):
    assert (await client.get("/oauth/token")).status_code == 405
    assert (await client.get("/oauth/introspect")).status_code == 405


# -- client_credentials ----------------------------------------------------------


async def test_client_credentials_with_basic_auth_return_a_working_access_token(
    gql, client, credentials
):
    client_id, secret = credentials
    assert client_id.startswith("lk_ci_") and secret.startswith("lk_cs_")
    response = await client_credentials(client, client_id, secret)
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 300
    client.cookies.clear()
    viewer = await client.post(
        "/graphql",
        json={"query": "{ viewer { username apiCredentials { clientId lastUsedAt } } }"},
        headers={"Authorization": f"Bearer {body['access_token']}"},
    )
    data = viewer.json()["data"]["viewer"]
    assert data["username"] == "alice"
    assert data["apiCredentials"]["clientId"] == client_id
    assert data["apiCredentials"]["lastUsedAt"] is not None


async def test_client_credentials_in_the_form_work_too(client, credentials):
    client_id, secret = credentials
    response = await client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )
    assert response.status_code == 200


async def test_a_wrong_client_secret_is_invalid_client_with_a_basic_challenge(client, credentials):
    client_id, _ = credentials
    response = await client_credentials(client, client_id, "lk_cs_" + "A" * 38)
    assert error_of(response) == (401, "invalid_client")
    assert response.headers["www-authenticate"].startswith("Basic")
    unknown = await client_credentials(client, "lk_ci_nobody", "whatever")
    assert error_of(unknown) == (401, "invalid_client")
    missing = await client.post("/oauth/token", data={"grant_type": "client_credentials"})
    assert error_of(missing) == (401, "invalid_client")


async def test_repeated_wrong_secrets_lock_the_client_id_then_it_recovers(
    client, credentials, metrics_served
):
    client_id, secret = credentials
    for _ in range(5):
        await client_credentials(client, client_id, "wrong")
    counted = _grants_counted()
    locked = await client_credentials(client, client_id, secret)
    assert locked.status_code == 429 and "Retry-After" in locked.headers
    # The lock, not the answer's status code, says why: throttled, not a failed grant.
    assert _grants_counted() == {**counted, "throttled": counted["throttled"] + 1}
    clock.advance(timedelta(seconds=31))
    assert (await client_credentials(client, client_id, secret)).status_code == 200


async def test_regenerating_stops_the_old_secret_and_its_access_tokens_at_once(
    gql, client, credentials
):
    client_id, old_secret = credentials
    old_access = (await client_credentials(client, client_id, old_secret)).json()["access_token"]
    data = (await gql(GENERATE, {"password": PASSWORD}))["generateApiCredentials"]
    assert data["clientId"] == client_id and data["clientSecret"] != old_secret
    assert error_of(await client_credentials(client, client_id, old_secret))[1] == "invalid_client"
    assert (await client_credentials(client, client_id, data["clientSecret"])).status_code == 200
    response = await client.post(
        "/graphql",
        json={"query": "{ viewer { username } }"},
        headers={"Authorization": f"Bearer {old_access}"},
    )
    assert response.status_code == 401
    assert await ApiCredential.all().count() == 1


async def test_an_exchange_that_checked_the_old_secret_before_a_regeneration_gets_nothing(
    gql, credentials
):
    client_id, old_secret = credentials
    checked = await api_credentials.authenticate(client_id, old_secret, ClientInfo())
    await gql(GENERATE, {"password": PASSWORD})  # commits between the check and the insert
    with pytest.raises(api_credentials.ClientRefused):
        await api_credentials.issue_access_token_for(checked, timedelta(minutes=5))
    assert not await AccessToken.exists()


async def test_generating_needs_the_password(gql, alice):
    data = (await gql(GENERATE, {"password": "wrong password"}))["generateApiCredentials"]
    assert data["clientSecret"] is None
    assert [e["code"] for e in data["userErrors"]] == ["INVALID_CREDENTIALS"]


async def test_removing_credentials_stops_their_access_tokens(gql, client, credentials):
    client_id, secret = credentials
    access = (await client_credentials(client, client_id, secret)).json()["access_token"]
    data = await gql(REMOVE, {"clientId": client_id})
    assert data["removeApiCredentials"] == {"removedClientId": client_id, "userErrors": []}
    response = await client.post(
        "/graphql",
        json={"query": "{ viewer { username } }"},
        headers={"Authorization": f"Bearer {access}"},
    )
    assert response.status_code == 401
    assert error_of(await client_credentials(client, client_id, secret))[1] == "invalid_client"
    assert (await gql("{ viewer { apiCredentials { clientId } } }"))["viewer"] == {
        "apiCredentials": None
    }
    kinds = set(await SecurityEvent.all().values_list("kind", flat=True))
    assert {"api_credentials.generated", "api_credentials.removed"} <= kinds


async def test_another_users_credentials_cannot_be_removed(gql, new_client, settings, credentials):
    client_id, _ = credentials
    await make_user(settings, "mallory")
    async with new_client() as other:
        mallory = GraphQL(other)
        await mallory.sign_in("mallory")
        data = await mallory(REMOVE, {"clientId": client_id})
    assert data["removeApiCredentials"]["userErrors"] == [
        {"field": "clientId", "code": "NOT_FOUND"}
    ]
    assert await ApiCredential.filter(client_id=client_id).exists()


async def test_an_overlong_client_id_is_not_found_never_an_unexpected_error(gql, alice):
    data = await gql(REMOVE, {"clientId": "7" * 1000})
    assert data["removeApiCredentials"]["userErrors"] == [
        {"field": "clientId", "code": "NOT_FOUND"}
    ]


# -- /oauth/revoke (RFC 7009) ----------------------------------------------------


async def test_revoking_a_refresh_token_stops_it_and_its_access_tokens(gql, client, alice):
    secret = (await issue_token(gql))["secret"]
    access = (await exchange(client, secret)).json()["access_token"]
    response = await client.post("/oauth/revoke", data={"token": secret})
    assert response.status_code == 200
    assert error_of(await exchange(client, secret)) == (400, "invalid_grant")
    assert not await AccessToken.exists()
    assert access


async def test_revoking_an_access_token_stops_only_that_one(gql, client, alice):
    secret = (await issue_token(gql))["secret"]
    first = (await exchange(client, secret)).json()["access_token"]
    second = (await exchange(client, secret)).json()["access_token"]
    assert (await client.post("/oauth/revoke", data={"token": first})).status_code == 200
    client.cookies.clear()
    query = {"query": "{ viewer { username } }"}
    assert (
        await client.post("/graphql", json=query, headers={"Authorization": f"Bearer {first}"})
    ).status_code == 401
    assert (
        await client.post("/graphql", json=query, headers={"Authorization": f"Bearer {second}"})
    ).status_code == 200


async def test_revoking_an_unknown_token_is_still_200(client):
    response = await client.post("/oauth/revoke", data={"token": "lk_rt_unknown"})
    assert response.status_code == 200 and response.content == b""
    assert error_of(await client.post("/oauth/revoke", data={})) == (400, "invalid_request")


# -- /oauth/introspect (RFC 7662) -----------------------------------------------


@pytest.fixture
async def service_client(app) -> tuple[str, str]:
    created = await service_clients.create("platform")
    return created.client.client_id, created.secret


async def test_introspection_describes_live_tokens_to_service_clients(
    gql, client, alice, service_client
):
    client_id, client_secret = service_client
    refresh = (await issue_token(gql, days=7))["secret"]
    access = (await exchange(client, refresh)).json()["access_token"]
    headers = basic(client_id, client_secret)
    body = (await client.post("/oauth/introspect", data={"token": access}, headers=headers)).json()
    assert body["active"] is True and body["sub"] == str(alice.id) and body["username"] == "alice"
    assert body["token_type"] == "Bearer" and body["email"] == "alice@example.com"
    assert body["account_type"] == "USER" and body["groups"] == [] and body["zoneinfo"] == "UTC"
    assert "aud" not in body and "sid" not in body  # no application, no session behind it
    assert body["exp"] - int(clock.now().timestamp()) in range(295, 301)
    with QueryCounter() as counter:
        answer = await client.post("/oauth/introspect", data={"token": refresh}, headers=headers)
    body = answer.json()
    assert body["active"] is True and body["token_type"] == "refresh_token"
    assert body["sub"] == str(alice.id) and body["name"] == "alice"
    # The token and its owner's name come in one statement.
    reads_token = [q for q in counter.queries if "refresh_tokens" in q]
    assert len(reads_token) == 1
    reads_users = [q for q in counter.queries if re.search(r'(FROM|JOIN) "?users\b', q)]
    assert reads_users == reads_token


async def test_introspection_says_only_inactive_for_anything_else(
    gql, client, alice, service_client
):
    client_id, client_secret = service_client
    headers = basic(client_id, client_secret)
    refresh = (await issue_token(gql, days=7))["secret"]
    access = (await exchange(client, refresh)).json()["access_token"]
    clock.advance(timedelta(minutes=6))
    for token in [access, "lk_at_" + "B" * 38, "nonsense"]:
        response = await client.post("/oauth/introspect", data={"token": token}, headers=headers)
        assert response.json() == {"active": False}


async def test_introspection_needs_client_authentication(client):
    response = await client.post("/oauth/introspect", data={"token": "x"})
    assert error_of(response) == (401, "invalid_client")
