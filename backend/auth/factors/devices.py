"""Recognized devices: "remember this device" as a signed cookie bound to a database row."""

from __future__ import annotations

from datetime import timedelta

from tortoise.transactions import in_transaction

from backend.accounts import limits
from backend.accounts.models import User
from backend.auth.factors.models import TrustedDevice
from backend.kernel import clock
from backend.kernel.client_info import ClientInfo
from backend.kernel.crypto import digest, keyed_digest, random_token, same

LAST_SEEN_RESOLUTION = timedelta(minutes=1)


async def remember(user: User, client: ClientInfo, secret_key: str, days: int) -> str:
    """Store a new device row and return the signed cookie value for it.

    The oldest devices beyond the limit are forgotten, so the list stays bounded.
    """
    token = random_token()
    async with in_transaction():
        await limits.serialise_on_user(user.id)
        await TrustedDevice.create(
            user=user,
            token_hash=digest(token),
            expires_at=clock.now() + timedelta(days=days),
            ip_address=client.ip_address,
            user_agent=client.user_agent,
            browser_name=client.browser.name,
            system_name=client.browser.system,
        )
        await limits.keep_newest(TrustedDevice, user.id, limits.MAX_TRUSTED_DEVICES_PER_USER)
    return f"{token}.{_signature(token, secret_key)}"


async def recognizes(user: User, cookie: str, secret_key: str) -> bool:
    """True when the cookie names a live device of this very user."""
    token, _, signature = cookie.partition(".")
    if not token or not same(signature, _signature(token, secret_key)):
        return False
    now = clock.now()
    device = await TrustedDevice.get_or_none(
        token_hash=digest(token), user=user, expires_at__gt=now
    )
    if device is None:
        return False
    if now - device.last_seen_at >= LAST_SEEN_RESOLUTION:
        await TrustedDevice.filter(id=device.id).update(last_seen_at=now)
    return True


async def list_for(user_id: int) -> list[TrustedDevice]:
    return await TrustedDevice.filter(user_id=user_id, expires_at__gt=clock.now()).order_by(
        "-last_seen_at"
    )


async def forget(user: User, device_id: int) -> bool:
    return await TrustedDevice.filter(user=user, id=device_id).delete() == 1


async def forget_all(user: User) -> int:
    """Called when the password changes or two-factor authentication is turned off."""
    return await TrustedDevice.filter(user=user).delete()


def _signature(token: str, secret_key: str) -> str:
    return keyed_digest(secret_key, "trusted-device", token)[:32]
