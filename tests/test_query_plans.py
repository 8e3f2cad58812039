"""Every query on a hot path finds its rows through an index, so a million users and ten
million security events cost each request about what a thousand do.

PostgreSQL is asked with sequential scans priced out (on a small test table it would
rightly prefer one): a plan that still scans a table, or that reads an index and then
filters rows by their user, has no index to use. SQLite's planner picks an index whenever
one fits.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from tortoise import Tortoise
from tortoise.transactions import in_transaction

from backend.accounts import limits
from backend.accounts.models import User
from backend.audit.models import SecurityEvent
from backend.auth.factors.models import (
    Authenticator,
    PasskeyChallenge,
    PasskeyCredential,
    SignInChallenge,
    TrustedDevice,
    TwoFactor,
)
from backend.auth.models import PasswordReset, SignInLockout
from backend.auth.sessions.models import Session
from backend.auth.signin import service as signin
from backend.auth.throttle import service as throttle
from backend.auth.throttle.models import ThrottleCounter
from backend.forward_auth import callers as forward
from backend.infra.hot_sql import _for_dialect
from backend.kernel import clock
from backend.notifications.models import SecureAccountLink
from backend.tokens import retention
from backend.tokens import service as tokens
from backend.tokens.models import AccessToken, RefreshToken

HASH = "0" * 64


def _orm(query) -> tuple[str, list]:
    return query.sql(params_inline=True), []


# What each hot path runs, built when the database is connected: (SQL, parameters).
HOT = {
    "bearer: access token, user and revocation": lambda: (
        tokens._BEARER,
        [HASH, clock.now()],
    ),
    "ended tokens of a user beyond the newest": lambda: (
        retention._DROP_OLDER_ENDED,
        [7, clock.now()],
    ),
    "user by id": lambda: _orm(User.filter(id=7)),
    "session by hash, with its user": lambda: _orm(
        Session.filter(token_hash=HASH).select_related("user")
    ),
    "refresh token by secret, current or previous": lambda: (tokens._BY_SECRET, [HASH]),
    "refresh token by secret, with its owner": lambda: (tokens._BY_SECRET_WITH_OWNER, [HASH]),
    "access tokens of a refresh token": lambda: _orm(AccessToken.filter(refresh_token_id=7)),
    "access tokens of a user": lambda: _orm(AccessToken.filter(user_id=7)),
    "security events of a user, first page": lambda: _orm(
        SecurityEvent.filter(user_id=7).order_by("-id").limit(21)
    ),
    "security events of a user, a later page": lambda: _orm(
        SecurityEvent.filter(user_id=7, id__lt=1000).order_by("-id").limit(21)
    ),
    "sessions of a user beyond the newest": lambda: limits.keep_newest_statement(Session, 7, 100),
    "throttle counter by key": lambda: _orm(ThrottleCounter.filter(key="address:203.0.113.7")),
    "sign-in: reserve an attempt": lambda: throttle._reserve_statement(
        "address:203.0.113.7", throttle.PER_ADDRESS, 0
    ),
    "sign-in: the user's row lock": lambda: limits.serialise_statement(7),
    "lockout of a user": lambda: _orm(SignInLockout.filter(user_id=7, failures__gte=100)),
    # Sign-in's account read: the user with its lockout and two-factor policy.
    "sign-in: the account by username": lambda: (signin._ACCOUNT, ["ada"]),
    # A second factor at sign-in, and the account settings that list or change one.
    "two-factor settings of a user": lambda: _orm(TwoFactor.filter(user_id=7)),
    "authenticators of a user": lambda: _orm(Authenticator.filter(user_id=7).order_by("id")),
    "authenticators of a user, of a kind": lambda: _orm(
        Authenticator.filter(user_id=7, kind="passkey").order_by("id")
    ),
    "passkeys of a user": lambda: _orm(PasskeyCredential.filter(user_id=7).order_by("id")),
    "trusted devices of a user": lambda: _orm(
        TrustedDevice.filter(user_id=7, expires_at__gt=clock.now()).order_by("-last_seen_at")
    ),
    "password resets of a user still open": lambda: _orm(
        PasswordReset.filter(user_id=7, used_at=None)
    ),
    # What deleting a user (ON DELETE CASCADE) or an API credential looks up in each table.
    "sign-in challenges of a user": lambda: _orm(SignInChallenge.filter(user_id=7)),
    "passkey challenges of a user": lambda: _orm(PasskeyChallenge.filter(user_id=7)),
    "secure-account links of a user": lambda: _orm(SecureAccountLink.filter(user_id=7)),
    "access tokens of an API credential": lambda: _orm(AccessToken.filter(api_credential_id=7)),
    "members of a group": lambda: (
        "SELECT users_id FROM memberships WHERE group_id = $1",
        [7],
    ),
    # /auth/forward, before every request of an application behind a proxy.
    "forward auth: session with its user and groups": lambda: (
        forward._SESSION,
        [HASH, clock.now(), clock.now(), clock.now()],
    ),
    "forward auth: access token with its user and groups": lambda: (
        forward._BEARER,
        [HASH, clock.now()],
    ),
    "forward auth: refresh token of a username, with groups": lambda: (
        forward._REFRESH_TOKEN,
        [HASH, "ada", clock.now(), clock.now()],
    ),
    "forward auth: API credentials of a username, with groups": lambda: (
        forward._API_CREDENTIALS,
        ["ada", HASH, clock.now()],
    ),
    "forward auth: a session's last use moved": lambda: (
        forward._TOUCH_SESSION,
        [clock.now(), 7, clock.now()],
    ),
}


async def _plan(sql: str, params: list) -> str:
    connection = Tortoise.get_connection("default")
    dialect = connection.capabilities.dialect
    async with in_transaction() as transaction:
        if dialect == "sqlite":
            rows = await transaction.execute_query_dict(
                "EXPLAIN QUERY PLAN " + _for_dialect(sql, dialect), params
            )
            return "\n".join(row["detail"] for row in rows)
        await transaction.execute_script("SET LOCAL enable_seqscan = off")
        rows = await transaction.execute_query_dict("EXPLAIN " + sql, params)
        return "\n".join(row["QUERY PLAN"] for row in rows)


def _scans_a_table(plan: str, dialect: str) -> bool:
    if dialect == "sqlite":
        # "SCAN t" reads every row; "SEARCH t USING INDEX" and temporary sort trees do not.
        return any(line.strip().startswith("SCAN ") for line in plan.splitlines())
    # Walking another index (the primary key, backwards) and filtering each row by its user
    # (or group, or credential) reads the whole table for a key with few rows.
    return "Seq Scan" in plan or re.search(r"Filter: \(\(?\w+_id\b", plan) is not None


@pytest.mark.parametrize("name", HOT)
async def test_hot_queries_use_an_index(app, name):
    sql, params = HOT[name]()
    dialect = Tortoise.get_connection("default").capabilities.dialect
    plan = await _plan(sql, params)
    assert not _scans_a_table(plan, dialect), f"{name} scans a table:\n{plan}"


async def test_a_secret_is_found_by_index_once_the_database_has_statistics(app):
    # With statistics, SQLite judged `token_hash = ? OR previous_token_hash = ?` cheaper to
    # answer by reading every token, since nearly every previous_token_hash is NULL.
    user = await User.create(
        username="planner",
        username_key="planner",
        email="p@example.com",
        email_key="p@example.com",
        password_hash="-",
    )
    await RefreshToken.bulk_create(
        RefreshToken(user=user, name=f"token {n}", token_hash=f"{n:064x}") for n in range(500)
    )
    await Tortoise.get_connection("default").execute_script("ANALYZE")
    dialect = Tortoise.get_connection("default").capabilities.dialect
    plan = await _plan(tokens._BY_SECRET, [HASH])
    assert not _scans_a_table(plan, dialect), plan


async def test_a_users_tokens_are_listed_by_index_once_the_database_has_statistics(app):
    # On empty tables PostgreSQL's costs for the expired tokens of one user tie between the
    # (user, expiry) index and the expiry index filtered by user; with statistics of many
    # accounts, reading every account's expired tokens is the dearer and is not chosen.
    now = clock.now()
    await User.bulk_create(
        User(
            username=f"planner{n}",
            username_key=f"planner{n}",
            email=f"p{n}@example.com",
            email_key=f"p{n}@example.com",
            password_hash="-",
        )
        for n in range(40)
    )
    users = await User.filter(username__startswith="planner").order_by("id")
    await RefreshToken.bulk_create(
        RefreshToken(
            user=user,
            name=f"token {n}",
            token_hash=f"{user.id:032x}{n:032x}",
            expires_at=now + timedelta(days=n - 20),  # half of them expired
        )
        for user in users
        for n in range(40)
    )
    await Tortoise.get_connection("default").execute_script("ANALYZE")
    dialect = Tortoise.get_connection("default").capabilities.dialect
    plan = await _plan(tokens._LIST, [users[0].id, now])
    assert not _scans_a_table(plan, dialect), plan
