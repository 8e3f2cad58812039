"""Password hashing: argon2id, off the event loop, with a cap on concurrent hashes."""

from __future__ import annotations

import asyncio
import unicodedata
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import argon2
from argon2.exceptions import InvalidHashError, VerificationError

T = TypeVar("T")


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
        self._lanes = _Lanes(max_concurrent)
        self._dummy_hash = self._hasher.hash("latchkey-dummy-password")

    async def hash(self, password: str) -> str:
        return await self._lanes.run(self._hasher.hash, normalize(password))

    async def verify(self, stored_hash: str, password: str) -> bool:
        return await self._lanes.run(self._verify, stored_hash, normalize(password))

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


class _Lanes:
    """Threads for hashing, at most `most` at once, the same one again whenever it is free.

    Each hash holds `memory_kib` of memory: a burst of sign-ins must queue, not swap. The
    C library keeps that memory in the arena of the thread that hashed, for the next hash;
    threads of a shared pool would each keep a copy.
    """

    def __init__(self, most: int) -> None:
        self._slots = asyncio.Semaphore(most)
        self._free: list[ThreadPoolExecutor] = []

    async def run(self, function: Callable[..., T], *args: object) -> T:
        async with self._slots:
            lane = self._free.pop() if self._free else ThreadPoolExecutor(1, "argon2")
            try:
                return await asyncio.get_running_loop().run_in_executor(lane, function, *args)
            finally:
                self._free.append(lane)
