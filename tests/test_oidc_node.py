"""openid-client, the OpenID Connect library Node platforms use, signs a user in through
`latchkey serve` and out again (tests/relying_party/openid_client_rp.mjs): discovery, PKCE
and nonce, the ID token checked by the library, userinfo, then RP-initiated logout."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlencode

import pytest

from backend.infra.config import Settings
from tests.cli_helpers import create_user
from tests.conftest import IN_CI
from tests.live import live_server
from tests.test_oauth_live import signed_in, sqlite_settings  # noqa: F401 (a fixture)
from tests.test_oidc_live import register

# Both tests install the library the same way: one worker runs them, never two `npm ci`.
pytestmark = pytest.mark.xdist_group("openid-client")

RELYING_PARTY = Path(__file__).parent / "relying_party"
SCRIPT = RELYING_PARTY / "openid_client_rp.mjs"
CALLBACK = "http://localhost:9/callback"  # never opened: the script reads the code off the URL
SIGNED_OUT = "http://localhost:9/signed-out"
VIEWER = {"query": "{ viewer { id username } }"}
MANUAL = Path(__file__).resolve().parents[1] / "docs" / "api" / "openid-connect.md"


@pytest.fixture(scope="module")
def node() -> str:
    """Node with openid-client installed from the lock file (make install-test does it too)."""
    node = shutil.which("node")
    if node is None or shutil.which("npm") is None:
        if IN_CI:
            pytest.fail("Node.js is missing: install the Debian packages nodejs and npm")
        pytest.skip("Node.js is not installed (apt-get install nodejs npm)")
    if not (RELYING_PARTY / "node_modules" / "openid-client").exists():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"], cwd=RELYING_PARTY, check=True, timeout=300
        )
    return node


class RelyingParty:
    """The script in its own process: it says what it did, step by step, as JSON lines."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    async def said(self, step: str) -> dict:
        line = await asyncio.wait_for(self.process.stdout.readline(), timeout=20)
        if not line:
            errors = await self.process.stderr.read()
            raise AssertionError(f"openid-client stopped before {step}:\n{errors.decode()}")
        told = json.loads(line)
        assert told["step"] == step, told
        return told

    async def hear(self, url: str) -> None:
        self.process.stdin.write(f"{url}\n".encode())
        await self.process.stdin.drain()


async def sign_in_and_out(node: str, settings: Settings, *client_args: str) -> None:
    create_user(settings)
    client_id, secret = register(settings, "--post-logout-redirect-uri", SIGNED_OUT, *client_args)
    with live_server(settings) as url:
        browser = signed_in(url)
        process = await asyncio.create_subprocess_exec(
            node,
            str(SCRIPT),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={
                "PATH": "/usr/bin:/bin",
                "ISSUER": url,
                "CLIENT_ID": client_id,
                "CLIENT_SECRET": secret,
                "REDIRECT_URI": CALLBACK,
                "POST_LOGOUT_REDIRECT_URI": SIGNED_OUT,
            },
        )
        platform = RelyingParty(process)
        try:
            authorize = (await platform.said("authorize"))["url"]
            assert authorize.startswith(f"{url}/oauth/authorize?")
            callback = browser.get(authorize).headers["location"]
            assert callback.startswith(f"{CALLBACK}?code=")
            await platform.hear(callback)

            signed = await platform.said("signed_in")
            me = browser.post("/graphql", json=VIEWER).json()["data"]["viewer"]
            claims, userinfo = signed["claims"], signed["userinfo"]
            assert claims["iss"] == url and claims["aud"] == client_id
            assert claims["sub"] == me["id"] and claims["preferred_username"] == "alice"
            assert userinfo["sub"] == me["id"] and userinfo["email"] == "alice@example.com"

            logout = await platform.said("logout")
            assert logout["url"].startswith(f"{url}/oauth/logout?")
            back = browser.get(logout["url"])
            assert back.status_code == 303
            state = urlencode({"state": logout["state"]})
            assert back.headers["location"] == f"{SIGNED_OUT}?{state}"
            assert await asyncio.wait_for(process.wait(), timeout=10) == 0
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        # The Latchkey session ended with the platform's.
        assert browser.post("/graphql", json=VIEWER).json()["data"]["viewer"] is None
        assert browser.get("/account").headers["location"].startswith("/login")


async def test_a_confidential_client_signs_in_and_out(node, sqlite_settings):  # noqa: F811
    await sign_in_and_out(node, sqlite_settings)


async def test_a_public_client_with_pkce_only_signs_in_and_out(node, sqlite_settings):  # noqa: F811
    await sign_in_and_out(node, sqlite_settings, "--public", "--id-token-alg", "RS256")


def test_the_manual_shows_the_calls_the_script_makes():
    """docs/api/openid-connect.md's openid-client example: the script's calls, except the one
    that lets the tests use plain http."""
    shown = MANUAL.read_text().split("```js\n", 1)[1].split("```", 1)[0]
    calls = set(re.findall(r"\bclient\.(\w+)", SCRIPT.read_text()))
    assert set(re.findall(r"\bclient\.(\w+)", shown)) == calls - {"allowInsecureRequests"}
