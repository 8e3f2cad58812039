"""Probes: `/health` (ready: the database answers) and `/health/live` (the process runs)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from tortoise.connection import get_connection


async def ready(request: Request) -> Response:
    # An outage raises here; DatabaseOutages turns it into the 503.
    await get_connection("default").execute_query("SELECT 1")
    return PlainTextResponse("ok")


async def live(request: Request) -> Response:
    return PlainTextResponse("ok")


def routes() -> list[BaseRoute]:
    return [
        Route("/health", ready, methods=["GET"]),
        Route("/health/live", live, methods=["GET"]),
    ]
