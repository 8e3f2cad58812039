"""Probes, as an orchestrator asks them (Kubernetes' startup, liveness and readiness probes).

- `/health/live`: the process answers. Nothing else is asked, so a database outage never
  gets a worker restarted (that would not bring the database back).
- `/health/started`: start-up has finished (the database was found migrated, the background
  jobs run); 503 before.
- `/health/ready` and `/health`: the database answers and carries every migration this
  version needs; 503 otherwise, and 200 again as soon as it is back, without a restart.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from tortoise.connection import get_connection

from backend.infra.database import pending_migrations

# Seconds a client should wait before asking again (the 503 answers say so).
RETRY_AFTER = "5"


async def ready(request: Request) -> Response:
    # An outage raises here; DatabaseOutages turns it into the 503.
    await get_connection("default").execute_query("SELECT 1")
    if await pending_migrations():
        return _unavailable("database not migrated")
    return PlainTextResponse("ok")


async def live(request: Request) -> Response:
    return PlainTextResponse("ok")


async def started(request: Request) -> Response:
    if not getattr(request.app.state, "started", False):
        return _unavailable("starting")
    return PlainTextResponse("ok")


def _unavailable(reason: str) -> Response:
    return PlainTextResponse(reason, status_code=503, headers={"Retry-After": RETRY_AFTER})


def routes() -> list[BaseRoute]:
    return [
        Route("/health", ready, methods=["GET"]),
        Route("/health/ready", ready, methods=["GET"]),
        Route("/health/live", live, methods=["GET"]),
        Route("/health/started", started, methods=["GET"]),
    ]
