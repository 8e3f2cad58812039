"""Leaving from Personal info: "Download your data" gives a file, "Delete account" asks for
the username and "Confirm it's you", then signs the user out on a page saying when the
account goes; without JavaScript, post/redirect/get."""

from __future__ import annotations

import json
import re

import pytest

from backend.accounts.models import User
from tests.admin_helpers import expire_the_stamp
from tests.conftest import settings_for, smtp_settings
from tests.helpers import reauthenticate, sent_to_reauthenticate, submit


@pytest.fixture
def settings(database_url, smtp):
    return settings_for(database_url, smtp=smtp_settings(smtp.port))


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


async def test_download_your_data_after_confirming_it_is_you(client, alice):
    expire_the_stamp()
    page = await client.get("/account")
    assert "Download your data" in page.text and 'id="delete_account"' in page.text
    form = {"csrf_token": csrf(page.text)}
    asked = await submit(client, "/account/export", data=form)
    assert sent_to_reauthenticate(asked, "/account")
    await reauthenticate(client, "/account")
    got = await client.post("/account/export", data=form)
    assert got.status_code == 200
    assert got.headers["content-disposition"].startswith('attachment; filename="latchkey-alice-')
    document = json.loads(got.text)
    assert document["format"] == "latchkey-account-export" and document["version"] == 1


async def test_delete_account_asks_for_the_username_then_signs_out_and_says_when(
    client, alice
):
    await reauthenticate(client, "/account")
    page = await client.get("/account")
    wrong = await submit(client, "/account/delete", data={"csrf_token": csrf(page.text),
                                                          "confirmation": "alicia"})  # fmt: skip
    assert 'data-error-for="confirmation"' in wrong.text and 'value="alicia"' in wrong.text
    assert (await User.get(username="alice")).deletion_scheduled_at is None

    done = await submit(client, "/account/delete", data={"csrf_token": csrf(page.text),
                                                         "confirmation": "alice"})  # fmt: skip
    assert done.posted.headers["location"] == "/account-deletion/scheduled"
    assert 'role="status">Your account will be deleted on' in done.text
    assert (await User.get(username="alice")).deletion_scheduled_at is not None
    assert (await client.get("/account")).status_code == 303  # signed out
    # Shown once: a reload goes to sign-in.
    assert (await client.get("/account-deletion/scheduled")).headers["location"] == "/login"
