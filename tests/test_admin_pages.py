"""The administrators' pages as browsers post them: only administrators get them, and
their forms go through the same CSRF check, "Confirm it's you" and post/redirect/get as
the account pages'."""

from __future__ import annotations

import re

import pytest

from backend.accounts.models import Group, User
from tests.admin_helpers import expire_the_stamp, make_administrator
from tests.helpers import GraphQL, make_user, reauthenticate, sent_to_reauthenticate, submit
from tests.test_pages import sign_in
from tests.twofactor_helpers import enable_totp

ADMIN_PAGES = ("/admin", "/admin/groups", "/admin/log")


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def row_status(html: str, username: str) -> str:
    row = re.search(rf'<tr data-username="{username}">(.*?)</tr>', html, re.S).group(1)
    return re.search(r'data-status="([A-Z_]+)"', row).group(1)


@pytest.fixture
async def scene(client, new_client, settings):
    """root, an administrator, signed in on `client`; bob, signed in on his own client."""
    await make_administrator(settings, "root1")
    bob = await make_user(settings, "bob")
    await Group.create(name="ops")
    assert (await sign_in(client, "root1")).status_code == 303
    async with new_client() as bob_client:
        assert (await sign_in(bob_client, "bob")).status_code == 303
        yield {"bob": bob, "bob_client": bob_client, "bob_page": f"/admin/users/{bob.id}"}


async def test_anyone_but_an_administrator_gets_not_found_and_no_data(scene):
    bob_client = scene["bob_client"]
    account = await bob_client.get("/account")
    assert "data-admin-navigation" not in account.text and "Administration" not in account.text
    for path in (*ADMIN_PAGES, scene["bob_page"]):
        answer = await bob_client.get(path)
        assert answer.status_code == 404 and "Page not found" in answer.text, path
        assert "root1" not in answer.text
    form = {"csrf_token": csrf(account.text), "reason": "mine now"}
    for action in ("/disable", "/sessions/end", "/profile"):
        posted = await bob_client.post(scene["bob_page"] + action, data=form)
        assert posted.status_code == 404, action
    posted = await bob_client.post("/admin/groups/create", data={**form, "name": "mine"})
    assert posted.status_code == 404
    assert (await User.get(username="bob")).disabled_at is None
    assert not await Group.filter(name="mine").exists()


async def test_signed_out_admin_pages_go_to_sign_in_and_come_back(client, settings):
    await make_administrator(settings, "root1")
    answer = await client.get("/admin/log")
    assert answer.status_code == 303 and answer.headers["location"] == "/login?next=%2Fadmin%2Flog"


async def test_the_navigation_lists_the_admin_pages_for_administrators_only(client, scene):
    page = await client.get("/account")
    assert "data-admin-navigation" in page.text
    for path in ADMIN_PAGES:
        assert f'href="{path}"' in page.text
    admin = await client.get("/admin/log")
    assert admin.status_code == 200
    assert '<a href="/admin/log" aria-current="page">' in admin.text


async def test_searching_and_paging_the_users(client, scene, settings):
    for number in range(25):
        await make_user(settings, f"user{number:02d}")
    first = await client.get("/admin")
    assert first.status_code == 200
    assert first.text.count("<tr data-username=") == 20
    after = re.search(r'href="(/admin\?after=[^"]+)" rel="next"', first.text).group(1)
    second = await client.get(after.replace("&amp;", "&"))
    assert "user24" in second.text and "user00" not in second.text
    assert 'rel="next"' not in second.text
    found = await client.get("/admin", params={"search": "USER1", "status": "ACTIVE"})
    names = re.findall(r'<tr data-username="([^"]+)"', found.text)
    assert names == [f"user{number}" for number in range(10, 20)]
    # A search the API would refuse (five words, a bad status) still draws the page.
    odd = await client.get("/admin", params={"search": "a b c d e", "status": "GONE"})
    assert odd.status_code == 200 and "No account matches" in odd.text
    disabled = await client.get("/admin", params={"status": "DISABLED"})
    assert "No account matches" in disabled.text


async def test_disabling_after_confirming_it_is_you_then_enabling(client, scene):
    bob_page = scene["bob_page"]
    expire_the_stamp()
    page = await client.get(bob_page)
    assert page.status_code == 200 and "data-reauthentication-needed" in page.text
    form = {"csrf_token": csrf(page.text), "reason": "left the company"}

    asked = await submit(client, bob_page + "/disable", data=form)
    assert sent_to_reauthenticate(asked, bob_page)
    assert (await User.get(username="bob")).disabled_at is None
    back = await reauthenticate(client, bob_page)
    assert str(back.url).endswith(bob_page)

    done = await submit(client, bob_page + "/disable", data=form)
    assert done.posted.headers["location"] == f"{bob_page}#admin_user_access"
    assert re.search(r'role="status">The account is disabled', done.text)
    assert "left the company" in done.text
    listed = await client.get("/admin")
    assert row_status(listed.text, "bob") == "DISABLED"
    assert (await scene["bob_client"].get("/account")).status_code == 303  # signed out

    again = await client.get(bob_page)  # the outcome was shown once
    assert "The account is disabled." not in again.text
    enabled = await submit(client, bob_page + "/enable", data=form)
    assert 'role="status">The account is enabled' in enabled.text
    assert row_status((await client.get("/admin")).text, "bob") == "ACTIVE"
    log = await client.get("/admin/log")
    assert 'data-action="user.disabled"' in log.text and 'data-action="user.enabled"' in log.text


async def test_ending_sessions_with_htmx_answers_the_section(client, scene):
    bob_page = scene["bob_page"]
    page = await client.get(bob_page)
    await reauthenticate(client, bob_page)
    answer = await client.post(
        bob_page + "/sessions/end",
        data={"csrf_token": csrf(page.text)},
        headers={"HX-Request": "true"},
    )
    assert answer.status_code == 200
    assert 'id="admin_user_access"' in answer.text
    assert 'role="status">1 session was signed out.' in answer.text
    # The activity section comes along out-of-band: no session left.
    assert 'id="admin_user_sign_ins" aria-labelledby="admin-sign-ins-title" hx-swap-oob' in (
        answer.text
    )
    assert "Not signed in anywhere." in answer.text
    assert (await scene["bob_client"].get("/account")).status_code == 303


async def test_changing_groups_and_account_type_and_a_refused_demotion(client, scene):
    bob_page = scene["bob_page"]
    page = await client.get(bob_page)
    await reauthenticate(client, bob_page)
    form = {
        "csrf_token": csrf(page.text),
        "first_name": "Bob",
        "last_name": "",
        "email": "bob@example.com",
        "mobile_phone": "",
        "account_type": "USER",
        "groups_offered": "yes",
        "groups": "ops",
    }
    saved = await submit(client, bob_page + "/profile", data=form)
    assert 'role="status">Saved.' in saved.text
    bob = await User.get(username="bob")
    assert bob.first_name == "Bob"
    assert [group.name for group in await bob.groups.all()] == ["ops"]

    root = await User.get(username="root1")
    mine = await client.get(f"/admin/users/{root.id}")
    demote = {**form, "csrf_token": csrf(mine.text), "first_name": "", "groups": []}
    demote |= {"email": "root1@example.com", "account_type": "USER"}
    refused = await submit(client, f"/admin/users/{root.id}/profile", data=demote)
    assert 'role="alert">Nothing was saved.' in refused.text
    assert "This is the last administrator whose account works." in refused.text
    assert (await User.get(username="root1")).account_type == root.account_type


async def test_resetting_two_factor_asks_first_then_turns_it_off(client, new_client, scene):
    async with new_client() as bob_api:
        bob = GraphQL(bob_api)
        await bob.sign_in("bob")
        await enable_totp(bob)
    bob_page = scene["bob_page"]
    page = await client.get(bob_page)
    await reauthenticate(client, bob_page)
    form = {"csrf_token": csrf(page.text)}
    asked = await submit(client, bob_page + "/two-factor/reset", data=form)
    assert "Turn off two-factor authentication for bob? This deletes:" in asked.text
    assert '<ul class="plain" data-field="second-factors">' in asked.text  # nothing went yet
    done = await submit(client, bob_page + "/two-factor/reset", data={**form, "confirm": "yes"})
    assert 'role="status">Two-factor authentication is off for this account.' in done.text
    assert '<p data-field="second-factors">Two-factor authentication is off.</p>' in done.text


async def test_groups_page_creates_a_group_and_makes_it_self_service(client, scene):
    page = await client.get("/admin/groups")
    await reauthenticate(client, "/admin/groups")
    token = csrf(page.text)
    created = await submit(
        client,
        "/admin/groups/create",
        data={"csrf_token": token, "name": "auditors", "description": "Read the books"},
    )
    assert 'role="status">Group auditors created.' in created.text
    assert '<tr data-group="auditors">' in created.text
    taken = await submit(client, "/admin/groups/create", data={"csrf_token": token, "name": "ops"})
    assert 'data-error-for="name"' in taken.text
    turned = await submit(
        client,
        "/admin/groups/self-service",
        data={"csrf_token": token, "name": "auditors", "self_service": "yes"},
    )
    assert "Members can now join and leave auditors themselves." in turned.text
    assert (await Group.get(name="auditors")).self_service is True


async def test_the_admin_pages_in_japanese(client, scene):
    headers = {"Accept-Language": "ja,en;q=0.8"}
    users = await client.get("/admin", headers=headers)
    assert '<h1 id="page-title">ユーザー</h1>' in users.text
    assert "管理" in users.text
    user = await client.get(scene["bob_page"], headers=headers)
    assert "アカウントを無効にする" in user.text


async def test_creating_an_account_from_the_users_page(client, scene, smtp):
    page = await client.get("/admin")
    form = {
        "csrf_token": csrf(page.text),
        "username": "carol",
        "email": "carol@example.com",
        "first_name": "Carol",
        "account_type": "USER",
        "groups": "ops",
        "send_invitation": "yes",
    }
    done = await submit(client, "/admin/users/new", data=form)
    assert done.posted.headers["location"] == "/admin#admin_new_user"
    carol = await User.get(username="carol")
    created = rf'role="status">Account created: <a href="/admin/users/{carol.id}">carol'
    assert re.search(created, done.text)
    assert row_status(done.text, "carol") == "ACTIVE"
    assert [group.name for group in await carol.groups.all()] == ["ops"]

    taken = await submit(client, "/admin/users/new", data={**form, "email": "c2@example.com"})
    assert 'data-error-for="username"' in taken.text and 'value="c2@example.com"' in taken.text


async def test_deleting_an_account_asks_first_then_goes_back_to_the_list(client, scene):
    bob_page = scene["bob_page"]
    page = await client.get(bob_page)
    form = {"csrf_token": csrf(page.text), "username": "bob"}
    asked = await submit(client, bob_page + "/delete", data=form)
    assert 'id="confirm-delete"' in asked.text and "cannot be undone" in asked.text
    assert await User.filter(username="bob").exists()  # the first press deletes nothing

    done = await submit(client, bob_page + "/delete", data={**form, "confirm": "yes"})
    assert done.posted.headers["location"] == "/admin#admin_users"
    assert 'role="status">The account bob was deleted.' in done.text
    assert 'data-username="bob"' not in done.text
    assert not await User.filter(username="bob").exists()
    assert (await client.get(bob_page)).status_code == 404
