"""A small software authenticator: real WebAuthn registration and assertion responses,
built with `cryptography` (ES256) and CBOR, so the server's checks can be tried without
a browser, including answers no honest browser would send."""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url

ORIGIN = "http://localhost:8000"  # the default LATCHKEY_PUBLIC_URL
RP_ID = "localhost"

UP, UV, AT = 0x01, 0x04, 0x40


class SoftAuthenticator:
    def __init__(self, *, user_verifying: bool = True) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = os.urandom(16)
        self.sign_count = 0
        self.user_handle: bytes | None = None
        self.user_verifying = user_verifying

    @property
    def id(self) -> str:
        return bytes_to_base64url(self.credential_id)

    def create(
        self,
        options_json: str,
        *,
        origin: str = ORIGIN,
        rp_id: str = RP_ID,
        client_data: dict[str, Any] | None = None,
    ) -> str:
        """navigator.credentials.create(), then credential.toJSON().

        `client_data`: members to set in clientDataJSON, e.g. what a framed page sends."""
        options = json.loads(options_json)
        self.user_handle = base64url_to_bytes(options["user"]["id"])
        client_data_json = self._client_data(
            "webauthn.create", options["challenge"], origin, client_data
        )
        numbers = self.key.public_key().public_numbers()
        cose_key = cbor2.dumps(
            {
                1: 2,  # kty: EC2
                3: -7,  # alg: ES256
                -1: 1,  # crv: P-256
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )
        auth_data = (
            self._auth_data(rp_id, AT | UP | (UV if self.user_verifying else 0), self.sign_count)
            + bytes(16)  # AAGUID
            + len(self.credential_id).to_bytes(2, "big")
            + self.credential_id
            + cose_key
        )
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return json.dumps(
            {
                "id": self.id,
                "rawId": self.id,
                "type": "public-key",
                "response": {
                    "clientDataJSON": bytes_to_base64url(client_data_json),
                    "attestationObject": bytes_to_base64url(attestation),
                    "transports": ["internal"],
                },
                "clientExtensionResults": {},
                "authenticatorAttachment": "platform",
            }
        )

    def get(
        self,
        options_json: str,
        *,
        origin: str = ORIGIN,
        rp_id: str = RP_ID,
        user_verified: bool | None = None,
        sign_count: int | None = None,
        user_handle: bytes | None = None,
        client_data: dict[str, Any] | None = None,
    ) -> str:
        """navigator.credentials.get(), then credential.toJSON()."""
        options = json.loads(options_json)
        client_data_json = self._client_data(
            "webauthn.get", options["challenge"], origin, client_data
        )
        self.sign_count = self.sign_count + 1 if sign_count is None else sign_count
        verified = self.user_verifying if user_verified is None else user_verified
        auth_data = self._auth_data(rp_id, UP | (UV if verified else 0), self.sign_count)
        signature = self.key.sign(
            auth_data + hashlib.sha256(client_data_json).digest(), ec.ECDSA(hashes.SHA256())
        )
        handle = user_handle or self.user_handle
        response: dict[str, Any] = {
            "clientDataJSON": bytes_to_base64url(client_data_json),
            "authenticatorData": bytes_to_base64url(auth_data),
            "signature": bytes_to_base64url(signature),
        }
        if handle is not None:
            response["userHandle"] = bytes_to_base64url(handle)
        return json.dumps(
            {
                "id": self.id,
                "rawId": self.id,
                "type": "public-key",
                "response": response,
                "clientExtensionResults": {},
                "authenticatorAttachment": "platform",
            }
        )

    @staticmethod
    def _client_data(
        kind: str, challenge: str, origin: str, extra: dict[str, Any] | None = None
    ) -> bytes:
        data = {"type": kind, "challenge": challenge, "origin": origin, "crossOrigin": False}
        return json.dumps({**data, **(extra or {})}).encode()

    @staticmethod
    def _auth_data(rp_id: str, flags: int, sign_count: int) -> bytes:
        return (
            hashlib.sha256(rp_id.encode()).digest() + bytes([flags]) + sign_count.to_bytes(4, "big")
        )


START_REGISTRATION = """
mutation Start($password: String, $otp: String) {
  startPasskeyRegistration(input: {password: $password, otp: $otp}) {
    options userErrors { field code message }
  }
}
"""

FINISH_REGISTRATION = """
mutation Finish($name: String, $credential: String!) {
  finishPasskeyRegistration(input: {name: $name, credential: $credential}) {
    passkey { id name createdAt lastUsedAt }
    recoveryCodes
    userErrors { field code message }
  }
}
"""

START_SIGN_IN = """
mutation { startPasskeySignIn { challenge options userErrors { field code message } } }
"""

FINISH_SIGN_IN = """
mutation Finish($challenge: String!, $credential: String!) {
  finishPasskeySignIn(input: {challenge: $challenge, credential: $credential}) {
    status viewer { username } userErrors { field code message }
  }
}
"""

DELETE = """
mutation Delete($id: ID!, $password: String, $otp: String) {
  deletePasskey(input: {id: $id, password: $password, otp: $otp}) {
    twoFactorEnabled userErrors { field code message }
  }
}
"""


async def register(gql, authenticator: SoftAuthenticator, *, name: str = "Laptop", **proof):
    """Add `authenticator` as a passkey of the signed-in user; the finish payload."""
    started = (await gql(START_REGISTRATION, proof))["startPasskeyRegistration"]
    assert started["userErrors"] == [], started
    credential = authenticator.create(started["options"])
    finished = await gql(FINISH_REGISTRATION, {"name": name, "credential": credential})
    return finished["finishPasskeyRegistration"]


async def sign_in_with(gql, authenticator: SoftAuthenticator, **assertion) -> dict[str, Any]:
    started = (await gql(START_SIGN_IN))["startPasskeySignIn"]
    credential = authenticator.get(started["options"], **assertion)
    data = await gql(FINISH_SIGN_IN, {"challenge": started["challenge"], "credential": credential})
    return data["finishPasskeySignIn"]
