"""Reset links: `{public_url}/password-reset/{token}`, stored as the token's SHA-256."""

from __future__ import annotations

from datetime import timedelta

from backend.accounts.models import User
from backend.auth.models import PasswordReset
from backend.auth.services import Services
from backend.kernel import clock, link_paths
from backend.kernel.crypto import digest, random_token
from backend.kernel.errors import DomainError
from backend.kernel.i18n import N_, Duration

PATH = link_paths.PASSWORD_RESET


class InvalidResetToken(DomainError):
    """Unknown, used or expired: one answer, whatever the reason."""

    def __init__(self) -> None:
        super().__init__(
            "INVALID_RESET_TOKEN",
            N_(
                "This link is not valid: it was used already, has expired, or is mistyped. "
                "Ask for a new one."
            ),
            "token",
        )


async def mint(services: Services, user: User, lifetime: timedelta | None = None) -> str:
    """A new single-use reset link for `user`; the token is only in the returned URL.
    It works for `lifetime`, by default the reset links' (an invitation's is longer)."""
    token = random_token()
    if lifetime is None:
        lifetime = timedelta(seconds=services.settings.password_reset_seconds)
    await PasswordReset.create(
        user=user, token_hash=digest(token), expires_at=clock.now() + lifetime
    )
    return f"{services.settings.public_url.rstrip('/')}{PATH}{token}"


def valid_for(services: Services) -> Duration:
    """The links' lifetime, worded in the reader's language by the emails."""
    minutes = max(1, services.settings.password_reset_seconds // 60)
    return Duration(minutes * 60)


async def live(token: str) -> PasswordReset | None:
    """The unused, unexpired reset for this token, with its user; None otherwise."""
    if not token:
        return None
    return (
        await PasswordReset.filter(
            token_hash=digest(token), used_at=None, expires_at__gt=clock.now()
        )
        .select_related("user")
        .first()
    )


async def consume(reset: PasswordReset) -> bool:
    """Use the reset once, in one statement: of two requests, one sees its update land."""
    now = clock.now()
    used = await PasswordReset.filter(id=reset.id, used_at=None, expires_at__gt=now).update(
        used_at=now
    )
    return used == 1


async def end_all(user: User) -> int:
    """Every other link of the user stops working."""
    return await PasswordReset.filter(user_id=user.id, used_at=None).update(used_at=clock.now())
