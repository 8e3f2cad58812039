"""OpenTelemetry tracing: a span per request, per GraphQL operation and per database statement.

Off unless OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set, and
costless then: no opentelemetry module is imported, the application is not wrapped, and a
database statement costs a comparison and a call more. The packages come with the
`tracing` extra.

On, each worker (a process of its own) makes its own provider and exporter when the
application starts, and flushes what is left when it stops. The exporter sends OTLP over
HTTP and reads the standard OTEL_* variables itself (endpoint, headers, timeout, batch
delay); OTEL_SERVICE_NAME names the service, "latchkey" unless set.

What a span never carries: a request's span sees neither its path nor its query string
(only the route template, such as `/password-reset/{token}`), nor any header but Host,
User-Agent and the trace context; an operation's span has its name and type, never the
document or the variables; a statement's span has the SQL text, whose values are all
parameters, never the parameters. An error is sent by its type alone (see
_error_types_only).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
SERVICE_NAME = "latchkey"
# The only request headers the request span's middleware is shown: what names the host and
# the client's software, and the caller's trace context. Never Cookie or Authorization.
SHOWN_HEADERS = frozenset({b"host", b"user-agent", b"traceparent", b"tracestate"})
# Where the scope the middleware is shown keeps the real one, for the application.
_REAL_SCOPE = "latchkey.scope"

# The tracer while the application runs with tracing on; None otherwise.
_tracer: Any = None


def enabled() -> bool:
    return any(os.environ.get(name) for name in ENDPOINT_VARIABLES)


def tracer() -> Any:
    """The tracer spans are made with; None when tracing is off or not started."""
    return _tracer


@functools.cache
def _provider() -> Any:
    # One per process: OpenTelemetry's API wants one provider, and a worker runs one app.
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider

    name = os.environ.get("OTEL_SERVICE_NAME") or SERVICE_NAME
    return TracerProvider(resource=Resource.create({"service.name": name}))


@contextlib.asynccontextmanager
async def exporting() -> AsyncIterator[None]:
    """While the application runs (its lifespan): spans are made and sent."""
    global _tracer
    if not enabled():
        yield
        return
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = _provider()
    processor = BatchSpanProcessor(_error_types_only(OTLPSpanExporter()))
    provider.add_span_processor(processor)
    _tracer = provider.get_tracer("latchkey")
    try:
        yield
    finally:
        _tracer = None
        # What is still queued goes out before the worker ends (the export blocks: a thread).
        await asyncio.to_thread(processor.shutdown)


def _error_types_only(exporter: Any) -> Any:
    """`exporter`, sent spans whose errors are told by their type alone.

    An exception that escapes a span is recorded with its message and stack trace (whose
    last line repeats the message), and the span's status says the message too; a message
    may quote a value (a database's duplicate key, a token in a KeyError). The logs keep
    the whole of it."""
    from opentelemetry.sdk.trace import Event, ReadableSpan
    from opentelemetry.sdk.trace.export import SpanExporter
    from opentelemetry.trace import Status

    def told_by_type(span: ReadableSpan) -> ReadableSpan:
        events = [
            Event(
                event.name,
                {"exception.type": (event.attributes or {}).get("exception.type", "")},
                event.timestamp,
            )
            if event.name == "exception"
            else event
            for event in span.events
        ]
        description = span.status.description
        if description is not None:
            description = description.split(":", 1)[0]
        return ReadableSpan(
            name=span.name,
            context=span.context,
            parent=span.parent,
            resource=span.resource,
            attributes=span.attributes,
            events=events,
            links=span.links,
            kind=span.kind,
            status=Status(span.status.status_code, description),
            start_time=span.start_time,
            end_time=span.end_time,
            instrumentation_scope=span.instrumentation_scope,
        )

    class ErrorTypesOnly(SpanExporter):
        def export(self, spans: Any) -> Any:
            return exporter.export([told_by_type(span) for span in spans])

        def shutdown(self) -> None:
            exporter.shutdown()

        def force_flush(self, timeout_millis: int = 30000) -> bool:
            return exporter.force_flush(timeout_millis)

    return ErrorTypesOnly()


def instrument(app: Any, route_of: Callable[[dict[str, Any]], str]) -> Any:
    """`app` with a span per HTTP request when tracing is on; `app` itself otherwise.
    `route_of(scope)`: the template of the route that takes the request."""
    if not enabled():
        return app
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
    from opentelemetry.util.http import get_excluded_urls

    middleware = OpenTelemetryMiddleware(
        _RealScope(app),
        tracer_provider=_provider(),
        # OTEL_PYTHON_ASGI_EXCLUDED_URLS or OTEL_PYTHON_EXCLUDED_URLS, matched against the
        # URL with the route template for the path (`health` for the probes).
        excluded_urls=get_excluded_urls("ASGI"),
        # The spans of each message received and sent say nothing an operator needs.
        exclude_spans=["receive", "send"],
    )
    # Headers are never recorded, whatever OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_* say:
    # a response's Set-Cookie holds a session.
    middleware.http_capture_headers_server_request = None
    middleware.http_capture_headers_server_response = None
    return _ShownScope(middleware, route_of)


class _ShownScope:
    """Shows the middleware a scope without what may carry a secret: the route template for
    the path, no query string, only the headers in SHOWN_HEADERS."""

    def __init__(self, middleware: Any, route_of: Callable[[dict[str, Any]], str]) -> None:
        self.middleware = middleware
        self.route_of = route_of

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.middleware.app(scope, receive, send)
            return
        template = self.route_of(scope)
        shown = {
            **scope,
            "path": template,
            "raw_path": template.encode(),
            "query_string": b"",
            "headers": [(k, v) for k, v in scope["headers"] if k.lower() in SHOWN_HEADERS],
            _REAL_SCOPE: scope,
        }
        await self.middleware(shown, receive, send)


class _RealScope:
    """Hands the application the request's own scope again."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope.get(_REAL_SCOPE, scope), receive, send)


class TracedStatements:
    """Mixed into a database client (before Tortoise's class): a span per statement, with
    its SQL text and never its parameters. `db_system` names the database."""

    db_system: str

    async def execute_insert(self, query: str, values: list[Any]) -> Any:
        if _tracer is None:
            return await super().execute_insert(query, values)  # type: ignore[misc]
        with _statement(self.db_system, query):
            return await super().execute_insert(query, values)  # type: ignore[misc]

    async def execute_many(self, query: str, values: list[Any]) -> Any:
        if _tracer is None:
            return await super().execute_many(query, values)  # type: ignore[misc]
        with _statement(self.db_system, query):
            return await super().execute_many(query, values)  # type: ignore[misc]

    async def execute_query(self, query: str, values: list[Any] | None = None) -> Any:
        if _tracer is None:
            return await super().execute_query(query, values)  # type: ignore[misc]
        with _statement(self.db_system, query):
            return await super().execute_query(query, values)  # type: ignore[misc]

    async def execute_query_dict(self, query: str, values: list[Any] | None = None) -> Any:
        if _tracer is None:
            return await super().execute_query_dict(query, values)  # type: ignore[misc]
        with _statement(self.db_system, query):
            return await super().execute_query_dict(query, values)  # type: ignore[misc]

    async def execute_script(self, query: str) -> Any:
        if _tracer is None:
            return await super().execute_script(query)  # type: ignore[misc]
        with _statement(self.db_system, query):
            return await super().execute_script(query)  # type: ignore[misc]


@contextlib.contextmanager
def statements(db_system: str, statements: list[tuple[str, list[Any]]]) -> Iterator[None]:
    """A span for statements sent together in one trip, with their SQL texts (one a line)
    and not their parameters."""
    if _tracer is None:
        yield
        return
    with _statement(db_system, "\n".join(sql for sql, _ in statements), name="BATCH"):
        yield


@contextlib.contextmanager
def _statement(db_system: str, sql: str, name: str | None = None) -> Iterator[None]:
    from opentelemetry.trace import SpanKind

    attributes = {"db.system": db_system, "db.statement": sql}
    with _tracer.start_as_current_span(
        name or _operation(sql), kind=SpanKind.CLIENT, attributes=attributes
    ):
        yield


def _operation(sql: str) -> str:
    """The span's name: the statement's first word (SELECT, INSERT, ...)."""
    words = sql.split(None, 1)
    return words[0].upper() if words else "SQL"
