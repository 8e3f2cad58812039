"""The Starlette application: every route and middleware, wired explicitly."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import linecache
from collections.abc import AsyncIterator, Coroutine
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp
from tortoise.contrib.starlette import RegisterTortoise

import web
from backend.api.engine.operation_spans import with_operation_spans
from backend.api.schema import build_schema
from backend.app import housekeeping
from backend.app.wiring import build_services
from backend.auth.services import Services
from backend.events import delivery as webhooks
from backend.infra import metrics, tracing
from backend.infra.config import Settings
from backend.infra.database import Timeouts, ensure_migrated, tortoise_config
from backend.lifecycle import deletion
from backend.notifications import notices
from backend.oidc import backchannel
from backend.recovery import password_reset
from backend.server import health
from backend.server.failures import DatabaseOutages
from backend.server.forward_auth import ForwardAuthEndpoint
from backend.server.graphql import GraphQLEndpoint
from backend.server.graphql_outages import reporting_outages
from backend.server.headers import SecurityHeaders
from backend.server.oauth import OAuthEndpoints
from backend.server.oidc import OidcEndpoints
from backend.server.request_metrics import RequestMetrics, handler_of
from backend.tokens import reminders
from web import graphiql_page, site
from web.routes import routes as web_routes

WEB = Path(web.__file__).parent
# The name of every background job's task starts with it (tests tell their queries apart).
BACKGROUND_JOB = "latchkey-background:"


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings.from_env()
    services = build_services(settings)
    schema = reporting_outages(build_schema(introspection=settings.graphiql))
    if tracing.enabled():
        schema = with_operation_spans(schema)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        config = tortoise_config(settings.database_url, Timeouts.of(settings))
        async with RegisterTortoise(app, config=config), tracing.exporting():
            await ensure_migrated()
            # Tortoise and anyio read source files at import (a model's field comments); the
            # lines, about 0.25 MiB, are not needed again.
            linecache.clearcache()
            # What start-up built (the schema, models, templates) lives as long as the worker:
            # out of the collector's sight, it is not walked again at every full collection.
            gc.freeze()
            jobs = [
                asyncio.create_task(job, name=f"{BACKGROUND_JOB}{job.__name__}")
                for job in _background_jobs(services)
            ]
            app.state.started = True  # /health/started
            try:
                yield
            finally:
                app.state.started = False
                for job in jobs:
                    job.cancel()
                await asyncio.gather(*jobs, return_exceptions=True)
                await password_reset.settle()  # reset links being mailed
                metrics.worker_stopped()

    # Routes are tried in order, for every request: the one a proxy asks before each request
    # of the applications it protects comes first.
    routes = [
        *ForwardAuthEndpoint(services).routes(),
        Route(
            "/graphql",
            GraphQLEndpoint(schema, services, ide_page=graphiql_page.page),
            methods=["GET", "POST"],
        ),
        *OAuthEndpoints(services).routes(),
        *OidcEndpoints(services).routes(),
        *health.routes(),
        *web_routes(schema, services),
        *(graphiql_page.routes() if settings.graphiql else []),
        Mount("/static/vendor", StaticFiles(directory=_htmx_dist(), check_dir=False), name="htmx"),
        Mount("/static", StaticFiles(directory=WEB / "static"), name="static"),
    ]
    return _Latchkey(
        routes=routes,
        # Right inside Starlette's last-resort handler, which would answer 500 instead.
        middleware=[Middleware(DatabaseOutages)],
        exception_handlers={
            Exception: site.server_error,
            404: site.not_found,
            405: site.method_not_allowed,
        },
        lifespan=lifespan,
        max_body_size=settings.max_body_bytes,
        hsts=settings.secure_cookies,
    )


class _Latchkey(Starlette):
    """Starlette with the security headers outside everything, its own answers included."""

    def __init__(self, *, hsts: bool, **options: object) -> None:
        super().__init__(**options)  # type: ignore[arg-type]
        self.hsts = hsts

    def build_middleware_stack(self) -> ASGIApp:
        # Starlette puts its error handler and body-size limit outside any middleware we
        # list, so their 500 and 413 answers would miss the headers. The metrics count
        # every answer, those included; without them, no request pays for finding its route
        # template.
        headed = SecurityHeaders(super().build_middleware_stack(), hsts=self.hsts)
        measured = RequestMetrics(headed, self.routes) if metrics.enabled() else headed
        return tracing.instrument(measured, lambda scope: handler_of(self.routes, scope))


def _background_jobs(services: Services) -> list[Coroutine[None, None, None]]:
    async def delete_expired() -> None:
        await housekeeping.delete_expired(services.session_timeouts)

    async def retry_notices() -> None:
        await notices.deliver_due(services.mailer)

    async def remind_expiring_tokens() -> None:
        await reminders.send_due(services)

    async def delete_due_accounts() -> None:
        await deletion.delete_due(services)
        await deletion.forget_old_log_rows(services)

    async def deliver_webhooks() -> None:
        timeout = services.settings.webhook_timeout_seconds
        await webhooks.deliver_due(services.secret_box, timeout_seconds=timeout)

    async def deliver_logout_tokens() -> None:
        timeout = services.settings.webhook_timeout_seconds
        issuer = services.settings.public_url.rstrip("/")
        await backchannel.deliver_due(services.secret_box, issuer, timeout_seconds=timeout)

    return [
        housekeeping.run_every(housekeeping.INTERVAL, delete_expired),
        housekeeping.run_every(housekeeping.NOTICE_RETRY_INTERVAL, retry_notices),
        housekeeping.run_every(housekeeping.INTERVAL, remind_expiring_tokens),
        housekeeping.run_every(housekeeping.DELETION_INTERVAL, delete_due_accounts),
    ] + (
        # Back-channel logout tokens go out as webhooks do, from the same workers.
        [
            housekeeping.run_every(housekeeping.WEBHOOK_INTERVAL, deliver_webhooks),
            housekeeping.run_every(housekeeping.WEBHOOK_INTERVAL, deliver_logout_tokens),
        ]
        if services.settings.webhook_delivery
        else []
    )


def _htmx_dist() -> Path:
    # Installed from the npm registry by `npm ci` in web/ (see web/package.json).
    return WEB / "node_modules" / "htmx.org" / "dist"
