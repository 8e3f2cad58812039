"""Security headers on answers the app does not build itself, and GraphiQL's CSP."""

from __future__ import annotations

import base64
import hashlib
import re

SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "cache-control": "no-store",
}


def assert_security_headers(response) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, (name, response.status_code)


async def test_a_body_over_the_limit_gets_413_with_the_security_headers(client, settings):
    oversized = b'{"query": "' + b"x" * (settings.max_body_bytes + 1) + b'"}'
    response = await client.post(
        "/graphql", content=oversized, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert_security_headers(response)


def _directives(csp: str) -> dict[str, list[str]]:
    return {
        name: values
        for name, *values in (part.split() for part in csp.split(";") if part.strip())
    }


async def test_graphiql_gets_the_security_headers_and_a_csp_that_allows_only_what_it_loads(
    client,
):
    response = await client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert_security_headers(response)
    csp = _directives(response.headers["content-security-policy"])
    assert csp["default-src"] == ["'none'"] and csp["frame-ancestors"] == ["'none'"]
    scripts = csp["script-src"]
    assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts
    for inline in re.findall(r"<script>(.*?)</script>", response.text, re.DOTALL):
        digest = base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in scripts
    for url in re.findall(r'<script[^>]*\bsrc="([^"]+)"', response.text):
        assert any(url.startswith(source + "/") for source in scripts), url
    for url in re.findall(r'<link[^>]*\bhref="(https://[^"]+)"', response.text):
        assert any(url.startswith(source + "/") for source in csp["style-src"]), url
    assert csp["connect-src"] == ["'self'"]
