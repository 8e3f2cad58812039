"""Password hashes are argon2's own PHC strings, whichever side wrote them."""

from __future__ import annotations

import asyncio

import argon2
import pytest
from argon2.low_level import hash_secret

from backend.accounts.passwords import PasswordHasher
from backend.infra.argon2_workspace import Workspace, encode

PASSWORD = "correct horse battery staple"


@pytest.fixture
def hasher() -> PasswordHasher:
    return PasswordHasher(memory_kib=1024, time_cost=2, parallelism=1, max_concurrent=1)


async def test_a_hash_written_here_is_the_one_argon2_writes_for_the_same_salt():
    parameters = argon2.Parameters(
        type=argon2.Type.ID,
        version=19,
        salt_len=16,
        hash_len=32,
        time_cost=2,
        memory_cost=1024,
        parallelism=1,
    )
    salt = bytes(range(16))
    digest = Workspace(1024).compute(parameters, PASSWORD.encode(), salt, 32)
    expected = hash_secret(PASSWORD.encode(), salt, 2, 1024, 1, 32, argon2.Type.ID)
    assert encode(parameters, salt, digest) == expected.decode()


async def test_hashes_written_here_and_by_argon2_are_read_by_the_other(hasher):
    library = argon2.PasswordHasher(memory_cost=1024, time_cost=2, parallelism=1)
    ours = await hasher.hash("pâssword fine")
    assert library.verify(ours, "pâssword fine")
    assert await hasher.verify(library.hash("pâssword fine"), "pâssword fine")
    assert not await hasher.verify(library.hash("pâssword fine"), "password fine")
    assert len({await hasher.hash(PASSWORD), await hasher.hash(PASSWORD)}) == 2  # fresh salts


@pytest.mark.parametrize(
    "other",
    [
        argon2.PasswordHasher(memory_cost=4096, time_cost=1, parallelism=1),  # more memory
        argon2.PasswordHasher(memory_cost=1024, time_cost=3, parallelism=4),
        argon2.PasswordHasher(memory_cost=64, time_cost=1, parallelism=8),  # rounded up
        argon2.PasswordHasher(memory_cost=512, time_cost=1, parallelism=1, type=argon2.Type.I),
        argon2.PasswordHasher(memory_cost=512, time_cost=1, parallelism=1, hash_len=64),
    ],
)
async def test_hashes_from_other_parameters_still_verify(hasher, other):
    stored = other.hash(PASSWORD)
    assert await hasher.verify(stored, PASSWORD)
    assert not await hasher.verify(stored, PASSWORD + "!")


async def test_a_damaged_hash_matches_no_password_and_raises_nothing(hasher):
    stored = await hasher.hash(PASSWORD)
    head, salt, digest = stored.rsplit("$", 2)
    damaged = [
        "",
        "not a hash",
        stored[:-4],  # shorter hash
        f"{head}$!!!!$${digest}",  # not base64
        f"{head}$c2FsdA${digest}",  # a salt too short for argon2
        f"{head}${salt}$",  # no hash at all
        stored.replace("$v=19$", "$v=99$"),
        stored.replace("m=1024", "m=1"),
        stored.replace("p=1", "p=0"),
    ]
    for stored_hash in damaged:
        assert not await hasher.verify(stored_hash, PASSWORD), stored_hash


async def test_hashes_at_once_each_get_their_own_answer():
    # Four lanes, each with its memory: a hash must never read another's blocks.
    hasher = PasswordHasher(memory_kib=1024, time_cost=2, parallelism=1, max_concurrent=4)
    passwords = [f"password number {n}" for n in range(4)]
    stored = [await hasher.hash(password) for password in passwords]
    checks = [(s, p) for s in stored for p in passwords]  # one right password in four
    answers = await asyncio.gather(*(hasher.verify(s, p) for s, p in checks))
    assert answers == [stored.index(s) == passwords.index(p) for s, p in checks]
