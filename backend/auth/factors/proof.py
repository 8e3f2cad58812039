"""What a user offers as a second factor, parsed once at the edge: a typed code, or a
passkey's assertion.

Each kind says which proofs it can check (`Strategy.accepts`); verification.py offers a
proof only to the kinds that accept it. A proof is never guessed from its text: a
passkey's assertion sent where a typed code belongs is a (wrong) typed code, and text that
is no assertion is refused where an assertion belongs.
"""

from __future__ import annotations

import dataclasses
import json

from backend.kernel.errors import DomainError


@dataclasses.dataclass(frozen=True)
class TypedCode:
    """A code the user types: from an app, an email, an SMS, a device, or a recovery code."""

    text: str
    field: str = "code"  # the input it came in, which a refusal points at


@dataclasses.dataclass(frozen=True)
class PasskeyAssertion:
    """The browser's answer to request options: PublicKeyCredential.toJSON(), as sent."""

    json: str
    field: str = "credential"

    @classmethod
    def parse(cls, text: str, field: str = "credential") -> PasskeyAssertion:
        """Raise VALIDATION_FAILED unless `text` is a JSON object (checked in full later)."""
        try:
            value = json.loads(text)
        except ValueError:
            value = None
        if not isinstance(value, dict):
            raise DomainError("VALIDATION_FAILED", "That is not a passkey's answer.", field)
        return cls(text, field)


Proof = TypedCode | PasskeyAssertion


def given(code: str | None, credential: str | None, *, code_field: str = "code") -> Proof | None:
    """The proof an input carries: `credential` (a passkey's assertion), else `code`.

    None when neither was given. An assertion always travels in `credential`.
    """
    if credential:
        return PasskeyAssertion.parse(credential)
    if code and code.strip():
        return TypedCode(code.strip(), code_field)
    return None
