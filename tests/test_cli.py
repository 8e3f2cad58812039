"""The `latchkey` command, run as an operator runs it."""

from __future__ import annotations

import contextlib
import re
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from tortoise import connections

from backend.infra.config import Settings
from backend.infra.database import UnmigratedDatabase, ensure_migrated, pending_migrations
from tests.cli_helpers import create_user
from tests.conftest import settings_for
from tests.helpers import PASSWORD
from tests.live import LATCHKEY, environment, free_port, live_server

ROOT = Path(__file__).resolve().parents[1]


def latchkey(settings: Settings, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LATCHKEY), *args],
        input=stdin,
        text=True,
        capture_output=True,
        env=environment(settings),
        timeout=60,
    )


@pytest.fixture
def cli_settings(database_url: str) -> Settings:
    return settings_for(database_url)


def test_user_create_reads_the_password_from_stdin(cli_settings):
    result = latchkey(
        cli_settings,
        "user",
        "create",
        "Alice",
        "--email",
        "alice@example.com",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Created user Alice."
    assert PASSWORD not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("password", "reason"),
    [("short one", "Use at least 15 characters"), ("passwordpassword", "too common")],
)
def test_user_create_applies_the_password_policy(cli_settings, password, reason):
    args = ("user", "create", "carol", "--email", "carol@example.com", "--password-stdin")
    result = latchkey(cli_settings, *args, stdin=password)
    assert result.returncode != 0 and reason in result.stderr
    assert password not in result.stderr


@pytest.mark.parametrize(
    ("username", "email", "reason"),
    [
        ("alice_1", "a1@example.com", "ASCII letters and digits"),
        ("ålice", "a2@example.com", "ASCII letters and digits"),
        ("", "a3@example.com", "ASCII letters and digits"),
        ("x" * 65, "a4@example.com", "ASCII letters and digits"),
        ("carol", "not-an-address", "Not a valid email address"),
        ("Admin", "a5@example.com", "This username is reserved."),
        ("root", "a6@example.com", "This username is reserved."),
        ("\u0430dmin", "a7@example.com", "ASCII letters and digits"),  # Cyrillic а
        ("al\u200dice", "a8@example.com", "ASCII letters and digits"),
        (" bob ", "a9@example.com", "ASCII letters and digits"),
        ("ALICE", "other@example.com", "This username is taken."),
        ("dave", "ALICE@example.com", "Another account uses this email address."),
    ],
)
def test_user_create_refuses_bad_or_duplicate_input_in_one_line(
    cli_settings, username, email, reason
):
    first = latchkey(
        cli_settings,
        "user",
        "create",
        "alice",
        "--email",
        "alice@example.com",
        "--password-stdin",
        stdin=PASSWORD,
    )
    assert first.returncode == 0, first.stderr
    result = latchkey(
        cli_settings,
        "user",
        "create",
        username,
        "--email",
        email,
        "--password-stdin",
        stdin=PASSWORD,
    )
    assert result.returncode != 0
    assert reason in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_create_demo_prints_a_password_once_and_only_for_an_empty_database(cli_settings):
    first = latchkey(cli_settings, "user", "create-demo")
    assert first.returncode == 0, first.stderr
    assert "username: demo" in first.stdout
    password = re.search(r"password: (\S+)", first.stdout).group(1)
    assert len(password) >= 15
    # Framed, so it stands out between make's lines and the log, with the way to a new one.
    lines = first.stdout.strip().splitlines()
    assert lines[0] == lines[-1] and set(lines[0]) == {"+", "-"}
    assert all(line.startswith("| ") and line.endswith(" |") for line in lines[1:-1])
    assert "latchkey user reset-password demo" in first.stdout
    second = latchkey(cli_settings, "user", "create-demo")
    assert second.returncode == 0 and second.stdout == ""


def test_serve_refuses_an_unmigrated_database_and_says_how_to_fix_it(tmp_path):
    settings = settings_for(f"sqlite://{tmp_path / 'empty.sqlite3'}")
    result = latchkey(settings, "serve", "--port", "1")
    assert result.returncode == 1
    assert "run `latchkey migrate` first" in result.stderr
    migrate = latchkey(settings, "migrate")
    assert migrate.returncode == 0, migrate.stderr
    assert latchkey(settings, "migrate").returncode == 0  # applying twice is harmless


def test_serve_on_another_port_says_that_address_and_the_pages_use_it(cli_settings):
    port = free_port()
    env = environment(cli_settings)  # no LATCHKEY_PUBLIC_URL: it follows the port
    process = subprocess.Popen(
        [str(LATCHKEY), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        for _ in range(300):
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            time.sleep(0.1)
        # Mailed links point at the public URL: the one this server said to open. Without
        # a mail server the email is written to the log.
        create_user(cli_settings, "alice")
        asked = httpx.post(
            f"http://127.0.0.1:{port}/graphql",
            json={
                "query": 'mutation { requestPasswordReset(input: {login: "alice"}) '
                "{ userErrors { code } } }"
            },
        )
        assert asked.json()["data"]["requestPasswordReset"] == {"userErrors": []}
        time.sleep(1.5)  # the answer does not wait for the mail (it takes as long either way)
    finally:
        process.terminate()
        output = process.communicate(timeout=10)[0].decode()
    assert f"open http://localhost:{port}" in output
    assert f"http://localhost:{port}/password-reset/" in output
    assert "localhost:8000" not in output


def test_serve_answers_the_viewer_query(cli_settings):
    with live_server(cli_settings) as url:
        import httpx

        response = httpx.post(f"{url}/graphql", json={"query": "{ viewer { username } }"})
    assert response.json() == {"data": {"viewer": None}}


def test_export_schema_prints_the_committed_sdl(tmp_path):
    result = latchkey(settings_for(f"sqlite://{tmp_path / 'x.sqlite3'}"), "export-schema")
    assert result.returncode == 0
    assert result.stdout == (ROOT / "schema.graphql").read_text()


def test_bad_configuration_is_a_one_line_error(tmp_path):
    settings = settings_for(f"sqlite://{tmp_path / 'x.sqlite3'}")
    env = environment(settings, LATCHKEY_SESSION_IDLE_SECONDS="an hour")
    result = subprocess.run([str(LATCHKEY), "migrate"], env=env, capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "latchkey: LATCHKEY_SESSION_IDLE_SECONDS must be a whole number, not 'an hour'"
    )


_NEWEST = "SELECT MAX(name) AS name FROM tortoise_migrations WHERE app = 'models'"
_SET_NEWEST_ASIDE = (
    "UPDATE tortoise_migrations SET app = 'aside' "
    "WHERE name = (SELECT MAX(name) FROM tortoise_migrations WHERE app = 'models')"
)
_SET_BACK = "UPDATE tortoise_migrations SET app = 'models' WHERE app = 'aside'"


async def test_a_database_one_migration_behind_is_told_apart_by_the_missing_one(app):
    # The record of the newest migration moves aside, as if it had not been applied.
    connection = connections.get("default")
    newest = (await connection.execute_query_dict(_NEWEST))[0]["name"]
    assert await pending_migrations() == []
    await connection.execute_query(_SET_NEWEST_ASIDE)
    try:
        assert await pending_migrations() == [newest]
        with pytest.raises(UnmigratedDatabase, match=newest):
            await ensure_migrated()
    finally:
        await connection.execute_query(_SET_BACK)
