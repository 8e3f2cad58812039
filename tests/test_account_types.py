"""Account types: USER and ADMINISTRATOR, the command line that sets them, and the rule
that keeps one working administrator once there is one, however many try at once."""

from __future__ import annotations

import asyncio

import pytest

from backend.accounts import administrators
from backend.accounts.models import ADMINISTRATOR, USER, User
from backend.administration import accounts as administration
from backend.audit.models import OperatorAction, SecurityEvent
from backend.kernel.errors import DomainError
from tests.admin_helpers import errors, make_administrator
from tests.conftest import settings_for
from tests.helpers import PASSWORD, GraphQL, make_user
from tests.test_cli import latchkey

DEMOTE = """mutation($u: ID!) { updateUser(input: {userId: $u, accountType: USER}) {
  user { accountType } userErrors { field code } } }"""
DISABLE = """mutation($u: ID!) { disableUser(input: {userId: $u}) {
  user { status } userErrors { field code } } }"""


@pytest.fixture
def cli_settings(database_url):
    return settings_for(database_url)


def test_the_command_line_creates_an_administrator_and_changes_account_types(cli_settings, smtp):
    settings = settings_for(cli_settings.database_url)
    created = latchkey(
        settings,
        "user",
        "create",
        "ada",
        "--email",
        "ada@example.com",
        "--password-stdin",
        "--account-type",
        "ADMINISTRATOR",
        stdin=PASSWORD + "\n",
    )
    assert created.returncode == 0, created.stderr
    assert created.stdout.strip() == "Created administrator ada."
    plain = latchkey(
        settings, "user", "create", "bob", "--email", "bob@example.com", "--password-stdin",
        stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert plain.stdout.strip() == "Created user bob."

    made = latchkey(settings, "user", "set-account-type", "bob", "ADMINISTRATOR")
    assert made.returncode == 0, made.stderr
    assert "bob is now an administrator" in made.stdout
    again = latchkey(settings, "user", "set-account-type", "bob", "ADMINISTRATOR")
    assert again.returncode == 0 and "already" in again.stdout
    assert latchkey(settings, "user", "set-account-type", "ada", "USER").returncode == 0
    # bob is the last administrator now: he stays one.
    last = latchkey(settings, "user", "set-account-type", "bob", "USER")
    assert last.returncode == 1
    assert last.stderr.strip() == (
        "latchkey: This is the last administrator whose account works. "
        "Make another administrator first."
    )
    wrong = latchkey(settings, "user", "set-account-type", "bob", "ROOT")
    assert wrong.returncode == 2
    nobody = latchkey(settings, "user", "set-account-type", "nobody", "USER")
    assert nobody.returncode == 1 and "there is no user nobody" in nobody.stderr


async def test_the_command_line_change_is_in_the_operator_log_and_the_users_own(app, settings):
    bob = await make_user(settings, "bob")
    from backend.administration.authority import COMMAND_LINE
    from backend.app.wiring import build_services

    await administration.set_account_type(
        build_services(settings), COMMAND_LINE, bob, ADMINISTRATOR
    )
    entry = await OperatorAction.get(user_id=bob.id)
    assert (entry.action, entry.administrator_id, entry.username) == (
        "user.made_administrator",
        None,
        "bob",
    )
    event = await SecurityEvent.get(user_id=bob.id, kind="administrator.made_administrator")
    assert event.details["administrator"] == ""


async def test_viewer_tells_the_account_type(gql, settings, alice):
    assert (await gql("{ viewer { accountType } }"))["viewer"] == {"accountType": "USER"}
    await User.filter(id=alice.id).update(account_type=ADMINISTRATOR)
    assert (await gql("{ viewer { accountType } }"))["viewer"] == {"accountType": "ADMINISTRATOR"}


async def test_the_last_working_administrator_can_be_neither_demoted_nor_disabled(gql, settings):
    root = await make_administrator(settings, "root1")
    await gql.sign_in("root1")
    me = str(root.id)
    assert errors((await gql(DEMOTE, {"u": me}))["updateUser"]) == [
        ("accountType", "LAST_ADMINISTRATOR")
    ]
    assert errors((await gql(DISABLE, {"u": me}))["disableUser"]) == [(None, "LAST_ADMINISTRATOR")]
    assert (await User.get(id=root.id)).account_type == ADMINISTRATOR
    # A second administrator, but a disabled one, does not count.
    other = await make_administrator(settings, "root2")
    await User.filter(id=other.id).update(disabled_at=root.created_at)
    assert errors((await gql(DEMOTE, {"u": me}))["updateUser"]) == [
        ("accountType", "LAST_ADMINISTRATOR")
    ]
    # A working one does: root1 may now step down.
    await User.filter(id=other.id).update(disabled_at=None)
    answer = (await gql(DEMOTE, {"u": me}))["updateUser"]
    assert answer["userErrors"] == [] and answer["user"] == {"accountType": "USER"}


async def test_demoting_a_user_who_is_no_administrator_changes_nothing(app, settings):
    bob = await make_user(settings, "bob")
    assert await administrators.set_account_type(bob, USER) is False
    # No administrator exists at all: the rule does not stand in the way of anyone.
    assert await administrators.disable(bob, "") is True


async def _slowed(monkeypatch) -> None:
    """Hold each change's transaction open a moment after its guarded statement, as a busy
    database would: a second change overlaps the first."""
    from backend.administration import accounts as module

    original = module.record_action

    async def slow(*args, **kwargs):
        await asyncio.sleep(0.3)
        return await original(*args, **kwargs)

    monkeypatch.setattr(module, "record_action", slow)


async def test_two_administrators_demoting_each_other_at_once_leave_one(
    app, new_client, settings, monkeypatch
):
    one = await make_administrator(settings, "root1")
    two = await make_administrator(settings, "root2")
    async with new_client() as first, new_client() as second:
        gql_one, gql_two = GraphQL(first), GraphQL(second)
        await gql_one.sign_in("root1")
        await gql_two.sign_in("root2")
        await _slowed(monkeypatch)
        answers = await asyncio.gather(
            gql_one(DEMOTE, {"u": str(two.id)}), gql_two(DEMOTE, {"u": str(one.id)})
        )
    outcomes = sorted(str(errors(answer["updateUser"])) for answer in answers)
    assert outcomes == ["[('accountType', 'LAST_ADMINISTRATOR')]", "[]"]
    assert await User.filter(account_type=ADMINISTRATOR).count() == 1


async def test_two_disables_of_the_last_two_administrators_at_once_leave_one(
    app, settings, monkeypatch
):
    from backend.administration.authority import COMMAND_LINE
    from backend.app.wiring import build_services

    services = build_services(settings)
    one = await make_administrator(settings, "root1")
    two = await make_administrator(settings, "root2")
    await _slowed(monkeypatch)
    results = await asyncio.gather(
        administration.disable_user(services, COMMAND_LINE, one.id),
        administration.disable_user(services, COMMAND_LINE, two.id),
        return_exceptions=True,
    )
    refused = [r for r in results if isinstance(r, DomainError)]
    assert len(refused) == 1 and refused[0].problems[0].code == "LAST_ADMINISTRATOR"
    assert await User.filter(account_type=ADMINISTRATOR, disabled_at=None).count() == 1
