"""argon2 computed in memory that each hashing thread keeps for itself.

argon2-cffi asks malloc for a hash's memory (19 MiB at our parameters) on every call. The
block lands in the C library's heap among the server's own allocations; once it is freed
they nibble at the hole, the next hash needs a fresh block, and a worker's peak memory
grows by another hash now and then. A workspace is one mapping of its own: the same pages
hash after hash, handed back whole when hashing goes idle.
"""

from __future__ import annotations

import base64
import mmap

import argon2
from argon2.exceptions import InvalidHashError
from argon2.low_level import ARGON2_VERSION, core, ffi

_BLOCK = 1024  # bytes in an argon2 memory block; memory_cost counts them
_MIN_BLOCKS_PER_LANE = 8  # argon2 rounds smaller memory up to this
_OK, _MEMORY_ALLOCATION_ERROR = 0, -22  # argon2.h


class Workspace:
    """Memory for one hash at a time (one thread), up to `memory_kib`."""

    def __init__(self, memory_kib: int) -> None:
        self._capacity = memory_kib * _BLOCK
        private = getattr(mmap, "MAP_PRIVATE", None)
        options = {} if private is None else {"flags": private | mmap.MAP_ANONYMOUS}
        # Reserved, not yet touched: the pages become resident with the first hash.
        self._map = mmap.mmap(-1, self._capacity, **options)
        self._start = ffi.cast("uint8_t *", ffi.from_buffer(self._map))
        self._lend_memory = ffi.callback("int(uint8_t **, size_t)", self._lend)
        self._take_back = ffi.callback("void(uint8_t *, size_t)", _nothing_to_free)

    def fits(self, parameters: argon2.Parameters) -> bool:
        """Whether a hash made with `parameters` can be computed here."""
        blocks = max(parameters.memory_cost, _MIN_BLOCKS_PER_LANE * parameters.parallelism)
        return parameters.version == ARGON2_VERSION and blocks * _BLOCK <= self._capacity

    def compute(
        self, parameters: argon2.Parameters, password: bytes, salt: bytes, length: int
    ) -> bytes | None:
        """argon2's raw output, or None when argon2 refuses the inputs (a damaged hash)."""
        out = ffi.new("uint8_t[]", length)
        context = ffi.new(
            "argon2_context *",
            {
                "out": out,
                "outlen": length,
                "pwd": ffi.from_buffer(password),
                "pwdlen": len(password),
                "salt": ffi.from_buffer(salt),
                "saltlen": len(salt),
                "secret": ffi.NULL,
                "secretlen": 0,
                "ad": ffi.NULL,
                "adlen": 0,
                "t_cost": parameters.time_cost,
                "m_cost": parameters.memory_cost,
                "lanes": parameters.parallelism,
                "threads": parameters.parallelism,
                "version": parameters.version,
                "allocate_cbk": self._lend_memory,
                "free_cbk": self._take_back,
                "flags": 0,  # argon2.h ARGON2_DEFAULT_FLAGS
            },
        )
        # argon2 wipes the memory itself before handing it back (free_cbk).
        if core(context, parameters.type.value) != _OK:
            return None
        return bytes(out)

    def release(self) -> None:
        """Give the pages back to the system; the next hash takes fresh zeroed ones."""
        if hasattr(self._map, "madvise"):
            self._map.madvise(mmap.MADV_DONTNEED)

    def _lend(self, memory, size: int) -> int:
        if size > self._capacity:
            return _MEMORY_ALLOCATION_ERROR
        memory[0] = self._start
        return _OK


def _nothing_to_free(memory, size: int) -> None:
    pass


def encode(parameters: argon2.Parameters, salt: bytes, digest: bytes) -> str:
    """The PHC string argon2 writes: `$argon2id$v=19$m=…,t=…,p=…$salt$hash`."""
    p = parameters
    return (
        f"$argon2{p.type.name.lower()}$v={p.version}"
        f"$m={p.memory_cost},t={p.time_cost},p={p.parallelism}"
        f"${_b64(salt)}${_b64(digest)}"
    )


def decode(stored_hash: str) -> tuple[argon2.Parameters, bytes, bytes]:
    """Parameters, salt and hash of a PHC string; InvalidHashError when it is not one."""
    parameters = argon2.extract_parameters(stored_hash)
    try:
        salt, digest = (_unb64(part) for part in stored_hash.rsplit("$", 2)[1:])
    except ValueError:
        raise InvalidHashError from None
    return parameters, salt, digest


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
