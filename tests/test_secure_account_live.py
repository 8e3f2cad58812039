""" "This wasn't me" on one `latchkey serve` process ends what another one serves.

Two processes share one PostgreSQL database, as workers or hosts do: the link is confirmed
on the first, and the second no longer knows the session or the token.
"""

from __future__ import annotations

import contextlib

import httpx

from tests.cli_helpers import create_user
from tests.conftest import settings_for
from tests.helpers import ISSUE_TOKEN, PASSWORD, SIGN_IN, days_ahead
from tests.live import live_server, smtp_env
from tests.recovery_helpers import SECURE, VIEWER, secure_token_in


async def graphql(client: httpx.AsyncClient, query: str, **variables) -> dict:
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200 and "errors" not in response.json(), response.text
    return response.json()["data"]


async def test_the_post_on_one_process_ends_sessions_and_tokens_on_another(postgres_url, smtp):
    settings = settings_for(postgres_url)
    create_user(settings, "alice")
    with contextlib.ExitStack() as stack:
        first, second = (
            stack.enter_context(live_server(settings, **smtp_env(smtp.port))) for _ in range(2)
        )
        async with (
            httpx.AsyncClient(base_url=second, timeout=30) as browser,
            httpx.AsyncClient(base_url=first, timeout=30) as mail_reader,
        ):
            await graphql(browser, SIGN_IN, username="alice", password=PASSWORD)
            issued = await graphql(
                browser,
                ISSUE_TOKEN,
                name="deploy",
                expiresAt=days_ahead(30),
                password=PASSWORD,
                otp=None,
            )
            secret = issued["issueToken"]["secret"]
            token = secure_token_in(smtp.text(smtp.to("alice@example.com")[-1]))

            # Following the link, as a mail scanner would, changes nothing anywhere.
            page = await mail_reader.get(f"/secure-account/{token}")
            assert page.status_code == 200
            assert (await graphql(browser, VIEWER))["viewer"] == {"username": "alice"}
            grant = {"grant_type": "refresh_token", "refresh_token": secret}
            assert (await browser.post("/oauth/token", data=grant)).status_code == 200

            secured = await graphql(mail_reader, SECURE, t=token)
            assert secured == {"secureAccount": {"userErrors": []}}
            assert (await graphql(browser, VIEWER))["viewer"] is None
            refused = await browser.post("/oauth/token", data=grant)
            assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
    assert smtp.to("alice@example.com")[-1]["Subject"] == "Your account was secured"
