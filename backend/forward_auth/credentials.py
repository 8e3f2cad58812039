"""What a sub-request presented, as the HTTP edge read it: a session cookie, a bearer access
token, or Basic authentication's username and secret. Nothing here is checked yet."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class SessionCookie:
    """The value of the session cookie the pages read."""

    value: str


@dataclasses.dataclass(frozen=True)
class BearerToken:
    """`Authorization: Bearer <access token>`."""

    secret: str


@dataclasses.dataclass(frozen=True)
class BasicSecret:
    """`Authorization: Basic` of `username:secret`: the secret must be a refresh token or
    the API credentials' secret of that user, never a password."""

    username: str
    secret: str


@dataclasses.dataclass(frozen=True)
class Unreadable:
    """An `Authorization` header of another scheme, or one that does not decode."""


Credentials = SessionCookie | BearerToken | BasicSecret | Unreadable | None
