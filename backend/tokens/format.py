"""The token format: a kind prefix, a random body, and a checksum, like GitHub's tokens.

`lk_rt_` refresh token, `lk_at_` access token, `lk_cs_` client secret, `lk_ss_` service
client secret; then 32 base62
characters (190 bits from `secrets`); then the CRC32 of prefix and body in 6 base62
characters. Secret scanners match `TOKEN_PATTERN` and verify the checksum offline, and a
mistyped or truncated token is refused before any database lookup.
"""

from __future__ import annotations

import enum
import re
import secrets
import zlib

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
BODY_LENGTH = 32
CHECKSUM_LENGTH = 6
TOKEN_PATTERN = re.compile(r"lk_(?:rt|at|cs|ss)_[0-9A-Za-z]{38}")


class Kind(enum.Enum):
    REFRESH = "lk_rt_"
    ACCESS = "lk_at_"
    CLIENT_SECRET = "lk_cs_"
    SERVICE_SECRET = "lk_ss_"


def generate(kind: Kind) -> str:
    # One uniform draw over every possible body, written in base62: the same distribution
    # as a choice per character, for one call to the system's randomness instead of 32.
    body = _base62(secrets.randbelow(_BODIES), BODY_LENGTH)
    return kind.value + body + _checksum(kind.value + body)


_BODIES = len(ALPHABET) ** BODY_LENGTH


def _base62(value: int, length: int) -> str:
    digits = []
    for _ in range(length):
        value, remainder = divmod(value, 62)
        digits.append(ALPHABET[remainder])
    return "".join(reversed(digits))


def is_well_formed(token: str, kind: Kind) -> bool:
    """Right prefix, right length and alphabet, and a matching checksum."""
    if len(token) != len(kind.value) + BODY_LENGTH + CHECKSUM_LENGTH:
        return False
    if not token.startswith(kind.value) or not TOKEN_PATTERN.fullmatch(token):
        return False
    payload, checksum = token[:-CHECKSUM_LENGTH], token[-CHECKSUM_LENGTH:]
    return secrets.compare_digest(checksum, _checksum(payload))


def kind_of(token: str) -> Kind | None:
    return next((kind for kind in Kind if is_well_formed(token, kind)), None)


def new_client_id(prefix: str = "lk_ci_") -> str:
    """Client ids are not secret; they only need to be unique and easy to recognise."""
    return prefix + "".join(secrets.choice(ALPHABET) for _ in range(20))


def _checksum(payload: str) -> str:
    return _base62(zlib.crc32(payload.encode()), CHECKSUM_LENGTH)
