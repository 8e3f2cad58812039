"""The baselines: bare Starlette endpoints doing the hot paths' work by hand.

Served by uvicorn like Latchkey itself: `uvicorn --factory bench.baselines:create_app`.
They use the models, the token hash format (SHA-256 hex of the secret), the token format
and the sealed signing key's format, and nothing else of the product: their own look-ups
with ordinary Tortoise queries, their own checks, their own answers. So a faster product
does not make its baselines faster too. Each module says what its path does.
"""

from __future__ import annotations

import contextlib
import os

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from tortoise.contrib.starlette import RegisterTortoise

from backend.infra.database import tortoise_config
from bench.baselines import forward, introspect, oidc, sign_in, tokens
from bench.baselines.common import basic_credentials, form_of, oauth_error


async def graphql(request: Request) -> Response:
    # Two documents are measured at /graphql; the viewer's is answered without being parsed.
    body = await request.body()
    if b"signIn" in body:
        return await sign_in.sign_in(request, body)
    return await tokens.viewer(request)


async def token(request: Request) -> Response:
    form = await form_of(request)
    grant_type = form.get("grant_type")
    if grant_type == "authorization_code":
        return await oidc.exchange_code(form, basic_credentials(request))
    if grant_type == "refresh_token":
        return await tokens.exchange(form)
    return oauth_error("unsupported_grant_type", "Use authorization_code or refresh_token.")


def create_app() -> Starlette:
    url = os.environ["LATCHKEY_DATABASE_URL"]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        async with RegisterTortoise(app, config=tortoise_config(url)):
            await oidc.Keys.load()
            yield

    routes = [
        Route("/graphql", graphql, methods=["POST"]),
        Route("/oauth/token", token, methods=["POST"]),
        Route("/oauth/introspect", introspect.introspect, methods=["POST"]),
        Route("/auth/forward", forward.forward, methods=["GET"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)
