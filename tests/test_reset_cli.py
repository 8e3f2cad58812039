"""`latchkey user reset-password`: an operator sends the link, by mail or to the log."""

from __future__ import annotations

import subprocess

import pytest

from backend.infra.config import Settings
from tests.cli_helpers import create_user
from tests.conftest import settings_for
from tests.helpers import GraphQL, serving
from tests.live import LATCHKEY, environment
from tests.recovery_helpers import NEW_PASSWORD, reset, reset_token_in


def latchkey(settings: Settings, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LATCHKEY), *args],
        text=True,
        capture_output=True,
        env=environment(settings, **env),
        timeout=60,
    )


@pytest.fixture
def cli_settings(database_url: str) -> Settings:
    return settings_for(database_url)


async def test_without_a_mail_server_the_link_is_in_the_log_and_works(cli_settings):
    create_user(cli_settings, "demo")
    result = latchkey(cli_settings, "user", "reset-password", "demo")
    assert result.returncode == 0, result.stderr
    assert "No mail server is configured" in result.stdout
    token = reset_token_in(result.stderr)  # the email, as logged
    async with serving(cli_settings) as http:
        gql = GraphQL(http)
        assert await reset(gql, token) == {"userErrors": []}
        assert (await gql.sign_in("demo", NEW_PASSWORD))["status"] == "SIGNED_IN"


def test_with_a_mail_server_the_user_gets_the_email(cli_settings, smtp):
    create_user(cli_settings, "alice")
    result = latchkey(
        cli_settings,
        "user",
        "reset-password",
        "ALICE",
        LATCHKEY_SMTP_HOST="127.0.0.1",
        LATCHKEY_SMTP_PORT=str(smtp.port),
        LATCHKEY_SMTP_SECURITY="none",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Emailed ALICE a link to choose a new password."
    assert "/password-reset/" not in result.stdout + result.stderr
    assert reset_token_in(smtp.text(smtp.to("alice@example.com")[-1]))


def test_an_unknown_user_is_a_one_line_error(cli_settings):
    result = latchkey(cli_settings, "user", "reset-password", "nobody")
    assert result.returncode == 1
    assert result.stderr.strip() == "latchkey: there is no user nobody"
