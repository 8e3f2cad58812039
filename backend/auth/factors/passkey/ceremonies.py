"""The WebAuthn ceremonies, through py_webauthn: options for the browser, and checking what
it answers. No storage here; challenges.py keeps the challenges, strategy.py the credentials.

The options and credentials travel as the WebAuthn Level 3 JSON forms, so the browser's
`PublicKeyCredential.parseCreationOptionsFromJSON` / `parseRequestOptionsFromJSON` and
`credential.toJSON()` work on them as they are.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import json
from types import SimpleNamespace
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from webauthn.helpers.structs import PublicKeyCredentialDescriptor


# What the ceremonies use of py_webauthn, by module.
_NAMES = {
    "webauthn": (
        "generate_authentication_options",
        "generate_registration_options",
        "options_to_json",
        "verify_authentication_response",
        "verify_registration_response",
    ),
    "webauthn.helpers": (
        "base64url_to_bytes",
        "bytes_to_base64url",
        "parse_authentication_credential_json",
        "parse_client_data_json",
        "parse_registration_credential_json",
    ),
    "webauthn.helpers.exceptions": ("WebAuthnException",),
    "webauthn.helpers.structs": (
        "AuthenticatorSelectionCriteria",
        "AuthenticatorTransport",
        "PublicKeyCredentialDescriptor",
        "ResidentKeyRequirement",
        "UserVerificationRequirement",
    ),
}


@functools.cache
def _webauthn() -> SimpleNamespace:
    """py_webauthn, imported at the first passkey ceremony: with cryptography and its ASN.1
    parsers it holds about 17 MB that requests without passkeys never need."""
    return SimpleNamespace(
        **{
            name: getattr(importlib.import_module(module), name)
            for module, names in _NAMES.items()
            for name in names
        }
    )


TIMEOUT_MS = 300_000  # as long as the challenge lives
MAX_CREDENTIAL_JSON = 16_384  # real ones are a few kilobytes at most


class Refused(Exception):
    """The browser's answer does not prove what it must; `reason` is for the security log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclasses.dataclass(frozen=True)
class RelyingParty:
    id: str  # the host name passkeys are bound to
    origin: str  # the only origin whose pages may use them
    name: str

    @classmethod
    def for_public_url(cls, public_url: str, name: str) -> RelyingParty:
        parts = urlsplit(public_url)
        return cls(id=parts.hostname or "", origin=f"{parts.scheme}://{parts.netloc}", name=name)


@dataclasses.dataclass(frozen=True)
class Options:
    json: str  # for the browser
    challenge: bytes  # to remember, hashed (challenges.py)


@dataclasses.dataclass(frozen=True)
class Registered:
    credential_id: str  # base64url
    public_key: str  # COSE, base64url
    sign_count: int
    transports: tuple[str, ...]
    user_verified: bool


@dataclasses.dataclass(frozen=True)
class Asserted:
    sign_count: int
    user_verified: bool


@dataclasses.dataclass(frozen=True)
class KnownCredential:
    credential_id: str
    transports: tuple[str, ...] = ()


def registration_options(
    rp: RelyingParty,
    *,
    user_handle: bytes,
    username: str,
    display_name: str,
    exclude: list[KnownCredential],
) -> Options:
    """A discoverable credential (a passkey); the user's own are excluded, so the same
    authenticator is not registered twice."""
    w = _webauthn()
    options = w.generate_registration_options(
        rp_id=rp.id,
        rp_name=rp.name,
        user_id=user_handle,
        user_name=username,
        user_display_name=display_name or username,
        timeout=TIMEOUT_MS,
        authenticator_selection=w.AuthenticatorSelectionCriteria(
            resident_key=w.ResidentKeyRequirement.REQUIRED,
            user_verification=w.UserVerificationRequirement.PREFERRED,
        ),
        exclude_credentials=[_descriptor(known) for known in exclude],
    )
    return Options(w.options_to_json(options), options.challenge)


def request_options(
    rp: RelyingParty, *, allow: list[KnownCredential] | None, user_verification: bool
) -> Options:
    """`allow` None: any discoverable credential of this site (passwordless sign-in)."""
    w = _webauthn()
    options = w.generate_authentication_options(
        rp_id=rp.id,
        timeout=TIMEOUT_MS,
        allow_credentials=[_descriptor(known) for known in allow or []],
        user_verification=(
            w.UserVerificationRequirement.REQUIRED
            if user_verification
            else w.UserVerificationRequirement.PREFERRED
        ),
    )
    return Options(w.options_to_json(options), options.challenge)


def client_challenge(credential_json: str) -> bytes:
    """The challenge the browser signed, to find the stored one it answers."""
    w = _webauthn()
    data = _json_object(credential_json)
    try:
        client_data = w.base64url_to_bytes(data["response"]["clientDataJSON"])
        return w.parse_client_data_json(client_data).challenge
    except (KeyError, TypeError, ValueError, w.WebAuthnException):
        raise Refused("malformed") from None


def credential_id(credential_json: str) -> str:
    w = _webauthn()
    try:
        return w.bytes_to_base64url(w.parse_authentication_credential_json(credential_json).raw_id)
    except (ValueError, TypeError, KeyError, w.WebAuthnException):
        raise Refused("malformed") from None


def user_handle(credential_json: str) -> bytes | None:
    w = _webauthn()
    try:
        return w.parse_authentication_credential_json(credential_json).response.user_handle
    except (ValueError, TypeError, KeyError, w.WebAuthnException):
        raise Refused("malformed") from None


def verify_registration(rp: RelyingParty, credential_json: str, challenge: bytes) -> Registered:
    w = _webauthn()
    _first_party_only(rp, _json_object(credential_json))
    try:
        credential = w.parse_registration_credential_json(credential_json)
        verified = w.verify_registration_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
            require_user_presence=True,
        )
    except (ValueError, TypeError, KeyError, w.WebAuthnException) as error:
        raise Refused(_reason(error)) from None
    transports = tuple(t.value for t in credential.response.transports or ())
    return Registered(
        credential_id=w.bytes_to_base64url(verified.credential_id),
        public_key=w.bytes_to_base64url(verified.credential_public_key),
        sign_count=verified.sign_count,
        transports=transports,
        user_verified=verified.user_verified,
    )


def verify_assertion(
    rp: RelyingParty,
    credential_json: str,
    challenge: bytes,
    *,
    public_key: str,
    sign_count: int,
    user_verification: bool,
) -> Asserted:
    """Origin, RP id hash, signature, user presence (and verification when asked), and a
    sign counter that went forward, all checked by py_webauthn."""
    w = _webauthn()
    _first_party_only(rp, _json_object(credential_json))
    try:
        verified = w.verify_authentication_response(
            credential=credential_json,
            expected_challenge=challenge,
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
            credential_public_key=w.base64url_to_bytes(public_key),
            credential_current_sign_count=sign_count,
            require_user_verification=user_verification,
        )
    except (ValueError, TypeError, KeyError, w.WebAuthnException) as error:
        raise Refused(_reason(error)) from None
    return Asserted(sign_count=verified.new_sign_count, user_verified=verified.user_verified)


def _descriptor(known: KnownCredential) -> PublicKeyCredentialDescriptor:
    w = _webauthn()
    transports = []
    for name in known.transports:
        try:
            transports.append(w.AuthenticatorTransport(name))
        except ValueError:
            continue  # a transport this library does not know is only a hint
    return w.PublicKeyCredentialDescriptor(
        id=w.base64url_to_bytes(known.credential_id), transports=transports or None
    )


def _first_party_only(rp: RelyingParty, data: dict) -> None:
    """Refuse a ceremony run in a frame of another site (clickjacking the passkey prompt).

    py_webauthn checks `origin` but neither `crossOrigin` nor `topOrigin` (Level 3), so a
    page of ours framed by another site would pass; our pages never run in a frame.
    """
    w = _webauthn()
    try:
        client_data = json.loads(w.base64url_to_bytes(data["response"]["clientDataJSON"]))
    except (KeyError, TypeError, ValueError, RecursionError):
        raise Refused("malformed") from None
    if not isinstance(client_data, dict):
        raise Refused("malformed")
    if client_data.get("crossOrigin", False) is not False:
        raise Refused("cross_origin")
    top_origin = client_data.get("topOrigin")
    if top_origin is not None and top_origin != rp.origin:
        raise Refused("cross_origin")


def _json_object(credential_json: str) -> dict:
    if not credential_json or len(credential_json) > MAX_CREDENTIAL_JSON:
        raise Refused("malformed")
    try:
        data = json.loads(credential_json)
    except ValueError:
        raise Refused("malformed") from None
    if not isinstance(data, dict):
        raise Refused("malformed")
    return data


def _reason(error: Exception) -> str:
    """A short, stable reason for the log from py_webauthn's message (never user input)."""
    message = str(error).lower()
    for needle, reason in (
        ("sign count", "counter_not_increasing"),
        ("origin", "wrong_origin"),
        ("rp id", "wrong_rp_id"),
        ("not verified", "user_not_verified"),
        ("not present", "user_not_present"),
        ("challenge", "wrong_challenge"),
        ("signature", "bad_signature"),
    ):
        if needle in message:
            return reason
    return "malformed"
