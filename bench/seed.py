"""Seeding the benchmark's database fast: bulk SQL, one password hash for every account.

The measured accounts (`bench1`, `bench2`, ...) each get an access token (the viewer path),
a refresh token (the exchange path), `tokens_per_user - 1` more refresh tokens that the
viewer query lists, and a browser session (forward authentication); their secrets are
returned. Each measured account is in two of three groups (forward authentication and
introspection name them). `applications` adds a service client (introspection) and an
OpenID Connect client signed in through every measured session; `codes` adds unused
authorization codes for it, each with its own PKCE verifier. Filler accounts, tokens and
security events make the database large without being measured; their secrets are random
and thrown away. Rows are written the way the models
store them, so the service reads them like its own.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import argon2
from tortoise import Tortoise

from backend.accounts.passwords import normalize
from backend.infra.config import Settings
from backend.infra.database import tortoise_config
from backend.kernel.crypto import digest, random_token
from backend.kernel.secret_box import SecretBox
from backend.oidc import keys
from backend.tokens.format import Kind, generate, new_client_id
from backend.tokens.models import LEGACY_SCOPES, RefreshToken

PASSWORD = "benchmark password that is long enough"
ROWS_PER_STATEMENT = 1000  # keeps SQLite's bound-parameter count well under its limit
FILLER_BATCH = 200_000  # rows per generated INSERT ... SELECT, one transaction each
PROGRESS_EVERY = 1_000_000  # rows
GROUPS = ("staff", "engineering", "on-call")
REDIRECT_URI = "https://app.example.com/callback"
CODE_SCOPES = "openid profile email groups offline_access"


@dataclasses.dataclass(frozen=True)
class Account:
    user_id: int
    username: str
    access_token: str
    refresh_token: str
    session: str  # the session cookie's value


@dataclasses.dataclass(frozen=True)
class Applications:
    service_client_id: str  # introspects
    service_secret: str
    oidc_client_id: str  # exchanges codes: confidential, with PKCE, ES256 ID tokens
    oidc_secret: str


@dataclasses.dataclass(frozen=True)
class Code:
    account: Account
    code: str
    verifier: str


@dataclasses.dataclass(frozen=True)
class Shape:
    users: int = 1000  # all accounts, measured ones included
    measured: int = 1000  # the accounts the load rotates over
    tokens_per_user: int = 3  # refresh tokens of each measured account
    events: int = 0  # security events, spread over every account


def password_hash(settings: Settings | None = None) -> str:
    """One argon2id hash of PASSWORD at the product's parameters, shared by every account."""
    settings = settings or Settings()
    hasher = argon2.PasswordHasher(
        memory_cost=settings.argon2_memory_kib,
        time_cost=settings.argon2_time_cost,
        parallelism=settings.argon2_parallelism,
    )
    return hasher.hash(normalize(PASSWORD))


async def seed(
    url: str, shape: Shape, progress: Callable[[str], None] = lambda _: None
) -> list[Account]:
    """Fill a migrated, empty database; the measured accounts' credentials, in order."""
    await Tortoise.init(config=tortoise_config(url))
    try:
        db = Tortoise.get_connection("default")
        seeder = _Seeder(db, password_hash(), datetime.now(UTC))
        accounts = await seeder.measured(shape.measured, shape.tokens_per_user)
        progress(f"{shape.measured:,} measured users with {shape.tokens_per_user} tokens each")
        await seeder.filler_users(shape.measured, shape.users, progress)
        await seeder.events(shape.users, shape.events, progress)
        await seeder.after()
        return accounts
    finally:
        await Tortoise.close_connections()


async def applications(url: str, secret_key: str) -> Applications:
    """A service client, and an OpenID Connect client that every measured session signed in
    to (as when a code was issued in it); the signing keys, sealed with `secret_key`."""
    await Tortoise.init(config=tortoise_config(url))
    try:
        await keys.ensure(SecretBox(secret_key))
        seeder = _Seeder(Tortoise.get_connection("default"), "", datetime.now(UTC))
        made = Applications(
            new_client_id("lk_sc_"), generate(Kind.SERVICE_SECRET), random_token(18), random_token()
        )
        await seeder._insert(
            "service_clients",
            ("name", "client_id", "secret_hash", "created_at"),
            [("bench", made.service_client_id, digest(made.service_secret), seeder.now)],
        )
        await seeder._insert(
            "oidc_clients",
            _OIDC_CLIENT_COLUMNS,
            [
                (
                    made.oidc_client_id,
                    "bench",
                    digest(made.oidc_secret),
                    False,
                    json.dumps([REDIRECT_URI]),
                    "[]",
                    "",
                    "[]",
                    "ES256",
                    seeder.now,
                )
            ],
        )
        client_id = await seeder._one("SELECT id FROM oidc_clients")
        sessions = await seeder.db.execute_query_dict("SELECT id FROM sessions ORDER BY id")
        await seeder._insert(
            "oidc_session_clients",
            ("session_id", "client_id", "sid", "created_at"),
            [(row["id"], client_id, _sid(row["id"]), seeder.now) for row in sessions],
        )
        await seeder.after()
        return made
    finally:
        await Tortoise.close_connections()


async def codes(url: str, accounts: list[Account], count: int) -> list[Code]:
    """`count` unused codes of the seeded client, spread over the measured accounts (each
    issued in its session). A code works once: a run sends each at most once. They expire
    with the seeded tokens instead of in a minute, so that they can be made before the runs
    that use them."""
    await Tortoise.init(config=tortoise_config(url))
    try:
        seeder = _Seeder(Tortoise.get_connection("default"), "", datetime.now(UTC))
        client_id = await seeder._one("SELECT id FROM oidc_clients")
        sessions = {
            row["user_id"]: row["id"]
            for row in await seeder.db.execute_query_dict("SELECT id, user_id FROM sessions")
        }
        made, rows = [], []
        for n in range(count):
            account = accounts[n % len(accounts)]
            code, verifier = random_token(), random_token(48)
            challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            session = sessions[account.user_id]
            rows.append(
                (
                    digest(code),
                    client_id,
                    account.user_id,
                    REDIRECT_URI,
                    CODE_SCOPES,
                    f"nonce-{n}",
                    challenge.rstrip(b"=").decode(),
                    seeder.now,
                    seeder.expires,
                    session,
                    _sid(session),
                )
            )
            made.append(Code(account, code, verifier))
        await seeder._insert("oidc_authorization_codes", _CODE_COLUMNS, rows)
        return made
    finally:
        await Tortoise.close_connections()


def _sid(session_id: int) -> str:
    return hashlib.sha256(f"bench sid {session_id}".encode()).hexdigest()[:32]


async def add_listed_tokens(url: str, account: Account, total: int) -> None:
    """Give a measured account `total` live refresh tokens (the worst documents list them)."""
    await Tortoise.init(config=tortoise_config(url))
    try:
        seeder = _Seeder(Tortoise.get_connection("default"), "", datetime.now(UTC))
        have = await RefreshToken.filter(user_id=account.user_id, revoked_at=None).count()
        rows = [
            seeder._refresh(account.user_id, f"more {k}", secrets.token_hex(32))
            for k in range(have, total)
        ]
        await seeder._insert("refresh_tokens", _REFRESH_COLUMNS, rows)
    finally:
        await Tortoise.close_connections()


class _Seeder:
    def __init__(self, db, password_hash: str, now: datetime) -> None:
        self.db = db
        self.postgres = db.capabilities.dialect == "postgres"
        self.password_hash = password_hash
        self.now = now
        self.expires = now + timedelta(days=30)

    async def measured(self, count: int, tokens_per_user: int) -> list[Account]:
        accounts = [
            Account(n, f"bench{n}", generate(Kind.ACCESS), generate(Kind.REFRESH), random_token())
            for n in range(1, count + 1)
        ]
        await self._insert(
            "users",
            _USER_COLUMNS,
            [self._user(n, a.username) for n, a in enumerate(accounts, 1)],
        )
        # The refresh token that is exchanged comes first, so its id is the user's id.
        refresh = [
            self._refresh(n, "exchanged", digest(a.refresh_token))
            for n, a in enumerate(accounts, 1)
        ]
        refresh += [
            self._refresh(n, f"listed {k}", secrets.token_hex(32))
            for n in range(1, count + 1)
            for k in range(1, tokens_per_user)
        ]
        await self._insert("refresh_tokens", _REFRESH_COLUMNS, refresh)
        access = [
            (digest(a.access_token), n, n, self.now, self.now + timedelta(days=1), LEGACY_SCOPES)
            for n, a in enumerate(accounts, 1)
        ]
        await self._insert("access_tokens", _ACCESS_COLUMNS, access)
        sessions = [
            (n, digest(a.session), self.now, self.now, "192.0.2.1", "bench", "", "")
            for n, a in enumerate(accounts, 1)
        ]
        await self._insert("sessions", _SESSION_COLUMNS, sessions)
        await self._insert(
            "groups",
            ("id", "name", "description", "self_service", "created_at"),
            [(n, name, "", False, self.now) for n, name in enumerate(GROUPS, 1)],
        )
        memberships = [
            (n, group) for n in range(1, count + 1) for group in (1, 2, 3) if group != n % 3 + 1
        ]
        await self._insert("memberships", ("users_id", "group_id"), memberships)
        return accounts

    async def filler_users(self, first: int, last: int, progress: Callable[[str], None]) -> None:
        """Accounts first+1..last, each with one refresh token, generated by the database."""
        for start in range(first + 1, last + 1, FILLER_BATCH):
            end = min(start + FILLER_BATCH - 1, last)
            await self._generated(_FILLER_USERS, start, end, [self.password_hash, self.now])
            await self._generated(
                _FILLER_TOKENS, start, end, [self.now, self.expires, LEGACY_SCOPES]
            )
            progress(f"users: {end:,} of {last:,}")

    async def events(self, users: int, count: int, progress: Callable[[str], None]) -> None:
        """Security events 1..count, spread evenly over the accounts."""
        started = time.monotonic()
        for start in range(1, count + 1, FILLER_BATCH):
            end = min(start + FILLER_BATCH - 1, count)
            await self._generated(_FILLER_EVENTS, start, end, [self.now, users])
            if end == count or end % PROGRESS_EVERY < FILLER_BATCH:
                seconds = time.monotonic() - started
                progress(f"security events: {end:,} of {count:,} ({seconds:.0f} s)")

    async def after(self) -> None:
        """Explicit ids leave PostgreSQL's sequences behind; statistics for its planner.

        PostgreSQL's autovacuum would gather statistics soon anyway. SQLite has none unless
        someone runs ANALYZE, which Latchkey does not: a seeded file stays like a real one.
        """
        if not self.postgres:
            return
        tables = ("users", "refresh_tokens", "access_tokens", "sessions", "security_events")
        for table in (*tables, "groups", "service_clients", "oidc_clients"):
            await self.db.execute_script(  # our own table names, no input
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
            )
        await self.db.execute_script("ANALYZE")

    def _user(self, n: int, username: str) -> tuple:
        email = f"{username}@example.com"
        return (
            n,
            username,
            username,
            email,
            email,
            "",
            "",
            "",
            None,
            "UTC",
            self.password_hash,
            self.now,
            self.now,
        )

    def _refresh(self, user_id: int, name: str, token_hash: str) -> tuple:
        return (user_id, name, token_hash, self.now, self.expires, "", LEGACY_SCOPES)

    async def _insert(self, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
        names = ", ".join(f'"{c}"' for c in columns)
        for start in range(0, len(rows), ROWS_PER_STATEMENT):
            chunk = rows[start : start + ROWS_PER_STATEMENT]
            values, parameters = [], []
            for row in chunk:
                marks = [self._mark(len(parameters) + i + 1) for i in range(len(row))]
                values.append(f"({', '.join(marks)})")
                parameters.extend(row)
            # Our own table and column names; every value is a bound parameter.
            sql = f"INSERT INTO {table} ({names}) VALUES {', '.join(values)}"  # noqa: S608
            await self.db.execute_query(sql, parameters)

    async def _generated(self, template: dict[str, str], start: int, end: int, extra: list) -> None:
        sql = template["postgres" if self.postgres else "sqlite"]
        await self.db.execute_query(sql, [start, end, *extra])

    async def _one(self, sql: str) -> int:
        rows = await self.db.execute_query_dict(sql)
        return int(next(iter(rows[0].values())))

    def _mark(self, n: int) -> str:
        return f"${n}" if self.postgres else "?"


_USER_COLUMNS = (
    "id",
    "username",
    "username_key",
    "email",
    "email_key",
    "first_name",
    "last_name",
    "description",
    "mobile_phone",
    "time_zone",
    "password_hash",
    "password_changed_at",
    "created_at",
)
_REFRESH_COLUMNS = (
    "user_id",
    "name",
    "token_hash",
    "created_at",
    "expires_at",
    "last_used_ip",
    "scopes",
)
_ACCESS_COLUMNS = (
    "token_hash",
    "user_id",
    "refresh_token_id",
    "created_at",
    "expires_at",
    "scopes",
)

_OIDC_CLIENT_COLUMNS = (
    "client_id",
    "name",
    "secret_hash",
    "third_party",
    "redirect_uris",
    "post_logout_redirect_uris",
    "backchannel_logout_uri",
    "scopes",
    "id_token_alg",
    "created_at",
)
_CODE_COLUMNS = (
    "code_hash",
    "client_id",
    "user_id",
    "redirect_uri",
    "scopes",
    "nonce",
    "code_challenge",
    "auth_time",
    "expires_at",
    "session_id",
    "sid",
)
_SESSION_COLUMNS = (
    "user_id",
    "token_hash",
    "created_at",
    "last_seen_at",
    "ip_address",
    "user_agent",
    "browser_name",
    "system_name",
)

# Parameters: the first and last number of the batch, then the ones named per statement.
# SQLite numbers them with a recursive CTE, PostgreSQL with generate_series.
_FILLER_USERS = {  # then: password hash, now
    "sqlite": """WITH RECURSIVE n(i) AS (SELECT ?1 UNION ALL SELECT i + 1 FROM n WHERE i < ?2)
    INSERT INTO users (id, username, username_key, email, email_key, first_name,
    last_name, description, time_zone, password_hash, password_changed_at, created_at)
    SELECT i, 'user' || i, 'user' || i, 'user' || i || '@example.com',
    'user' || i || '@example.com', '', '', '', 'UTC', ?3, ?4, ?4 FROM n""",
    "postgres": """INSERT INTO users (id, username, username_key, email, email_key,
    first_name, last_name, description, time_zone, password_hash, password_changed_at,
    created_at)
    SELECT i, 'user' || i, 'user' || i, 'user' || i || '@example.com',
    'user' || i || '@example.com', '', '', '', 'UTC', $3, $4::timestamptz, $4::timestamptz
    FROM generate_series($1::bigint, $2::bigint) AS i""",
}
_FILLER_TOKENS = {  # then: now, expiry, scopes
    "sqlite": """WITH RECURSIVE n(i) AS (SELECT ?1 UNION ALL SELECT i + 1 FROM n WHERE i < ?2)
    INSERT INTO refresh_tokens (user_id, name, token_hash, created_at, expires_at,
    last_used_ip, scopes)
    SELECT i, 'filler', lower(hex(randomblob(32))), ?3, ?4, '', ?5 FROM n""",
    "postgres": """INSERT INTO refresh_tokens (user_id, name, token_hash, created_at,
    expires_at, last_used_ip, scopes)
    SELECT i, 'filler', md5(random()::text || i) || md5(i || random()::text),
    $3::timestamptz, $4::timestamptz, '', $5
    FROM generate_series($1::bigint, $2::bigint) AS i""",
}
_FILLER_EVENTS = {  # then: now, the number of accounts
    "sqlite": """WITH RECURSIVE n(i) AS (SELECT ?1 UNION ALL SELECT i + 1 FROM n WHERE i < ?2)
    INSERT INTO security_events (id, user_id, kind, created_at, ip_address,
    user_agent, details)
    SELECT i, (i % ?4) + 1, 'sign_in.succeeded', ?3, '192.0.2.1', 'bench', '{}' FROM n""",
    "postgres": """INSERT INTO security_events (id, user_id, kind, created_at, ip_address,
    user_agent, details)
    SELECT i, (i % $4) + 1, 'sign_in.succeeded', $3::timestamptz, '192.0.2.1', 'bench',
    '{}' FROM generate_series($1::bigint, $2::bigint) AS i""",
}


async def reset_postgres(url: str) -> None:
    """Drop the schema `public` with all it holds and make it afresh (a database the bench
    may own: never a product database)."""
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        await connection.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    finally:
        await connection.close()
