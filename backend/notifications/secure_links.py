"""The "This wasn't me" link every security notice carries: `{public_url}/secure-account/{token}`.

Minted here, where notices are written; what confirming it does lives in backend.recovery.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from backend.kernel import clock, link_paths
from backend.kernel.crypto import digest, random_token
from backend.notifications.models import SecureAccountLink

if TYPE_CHECKING:
    from backend.accounts.models import User

LIFETIME = timedelta(days=7)
PATH = link_paths.SECURE_ACCOUNT


async def mint(user: User, recipient: str, public_url: str) -> str:
    """A new single-use link for `user`, mailed to `recipient`; the token is only in the URL."""
    token = random_token()
    await SecureAccountLink.create(
        user_id=user.id,
        token_hash=digest(token),
        recipient=recipient,
        expires_at=clock.now() + LIFETIME,
    )
    return f"{public_url.rstrip('/')}{PATH}{token}"


async def consume(token: str) -> SecureAccountLink | None:
    """Use a live link once, in one statement; the link, else None.

    Of two requests with the same link, only one sees its update land.
    """
    if not token:
        return None
    token_hash = digest(token)
    now = clock.now()
    used = await SecureAccountLink.filter(
        token_hash=token_hash, used_at=None, expires_at__gt=now
    ).update(used_at=now)
    if not used:
        return None
    return await SecureAccountLink.get_or_none(token_hash=token_hash)
