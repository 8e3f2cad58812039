"""Password hashing: argon2id, off the event loop, with a cap on concurrent hashes."""

from __future__ import annotations

import asyncio
import base64
import ctypes
import ctypes.util
import secrets
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
        self,
        *,
        memory_kib: int,
        time_cost: int,
        parallelism: int,
        max_concurrent: int,
        release_after_seconds: float = 2.0,
    ) -> None:
        self._hasher = argon2.PasswordHasher(
            memory_cost=memory_kib, time_cost=time_cost, parallelism=parallelism
        )
        self._lanes = _Lanes(max_concurrent, release_after_seconds)
        self._dummy_hash = _unmatchable_hash(self._hasher)

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


def _unmatchable_hash(hasher: argon2.PasswordHasher) -> str:
    """A stored hash with the hasher's parameters that no password matches.

    Verifying against it costs a real verify. It is written, not hashed: hashing at start-up
    would make argon2's memory part of every worker's peak before anyone signs in.
    """

    def b64(size: int) -> str:
        return base64.b64encode(secrets.token_bytes(size)).decode().rstrip("=")

    p = hasher.memory_cost, hasher.time_cost, hasher.parallelism
    return (
        f"$argon2id$v=19$m={p[0]},t={p[1]},p={p[2]}"
        f"${b64(hasher.salt_len)}${b64(hasher.hash_len)}"
    )


def share_one_memory_arena() -> None:
    """Have every thread of this process allocate from the C library's main arena.

    Call it at start-up, before threads exist. Memory freed in the main arena can be handed
    back to the system (see _Lanes); a thread's own arena keeps what argon2 used, 19 MB,
    for as long as the process lives.
    """
    if _libc is not None:
        _libc.mallopt(_M_ARENA_MAX, 1)


class _Lanes:
    """Threads for hashing, at most `most` at once, the same one again whenever it is free.

    Each hash holds `memory_kib` of memory: a burst of sign-ins must queue, not swap. The
    C library keeps that memory for the next hash; threads of a shared pool would each keep
    a copy. Once no hash has run for `release_after` seconds it goes back to the system, so
    a burst of sign-ins reuses it and a worker serving other requests does not hold it.
    """

    def __init__(self, most: int, release_after: float) -> None:
        self._slots = asyncio.Semaphore(most)
        self._free: list[ThreadPoolExecutor] = []
        self._busy = 0
        self._release_after = release_after
        self._release: asyncio.TimerHandle | None = None

    async def run(self, function: Callable[..., T], *args: object) -> T:
        async with self._slots:
            lane = self._free.pop() if self._free else ThreadPoolExecutor(1, "argon2")
            self._busy += 1
            loop = asyncio.get_running_loop()
            try:
                return await loop.run_in_executor(lane, function, *args)
            finally:
                self._free.append(lane)
                self._busy -= 1
                if self._release is not None:
                    self._release.cancel()
                self._release = loop.call_later(self._release_after, self._release_when_idle)

    def _release_when_idle(self) -> None:
        self._release = None
        if self._busy == 0 and _libc is not None:
            _libc.malloc_trim(0)


def _glibc() -> ctypes.CDLL | None:
    """The C library when it is glibc (mallopt, malloc_trim); None elsewhere."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        return libc if libc is not None and hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


_libc = _glibc()
_M_ARENA_MAX = -8  # glibc's malloc.h
