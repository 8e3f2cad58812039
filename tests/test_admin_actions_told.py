"""Every administrator's action reaches the user it touches: a line in their own security
log naming the administrator, an email in their language with "This wasn't me", and the
platform hears of it (the webhook event) while the operator log keeps it."""

from __future__ import annotations

import json

import pytest

from backend.accounts.models import Group, User
from backend.audit.models import OperatorAction
from backend.auth import lockout
from backend.events import endpoints
from backend.events.models import WebhookDelivery
from backend.kernel.secret_box import SecretBox
from tests.admin_helpers import errors, make_administrator
from tests.conftest import settings_for, smtp_settings
from tests.helpers import GraphQL, make_user
from tests.recovery_helpers import (
    NEW_PASSWORD,
    SECURE_LINK,
    last_mail,
    reset,
    reset_token_in,
)
from tests.twofactor_helpers import enable_totp

LOG = "{ viewer { securityEvents(first: 1) { edges { node { kind description } } } } }"


@pytest.fixture
def settings(database_url, smtp):
    return settings_for(database_url, smtp=smtp_settings(smtp.port))


# name: (document, security log kind, English description, mail subject, operator action,
# webhook event)
ACTIONS = {
    "updateUser": (
        'updateUser(input: {userId: $u, firstName: "Robert", groups: ["ops"]})',
        "administrator.group_added",
        "An administrator (root1) added you to a group: group \u201cops\u201d",
        "An administrator changed your account",
        "group.member_added",
        "group.member_added",
    ),
    "makeAdministrator": (
        "updateUser(input: {userId: $u, accountType: ADMINISTRATOR})",
        "administrator.made_administrator",
        "An administrator (root1) made you an administrator",
        "You are now an administrator",
        "user.made_administrator",
        "user.updated",
    ),
    "disableUser": (
        'disableUser(input: {userId: $u, reason: "on leave"})',
        "administrator.disabled",
        "An administrator (root1) disabled your account",
        "Your account was disabled",
        "user.disabled",
        "user.disabled",
    ),
    "unlockUser": (
        "unlockUser(input: {userId: $u})",
        "administrator.unlocked",
        "An administrator (root1) unlocked your account",
        "Your account was unlocked",
        "user.unlocked",
        "user.unlocked",
    ),
    "resetUserTwoFactor": (
        "resetUserTwoFactor(input: {userId: $u})",
        "administrator.two_factor_reset",
        "An administrator (root1) turned off your two-factor authentication",
        "Two-factor authentication was reset",
        "user.two_factor_reset",
        "second_factor.removed",
    ),
    "sendPasswordResetLink": (
        "sendPasswordResetLink(input: {userId: $u})",
        "administrator.password_reset_link_sent",
        "An administrator (root1) sent you a link to choose a new password",
        "Choose a new Latchkey password",
        "user.password_reset_link_sent",
        None,
    ),
    "endUserSessions": (
        "endUserSessions(input: {userId: $u})",
        "administrator.sessions_ended",
        "An administrator (root1) signed out all your sessions",
        "You were signed out",
        "user.sessions_ended",
        "session.ended",
    ),
}


@pytest.fixture
async def people(app, gql, new_client, settings):
    """root1 signed in on `gql`; bob, locked out and with an authenticator app."""
    await make_administrator(settings, "root1")
    bob = await make_user(settings, "bob")
    await Group.create(name="ops")
    async with new_client() as bob_client:
        bob_gql = GraphQL(bob_client)
        await bob_gql.sign_in("bob")
        await enable_totp(bob_gql)
    await lockout.freeze(bob, lockout.FAILURES)
    await gql.sign_in("root1")
    await endpoints.create(SecretBox(settings.secret_key), "http://127.0.0.1:9/hooks")
    return bob


@pytest.mark.parametrize("name", ACTIONS)
async def test_every_action_is_told_to_the_user_the_operator_log_and_the_platform(
    people, gql, smtp, name
):
    bob = people
    call, kind, description, subject, action, event = ACTIONS[name]
    mutation = call.split("(")[0]
    answer = await gql(
        f"mutation($u: ID!) {{ {call} {{ userErrors {{ field code }} }} }}", {"u": str(bob.id)}
    )
    assert answer[mutation]["userErrors"] == []

    entry = await OperatorAction.filter(action=action).get()
    assert (entry.administrator_name, entry.username) == ("root1", "bob")
    from backend.audit.models import SecurityEvent

    logged = await SecurityEvent.filter(user_id=bob.id, kind=kind).get()
    assert logged.details["administrator"] == "root1"
    from backend.audit.descriptions import describe

    assert describe(logged.kind, logged.details) == description
    mail = last_mail(smtp, "bob@example.com", subject=subject)
    assert "root1" in mail and SECURE_LINK.search(mail)
    if event is not None:
        delivery = await WebhookDelivery.filter(type=event).order_by("-id").first()
        payload = json.loads(delivery.payload)
        assert payload["data"]["user"]["username"] == "bob"
        assert payload["data"]["administrator"]["username"] == "root1"


async def test_the_user_is_told_in_their_own_language(people, gql, smtp):
    bob = people
    await User.filter(id=bob.id).update(language="ja")
    await lockout.unlock(bob)
    answer = await gql(
        "mutation($u: ID!) { disableUser(input: {userId: $u}) { userErrors { code } } }",
        {"u": str(bob.id)},
    )
    assert answer["disableUser"]["userErrors"] == []
    mail = last_mail(smtp, "bob@example.com", subject="アカウントが無効にされました")
    assert "管理者 (root1) が Latchkey アカウント bob を無効にしました" in mail
    await gql(
        "mutation($u: ID!) { enableUser(input: {userId: $u}) { userErrors { code } } }",
        {"u": str(bob.id)},
    )
    enabled = last_mail(smtp, "bob@example.com", subject="アカウントが有効にされました")
    assert "再びサインインできます" in enabled


async def test_an_invitation_lets_the_new_user_choose_a_password(gql, new_client, settings, smtp):
    await make_administrator(settings, "root1")
    await Group.create(name="ops")
    await gql.sign_in("root1")
    created = await gql(
        """mutation { createUser(input: {username: "carol", email: "carol@example.com",
        firstName: "Carol", lastName: "Shaw", groups: ["ops"], sendInvitation: true}) {
        user { username firstName accountType status groups { name } } userErrors { code } } }"""
    )
    assert created["createUser"] == {
        "user": {
            "username": "carol",
            "firstName": "Carol",
            "accountType": "USER",
            "status": "ACTIVE",
            "groups": [{"name": "ops"}],
        },
        "userErrors": [],
    }
    mail = last_mail(smtp, "carol@example.com", subject="Your new Latchkey account")
    assert "An administrator (root1) created the Latchkey account carol for you" in mail
    async with new_client() as carol_client:
        carol = GraphQL(carol_client)
        assert (await reset(carol, reset_token_in(mail)))["userErrors"] == []
        assert (await carol.sign_in("carol", NEW_PASSWORD))["userErrors"] == []
        assert (await carol("{ viewer { groups { name } } }"))["viewer"]["groups"] == [
            {"name": "ops"}
        ]
    duplicate = await gql(
        """mutation { createUser(input: {username: "Carol", email: "c2@example.com",
        groups: ["nope"]}) { userErrors { field code } } }"""
    )
    assert errors(duplicate["createUser"]) == [("groups", "NOT_FOUND")]


async def test_administrators_manage_any_groups_membership_and_the_groups(gql, settings, smtp):
    await make_administrator(settings, "root1")
    bob = await make_user(settings, "bob")
    await Group.create(name="finance")  # not self-service: bob cannot join it himself
    await gql.sign_in("root1")
    made = await gql(
        """mutation { createGroup(input: {name: "auditors", description: "Read the books"}) {
        group { name selfService memberCount } userErrors { code } } }"""
    )
    assert made["createGroup"]["group"] == {
        "name": "auditors",
        "selfService": False,
        "memberCount": 0,
    }
    both = await gql(
        """mutation($u: ID!) { updateUser(input: {userId: $u, groups: ["finance", "auditors"]})
        { user { groups { name } } userErrors { code } } }""",
        {"u": str(bob.id)},
    )
    assert both["updateUser"]["user"]["groups"] == [{"name": "auditors"}, {"name": "finance"}]
    one = await gql(
        """mutation($u: ID!) { updateUser(input: {userId: $u, groups: ["auditors"]})
        { user { groups { name } } userErrors { code } } }""",
        {"u": str(bob.id)},
    )
    assert one["updateUser"]["user"]["groups"] == [{"name": "auditors"}]
    opened = await gql(
        """mutation { updateGroup(input: {name: "finance", selfService: true}) {
        group { name selfService memberCount } userErrors { code } } }"""
    )
    assert opened["updateGroup"]["group"] == {
        "name": "finance",
        "selfService": True,
        "memberCount": 0,
    }
    listed = await gql("{ admin { groups { name selfService memberCount } } }")
    assert listed["admin"]["groups"] == [
        {"name": "auditors", "selfService": False, "memberCount": 1},
        {"name": "finance", "selfService": True, "memberCount": 0},
    ]
    actions = [entry.action for entry in await OperatorAction.all().order_by("id")]
    assert actions == [
        "group.created",
        "group.member_added",
        "group.member_added",
        "group.member_removed",
        "group.updated",
    ]


async def test_an_email_changed_by_an_administrator_is_told_to_the_old_address(gql, settings, smtp):
    await make_administrator(settings, "root1")
    bob = await make_user(settings, "bob")
    other = await make_user(settings, "eve")
    await gql.sign_in("root1")
    change = """mutation($u: ID!, $e: String!) { updateUser(input: {userId: $u, email: $e}) {
      user { email } userErrors { field code } } }"""
    taken = await gql(change, {"u": str(bob.id), "e": other.email.upper()})
    assert errors(taken["updateUser"]) == [("email", "CONFLICT")]
    changed = await gql(change, {"u": str(bob.id), "e": "robert@example.com"})
    assert changed["updateUser"] == {"user": {"email": "robert@example.com"}, "userErrors": []}
    mail = last_mail(smtp, "bob@example.com", subject="An administrator changed your account")
    assert "email address" in mail and SECURE_LINK.search(mail)
    found = await gql('{ admin { users(search: "robert") { edges { node { username } } } } }')
    assert found["admin"]["users"]["edges"] == [{"node": {"username": "bob"}}]


async def test_unlocking_resetting_two_factor_and_ending_sessions_do_what_they_say(
    gql, new_client, settings, smtp
):
    await make_administrator(settings, "root1")
    bob = await make_user(settings, "bob")
    await gql.sign_in("root1")
    target = {"u": str(bob.id)}
    async with new_client() as bob_client:
        bob_gql = GraphQL(bob_client)
        await bob_gql.sign_in("bob")
        await enable_totp(bob_gql)
        # Signed out everywhere by the administrator.
        ended = await gql(
            """mutation($u: ID!) { endUserSessions(input: {userId: $u}) {
            endedSessionCount user { username } userErrors { code } } }""",
            target,
        )
        assert ended["endUserSessions"]["endedSessionCount"] == 1
        assert (await bob_gql("{ viewer { username } }"))["viewer"] is None
        # Locked after "This wasn't me": refused, then unlocked by the administrator.
        await lockout.freeze(bob, lockout.SECURED)
        seen = await gql("query($u: ID!) { admin { user(id: $u) { status } } }", target)
        assert seen["admin"]["user"]["status"] == "LOCKED"
        assert errors(await bob_gql.sign_in("bob")) == [(None, "ACCOUNT_LOCKED")]  # a known browser
        unlocked = await gql(
            """mutation($u: ID!) { unlockUser(input: {userId: $u}) { user { status }
            userErrors { code } } }""",
            target,
        )
        assert unlocked["unlockUser"] == {"user": {"status": "ACTIVE"}, "userErrors": []}
        # With every factor lost, the administrator turns two-factor authentication off.
        assert (await bob_gql.sign_in("bob"))["status"] == "SECOND_FACTOR_REQUIRED"
        turned_off = await gql(
            """mutation($u: ID!) { resetUserTwoFactor(input: {userId: $u}) {
            user { secondFactors } userErrors { code } } }""",
            target,
        )
        assert turned_off["resetUserTwoFactor"] == {"user": {"secondFactors": []}, "userErrors": []}
        signed_in = await bob_gql.sign_in("bob")
        assert signed_in["userErrors"] == [] and signed_in["viewer"] == {"username": "bob"}
        # The password reset link an administrator sends works as the user's own would.
        sent = await gql(
            """mutation($u: ID!) { sendPasswordResetLink(input: {userId: $u}) {
            userErrors { code } } }""",
            target,
        )
        assert sent["sendPasswordResetLink"]["userErrors"] == []
        mail = last_mail(smtp, "bob@example.com", subject="Choose a new Latchkey password")
        assert (await reset(bob_gql, reset_token_in(mail)))["userErrors"] == []
        assert (await bob_gql.sign_in("bob", NEW_PASSWORD))["userErrors"] == []
