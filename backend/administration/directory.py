"""Finding accounts: every account, a page at a time, by search and status.

The search matches the start of the username, the email address, the first name or the
last name, case-insensitively (each word of it, in any of them: "ada love" finds Ada
Lovelace). Each column has a folded key (accounts.service: NFKC, then case folding) and an
index on it; a word is a range of keys, `key >= word AND key < word'` where word' is the
word with its last character's successor, which an index answers on both databases
without reading the table. PostgreSQL compares in the "C" collation (code point order),
as the indexes of migration 0028 do, so the range is exactly the keys with that prefix
whatever the database's own collation; SQLite compares bytes of UTF-8, the same order.

Why prefixes, not any substring: a substring needs a trigram index (pg_trgm, an extension
an operator may not be allowed to create) on PostgreSQL and has none on SQLite, where it
would read every row. Keycloak's user search made the same choice for the same reason
(prefix by default, `*infix*` opt-in).

Pages are ordered by username (its folded key, unique), and a cursor is the last key seen.
"""

from __future__ import annotations

import base64
import dataclasses
import enum
import functools

from backend.accounts.models import User
from backend.accounts.service import username_key
from backend.auth import lockout
from backend.infra import hot_sql
from backend.kernel.errors import DomainError
from backend.kernel.i18n import N_

MAX_PAGE = 100
MAX_WORDS = 4
SEARCH_COLUMNS = ("username_key", "email_key", "first_name_key", "last_name_key")


class Status(enum.Enum):
    ACTIVE = "ACTIVE"
    DISABLED = "DISABLED"
    LOCKED = "LOCKED"  # password sign-in locked (auth/lockout.py) until a reset or unlock
    DELETION_SCHEDULED = "DELETION_SCHEDULED"  # until the deletion, or a cancel


@dataclasses.dataclass(frozen=True)
class Listed:
    user: User
    status: Status


@dataclasses.dataclass(frozen=True)
class Page:
    accounts: list[Listed]
    has_next_page: bool


_SELECT = """
SELECT u.*, l.failures AS lockout_failures FROM users u
LEFT JOIN sign_in_lockouts l ON l.user_id = u.id
"""
_KEPT = "u.deletion_scheduled_at IS NULL"  # a scheduled deletion says so first
_STATUS = {
    Status.ACTIVE: f"{_KEPT} AND u.disabled_at IS NULL AND (l.failures IS NULL OR l.failures < {int(lockout.MAX_FAILURES)})",  # noqa: E501
    Status.DISABLED: f"{_KEPT} AND u.disabled_at IS NOT NULL",
    Status.LOCKED: f"{_KEPT} AND u.disabled_at IS NULL AND l.failures >= {int(lockout.MAX_FAILURES)}",  # noqa: E501
    Status.DELETION_SCHEDULED: "u.deletion_scheduled_at IS NOT NULL",
}


def status_of(user: User, lockout_failures: int | None) -> Status:
    if user.deletion_scheduled_at is not None:
        return Status.DELETION_SCHEDULED
    if user.disabled_at is not None:
        return Status.DISABLED
    if (lockout_failures or 0) >= lockout.MAX_FAILURES:
        return Status.LOCKED
    return Status.ACTIVE


async def find(user_id: int) -> Listed | None:
    rows = await hot_sql.fetch(User, _SELECT + "WHERE u.id = $1", [user_id])
    return _listed(rows[0]) if rows else None


async def page(*, search: str | None, status: Status | None, first: int, after: str | None) -> Page:
    """Up to `first` accounts after the cursor `after`, by username."""
    first = max(1, min(first, MAX_PAGE))
    sql, params = statement(search_words(search), status, decode_cursor(after), first + 1)
    listed = [_listed(row) for row in await hot_sql.fetch(User, sql, params)]
    return Page(listed[:first], len(listed) > first)


def statement(
    words: list[str], status: Status | None, cursor: str | None, limit: int
) -> tuple[str, list]:
    """The page's SQL (in the connected database's dialect) and parameters.

    With a search, the matching accounts are found first, through the indexes (a
    materialized CTE), and only then sorted: otherwise PostgreSQL may walk the username
    index in order and filter, betting that matches are spread evenly along it, and read
    most of the table when they are not (an email prefix that matches only usernames late
    in the alphabet). Only the ids and keys of the matches are sorted; the page's rows
    alone are read whole.
    """
    params: list = []
    conditions = []
    for word in words:
        params += [word, successor(word)]
        low, high = f"${len(params) - 1}", f"${len(params)}"
        ranges = (f"(u.{c}{{C}} >= {low} AND u.{c}{{C}} < {high})" for c in SEARCH_COLUMNS)
        conditions.append("(" + " OR ".join(ranges) + ")")
    if cursor is not None:
        params.append(cursor)
        conditions.append(f"u.username_key > ${len(params)}")
    if status is not None:
        conditions.append(f"({_STATUS[status]})")
    params.append(limit)
    where = f"WHERE {' AND '.join(conditions)}\n" if conditions else ""
    if not words:
        sql = f"{_SELECT}{where}ORDER BY u.username_key LIMIT ${len(params)}"
    else:
        # The matches' ids and keys alone are sorted; only the page's rows are read whole.
        sql = (
            "WITH found AS {MATERIALIZED} (SELECT u.id, u.username_key FROM users u\n"  # noqa: S608
            f"LEFT JOIN sign_in_lockouts l ON l.user_id = u.id\n{where}),\n"
            f"page AS (SELECT * FROM found ORDER BY username_key LIMIT ${len(params)})\n"
            f"{_SELECT}JOIN page p ON p.id = u.id\nORDER BY p.username_key"
        )
    return _in_dialect(sql, _dialect()), params


def search_words(search: str | None) -> list[str]:
    """The folded words of a search, at most MAX_WORDS; VALIDATION_FAILED beyond."""
    words = username_key(search or "").split()
    if len(words) > MAX_WORDS:
        raise DomainError(
            "VALIDATION_FAILED",
            N_("Search with at most {count} words."),
            "search",
            count=MAX_WORDS,
        )
    return words


def successor(word: str) -> str:
    """The smallest string after every string that starts with `word`, in code point order:
    its last character's successor (the next one after a surrogate gap, or a shorter word
    when it is the last code point)."""
    while word:
        last = ord(word[-1]) + 1
        if 0xD800 <= last <= 0xDFFF:
            last = 0xE000
        if last <= 0x10FFFF:
            return word[:-1] + chr(last)
        word = word[:-1]
    return "\U0010ffff"


def cursor_of(user: User) -> str:
    return base64.urlsafe_b64encode(f"user:{user.username_key}".encode()).decode()


def decode_cursor(cursor: str | None) -> str | None:
    """The folded username in a cursor. A cursor this API never gave out names the end:
    an empty page, never an error (as the security log's)."""
    if not cursor:
        return None
    try:
        prefix, _, key = base64.urlsafe_b64decode(cursor.encode("ascii")).decode().partition(":")
    except (ValueError, UnicodeError):
        return "\U0010ffff"
    return key if prefix == "user" else "\U0010ffff"


def _listed(row: dict) -> Listed:
    failures = row.pop("lockout_failures")
    user = hot_sql.as_model(User, row)
    return Listed(user, status_of(user, failures))


def _dialect() -> str:
    return hot_sql.client(User).capabilities.dialect


@functools.lru_cache(maxsize=128)
def _in_dialect(sql: str, dialect: str) -> str:
    sqlite = dialect == "sqlite"
    return sql.replace("{C}", "" if sqlite else ' COLLATE "C"').replace(
        "{MATERIALIZED}", "" if sqlite else "MATERIALIZED"
    )
