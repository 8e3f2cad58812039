"""The Content-Security-Policy of every page we draw, built in this one place.

Pages, error pages and GraphiQL share one policy: scripts, styles, images and requests from
our own origin only, no inline code, no framing. GraphiQL's page adds only what its library
cannot do without (see `graphiql`).
"""

from __future__ import annotations

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


def graphiql(style_nonce: str) -> str:
    """GraphiQL 3's page: the pages' policy and two additions its browser build needs.

    - style-src nonce: its dialogs add a <style> element while open (to stop the page
      scrolling behind them); the page hands GraphiQL this response's nonce for it, so no
      other inline style passes.
    - font-src data: its stylesheet embeds its fonts as data: URLs.
    """
    return policy({"style-src": f"'nonce-{style_nonce}'", "font-src": "data:"})
