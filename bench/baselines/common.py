"""What the baselines share: the hash format, the token format, the form, the answers."""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
import zlib
from datetime import timedelta
from urllib.parse import parse_qsl, unquote_plus

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from tortoise import Tortoise

ACCESS_PREFIX = "lk_at_"
REFRESH_PREFIX = "lk_rt_"
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
ACCESS_LIFETIME = timedelta(seconds=int(os.environ.get("LATCHKEY_ACCESS_TOKEN_SECONDS", "300")))
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
BASIC_CHALLENGE = 'Basic realm="latchkey"'


def sha256_hex(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret(prefix: str) -> str:
    """As the product's tokens look: a prefix, 32 random base62 characters, a checksum."""
    body = prefix + "".join(secrets.choice(ALPHABET) for _ in range(32))
    return body + _checksum(body)


def well_formed(secret: str, prefix: str) -> bool:
    return (
        len(secret) == len(prefix) + 38
        and secret.startswith(prefix)
        and _checksum(secret[:-6]) == secret[-6:]
    )


def _checksum(body: str) -> str:
    value, checksum = zlib.crc32(body.encode()), ""
    for _ in range(6):
        value, remainder = divmod(value, 62)
        checksum = ALPHABET[remainder] + checksum
    return checksum


async def form_of(request: Request) -> dict[str, str]:
    return dict(parse_qsl((await request.body()).decode("utf-8", "replace")))


def basic_credentials(request: Request) -> tuple[str, str] | None:
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, colon, secret = decoded.partition(":")
    return (unquote_plus(client_id), unquote_plus(secret)) if colon else None


def client_address(request: Request) -> str:
    """The load stands in for a trusted proxy that names each user's address."""
    forwarded = request.headers.get("x-forwarded-for")
    return forwarded or (request.client.host if request.client else "")


def oauth_error(error: str, description: str, status_code: int = 400) -> Response:
    headers = dict(NO_STORE)
    if error == "invalid_client":
        headers["WWW-Authenticate"] = BASIC_CHALLENGE
    return JSONResponse(
        {"error": error, "error_description": description},
        status_code=status_code,
        headers=headers,
    )


def sql(text: str) -> str:
    """`$1`-numbered parameters, as SQLite writes them (`?1`) when the database is SQLite."""
    postgres = Tortoise.get_connection("default").capabilities.dialect == "postgres"
    return text if postgres else text.replace("$", "?")
