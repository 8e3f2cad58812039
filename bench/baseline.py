"""The baseline: a bare Starlette endpoint doing the viewer query's database work, no GraphQL.

Served by uvicorn like Latchkey itself: `uvicorn --factory bench.baseline:create_app`.
"""

from __future__ import annotations

import contextlib
import os

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from tortoise.contrib.starlette import RegisterTortoise

from backend.database import tortoise_config
from backend.tokens import service as tokens


async def viewer(request: Request) -> Response:
    scheme, _, secret = request.headers.get("authorization", "").partition(" ")
    user = await tokens.access_token_owner(secret) if scheme == "Bearer" else None
    if user is None:
        return JSONResponse({"error": "invalid_token"}, status_code=401)
    await request.body()  # read the query like /graphql would, but do not parse it
    listed = await tokens.list_for(user.id)
    body = {
        "data": {
            "viewer": {
                "username": user.username,
                "tokens": [{"name": t.name, "expiresAt": t.expires_at.isoformat()} for t in listed],
            }
        }
    }
    return JSONResponse(body)


def create_app() -> Starlette:
    url = os.environ["LATCHKEY_DATABASE_URL"]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        async with RegisterTortoise(app, config=tortoise_config(url)):
            yield

    return Starlette(routes=[Route("/graphql", viewer, methods=["POST"])], lifespan=lifespan)
