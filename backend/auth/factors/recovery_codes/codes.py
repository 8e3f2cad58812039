"""Ten single-use recovery codes, shown once, stored as keyed hashes."""

from __future__ import annotations

import secrets

from backend.accounts.models import User
from backend.auth.factors.models import RecoveryCode
from backend.kernel import clock
from backend.kernel.crypto import keyed_digest

COUNT = 10
ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread
GROUPS, GROUP_LENGTH = 4, 4  # 16 characters of 31: 79 bits


def generate() -> list[str]:
    return [
        "-".join(
            "".join(secrets.choice(ALPHABET) for _ in range(GROUP_LENGTH)) for _ in range(GROUPS)
        )
        for _ in range(COUNT)
    ]


def looks_like_one(code: str) -> bool:
    return len(_normalized(code)) == GROUPS * GROUP_LENGTH


async def replace_all(user: User, codes: list[str], secret_key: str) -> None:
    """Store new codes; every older code stops working. Call inside a transaction."""
    await RecoveryCode.filter(user=user).delete()
    await RecoveryCode.bulk_create(
        [RecoveryCode(user=user, code_hash=_hash(code, secret_key)) for code in codes]
    )


async def consume(user: User, code: str, secret_key: str) -> bool:
    """Use a code up; a code works once, even when two requests race with it."""
    used = await RecoveryCode.filter(
        user=user, code_hash=_hash(code, secret_key), used_at=None
    ).update(used_at=clock.now())
    return used == 1


async def remaining(user_id: int) -> int:
    return await RecoveryCode.filter(user_id=user_id, used_at=None).count()


def _normalized(code: str) -> str:
    return "".join(char for char in code.lower() if char.isalnum())


def _hash(code: str, secret_key: str) -> str:
    return keyed_digest(secret_key, "recovery-code", _normalized(code))
