"""What a new password must be (NIST SP 800-63B-4): long enough, not common, not personal.

No composition rules. Length counts code points after NFKC, the same normalisation the
hasher applies. Common passwords are those zxcvbn's frequency lists and pattern matching
(repeats, sequences, keyboard walks, dictionary words) would guess quickly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from backend.accounts.passwords import normalize
from backend.kernel.errors import DomainError, Problem

if TYPE_CHECKING:
    from backend.accounts.models import User

MAX_LENGTH = 256
ZXCVBN_MAX_LENGTH = 72  # zxcvbn refuses longer input; longer passwords are rarely common
MIN_GUESSES_LOG10 = 10
SIMILARITY = 0.7


def problems(password: str, *, min_length: int, personal: list[str], field: str) -> list[Problem]:
    """Everything wrong with `password` as a new password, as field problems."""
    normalized = normalize(password)
    if len(normalized) < min_length:
        return [
            Problem(
                "PASSWORD_TOO_SHORT",
                "Use at least {count} characters; a few words make a good one.",
                field,
                {"count": min_length},
            )
        ]
    if len(normalized) > MAX_LENGTH:
        return [
            Problem(
                "PASSWORD_TOO_LONG", "Use at most {count} characters.", field, {"count": MAX_LENGTH}
            )
        ]
    if _too_similar(normalized, personal):
        return [
            Problem(
                "PASSWORD_TOO_SIMILAR", "Too close to your username, name or email address.", field
            )
        ]
    if _too_common(normalized):
        return [
            Problem(
                "PASSWORD_TOO_COMMON",
                "This password is too common or too easy to guess. Try a few unrelated words.",
                field,
            )
        ]
    return []


def personal_words(username: str, email: str, *names: str) -> list[str]:
    """What a password must not be close to: the username, the email and its name part."""
    return [username, email, email.partition("@")[0], *names]


def _too_similar(password: str, personal: list[str]) -> bool:
    from difflib import SequenceMatcher  # only a new password is compared

    folded = password.casefold()
    for word in {w.casefold() for w in personal + ["latchkey"] if len(w) >= 3}:
        if word in folded and len(folded) - len(word) < 8:
            return True
        if SequenceMatcher(None, folded, word).ratio() >= SIMILARITY:
            return True
    return False


def _too_common(password: str) -> bool:
    if len(password) > ZXCVBN_MAX_LENGTH:
        return False
    # Imported here: its frequency lists take about 13 MB, and only password changes need them.
    from zxcvbn import zxcvbn

    return zxcvbn(password)["guesses_log10"] < MIN_GUESSES_LOG10


def check_new_password(
    user: User, current: str, new: str, confirmation: str, *, min_length: int
) -> None:
    """The rules of a new password, also for a reset (no current password then)."""
    if new != confirmation:
        raise DomainError(
            "PASSWORD_MISMATCH", "The two new passwords differ.", "new_password_confirmation"
        )
    if current and normalize(new) == normalize(current):
        raise DomainError(
            "PASSWORD_UNCHANGED", "Choose a password you do not use now.", "new_password"
        )
    personal = personal_words(user.username, user.email, user.first_name, user.last_name)
    found: list[Problem] = problems(
        new,
        min_length=min_length,
        personal=personal,
        field="new_password",
    )
    if found:
        raise DomainError.of(found)
