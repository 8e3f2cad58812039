"""Signing in with a username and password."""

from __future__ import annotations

import dataclasses

from backend.accounts import service as accounts
from backend.accounts.models import User
from backend.accounts.passwords import PasswordHasher
from backend.audit.service import record
from backend.client import ClientInfo
from backend.errors import InvalidCredentials
from backend.sessions import service as sessions
from backend.sessions.models import Session
from backend.throttle import service as throttle


@dataclasses.dataclass(frozen=True)
class SignedIn:
    user: User
    session: Session
    session_token: str


def account_key(username: str) -> str:
    # Unknown names get counters too, so they answer exactly like real accounts.
    return f"sign-in:account:{accounts.username_key(username)}"


def address_key(client: ClientInfo) -> str:
    return f"sign-in:address:{client.ip_address}"


async def sign_in(
    hasher: PasswordHasher, username: str, password: str, client: ClientInfo
) -> SignedIn:
    await throttle.check(account_key(username), address_key(client))
    user = await accounts.find_by_username(username)
    if user is None:
        await hasher.verify_nothing(password)
    elif await hasher.verify(user.password_hash, password):
        await _upgrade_hash(hasher, user, password)
        await throttle.clear(account_key(username))
        session, token = await sessions.start(user, client)
        await record("sign_in.succeeded", user=user, client=client)
        return SignedIn(user, session, token)
    await throttle.fail(account_key(username), throttle.PER_ACCOUNT)
    await throttle.fail(address_key(client), throttle.PER_ADDRESS)
    await record("sign_in.failed", user=user, client=client, reason="password")
    raise InvalidCredentials()


async def sign_out(
    session_token: str, user: User, client: ClientInfo, *, everywhere: bool = False
) -> None:
    if everywhere:
        await sessions.end_all(user)
    else:
        await sessions.end(session_token)
    await record("sign_out", user=user, client=client, everywhere=everywhere)


async def _upgrade_hash(hasher: PasswordHasher, user: User, password: str) -> None:
    if hasher.needs_rehash(user.password_hash):
        new_hash = await hasher.hash(password)
        await User.filter(id=user.id, password_hash=user.password_hash).update(
            password_hash=new_hash
        )
        user.password_hash = new_hash
