"""Service clients: made by an operator with the CLI, the only clients that may introspect."""

from __future__ import annotations

import asyncio
import re
import subprocess
from datetime import timedelta
from pathlib import Path

import httpx

from backend.infra.config import Settings
from backend.kernel import clock
from backend.kernel.crypto import digest
from tests.conftest import settings_for
from tests.helpers import PASSWORD, exchange, issue_token
from tests.live import LATCHKEY, environment
from tests.test_oauth import GENERATE, basic, error_of

CREATED = re.compile(
    r"Created service client (?P<name>\S+)\.\n"
    r"  client_id: (?P<client_id>lk_sc_[0-9A-Za-z]{20})\n"
    r"  client_secret: (?P<secret>lk_ss_[0-9A-Za-z]{38})\n"
)


def latchkey(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LATCHKEY), "service-client", *args],
        text=True,
        capture_output=True,
        env=environment(settings),
        timeout=60,
    )


def create(settings: Settings, name: str) -> tuple[str, str]:
    result = latchkey(settings, "create", name)
    assert result.returncode == 0, result.stderr
    match = CREATED.match(result.stdout)
    assert match, result.stdout
    return match["client_id"], match["secret"]


def introspect(client: httpx.AsyncClient, token: str, client_id: str, secret: str):
    return client.post("/oauth/introspect", data={"token": token}, headers=basic(client_id, secret))


async def test_a_users_api_credentials_cannot_introspect(gql, client, alice):
    generated = (await gql(GENERATE, {"password": PASSWORD}))["generateApiCredentials"]
    access = (await exchange(client, (await issue_token(gql))["secret"])).json()["access_token"]
    response = await introspect(client, access, generated["clientId"], generated["clientSecret"])
    assert error_of(response) == (401, "invalid_client")
    assert "alice" not in response.text
    form = {"token": access, "client_id": generated["clientId"]}
    form["client_secret"] = generated["clientSecret"]
    assert error_of(await client.post("/oauth/introspect", data=form)) == (401, "invalid_client")


async def test_a_service_client_from_the_cli_introspects_until_removed(
    gql, client, settings, alice
):
    client_id, secret = create(settings, "billing")
    refresh = (await issue_token(gql, days=7))["secret"]
    access = (await exchange(client, refresh)).json()["access_token"]
    body = (await introspect(client, access, client_id, secret)).json()
    assert body["active"] is True and body["username"] == "alice" and body["sub"] == str(alice.id)
    form = {"token": refresh, "client_id": client_id, "client_secret": secret}
    body = (await client.post("/oauth/introspect", data=form)).json()
    assert body["active"] is True and body["token_type"] == "refresh_token"
    assert (await introspect(client, "lk_at_" + "B" * 38, client_id, secret)).json() == {
        "active": False
    }
    wrong_secret = secret[:-1] + ("x" if secret[-1] != "x" else "y")
    wrong = await introspect(client, access, client_id, wrong_secret)
    assert error_of(wrong) == (401, "invalid_client")

    removed = latchkey(settings, "remove", "billing")
    assert removed.returncode == 0 and "Removed service client billing" in removed.stdout
    assert error_of(await introspect(client, access, client_id, secret)) == (401, "invalid_client")
    again = latchkey(settings, "remove", "billing")
    assert again.returncode == 1 and "there is no service client billing" in again.stderr


async def test_a_service_introspecting_in_parallel_gets_every_answer(gql, client, settings, alice):
    client_id, secret = create(settings, "gateway")
    access = (await exchange(client, (await issue_token(gql))["secret"])).json()["access_token"]
    answers = await asyncio.gather(
        *(introspect(client, access, client_id, secret) for _ in range(20))
    )
    assert [answer.status_code for answer in answers] == [200] * 20
    assert all(answer.json()["active"] is True for answer in answers)


def test_list_shows_names_and_ids_never_secrets_and_only_a_digest_is_stored(database_url):
    settings = settings_for(database_url)
    billing_id, billing_secret = create(settings, "billing")
    audit_id, audit_secret = create(settings, "audit-log")
    listed = latchkey(settings, "list")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert [line.split("\t")[:2] for line in lines] == [
        ["audit-log", audit_id],
        ["billing", billing_id],
    ]
    assert billing_secret not in listed.stdout and audit_secret not in listed.stdout
    assert "lk_ss_" not in listed.stdout
    dump = _database_dump(database_url)
    assert digest(billing_secret) in dump
    assert billing_secret not in dump and billing_secret[6:] not in dump


def test_create_refuses_a_duplicate_or_bad_name_in_one_line(database_url):
    settings = settings_for(database_url)
    create(settings, "billing")
    duplicate = latchkey(settings, "create", "billing")
    assert duplicate.returncode == 1
    assert duplicate.stderr == "latchkey: A service client named billing exists.\n"
    bad = latchkey(settings, "create", "no spaces please")
    assert bad.returncode == 1 and "letters, digits" in bad.stderr
    assert "lk_ss_" not in duplicate.stdout + bad.stdout
    assert latchkey(settings, "list").stdout.count("\n") == 1


def _database_dump(database_url: str) -> str:
    if database_url.startswith("sqlite://"):
        path = Path(database_url.removeprefix("sqlite://"))
        files = [path, path.with_name(path.name + "-wal")]  # recent writes sit in the log
        return "".join(f.read_bytes().decode("latin-1") for f in files if f.exists())
    result = subprocess.run(
        ["pg_dump", "--data-only", database_url.replace("postgres://", "postgresql://")],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return result.stdout


async def test_wrong_secrets_lock_the_client_id_for_a_while(gql, client, settings, alice):
    client_id, secret = create(settings, "billing")
    access = (await exchange(client, (await issue_token(gql))["secret"])).json()["access_token"]
    wrong = secret[:-1] + ("x" if secret[-1] != "x" else "y")
    for _ in range(5):
        assert error_of(await introspect(client, access, client_id, wrong))[0] == 401
    locked = await introspect(client, access, client_id, secret)
    assert error_of(locked) == (429, "invalid_client") and int(locked.headers["Retry-After"]) > 0
    clock.advance(timedelta(seconds=31))
    assert (await introspect(client, access, client_id, secret)).json()["active"] is True
