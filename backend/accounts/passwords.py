"""Password hashing: argon2id, off the event loop, with a cap on concurrent hashes."""

from __future__ import annotations

import asyncio
import unicodedata

import argon2
from argon2.exceptions import InvalidHashError, VerificationError


def normalize(password: str) -> str:
    """The one normalisation applied before hashing, at set and at verify (NFKC)."""
    return unicodedata.normalize("NFKC", password)


class PasswordHasher:
    def __init__(
        self, *, memory_kib: int, time_cost: int, parallelism: int, max_concurrent: int
    ) -> None:
        self._hasher = argon2.PasswordHasher(
            memory_cost=memory_kib, time_cost=time_cost, parallelism=parallelism
        )
        # Each hash holds `memory_kib` of memory: a burst of sign-ins must queue, not swap.
        self._slots = asyncio.Semaphore(max_concurrent)
        self._dummy_hash = self._hasher.hash("latchkey-dummy-password")

    async def hash(self, password: str) -> str:
        async with self._slots:
            return await asyncio.to_thread(self._hasher.hash, normalize(password))

    async def verify(self, stored_hash: str, password: str) -> bool:
        async with self._slots:
            return await asyncio.to_thread(self._verify, stored_hash, normalize(password))

    async def verify_nothing(self, password: str) -> None:
        """Spend the time of a real verify, so an unknown user answers like a known one."""
        await self.verify(self._dummy_hash, password)

    def needs_rehash(self, stored_hash: str) -> bool:
        return self._hasher.check_needs_rehash(stored_hash)

    def _verify(self, stored_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(stored_hash, password)
        except (VerificationError, InvalidHashError):
            return False
