"""Object ids as clients send them: one parser for the API, the pages and cursors."""

from __future__ import annotations

from backend.kernel.errors import NotFound

# Every table's id is a BIGINT; ids start at 1.
MAX_ID = 2**63 - 1
_ASCII_DIGITS = frozenset("0123456789")


def id_or_none(value: str) -> int | None:
    """The id `value` spells in ASCII decimal digits, or None when it can name no row.

    Only ASCII digits: `str.isdigit()` and `int()` also take "²" or "١٢٣", and a number past
    BIGINT would fail in the database instead of simply finding nothing.
    """
    if not value or len(value) > len(str(MAX_ID)) or not set(value) <= _ASCII_DIGITS:
        return None
    number = int(value)
    return number if 1 <= number <= MAX_ID else None


def parse_id(value: str, field: str = "id") -> int:
    """The id, or NOT_FOUND on `field`: an id that cannot exist names nothing."""
    number = id_or_none(value)
    if number is None:
        raise NotFound(field)
    return number
