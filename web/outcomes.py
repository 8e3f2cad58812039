"""One-time form outcomes for post/redirect/get without JavaScript.

A form post without htmx answers 303 to its page; the outcome (a message, the errors and
what was typed, or a secret shown once) rides along in a short-lived cookie, encrypted and
authenticated with a key derived from LATCHKEY_SECRET_KEY and bound to the page's path, read
once by the page and deleted in the same answer. So a reload never repeats the action, and a
secret shown once is gone on the next reload. A secret never goes into a URL or the
database; in the cookie it is sealed, HttpOnly, for LIFETIME_SECONDS at most, and only for
the browser that is shown it anyway. An outcome too large for a cookie (the authenticator
app's QR code while a setup starts) is rendered directly instead.
"""

from __future__ import annotations

import base64
import json
import os
import time
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from backend.infra.config import Settings

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

LIFETIME_SECONDS = 120  # long enough for a slow redirect, short enough to go stale
# Browsers keep cookies of up to 4,096 bytes, name and attributes included.
MAX_SEALED_CHARS = 3800


class TooLarge(Exception):
    """The outcome does not fit in a cookie: render it directly."""


def cookie_name(settings: Settings) -> str:
    return "__Host-latchkey_outcome" if settings.secure_cookies else "latchkey_outcome"


def _aead(settings: Settings) -> AESGCM:
    # Imported on the first form outcome: API-only workers never load cryptography.
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"latchkey form outcome v1"
    ).derive(settings.secret_key.encode())
    return AESGCM(key)


def keep(
    response: Response, settings: Settings, path: str, section: str, state: dict[str, Any]
) -> Response:
    """Attach the outcome of a post to the redirect towards `path`; TooLarge when it does
    not fit in a cookie."""
    body = json.dumps(
        {"section": section, "state": state, "until": time.time() + LIFETIME_SECONDS},
        default=str,
    ).encode()
    nonce = os.urandom(12)
    sealed = base64.urlsafe_b64encode(
        nonce + _aead(settings).encrypt(nonce, body, path.encode())
    ).decode()
    if len(sealed) > MAX_SEALED_CHARS:
        raise TooLarge
    response.set_cookie(
        cookie_name(settings),
        sealed,
        max_age=LIFETIME_SECONDS,
        path="/",
        httponly=True,
        secure=settings.secure_cookies,
        samesite="lax",
    )
    return response


def take(request: Request, settings: Settings, path: str) -> tuple[str, dict[str, Any]] | None:
    """The outcome waiting for the page at `path`: (section, state), or None."""
    raw = request.cookies.get(cookie_name(settings))
    if not raw:
        return None
    from cryptography.exceptions import InvalidTag

    try:
        data = base64.urlsafe_b64decode(raw.encode())
        body = json.loads(_aead(settings).decrypt(data[:12], data[12:], path.encode()))
    except (ValueError, InvalidTag):
        return None  # another page's outcome, tampered with, or a stale key
    if not isinstance(body, dict) or body.get("until", 0) < time.time():
        return None
    return str(body.get("section", "")), dict(body.get("state") or {})


def forget(request: Request, response: Response, settings: Settings) -> Response:
    """Delete the outcome cookie once a page has shown it (or it was stale)."""
    if request.cookies.get(cookie_name(settings)):
        response.delete_cookie(
            cookie_name(settings),
            path="/",
            httponly=True,
            secure=settings.secure_cookies,
            samesite="lax",
        )
    return response
