"""OpenTelemetry tracing against `latchkey serve` and a loopback OTLP/HTTP receiver: spans for
requests, GraphQL operations and database statements, none of them carrying a password, a
token, a cookie, a GraphQL document or a variable; and, without OTEL_EXPORTER_OTLP_ENDPOINT,
no opentelemetry module loaded and nothing sent."""

from __future__ import annotations

import contextlib
import gzip
import http.server
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from backend.kernel.crypto import digest
from tests.cli_helpers import create_user
from tests.conftest import settings_for
from tests.helpers import ISSUE_TOKEN, PASSWORD, SIGN_IN, days_ahead
from tests.live import environment, live_server

ROOT = Path(__file__).resolve().parent.parent
TOKEN_NAME = "tracing-probe-token"
VIEWER = "query WhoAmI { viewer { username } }"
# A path and a query string such as mailed links and OAuth redirects carry.
PATH_SECRET = "pathsecret7f3e9a1b2c4d"
QUERY_SECRET = "querysecret5a8c0e2f4b6d"


class Receiver:
    """Collects the spans POSTed to /v1/traces."""

    def __init__(self) -> None:
        self.spans: list[Span] = []
        self.resources: list[Any] = []
        self.posts = 0
        self.lock = threading.Lock()

    def take(self, body: bytes) -> None:
        request = ExportTraceServiceRequest.FromString(body)
        with self.lock:
            self.posts += 1
            for resource_spans in request.resource_spans:
                self.resources.append(resource_spans.resource)
                for scope_spans in resource_spans.scope_spans:
                    self.spans.extend(scope_spans.spans)


@contextlib.contextmanager
def otlp_receiver(port: int = 0) -> Iterator[tuple[Receiver, int]]:
    receiver = Receiver()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            if self.path == "/v1/traces":
                receiver.take(body)
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver, server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def _value(any_value: Any) -> str:
    kind = any_value.WhichOneof("value")
    if kind is None:
        return ""
    if kind == "array_value":
        return " ".join(_value(v) for v in any_value.array_value.values)
    if kind == "kvlist_value":
        return " ".join(f"{kv.key}={_value(kv.value)}" for kv in any_value.kvlist_value.values)
    return str(getattr(any_value, kind))


def attributes(span: Span) -> dict[str, str]:
    return {kv.key: _value(kv.value) for kv in span.attributes}


def everything_said(span: Span) -> list[str]:
    """Every text a span carries: its name, attributes, events, links and status."""
    said = [span.name, span.status.message]
    said += [f"{key}={value}" for key, value in attributes(span).items()]
    for event in span.events:
        said.append(event.name)
        said += [f"{kv.key}={_value(kv.value)}" for kv in event.attributes]
    for link in span.links:
        said += [f"{kv.key}={_value(kv.value)}" for kv in link.attributes]
    return said


def graphql(client: httpx.Client, query: str, **variables: object) -> dict:
    answer = client.post("/graphql", json={"query": query, "variables": variables})
    assert answer.status_code == 200 and "errors" not in answer.json(), answer.text
    return answer.json()["data"]


def _database(database_url: str) -> str:
    return "sqlite" if database_url.startswith("sqlite") else "postgresql"


def test_requests_operations_and_statements_are_traced_without_secrets(database_url: str):
    settings = settings_for(database_url)
    create_user(settings, "alice")
    expires = days_ahead(30)
    with otlp_receiver() as (receiver, port):
        otel = {
            "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{port}",
            "OTEL_BSP_SCHEDULE_DELAY": "100",
            "OTEL_SERVICE_NAME": "latchkey-under-test",
            # live_server asks /health until the server answers.
            "OTEL_PYTHON_ASGI_EXCLUDED_URLS": "health",
        }
        # Two workers, each a process with its own exporter.
        server = live_server(settings, workers=2, **otel)
        with server as url, httpx.Client(base_url=url) as browser:
            signed_in = graphql(browser, SIGN_IN, username="alice", password=PASSWORD)
            assert signed_in["signIn"]["status"] == "SIGNED_IN"
            cookie = browser.cookies["latchkey_session"]
            issued = graphql(
                browser, ISSUE_TOKEN, name=TOKEN_NAME, expiresAt=expires, password=PASSWORD
            )
            refresh = issued["issueToken"]["secret"]
            grant = {"grant_type": "refresh_token", "refresh_token": refresh}
            tokens = httpx.post(f"{url}/oauth/token", data=grant).json()
            access = tokens["access_token"]
            page = browser.get("/account")
            assert page.status_code == 200 and "alice" in page.text
            bearer = {"Authorization": f"Bearer {access}"}
            who = httpx.post(f"{url}/graphql", json={"query": VIEWER}, headers=bearer)
            assert who.json()["data"]["viewer"]["username"] == "alice"
            link = browser.get(f"/password-reset/{PATH_SECRET}", params={"code": QUERY_SECRET})
            assert link.status_code == 200
        # Stopping flushes what the workers still held.

    spans = receiver.spans
    assert spans, "no span arrived"
    names = {span.name for span in spans}
    assert {"POST /graphql", "POST /oauth/token", "GET /account"} <= names, names
    assert "GET /password-reset/{token}" in names, names
    assert not any(name.startswith("GET /health") for name in names)
    services = {
        _value(kv.value)
        for r in receiver.resources
        for kv in r.attributes
        if kv.key == "service.name"
    }
    assert services == {"latchkey-under-test"}

    # Requests: the route template for the path, never a query string.
    (page_span,) = [s for s in spans if s.name == "GET /account"]
    assert page_span.kind == Span.SPAN_KIND_SERVER
    assert attributes(page_span)["http.status_code"] == "200"
    (link_span,) = [s for s in spans if s.name == "GET /password-reset/{token}"]
    assert attributes(link_span)["http.target"] == "/password-reset/{token}"

    # Operations: type and name only; the page's own operations as well as /graphql's.
    operations = {s.name: s for s in spans if "graphql.operation.type" in attributes(s)}
    assert attributes(operations["mutation SignIn"]) == {
        "graphql.operation.type": "mutation",
        "graphql.operation.name": "SignIn",
    }
    assert attributes(operations["mutation Issue"])["graphql.operation.name"] == "Issue"
    assert attributes(operations["query WhoAmI"])["graphql.operation.type"] == "query"
    by_id = {s.span_id: s for s in spans}
    page_operations = [s for s in operations.values() if by_id.get(s.parent_span_id) is page_span]
    assert page_operations, "the page's in-process operation has no span"

    # Statements: the database's name and the SQL, inside the operation that ran them.
    statements = [s for s in spans if "db.statement" in attributes(s)]
    assert statements
    assert {attributes(s)["db.system"] for s in statements} == {_database(database_url)}
    assert all(s.kind == Span.SPAN_KIND_CLIENT for s in statements)
    sign_in = operations["mutation SignIn"]
    assert any(s.parent_span_id == sign_in.span_id for s in statements)

    secrets = {
        "the password": PASSWORD,
        "the session cookie": cookie,
        "the refresh token": refresh,
        "the access token": access,
        "the cookie's digest": digest(cookie),
        "the refresh token's digest": digest(refresh),
        "the access token's digest": digest(access),
        "a path's token": PATH_SECRET,
        "a query string's value": QUERY_SECRET,
        "the username (a variable)": "alice",
        "the token's name (a variable)": TOKEN_NAME,
        "a date (a variable)": expires,
        "a GraphQL document": "signIn(input",
        "another GraphQL document": "viewer { username }",
        "an Authorization header": "Bearer ",
    }
    if "refresh_token" in tokens:
        secrets["the new refresh token"] = tokens["refresh_token"]
    for span in spans:
        for text in everything_said(span):
            for what, secret in secrets.items():
                assert secret.lower() not in text.lower(), f"{what} in span {span.name}: {text}"


def test_an_error_is_sent_by_its_type_alone():
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.trace import StatusCode

    from backend.infra import tracing

    sent = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(tracing._error_types_only(sent)))
    with contextlib.suppress(KeyError), provider.get_tracer("test").start_as_current_span("x"):
        raise KeyError(PATH_SECRET)
    (span,) = sent.get_finished_spans()
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "KeyError"
    assert [(e.name, dict(e.attributes or {})) for e in span.events] == [
        ("exception", {"exception.type": "KeyError"})
    ]


def test_without_the_endpoint_nothing_is_loaded(database_url: str, tmp_path: Path):
    """In a process of its own: the test's own process has loaded opentelemetry's classes
    to read what the receiver gets."""
    script = tmp_path / "serve_once.py"
    script.write_text(SERVE_ONCE)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "LATCHKEY_"))}
    env["LATCHKEY_TEST_URL"] = database_url
    answer = subprocess.run(
        [sys.executable, str(script)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert answer.returncode == 0, answer.stderr
    assert json.loads(answer.stdout.strip().splitlines()[-1]) == []


SERVE_ONCE = """
import asyncio, json, os, sys

import httpx
from asgi_lifespan import LifespanManager

from backend.app.factory import create_app
from backend.infra.config import Settings


async def main():
    settings = Settings(
        database_url=os.environ["LATCHKEY_TEST_URL"],
        secret_key="test-secret-key-not-for-production",
    )
    async with LifespanManager(create_app(settings)) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            answer = await c.post("/graphql", json={"query": "query Q { viewer { username } }"})
            assert answer.status_code == 200, answer.text
            assert (await c.get("/account")).status_code in (200, 303)
    print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] == "opentelemetry")))


asyncio.run(main())
"""


def test_without_the_endpoint_nothing_is_sent(sqlite_template, tmp_path: Path):
    """The OTLP exporter's default address is localhost:4318: a receiver listens there while
    a live server, with every other OTEL_* variable set, signs in."""
    import shutil

    database = tmp_path / "live.sqlite3"
    shutil.copy(sqlite_template, database)
    settings = settings_for(f"sqlite://{database}")
    create_user(settings, "alice")
    otel = {"OTEL_BSP_SCHEDULE_DELAY": "100", "OTEL_SERVICE_NAME": "latchkey-under-test"}
    assert "OTEL_EXPORTER_OTLP_ENDPOINT" not in environment(settings, **otel)
    try:
        receiving = otlp_receiver(4318)
        receiver, _ = receiving.__enter__()
    except OSError:
        pytest.skip("port 4318 is taken")
    try:
        with live_server(settings, **otel) as url, httpx.Client(base_url=url) as browser:
            signed_in = graphql(browser, SIGN_IN, username="alice", password=PASSWORD)
            assert signed_in["signIn"]["status"] == "SIGNED_IN"
            assert browser.get("/account").status_code == 200
    finally:
        receiving.__exit__(None, None, None)
    assert receiver.posts == 0
