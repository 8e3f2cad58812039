"""A worker loads only what every request may need; the heavy parts wait for their first use.

zxcvbn's frequency lists, py_webauthn with its ASN.1 parsers, cryptography, the QR code maker,
phone number metadata and the HTTP client for text messages hold tens of megabytes per worker,
yet only password changes, passkeys, TOTP secrets, the pages' form outcomes, authenticator
set-up, phone numbers and text messages use them; a worker on SQLite never needs asyncpg,
nor one on PostgreSQL sqlite3.
Babel and its locale data wait for a reader of another language, the SMTP client for a mail,
pyotp for an authenticator, the email syntax check and the password similarity check for
the forms that take them, Jinja for the first page drawn.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import shutil
import subprocess
import sys
import threading

from asgi_lifespan import LifespanManager
from tortoise import connections

from backend.accounts.passwords import PasswordHasher
from backend.app.factory import create_app
from tests.conftest import settings_for

HEAVY = (
    "zxcvbn",
    "webauthn",
    "cryptography",
    "OpenSSL",
    "pyasn1",
    "segno",
    "httpx",
    "asyncpg",
    "phonenumbers",
    "babel",
    "aiosmtplib",
    "pyotp",
    "email_validator",
    "idna",
    "difflib",
    "jinja2",
)

_PROBE = """
import json, sys
from backend.app.factory import create_app
create_app()
print(json.dumps(sorted(name for name in sys.modules if name.split(".")[0] in {heavy})))
"""


def test_a_started_worker_has_not_loaded_what_only_some_requests_need(tmp_path):
    env = {
        **os.environ,
        "LATCHKEY_DATABASE_URL": f"sqlite://{tmp_path / 'probe.sqlite3'}",
        "LATCHKEY_SECRET_KEY": "a secret key for this test only, long enough",
    }
    probe = _PROBE.format(heavy=set(HEAVY))
    result = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
    )
    assert json.loads(result.stdout.splitlines()[-1]) == []


_STARTED_PROBE = """
import asyncio, gc, json, linecache, sys
import strawberry
from asgi_lifespan import LifespanManager
from backend.app.factory import create_app

async def main():
    async with LifespanManager(create_app()):
        gc.unfreeze()  # start-up froze what it built, out of get_objects' sight
        print(json.dumps({report}))

asyncio.run(main())
"""


def _started_worker_reports(database_url: str, report: str) -> object:
    """What the expression `report` is in a worker, once it has started on `database_url`."""
    env = {
        **os.environ,
        "LATCHKEY_DATABASE_URL": database_url,
        "LATCHKEY_SECRET_KEY": "a secret key for this test only, long enough",
    }
    probe = _STARTED_PROBE.format(report=report)
    result = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout.splitlines()[-1])


_MIGRATIONS_SOURCE_LINES_AND_SCHEMAS = """[
    sorted(name for name in sys.modules if ".migrations." in name or name == "tortoise.migrations"),
    len(linecache.cache),
    sum(isinstance(thing, strawberry.Schema) for thing in gc.get_objects()),
]"""


def test_a_started_worker_keeps_no_migrations_no_source_lines_and_one_schema(
    sqlite_template, tmp_path
):
    # Each worker checks at start that the database is migrated: by the migrations' names.
    # A schema's GraphQL types are about 0.5 MB: the worker builds the one it serves, no other.
    path = tmp_path / "started.sqlite3"
    shutil.copy(sqlite_template, path)
    report = _started_worker_reports(f"sqlite://{path}", _MIGRATIONS_SOURCE_LINES_AND_SCHEMAS)
    assert report == [[], 0, 1]


def test_a_worker_on_postgresql_has_not_loaded_sqlite(postgres_url):
    # sqlite3 and its library are about 1 MB of every PostgreSQL worker, and the reverse.
    report = _started_worker_reports(
        postgres_url, 'sorted({"asyncpg", "sqlite3"} & set(sys.modules))'
    )
    assert report == ["asyncpg"]


_ENGLISH_WAIT_PROBE = """
import json, sys
from backend.kernel import i18n
print(json.dumps([i18n.format_duration(300, "en"), "babel" in sys.modules]))
"""


def test_a_throttled_answer_in_english_words_its_wait_without_loading_babel():
    # Babel's English locale data is megabytes, parsed by the first throttled sign-in.
    result = subprocess.run(
        [sys.executable, "-c", _ENGLISH_WAIT_PROBE], capture_output=True, text=True, check=True
    )
    assert json.loads(result.stdout) == ["5 minutes", False]


def test_english_waits_read_as_babel_writes_them():
    from babel.dates import format_timedelta

    from backend.kernel import i18n

    for seconds in (*range(0, 7300, 13), 3600, 7200, 86400, 90061):
        delta, unit = i18n.duration_shown(seconds)
        expected = format_timedelta(
            delta, granularity=unit, threshold=1000, format="long", locale="en"
        )
        assert i18n.format_duration(seconds, "en") == expected


async def test_hashes_one_after_another_run_on_one_thread_and_keep_one_copy_of_their_memory():
    before = _hashing_threads()
    hasher = PasswordHasher(memory_kib=8192, time_cost=1, parallelism=1, max_concurrent=4)
    stored = await hasher.hash("correct horse battery staple")
    for _ in range(5):
        assert await hasher.verify(stored, "correct horse battery staple")
    assert not await hasher.verify(stored, "wrong")
    assert len(_hashing_threads() - before) == 1
    await asyncio.gather(*(hasher.verify(stored, "wrong") for _ in range(8)))
    # A burst: at most as many as may hash at once.
    assert 1 <= len(_hashing_threads() - before) <= 4


def _hashing_threads() -> set[int | None]:
    return {thread.ident for thread in threading.enumerate() if thread.name.startswith("argon2")}


def test_a_worker_on_one_cpu_hashes_one_password_at_a_time_unless_configured(tmp_path):
    # More at once on one CPU only take turns and push each other's memory out of the cache.
    probe = (
        "import os; os.sched_setaffinity(0, {min(os.sched_getaffinity(0))});"
        "from backend.infra.config import Settings;"
        "print(Settings.from_env({}).max_concurrent_hashes,"
        " Settings.from_env({'LATCHKEY_MAX_CONCURRENT_HASHES': '3'}).max_concurrent_hashes)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["1", "3"]


_RELEASE_PROBE = """
import asyncio
from backend.accounts.passwords import PasswordHasher

def resident_mib():
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmRSS"))
    return int(line.split()[1]) // 1024

async def main():
    hasher = PasswordHasher(
        memory_kib=19456, time_cost=1, parallelism=1, max_concurrent=1, release_after_seconds=0.1
    )
    await hasher.verify(await hasher.hash("correct horse"), "correct horse")
    holding = resident_mib()
    for _ in range(100):  # up to ten seconds for the release
        await asyncio.sleep(0.1)
        if resident_mib() < holding - 12:
            break
    print(holding, resident_mib())

asyncio.run(main())
"""


def test_the_memory_of_hashing_goes_back_to_the_system_once_no_one_signs_in():
    result = subprocess.run(
        [sys.executable, "-c", _RELEASE_PROBE], capture_output=True, text=True, check=True
    )
    holding, later = map(int, result.stdout.split())
    assert later < holding - 12  # of the 19 MB a hash holds


_INTERLEAVED_PEAK_PROBE = """
import asyncio
from backend.accounts.passwords import PasswordHasher

def peak_mib():
    with open("/proc/self/status") as status:
        return int(next(line for line in status if line.startswith("VmHWM")).split()[1]) // 1024

async def main():
    hasher = PasswordHasher(memory_kib=19456, time_cost=1, parallelism=1, max_concurrent=1)
    stored = await hasher.hash("correct horse")
    after_one_hash = peak_mib()
    kept = []
    for _ in range(20):
        verifying = asyncio.ensure_future(hasher.verify(stored, "correct horse"))
        await asyncio.sleep(0.002)
        # Meanwhile the worker answers other requests: blocks from malloc come and go.
        during = [bytes(1000 + 37 * n) for n in range(100)]
        assert await verifying
        after = [bytes(1000 + 37 * n) for n in range(100)]
        kept.extend(during[::20] + after[::20])
    print(after_one_hash, peak_mib())

asyncio.run(main())
"""


def test_hash_after_hash_among_other_allocations_the_peak_stays_one_hashs_memory():
    # One C heap for every thread is where the blocks of other requests settle into the hole
    # a hash left, so that the next hash would need another 19 MB.
    result = subprocess.run(
        [sys.executable, "-c", _INTERLEAVED_PEAK_PROBE],
        env={**os.environ, "MALLOC_ARENA_MAX": "1"},
        capture_output=True,
        text=True,
        check=True,
    )
    after_one_hash, after_many = map(int, result.stdout.split())
    assert after_many < after_one_hash + 6  # the requests' own blocks, not another hash


async def test_what_start_up_built_is_left_out_of_every_later_collection(settings):
    frozen_before = gc.get_freeze_count()
    async with LifespanManager(create_app(settings)):
        assert gc.get_freeze_count() > frozen_before


_START_PEAK_PROBE = """
from backend.accounts.passwords import PasswordHasher

def peak_mib():
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmHWM"))
    return int(line.split()[1]) // 1024

before = peak_mib()
hasher = PasswordHasher(memory_kib=19456, time_cost=1, parallelism=1, max_concurrent=1)
print(before, peak_mib(), hasher.needs_rehash(hasher._dummy_hash))
"""


def test_a_worker_starting_does_not_hash_so_its_peak_memory_waits_for_a_sign_in():
    result = subprocess.run(
        [sys.executable, "-c", _START_PEAK_PROBE], capture_output=True, text=True, check=True
    )
    before, after, needs_rehash = result.stdout.split()
    assert int(after) < int(before) + 12  # a hash would add its 19 MB
    assert needs_rehash == "False"  # the stand-in costs what a real verify costs


async def test_an_unknown_account_is_checked_against_a_hash_no_password_matches():
    hasher = PasswordHasher(memory_kib=8192, time_cost=1, parallelism=1, max_concurrent=1)
    for password in ("", "latchkey-dummy-password", "correct horse battery staple"):
        assert not await hasher.verify(hasher._dummy_hash, password)


async def test_a_worker_on_sqlite_keeps_a_small_page_cache_of_its_own(sqlite_template, tmp_path):
    # SQLite's default cache (2,000 KiB a connection) fills up under load; the file's pages
    # are in the system's page cache anyway.
    path = tmp_path / "cache.sqlite3"
    shutil.copy(sqlite_template, path)
    async with LifespanManager(create_app(settings_for(f"sqlite://{path}"))):
        rows = await connections.get("default").execute_query_dict("PRAGMA cache_size")
    assert -512 <= rows[0]["cache_size"] < 0  # at most 512 KiB
