"""`latchkey serve` at LATCHKEY_LOG_LEVEL=DEBUG, its output collected as an operator would:
the access log names the mailed links' paths without their tokens, and no line holds a
token, a cookie or a hash."""

from __future__ import annotations

import json
import shutil
import time

import httpx

from backend.kernel.crypto import digest
from tests.cli_helpers import create_user
from tests.conftest import settings_for
from tests.helpers import ISSUE_TOKEN, PASSWORD, SIGN_IN, days_ahead
from tests.live import live_server, smtp_env
from tests.recovery_helpers import (
    NEW_PASSWORD,
    REQUEST,
    RESET,
    SECURE,
    reset_token_in,
    secure_token_in,
)


def graphql(client: httpx.Client, query: str, **variables: object) -> dict:
    response = client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200 and "errors" not in response.json(), response.text
    return response.json()["data"]


def mailed(smtp, subject: str) -> str:
    """The newest mail to alice with this subject; reset links are mailed after the answer."""
    deadline = time.monotonic() + 10
    while True:
        found = [m for m in smtp.to("alice@example.com") if m["Subject"] == subject]
        if found:
            return smtp.text(found[-1])
        assert time.monotonic() < deadline, f"no mail {subject!r}"
        time.sleep(0.05)


def test_links_tokens_cookies_and_hashes_stay_out_of_the_served_log(
    tmp_path, sqlite_template, smtp
):
    database = tmp_path / "live.sqlite3"
    shutil.copy(sqlite_template, database)
    settings = settings_for(f"sqlite://{database}")
    create_user(settings, "alice")
    log = tmp_path / "server.log"
    env = {**smtp_env(smtp.port), "LATCHKEY_LOG_LEVEL": "DEBUG"}
    with live_server(settings, log=log, **env) as url, httpx.Client(base_url=url) as browser:
        graphql(browser, SIGN_IN, username="alice", password=PASSWORD)
        cookie = browser.cookies["latchkey_session"]
        issued = graphql(
            browser, ISSUE_TOKEN, name="ci", expiresAt=days_ahead(7), password=PASSWORD
        )
        refresh = issued["issueToken"]["secret"]
        grant = {"grant_type": "refresh_token", "refresh_token": refresh}
        access = browser.post("/oauth/token", data=grant).json()["access_token"]

        secure = secure_token_in(mailed(smtp, "A new token for your account"))
        assert browser.get(f"/secure-account/{secure}").status_code == 200
        assert graphql(browser, SECURE, t=secure)["secureAccount"]["userErrors"] == []
        graphql(browser, REQUEST, login="alice")
        reset = reset_token_in(mailed(smtp, "Reset your Latchkey password"))
        assert browser.get(f"/password-reset/{reset}").status_code == 200
        answer = graphql(browser, RESET, t=reset, n=NEW_PASSWORD, r=NEW_PASSWORD)
        assert answer["resetPassword"]["userErrors"] == []
        graphql(browser, SIGN_IN, username="alice", password=NEW_PASSWORD)

    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    access_log = [line["message"] for line in lines if line["logger"] == "uvicorn.access"]
    assert any('"GET /secure-account/… HTTP/1.1" 200' in line for line in access_log)
    assert any('"GET /password-reset/… HTTP/1.1" 200' in line for line in access_log)
    written = log.read_text()
    assert "sign_in.succeeded" in written
    tokens = [secure, reset, refresh, access, cookie]
    for secret in [*tokens, *map(digest, tokens), "$argon2"]:
        assert secret not in written
