"""Security headers on every response; personal data is never cached."""

from __future__ import annotations

import base64
import hashlib
import re

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

COMMON = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}
# Where Strawberry's GraphiQL page loads its scripts, styles and fonts from.
GRAPHIQL_CDN = "https://unpkg.com"
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


class SecurityHeaders:
    """Outermost middleware: even the answers Starlette makes itself (413, 500) get these."""

    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.headers = dict(COMMON)
        if hsts:
            self.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    headers.setdefault(name, value)
                if not static:
                    headers.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)


def graphiql_csp(html: str) -> str:
    """A CSP for the GraphiQL page as served: its CDN assets and its own inline script only."""
    hashes = " ".join(_sha256_source(script) for script in _INLINE_SCRIPT.findall(html))
    return (
        f"default-src 'none'; script-src {GRAPHIQL_CDN} {hashes}; "
        # GraphiQL's editor sets style attributes as it draws, so inline styles must pass.
        f"style-src {GRAPHIQL_CDN} 'unsafe-inline'; font-src {GRAPHIQL_CDN} data:; "
        "img-src 'self' data:; connect-src 'self'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    )


def _sha256_source(script: str) -> str:
    return f"'sha256-{base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()}'"
