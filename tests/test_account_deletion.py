"""Deleting an account: scheduled with the username typed again, cancelled by the emailed
link, carried out by the background job once due (or at once); every table's rows of the
account gone, the security log kept under a pseudonym without address or device, the
username held, the platform told."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from tortoise import Tortoise
from tortoise.fields.relational import ForeignKeyFieldInstance, OneToOneFieldInstance

from backend.accounts import groups
from backend.accounts.models import HeldUsername, User
from backend.app.wiring import build_services
from backend.audit.models import OperatorAction, SecurityEvent
from backend.auth.factors.models import TrustedDevice
from backend.events import endpoints
from backend.events.models import WebhookDelivery
from backend.kernel import clock
from backend.kernel.crypto import keyed_digest
from backend.kernel.errors import DomainError
from backend.kernel.secret_box import SecretBox
from backend.lifecycle import deletion
from backend.oidc import clients
from backend.oidc.models import ApplicationAccess
from tests.admin_helpers import MUTATIONS as ADMIN_MUTATIONS
from tests.admin_helpers import errors, make_administrator
from tests.conftest import _client, settings_for, smtp_settings
from tests.helpers import PASSWORD, GraphQL, issue_token, make_user
from tests.recovery_helpers import last_mail
from tests.twofactor_helpers import enable_totp, oathtool

SCHEDULE = """mutation($c: String!, $p: String, $o: String) {
  scheduleAccountDeletion(input: {confirmation: $c, password: $p, code: $o}) {
    deletionScheduledAt userErrors { field code message } } }"""
CANCEL = """mutation($t: String!) { cancelAccountDeletion(input: {token: $t}) {
  userErrors { field code } } }"""
GENERATE = """mutation { generateApiCredentials(input: {}) { clientId clientSecret
  userErrors { code } } }"""
DELETE_USER = """mutation($u: ID!) { deleteUser(input: {userId: $u}) {
  userErrors { field code } } }"""
CANCEL_LINK = "/account-deletion/cancel/"


@pytest.fixture
def settings(database_url, smtp):
    return settings_for(database_url, smtp=smtp_settings(smtp.port))


def cancel_token(smtp, address="alice@example.com") -> str:
    text = last_mail(smtp, address, subject="Your Latchkey account will be deleted")
    return text.split(CANCEL_LINK, 1)[1].split()[0]


def problems(payload):
    return [(error["field"], error["code"]) for error in payload["userErrors"]]


async def rows_naming(user_id: int, email: str, username: str) -> dict[str, int]:
    """Every table's rows that hold the account's id (in a user column), its email address
    or its username anywhere in their text."""
    connection = Tortoise.get_connection("default")
    found: dict[str, int] = {}
    for model in Tortoise.apps["models"].values():
        table = model._meta.db_table
        rows = await connection.execute_query_dict(f'SELECT * FROM "{table}"')  # noqa: S608
        for row in rows:
            for column, value in row.items():
                named = column in ("user_id", "administrator_id") and value == user_id
                text = str(value)
                if named or email in text or f'"{username}"' in text or text == username:
                    found[f"{table}.{column}"] = found.get(f"{table}.{column}", 0) + 1
    return found


async def everything_of(gql: GraphQL, username: str = "alice") -> list[str]:
    """Every kind of record an account may have; the secrets made."""
    await groups.create("ops", self_service=True)
    await gql('mutation { joinGroup(input: {name: "ops"}) { userErrors { code } } }')
    issued = await issue_token(gql, "deploy")
    generated = (await gql(GENERATE))["generateApiCredentials"]
    totp, _codes = await enable_totp(gql)
    user = await User.get(username=username)
    await TrustedDevice.create(
        user=user,
        token_hash="d" * 64,
        expires_at=clock.now() + timedelta(days=30),
        ip_address="198.51.100.9",
    )
    application, _secret = await clients.create("Wiki", ["https://wiki.example.com/cb"])
    await ApplicationAccess.create(user=user, client=application, scopes="openid")
    return [issued["secret"], generated["clientSecret"], totp]


async def test_every_model_that_names_a_user_is_handled_by_the_deletion(app):
    handled = {
        model.__name__
        for model in (*deletion.ERASED, *deletion.ENDED, *deletion.PSEUDONYMISED, *deletion.KEPT)
    }
    naming = set()
    for model in Tortoise.apps["models"].values():
        for name, field in model._meta.fields_map.items():
            relational = isinstance(field, ForeignKeyFieldInstance | OneToOneFieldInstance)
            if (relational and field.related_model is User) or name == "user_id":
                naming.add(model.__name__)
    assert "User" not in handled
    assert naming - handled == set(), "say what deleting an account does with these"


async def test_scheduling_ends_everything_and_the_grace_period_ends_in_deletion(
    gql, alice, settings, smtp, client
):
    box = SecretBox(settings.secret_key)
    endpoint, _ = await endpoints.create(box, "http://127.0.0.1:9/hooks", "user.*")
    made = await everything_of(gql)
    totp = made[-1]
    # A wrong confirmation is refused, and nothing happens.
    wrong = await gql(SCHEDULE, {"c": "alicia", "p": PASSWORD, "o": oathtool(totp)})
    assert problems(wrong["scheduleAccountDeletion"]) == [("confirmation", "VALIDATION_FAILED")]
    assert (await gql("{ viewer { username } }"))["viewer"] == {"username": "alice"}

    scheduled = (await gql(SCHEDULE, {"c": " ALICE ", "p": PASSWORD}))["scheduleAccountDeletion"]
    assert scheduled["userErrors"] == []
    assert scheduled["deletionScheduledAt"].startswith(
        (clock.now() + timedelta(days=7)).date().isoformat()
    )
    # Signed out, and nothing of the account works any more.
    assert (await gql("{ viewer { username } }"))["viewer"] is None
    answer = await gql.raw("{ viewer { username } }", Authorization=f"Bearer {made[0]}")
    assert answer.status_code == 401
    user = await User.get(username="alice")
    assert not await ApplicationAccess.filter(user_id=user.id).exists()
    # The right password is told the date; a wrong one learns nothing.
    guessed = await gql.sign_in("alice", "not the password at all")
    assert [e["code"] for e in guessed["userErrors"]] == ["INVALID_CREDENTIALS"]
    refused = await gql.sign_in("alice")
    assert [e["code"] for e in refused["userErrors"]] == ["ACCOUNT_DELETION_SCHEDULED"]
    assert str((clock.now() + timedelta(days=7)).year) in refused["userErrors"][0]["message"]
    token = cancel_token(smtp)
    assert token not in json.dumps(await deletion_rows())

    # The job leaves it alone until the day comes, then deletes it once.
    services = build_services(settings)
    assert await deletion.delete_due(services) == 0
    clock.advance(timedelta(days=7, seconds=1))
    assert await deletion.delete_due(services) == 1
    assert await deletion.delete_due(services) == 0
    assert not await User.filter(id=user.id).exists()
    left = await rows_naming(user.id, "alice@example.com", "alice")
    assert set(left) <= {"held_usernames.username_key", "webhook_deliveries.payload"}, left

    # The platform heard each step; user.deleted names only the id and username. (Read now:
    # once a year passes, housekeeping may prune the deliveries.)
    payloads = [
        json.loads(row.payload)
        for row in await WebhookDelivery.filter(endpoint_id=endpoint.id).order_by("id")
    ]
    deleted = [p for p in payloads if p["type"] == "user.deleted"]
    assert [p["type"] for p in payloads][-2:] == ["user.deletion_scheduled", "user.deleted"]
    assert deleted[0]["data"] == {"user": {"id": str(user.id), "username": "alice"}}

    # The security log stays under the pseudonym, with no address or device.
    name = keyed_digest(settings.secret_key, "deleted-account", str(user.id))
    kept = await SecurityEvent.filter(pseudonym=name)
    assert len(kept) > 3
    assert {row.ip_address for row in kept} == {""} and {row.user_agent for row in kept} == {""}
    assert "account.deletion_scheduled" in {row.kind for row in kept}
    # ...until the retention ends.
    clock.advance(timedelta(days=366))
    assert await deletion.forget_old_log_rows(services) == len(kept)
    assert not await SecurityEvent.filter(pseudonym=name).exists()



async def deletion_rows():
    from backend.accounts.models import DeletionCancelLink

    return [row.token_hash for row in await DeletionCancelLink.all()]


async def test_the_username_is_held_for_90_days(gql, alice, settings):
    await gql(SCHEDULE, {"c": "alice", "p": PASSWORD})
    clock.advance(timedelta(days=8))
    await deletion.delete_due(build_services(settings))
    with pytest.raises(DomainError) as refused:
        await make_user(settings, "Alice", email="new-alice@example.com")
    assert refused.value.problems[0].code == "CONFLICT"
    assert await HeldUsername.filter(username_key="alice").exists()
    clock.advance(timedelta(days=91))
    assert (await make_user(settings, "alice", email="new-alice@example.com")).id


async def test_the_emailed_link_cancels_once_and_what_ended_stays_ended(gql, alice, settings, smtp):
    box = SecretBox(settings.secret_key)
    endpoint, _ = await endpoints.create(box, "http://127.0.0.1:9/hooks", "user.*")
    issued = await issue_token(gql, "deploy")
    await gql(SCHEDULE, {"c": "alice", "p": PASSWORD})
    token = cancel_token(smtp)
    assert problems((await gql(CANCEL, {"t": token + "x"}))["cancelAccountDeletion"]) == [
        ("token", "INVALID_DELETION_TOKEN")
    ]
    assert (await gql(CANCEL, {"t": token}))["cancelAccountDeletion"]["userErrors"] == []
    assert problems((await gql(CANCEL, {"t": token}))["cancelAccountDeletion"]) == [
        ("token", "INVALID_DELETION_TOKEN")
    ]
    assert (await gql.sign_in("alice"))["userErrors"] == []
    answer = await gql.raw("{ viewer { username } }", Authorization=f"Bearer {issued['secret']}")
    assert answer.status_code == 401  # the token ended with the scheduling, and stays ended
    clock.advance(timedelta(days=8))
    assert await deletion.delete_due(build_services(settings)) == 0
    assert await User.filter(username="alice").exists()
    kinds = [row.type for row in await WebhookDelivery.filter(endpoint_id=endpoint.id)]
    assert kinds[-2:] == ["user.deletion_scheduled", "user.deletion_cancelled"]


async def test_a_link_past_the_deletion_is_invalid(gql, alice, settings, smtp):
    await gql(SCHEDULE, {"c": "alice", "p": PASSWORD})
    token = cancel_token(smtp)
    clock.advance(timedelta(days=7, seconds=1))
    assert problems((await gql(CANCEL, {"t": token}))["cancelAccountDeletion"]) == [
        ("token", "INVALID_DELETION_TOKEN")
    ]


async def test_with_no_grace_period_the_account_goes_at_once(database_url, smtp):
    settings = settings_for(database_url, smtp=smtp_settings(smtp.port), account_deletion_days=0)
    from asgi_lifespan import LifespanManager

    from backend.app.factory import create_app

    async with LifespanManager(create_app(settings)) as manager, _client(manager.app) as http:
        gql = GraphQL(http)
        user = await make_user(settings, "alice")
        await gql.sign_in("alice")
        done = (await gql(SCHEDULE, {"c": "alice", "p": PASSWORD}))["scheduleAccountDeletion"]
        assert done["userErrors"] == []
        assert not await User.filter(id=user.id).exists()
        assert (await gql("{ viewer { username } }"))["viewer"] is None
        signed = await gql.sign_in("alice")
        assert [e["code"] for e in signed["userErrors"]] == ["INVALID_CREDENTIALS"]


async def test_self_deletion_can_be_turned_off(database_url):
    settings = settings_for(database_url, self_deletion=False)
    from asgi_lifespan import LifespanManager

    from backend.app.factory import create_app

    async with LifespanManager(create_app(settings)) as manager, _client(manager.app) as http:
        gql = GraphQL(http)
        await make_user(settings, "alice")
        await gql.sign_in("alice")
        done = (await gql(SCHEDULE, {"c": "alice", "p": PASSWORD}))["scheduleAccountDeletion"]
        assert problems(done) == [(None, "FORBIDDEN")]
        assert (await gql("{ viewer { username } }"))["viewer"] == {"username": "alice"}


async def test_the_last_administrator_cannot_delete_themselves(gql, settings):
    await make_administrator(settings, "root1")
    await gql.sign_in("root1")
    done = (await gql(SCHEDULE, {"c": "root1", "p": PASSWORD}))["scheduleAccountDeletion"]
    assert problems(done) == [(None, "LAST_ADMINISTRATOR")]
    me = (await gql("{ viewer { username } }"))["viewer"]
    assert me == {"username": "root1"}
    answer = await gql(DELETE_USER, {"u": str((await User.get(username="root1")).id)})
    assert errors(answer["deleteUser"]) == [(None, "LAST_ADMINISTRATOR")]


async def test_an_administrator_deletes_an_account_at_once(gql, settings, smtp):
    await make_administrator(settings, "root1")
    bob = await make_user(settings, "bob")
    await gql.sign_in("root1")
    assert "deleteUser" in ADMIN_MUTATIONS
    answer = (await gql(DELETE_USER, {"u": str(bob.id)}))["deleteUser"]
    assert answer["userErrors"] == []
    assert not await User.filter(id=bob.id).exists()
    left = await rows_naming(bob.id, "bob@example.com", "bob")
    assert set(left) <= {"held_usernames.username_key"}, left
    entry = await OperatorAction.filter(action="user.deleted").first()
    assert entry.administrator_name == "root1" and entry.username != "bob"
    missing = (await gql(DELETE_USER, {"u": str(bob.id)}))["deleteUser"]
    assert errors(missing) == [("userId", "NOT_FOUND")]


async def test_the_emailed_link_opens_a_page_whose_button_keeps_the_account(
    client, gql, alice, smtp
):
    import re

    from tests.helpers import submit

    await gql(SCHEDULE, {"c": "alice", "p": PASSWORD})
    link = CANCEL_LINK + cancel_token(smtp)
    page = await client.get(link)  # opening it (a mail scanner, say) changes nothing
    assert page.status_code == 200 and "Cancel the deletion" in page.text
    assert (await User.get(username="alice")).deletion_scheduled_at is not None
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    kept = await submit(client, link, data={"csrf_token": csrf})
    assert 'role="status">Your account will not be deleted' in kept.text
    assert (await User.get(username="alice")).deletion_scheduled_at is None
    again = await submit(client, link, data={"csrf_token": csrf})
    assert 'data-error-for="token"' in again.text  # used once
