"""Text that can be stored: the one check every string passes before it reaches the database,
and the one rule for every name a user gives.

PostgreSQL refuses NUL in text, and neither database can encode a lone surrogate (JSON
can carry one as an escape). Such input is a mistake or an attack, never a real name.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from backend.kernel.errors import DomainError

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def is_storable(value: str) -> bool:
    return _UNSTORABLE.search(value) is None


def can_name(model: Any, field: str, value: str) -> bool:
    """Whether `value` could be in the column `field` of `model`: storable, and not longer
    than the column holds. A value that is not names no row.

    Ask before looking a row up by text a user gave: Tortoise checks a filter's value
    against the column's max_length and raises (a masked 500), where the answer is simply
    that nothing has that name.
    """
    return is_storable(value) and len(value) <= model._meta.fields_map[field].max_length


def storable(value: str) -> str:
    """`value` with unstorable characters replaced, for look-ups that must still run."""
    return _UNSTORABLE.sub(REPLACEMENT, value)


def require_storable(value: str, field: str) -> str:
    if not is_storable(value):
        raise DomainError("VALIDATION_FAILED", "Remove the NUL or other invalid characters.", field)
    return value


def clean_name(value: str, field: str) -> str:
    """A name a user gives (token, passkey, second factor, profile, group), as stored:
    NFC and trimmed; VALIDATION_FAILED on `field` when it holds an invisible character.

    Cc: control characters, Cf: zero-width characters and bidirectional overrides (which
    can make one name read as another in lists, mails and the log), Cs/Co/Cn: junk.
    Callers check the length they allow, after this.
    """
    value = unicodedata.normalize("NFC", value.strip())
    if any(unicodedata.category(char).startswith("C") for char in value):
        raise DomainError("VALIDATION_FAILED", "Remove control or invisible characters.", field)
    return value
