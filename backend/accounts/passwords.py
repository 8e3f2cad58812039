"""Password hashing: argon2id, off the event loop, with a cap on concurrent hashes."""

from __future__ import annotations

import asyncio
import hmac
import secrets
import unicodedata
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import argon2
from argon2.exceptions import InvalidHashError, VerificationError

from backend.infra import metrics
from backend.infra.argon2_workspace import Workspace, decode, encode

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
        self._parameters = argon2.Parameters(
            type=argon2.Type.ID,
            version=argon2.low_level.ARGON2_VERSION,
            salt_len=argon2.DEFAULT_RANDOM_SALT_LENGTH,
            hash_len=argon2.DEFAULT_HASH_LENGTH,
            time_cost=time_cost,
            memory_cost=memory_kib,
            parallelism=parallelism,
        )
        # argon2-cffi's own hasher, from the same parameters: it tells when a stored hash
        # needs upgrading, and verifies hashes too big for a workspace.
        self._hasher = argon2.PasswordHasher.from_parameters(self._parameters)
        self._lanes = _Lanes(max_concurrent, release_after_seconds, memory_kib)
        self._dummy_hash = _unmatchable_hash(self._parameters)

    async def hash(self, password: str) -> str:
        with metrics.password_hash():
            return await self._lanes.run(self._hash, normalize(password))

    async def verify(self, stored_hash: str, password: str) -> bool:
        with metrics.password_hash():
            return await self._lanes.run(self._verify, stored_hash, normalize(password))

    async def verify_nothing(self, password: str) -> None:
        """Spend the time of a real verify, so an unknown user answers like a known one."""
        await self.verify(self._dummy_hash, password)

    def needs_rehash(self, stored_hash: str) -> bool:
        return self._hasher.check_needs_rehash(stored_hash)

    def _hash(self, workspace: Workspace, password: str) -> str:
        salt = secrets.token_bytes(self._parameters.salt_len)
        digest = workspace.compute(
            self._parameters, password.encode(), salt, self._parameters.hash_len
        )
        assert digest is not None  # our own parameters, a fresh salt
        return encode(self._parameters, salt, digest)

    def _verify(self, workspace: Workspace, stored_hash: str, password: str) -> bool:
        try:
            parameters, salt, digest = decode(stored_hash)
        except InvalidHashError:
            return False
        if not workspace.fits(parameters):  # from other settings or an older argon2
            return self._verify_elsewhere(stored_hash, password)
        computed = workspace.compute(parameters, password.encode(), salt, len(digest))
        return computed is not None and hmac.compare_digest(computed, digest)

    def _verify_elsewhere(self, stored_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(stored_hash, password)
        except (VerificationError, InvalidHashError):
            return False


def _unmatchable_hash(parameters: argon2.Parameters) -> str:
    """A stored hash with the hasher's parameters that no password matches.

    Verifying against it costs a real verify. It is written, not hashed: hashing at start-up
    would make argon2's memory part of every worker's peak before anyone signs in.
    """
    salt = secrets.token_bytes(parameters.salt_len)
    return encode(parameters, salt, secrets.token_bytes(parameters.hash_len))


class _Lane:
    """A thread for hashing and the memory its hashes use."""

    def __init__(self, memory_kib: int) -> None:
        self.thread = ThreadPoolExecutor(1, "argon2")
        self.workspace = Workspace(memory_kib)


class _Lanes:
    """Lanes for hashing, at most `most` at once, the same one again whenever it is free.

    Each hash holds `memory_kib` of memory: a burst of sign-ins must queue, not swap. A lane
    keeps that memory for its next hash; threads of a shared pool would each hold a copy.
    Once no hash has run for `release_after` seconds it goes back to the system, so a burst
    of sign-ins reuses it and a worker serving other requests does not hold it.
    """

    def __init__(self, most: int, release_after: float, memory_kib: int) -> None:
        self._slots = asyncio.Semaphore(most)
        self._free: list[_Lane] = []
        self._busy = 0
        self._memory_kib = memory_kib
        self._release_after = release_after
        self._release: asyncio.TimerHandle | None = None

    async def run(self, function: Callable[..., T], *args: object) -> T:
        """`function(workspace, *args)` on a free lane."""
        async with self._slots:
            lane = self._free.pop() if self._free else _Lane(self._memory_kib)
            self._busy += 1
            loop = asyncio.get_running_loop()
            try:
                return await loop.run_in_executor(lane.thread, function, lane.workspace, *args)
            finally:
                self._free.append(lane)
                self._busy -= 1
                if self._release is not None:
                    self._release.cancel()
                self._release = loop.call_later(self._release_after, self._release_when_idle)

    def _release_when_idle(self) -> None:
        self._release = None
        if self._busy == 0:
            for lane in self._free:
                lane.workspace.release()
