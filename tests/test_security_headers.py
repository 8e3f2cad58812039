"""Security headers on answers the app does not build itself, and GraphiQL's CSP."""

from __future__ import annotations

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
        name: values for name, *values in (part.split() for part in csp.split(";") if part.strip())
    }


async def test_graphiql_comes_from_our_origin_under_a_csp_without_inline_code(client):
    response = await client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert_security_headers(response)
    csp = _directives(response.headers["content-security-policy"])
    assert csp["default-src"] == ["'self'"] and csp["frame-ancestors"] == ["'none'"]
    assert csp["script-src"] == ["'self'"] and "connect-src" not in csp  # our origin only
    assert "https:" not in response.headers["content-security-policy"]
    # Styles: our files, plus the one <style> GraphiQL's dialogs add, by this answer's nonce.
    [nonce] = re.findall(r'data-style-nonce="([^"]+)"', response.text)
    assert csp["style-src"] == ["'self'", f"'nonce-{nonce}'"]
    # The pages' policy, and beyond it only that nonce and GraphiQL's embedded fonts.
    pages = _directives((await client.get("/login")).headers["content-security-policy"])
    added = {name: [s for s in csp[name] if s not in pages.get(name, ["'self'"])] for name in csp}
    assert {name: extra for name, extra in added.items() if extra} == {
        "style-src": [f"'nonce-{nonce}'"],
        "font-src": ["data:"],
    }
    assert all(csp[name][: len(sources)] == sources for name, sources in pages.items())
    again = await client.get("/graphql", headers={"Accept": "text/html"})
    assert nonce not in again.headers["content-security-policy"]

    assert not re.search(r"<script(?![^>]*\bsrc=)", response.text), "an inline script"
    assert not re.search(r"<style|\sstyle=", response.text), "an inline style"
    assets = re.findall(r'<(?:script|link)[^>]*\b(?:src|href)="([^"]+)"', response.text)
    assert len(assets) >= 6
    for url in assets:
        assert url.startswith("http://testserver/static/"), url
        asset = await client.get(url)
        assert asset.status_code == 200, url
        kind = asset.headers["content-type"]
        assert kind.split(";")[0] in {"text/javascript", "text/css", "image/svg+xml"}, url
