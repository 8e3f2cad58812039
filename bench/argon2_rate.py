"""argon2id verifications per second on one core, at the product's parameters.

`python -m bench.argon2_rate SECONDS` prints the rate; `make bench` runs it pinned to the
server's core, so sign-in is compared with what that core can verify at all.
"""

from __future__ import annotations

import sys
import time

import argon2

from backend.accounts.passwords import normalize
from backend.infra.config import Settings
from bench.seed import PASSWORD, password_hash


def verifications_per_second(seconds: float) -> float:
    settings = Settings()
    hasher = argon2.PasswordHasher(
        memory_cost=settings.argon2_memory_kib,
        time_cost=settings.argon2_time_cost,
        parallelism=settings.argon2_parallelism,
    )
    stored, password = password_hash(settings), normalize(PASSWORD)
    hasher.verify(stored, password)  # warm up
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        hasher.verify(stored, password)
        count += 1
    return count / elapsed


if __name__ == "__main__":
    print(f"{verifications_per_second(float(sys.argv[1])):.2f}")
