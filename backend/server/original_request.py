"""The request a proxy is asking about, as its `X-Forwarded-*` or `X-Original-*` headers tell it.

Believed only from a peer in LATCHKEY_TRUSTED_PROXIES: anyone else could name any address.
It serves the log and the sign-in link's `next`, never the decision of who is signed in.
"""

from __future__ import annotations

import dataclasses
from urllib.parse import urlsplit

from starlette.requests import HTTPConnection

from backend.infra.config import Settings
from backend.infra.logs import loggable_path

MAX_URL_LENGTH = 2000
METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE"}


@dataclasses.dataclass(frozen=True)
class OriginalRequest:
    method: str = ""
    url: str = ""  # absolute, http or https; empty when not told or not believed

    @property
    def loggable(self) -> str:
        """The address without its query (an application's own secrets may be there)."""
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}{loggable_path(parts.path)}" if self.url else ""


def original_request(request: HTTPConnection, settings: Settings) -> OriginalRequest:
    peer = request.client.host if request.client else ""
    if peer not in settings.trusted_proxies:
        return OriginalRequest()
    headers = request.headers
    method = headers.get("x-forwarded-method") or headers.get("x-original-method") or ""
    url = headers.get("x-original-url") or _from_forwarded(
        headers.get("x-forwarded-proto", ""),
        headers.get("x-forwarded-host", ""),
        headers.get("x-forwarded-uri", ""),
    )
    return OriginalRequest(
        method=method.upper() if method.upper() in METHODS else "",
        url=url if _plausible(url) else "",
    )


def _from_forwarded(proto: str, host: str, uri: str) -> str:
    # A proxy chain lists one value per hop; the first is the client's.
    proto, host = proto.split(",")[0].strip(), host.split(",")[0].strip()
    if not (proto and host and uri.startswith("/")):
        return ""
    return f"{proto}://{host}{uri}"


def _plausible(url: str) -> bool:
    """An absolute http(s) address of printable ASCII, as a browser would have asked for."""
    if not url or len(url) > MAX_URL_LENGTH:
        return False
    if any(not 0x21 <= ord(char) <= 0x7E for char in url):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:  # a malformed IPv6 host
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc) and "\\" not in url
