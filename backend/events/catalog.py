"""The event types (PRODUCT.md, "Events and webhooks") and the patterns that select them."""

from __future__ import annotations

from collections.abc import Iterable

TYPES = (
    "user.created",
    "user.updated",
    "user.disabled",
    "user.enabled",
    "user.locked",
    "user.unlocked",
    "user.deletion_scheduled",
    "user.deletion_cancelled",
    "user.deleted",
    "group.member_added",
    "group.member_removed",
    "password.changed",
    "password.reset",
    "second_factor.added",
    "second_factor.removed",
    "session.ended",
    "token.issued",
    "token.regenerated",
    "token.revoked",
    "api_credentials.generated",
    "api_credentials.removed",
    "account.secured",
    "webhook.test",
)
EVERY = "*"


class UnknownPattern(ValueError):
    def __init__(self, pattern: str) -> None:
        super().__init__(f"{pattern!r} selects no event type")
        self.pattern = pattern


def parse_patterns(text: str | None) -> tuple[str, ...]:
    """`user.*,token.issued` as patterns; none given is every event. A pattern that selects
    no type is refused, so a typo never makes an endpoint that hears nothing."""
    patterns = tuple(part.strip() for part in (text or EVERY).split(",") if part.strip())
    for pattern in patterns:
        if not any(matches(pattern, kind) for kind in TYPES):
            raise UnknownPattern(pattern)
    return patterns or (EVERY,)


def matches(pattern: str, kind: str) -> bool:
    if pattern.endswith("*"):
        return kind.startswith(pattern[:-1])
    return pattern == kind


def selects(patterns: Iterable[str], kind: str) -> bool:
    return any(matches(pattern, kind) for pattern in patterns)
