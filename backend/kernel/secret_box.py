"""Encryption at rest for what must be read back (TOTP secrets, webhook signing secrets),
with a key derived from LATCHKEY_SECRET_KEY.

A TOTP secret must be recoverable to check codes, so it cannot be hashed like the others.
"""

from __future__ import annotations

import base64
import functools
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION = "v1"


class SecretBox:
    def __init__(self, secret_key: str) -> None:
        self._secret_key = secret_key

    @functools.cached_property
    def _aead(self) -> AESGCM:
        # Loaded at the first TOTP secret: most workers' requests never need cryptography.
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
        from cryptography.hazmat.primitives.kdf.hkdf import HKDF

        key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"latchkey totp secret v1"
        ).derive(self._secret_key.encode())
        return AESGCM(key)

    def seal(self, plaintext: str, *, bound_to: str) -> str:
        """Encrypt `plaintext`; `bound_to` (e.g. the user id) must match when opening."""
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), bound_to.encode())
        return f"{VERSION}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def open(self, sealed: str, *, bound_to: str) -> str:
        version, _, payload = sealed.partition(":")
        if version != VERSION:
            raise ValueError("unknown secret format")
        raw = base64.urlsafe_b64decode(payload)
        return self._aead.decrypt(raw[:12], raw[12:], bound_to.encode()).decode()
