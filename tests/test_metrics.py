"""The recording hooks, in-process: outcomes counted where the domain decides them, and
label values kept to their lists."""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client import REGISTRY
from starlette.responses import PlainTextResponse
from starlette.routing import Match, Route
from starlette.types import Scope

from backend.infra import metrics
from backend.kernel import clock
from backend.notifications import notices
from backend.notifications.email import Email
from backend.server.request_metrics import UNMATCHED, handler_of
from tests.conftest import settings_for
from tests.helpers import PASSWORD, SIGN_IN, make_user, serving


def _value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_a_value_outside_its_list_is_counted_as_other(metrics_served):
    before = _value("latchkey_sign_ins_total", outcome="other")
    metrics.sign_in("alice@example.com")
    assert _value("latchkey_sign_ins_total", outcome="other") == before + 1
    assert metrics.allowed("PROPFIND", metrics.METHODS) == "other"
    assert metrics.allowed("GET", metrics.METHODS) == "GET"


@pytest.fixture
def database(sqlite_template: Path, tmp_path: Path) -> str:
    shutil.copy(sqlite_template, tmp_path / "latchkey.sqlite3")
    return f"sqlite://{tmp_path / 'latchkey.sqlite3'}"


async def test_sign_in_outcomes_come_from_the_sign_in_service(database, metrics_served):
    settings = settings_for(database)
    async with serving(settings) as client:
        await make_user(settings, "alice")
        counted = {
            outcome: _value("latchkey_sign_ins_total", outcome=outcome)
            for outcome in ("success", "failure")
        }

        async def sign_in(password: str) -> None:
            variables = {"username": "alice", "password": password}
            await client.post("/graphql", json={"query": SIGN_IN, "variables": variables})

        await sign_in(PASSWORD)
        await sign_in("not alice's password")
        # A wrong password answers HTTP 200 as well: only the service tells them apart.
        assert _value("latchkey_sign_ins_total", outcome="success") == counted["success"] + 1
        assert _value("latchkey_sign_ins_total", outcome="failure") == counted["failure"] + 1


class _RefusingMailer:
    async def send(self, email: Email) -> None:
        raise ConnectionRefusedError("the mail server is down")


async def test_the_outbox_counts_pending_messages_and_failed_deliveries(database, metrics_served):
    async with serving(settings_for(database)):
        failed = _value("latchkey_outbox_deliveries_total", kind="email", outcome="failed")
        for number in range(3):
            await notices.queue("bob@example.com", f"Notice {number}", "Hello")
        clock.advance(notices.RETRIES.lease + timedelta(seconds=1))
        assert await notices.deliver_due(_RefusingMailer()) == 0
        assert _value("latchkey_outbox_pending", kind="email") == 3
        assert (
            _value("latchkey_outbox_deliveries_total", kind="email", outcome="failed") == failed + 3
        )


OFF = """
import asyncio, sys
from backend.app.factory import create_app
from tests.conftest import settings_for
from tests.helpers import SIGN_IN, serving

async def main():
    async with serving(settings_for(sys.argv[1])) as client:
        variables = {"username": "nobody", "password": "not a password"}
        answer = await client.post("/graphql", json={"query": SIGN_IN, "variables": variables})
        assert answer.status_code == 200
        assert (await client.get("/health/ready")).status_code == 200

asyncio.run(main())
print(sorted(name for name in sys.modules if name.startswith("prometheus_client")))
"""


def test_without_a_metrics_port_nothing_is_counted_or_imported(database):
    ran = subprocess.run(
        [sys.executable, "-c", OFF, database], capture_output=True, text=True, timeout=120
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip().splitlines()[-1] == "[]"


async def test_requests_are_counted_by_route_template_files_under_their_mount(
    database, metrics_served
):
    # The router moves a mount's path into the scope's root path on its way in: read after
    # the answer, a file would have been counted as matching no route.
    def counted(handler: str) -> float:
        return _value("latchkey_http_requests_total", handler=handler, method="GET", status="200")

    async with serving(settings_for(database)) as client:
        before = {handler: counted(handler) for handler in ("/static", "/health/live")}
        unmatched = counted(UNMATCHED)
        assert (await client.get("/static/latchkey.css")).status_code == 200
        assert (await client.get("/health/live")).status_code == 200
        assert counted("/static") == before["/static"] + 1
        assert counted("/health/live") == before["/health/live"] + 1
        assert counted(UNMATCHED) == unmatched


def test_a_request_s_route_template_is_found_once_however_many_parts_ask():
    # The metrics and the tracing both label a request by its template: the routes are
    # tried for it once.
    tried = []

    class Tried(Route):
        def matches(self, scope: Scope) -> tuple[Match, Scope]:
            tried.append(self.path)
            return super().matches(scope)

    routes = [Tried("/first", PlainTextResponse), Tried("/tokens/{id}", PlainTextResponse)]
    scope = {"type": "http", "method": "GET", "path": "/tokens/7", "root_path": ""}
    assert handler_of(routes, scope) == "/tokens/{id}"
    assert handler_of(routes, scope) == "/tokens/{id}"
    assert tried == ["/first", "/tokens/{id}"]
