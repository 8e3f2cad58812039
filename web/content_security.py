"""The Content-Security-Policy of every page we draw, built in this one place.

Pages, error pages and GraphiQL share one policy: scripts, styles, images and requests from
our own origin only, no inline code, no framing. GraphiQL's page adds only what its library
cannot do without (see `graphiql`).
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

PAGES: dict[str, str] = {
    "default-src": "'self'",
    "img-src": "'self' data:",
    "style-src": "'self'",
    "script-src": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
    "base-uri": "'none'",
}


def policy(extra: dict[str, str] | None = None) -> str:
    """The pages' policy, with `extra` sources added to the directives it names."""
    directives = dict(PAGES)
    for name, sources in (extra or {}).items():
        base = directives.get(name, PAGES["default-src"])
        directives[name] = f"{base} {sources}"
    return "; ".join(f"{name} {sources}" for name, sources in directives.items())


CSP = policy()
AUTHORIZE = "/oauth/authorize?"


def for_forms_going_to(destination: object) -> str:
    """The pages' policy for a page whose forms go on to `destination`. After signing in
    for an application (`destination` is /oauth/authorize), the answer to the form is a
    chain of redirects ending at the application's redirect URI, and browsers check
    form-action on every redirect of that chain: the policy names that URI's origin too.
    It need not be registered here: /oauth/authorize never redirects to one that is not.
    An absolute `destination` (a protected application's address, which the sign-in page
    accepted as one of LATCHKEY_TRUSTED_ORIGINS) is named the same way."""
    if not isinstance(destination, str):
        return CSP
    if destination.startswith(AUTHORIZE):
        redirect_uri = parse_qs(urlsplit(destination).query).get("redirect_uri", [""])[0]
        origin = _origin(redirect_uri)
    else:  # an application behind a reverse proxy, on a trusted origin (/login?next=)
        origin = _origin(destination)
    return policy({"form-action": origin}) if origin else CSP


def _origin(uri: str) -> str | None:
    """The origin of an http(s) URI, built only of characters a policy can hold safely."""
    try:
        parts = urlsplit(uri)
        host, port = parts.hostname or "", parts.port
    except ValueError:
        return None
    if parts.scheme not in ("https", "http"):
        return None
    if re.fullmatch(r"[0-9a-f:]+", host) and ":" in host:
        host = f"[{host}]"  # an IPv6 address
    elif not re.fullmatch(r"[a-z0-9.-]+", host):
        return None
    return f"{parts.scheme}://{host}" + (f":{port}" if port else "")


def graphiql(style_nonce: str) -> str:
    """GraphiQL 3's page: the pages' policy and two additions its browser build needs.

    - style-src nonce: its dialogs add a <style> element while open (to stop the page
      scrolling behind them); the page hands GraphiQL this response's nonce for it, so no
      other inline style passes.
    - font-src data: its stylesheet embeds its fonts as data: URLs.
    """
    return policy({"style-src": f"'nonce-{style_nonce}'", "font-src": "data:"})
