"""Configuration from LATCHKEY_* variables."""

from __future__ import annotations

from datetime import timedelta

import pytest

from backend.infra.config import ConfigError, Settings


def test_defaults_need_no_configuration(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = Settings.from_env({})
    assert settings.database_url == "sqlite://latchkey.sqlite3"
    assert settings.session_idle == timedelta(hours=1)
    assert settings.session_absolute == timedelta(hours=12)
    assert settings.session_cookie_name == "latchkey_session"
    # Without LATCHKEY_SECRET_KEY a key is generated once and kept for every worker.
    assert Settings.from_env({}).secret_key == settings.secret_key
    assert (tmp_path / "latchkey.secret").stat().st_mode & 0o777 == 0o600


def test_the_reauthentication_window_is_ten_minutes_unless_configured():
    assert Settings.from_env({"LATCHKEY_SECRET_KEY": "k"}).reauth_window == timedelta(minutes=10)
    configured = Settings.from_env({"LATCHKEY_REAUTH_SECONDS": "120", "LATCHKEY_SECRET_KEY": "k"})
    assert configured.reauth_window == timedelta(minutes=2)


def test_https_public_url_means_secure_host_prefixed_cookies():
    settings = Settings.from_env(
        {"LATCHKEY_PUBLIC_URL": "https://id.example.com/", "LATCHKEY_SECRET_KEY": "k"}
    )
    assert settings.secure_cookies
    assert settings.session_cookie_name == "__Host-latchkey_session"
    assert settings.public_url == "https://id.example.com"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("LATCHKEY_SESSION_IDLE_SECONDS", "-5"),
        ("LATCHKEY_GRAPHIQL", "maybe"),
        ("LATCHKEY_SMTP_SECURITY", "ssl3"),
        ("LATCHKEY_MAX_TOKENS_PER_USER", "0"),
        ("LATCHKEY_REAUTH_SECONDS", "0"),
        ("LATCHKEY_MAX_TOKENS_PER_USER", "many"),
        ("LATCHKEY_DATABASE_STATEMENT_TIMEOUT_SECONDS", "0"),
        ("LATCHKEY_DATABASE_ACQUIRE_TIMEOUT_SECONDS", "soon"),
    ],
)
def test_bad_values_are_refused_by_name(name, value):
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({name: value, "LATCHKEY_SECRET_KEY": "k"})


def test_database_timeouts_are_a_few_seconds_unless_configured():
    settings = Settings.from_env({"LATCHKEY_SECRET_KEY": "k"})
    assert (settings.database_statement_seconds, settings.database_acquire_seconds) == (10, 5)
    configured = Settings.from_env(
        {
            "LATCHKEY_SECRET_KEY": "k",
            "LATCHKEY_DATABASE_STATEMENT_TIMEOUT_SECONDS": "3",
            "LATCHKEY_DATABASE_ACQUIRE_TIMEOUT_SECONDS": "1",
        }
    )
    assert (configured.database_statement_seconds, configured.database_acquire_seconds) == (3, 1)


def test_the_public_url_defaults_to_a_name_passkeys_can_use():
    from backend.auth.factors.passkey.ceremonies import RelyingParty

    settings = Settings.from_env({"LATCHKEY_SECRET_KEY": "k"})
    assert settings.public_url == "http://localhost:8000"
    rp = RelyingParty.for_public_url(settings.public_url, "Latchkey")
    assert (rp.id, rp.origin) == ("localhost", "http://localhost:8000")
    behind = RelyingParty.for_public_url("https://id.example.com", "Latchkey")
    assert (behind.id, behind.origin) == ("id.example.com", "https://id.example.com")


def test_metrics_are_off_unless_a_port_is_given():
    assert Settings.from_env({"LATCHKEY_SECRET_KEY": "k"}).metrics_port == 0
    assert (
        Settings.from_env(
            {"LATCHKEY_SECRET_KEY": "k", "LATCHKEY_METRICS_PORT": "9100"}
        ).metrics_port
        == 9100
    )
    for wrong in ("70000", "-1", "ninety"):
        with pytest.raises(ConfigError, match="LATCHKEY_METRICS_PORT"):
            Settings.from_env({"LATCHKEY_SECRET_KEY": "k", "LATCHKEY_METRICS_PORT": wrong})
