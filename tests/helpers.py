"""Small helpers shared by the tests."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
from asgi_lifespan import LifespanManager

from backend.accounts.models import User
from backend.accounts.service import create_user
from backend.app.factory import create_app
from backend.app.wiring import build_services
from backend.infra.config import Settings

PASSWORD = "correct horse battery staple"

SIGN_IN = """
mutation SignIn($username: String!, $password: String!) {
  signIn(input: {username: $username, password: $password}) {
    status challenge
    viewer { username }
    userErrors { field code message }
  }
}
"""


class GraphQL:
    """Posts operations to /graphql as a script would."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def __call__(
        self, query: str, variables: dict[str, Any] | None = None, **headers: str
    ) -> dict[str, Any]:
        response = await self.raw(query, variables, **headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body["errors"]
        return body["data"]

    async def raw(
        self, query: str, variables: dict[str, Any] | None = None, **headers: str
    ) -> httpx.Response:
        return await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )

    async def sign_in(self, username: str, password: str = PASSWORD) -> dict[str, Any]:
        data = await self(SIGN_IN, {"username": username, "password": password})
        return data["signIn"]


async def make_user(
    settings: Settings,
    username: str = "alice",
    *,
    password: str = PASSWORD,
    email: str | None = None,
) -> User:
    return await create_user(
        build_services(settings).hasher,
        username=username,
        email=email or f"{username.lower()}@example.com",
        password=password,
    )


@contextlib.asynccontextmanager
async def serving(
    settings: Settings, base_url: str = "http://testserver"
) -> AsyncIterator[httpx.AsyncClient]:
    """Run the app with these settings (one app at a time) and give a client for it."""
    async with LifespanManager(create_app(settings)) as manager:
        transport = httpx.ASGITransport(app=manager.app, client=("203.0.113.7", 50000))
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
            yield client


ISSUE_TOKEN = """
mutation Issue($name: String!, $expiresAt: DateTime, $password: String!, $otp: String) {
  issueToken(input: {name: $name, expiresAt: $expiresAt, password: $password, otp: $otp}) {
    token { id name createdAt expiresAt lastUsedAt status }
    secret
    userErrors { field code message }
  }
}
"""


def days_ahead(days: float) -> str:
    from datetime import timedelta

    from backend.kernel import clock

    return (clock.now() + timedelta(days=days)).isoformat()


async def issue_token(
    gql: GraphQL, name: str = "deploy", days: float = 30, password: str = PASSWORD
) -> dict[str, Any]:
    data = await gql(
        ISSUE_TOKEN, {"name": name, "expiresAt": days_ahead(days), "password": password}
    )
    return data["issueToken"]


async def exchange(client: httpx.AsyncClient, refresh_token: str) -> httpx.Response:
    return await client.post(
        "/oauth/token", data={"grant_type": "refresh_token", "refresh_token": refresh_token}
    )


def most_checks_in_a_burst(budget: int, *, right_one_got_in: bool) -> int:
    """How many wrong secrets a parallel burst may get checked, whatever the arrival order.

    Only `budget` attempts are reserved before the lock. The right secret inside the burst
    gets in only when it is among those (its success starts the count afresh): then at
    most `budget - 1` wrong ones came before it and `budget` after.
    """
    return 2 * budget - 1 if right_one_got_in else budget


async def submit(client: httpx.AsyncClient, url: str, **kwargs: Any) -> httpx.Response:
    """A form post as a browser without JavaScript makes it: 303 to the page, then its GET.

    The answer is the page showing the outcome; `.posted` is the 303 itself.
    """
    posted = await client.post(url, **kwargs)
    assert posted.status_code == 303, (posted.status_code, posted.text[:500])
    shown = await client.get(posted.headers["location"])
    shown.posted = posted  # type: ignore[attr-defined]
    return shown


class QueryCounter:
    """Counts the SQL statements every Tortoise connection executes, and the trips to the
    database they took (statements run together on SQLite take one trip)."""

    def __enter__(self) -> QueryCounter:
        from tortoise.backends.base.client import BaseDBAsyncClient

        self.queries: list[str] = []
        self.trips = 0
        self._patched = []
        for cls in _subclasses(BaseDBAsyncClient):
            for name in (
                "execute_query",
                "execute_query_dict",
                "execute_insert",
                "execute_script",
                "execute_many",
                "run_together",
            ):
                original = cls.__dict__.get(name)
                if original is None:
                    continue
                self._patched.append((cls, name, original))
                setattr(cls, name, self._counting(original))
        return self

    def _counting(self, original):
        async def counted(client, query, *args, **kwargs):
            self._count(query)
            return await original(client, query, *args, **kwargs)

        return counted

    def _count(self, query) -> None:
        if in_background_job():  # an outbox's poll, say: not the request under test
            return
        self.trips += 1
        if isinstance(query, str):
            self.queries.append(query)
        else:  # run_together: (SQL, parameters) pairs
            self.queries.extend(sql for sql, _ in query)

    def __exit__(self, *exc) -> None:
        for cls, name, original in self._patched:
            setattr(cls, name, original)


def in_background_job() -> bool:
    from backend.app.factory import BACKGROUND_JOB

    task = asyncio.current_task()
    return task is not None and task.get_name().startswith(BACKGROUND_JOB)


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


REAUTHENTICATE = "/account/reauthenticate"


async def reauthentication_form(client: httpx.AsyncClient, back: str) -> dict[str, str]:
    """The hidden fields of the "Confirm it's you" page, opened to return to `back`."""
    page = await client.get(REAUTHENTICATE, params={"next": back})
    assert page.status_code == 200 and 'id="reauthenticate-title"' in page.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    return {"csrf_token": token, "next": back}


async def reauthenticate(
    client: httpx.AsyncClient, back: str, code: str | None = None, password: str = PASSWORD
) -> httpx.Response:
    """ "Confirm it's you" as a browser without JavaScript does it: the page it lands on."""
    form = await reauthentication_form(client, back)
    form |= {"password": password, **({"otp": code} if code else {})}
    return await submit(client, REAUTHENTICATE, data=form)


async def send_reauthentication_code(client: httpx.AsyncClient, back: str) -> httpx.Response:
    """ "Email or text me a code" on the "Confirm it's you" page."""
    form = await reauthentication_form(client, back) | {"password": PASSWORD}
    return await submit(client, REAUTHENTICATE + "/send-code", data=form)


def sent_to_reauthenticate(answer: httpx.Response, back: str) -> bool:
    """A card's post answered with "Confirm it's you", to come back to `back`."""
    posted = getattr(answer, "posted", answer)
    return posted.headers.get("location") == f"{REAUTHENTICATE}?next={back.replace('/', '%2F')}"
