"""`latchkey serve --workers 2 --metrics-port PORT`: `/metrics` there only, counted across
both workers, every label value from a fixed list, and a scrape promtool accepts."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from backend.app.factory import create_app
from backend.infra import metrics
from backend.server.request_metrics import UNMATCHED
from tests.cli_helpers import create_user
from tests.conftest import settings_for
from tests.helpers import ISSUE_TOKEN, PASSWORD, SIGN_IN, days_ahead
from tests.live import free_port, live_server
from tests.test_cli import latchkey
from tests.test_service_clients import create as create_service_client

# One test process takes the module, so its two-worker server starts once.
pytestmark = pytest.mark.xdist_group("metrics-live")

SECRET_LOOKING = "tok_3f9a1c7e5b2d4a6f8e0c"
SERVICE_CLIENT: list[str] = []  # its client_id and secret, once the server's fixture made it
FAMILIES = {
    "latchkey_http_requests",
    "latchkey_http_request_duration_seconds",
    "latchkey_sign_ins",
    "latchkey_second_factor_checks",
    "latchkey_account_lockouts",
    "latchkey_token_grants",
    "latchkey_introspections",
    "latchkey_forward_auth",
    "latchkey_outbox_pending",
    "latchkey_outbox_deliveries",
    "latchkey_password_hashes_in_flight",
}


@pytest.fixture(scope="module")
def metrics_server(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    path = tmp_path_factory.mktemp("metrics") / "latchkey.sqlite3"
    shutil.copy(sqlite_template, path)
    settings = settings_for(f"sqlite://{path}")
    create_user(settings)
    assert latchkey(settings, "group", "create", "staff").returncode == 0
    SERVICE_CLIENT.extend(create_service_client(settings, "billing"))
    port = free_port()
    with live_server(settings, workers=2, serve_options=("--metrics-port", str(port))) as url:
        yield url, f"http://127.0.0.1:{port}/metrics"


def _sign_in(url: str, password: str) -> str:
    # A new connection each time: the kernel hands connections to either worker.
    variables = {"username": "alice", "password": password}
    answer = httpx.post(
        f"{url}/graphql", json={"query": SIGN_IN, "variables": variables}, timeout=10
    )
    data = answer.json()["data"]["signIn"]
    return data["status"] if data else answer.json()["errors"][0]["extensions"]["code"]


def _samples(scrape: str, family: str) -> list[tuple[dict[str, str], float]]:
    return [
        (sample.labels, sample.value)
        for parsed in text_string_to_metric_families(scrape)
        if parsed.name == family
        for sample in parsed.samples
    ]


def _count(scrape: str, family: str, **labels: str) -> float:
    return sum(
        value
        for found, value in _samples(scrape, family)
        if all(found.get(k) == v for k, v in labels.items())
        and not found.keys() - {*labels, "outcome", "method", "grant_type", "kind", "handler"}
    )


def test_sign_ins_are_counted_across_both_workers(metrics_server):
    url, metrics_url = metrics_server
    before = httpx.get(metrics_url, timeout=10).text
    successes, failures = 8, 3
    for _ in range(successes):
        assert _sign_in(url, PASSWORD) == "SIGNED_IN"
    for _ in range(failures):
        assert _sign_in(url, "not the password at all") != "SIGNED_IN"
    after = httpx.get(metrics_url, timeout=10).text

    def made(outcome: str) -> float:
        family = "latchkey_sign_ins"
        return _count(after, family, outcome=outcome) - _count(before, family, outcome=outcome)

    assert made("success") == successes
    assert made("failure") == failures


def _made(before: str, after: str, family: str, **labels: str) -> float:
    return _count(after, family, **labels) - _count(before, family, **labels)


def test_grants_introspections_and_forward_auth_are_counted_across_both_workers(metrics_server):
    url, metrics_url = metrics_server
    browser = httpx.Client(base_url=url, timeout=10)
    variables = {"username": "alice", "password": PASSWORD}
    assert browser.post("/graphql", json={"query": SIGN_IN, "variables": variables}).is_success
    variables = {"name": "metrics", "expiresAt": days_ahead(30), "password": PASSWORD}
    issued = browser.post("/graphql", json={"query": ISSUE_TOKEN, "variables": variables})
    refresh = issued.json()["data"]["issueToken"]["secret"]
    before = httpx.get(metrics_url, timeout=10).text

    # Each on a new connection, so that both workers answer some.
    def token(refresh_token: str) -> httpx.Response:
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        return httpx.post(f"{url}/oauth/token", data=form, timeout=10)

    access = [token(refresh).json()["access_token"] for _ in range(5)]
    for _ in range(2):
        assert token(refresh[:-2] + "zz").status_code == 400

    def introspect(value: str, secret: str) -> httpx.Response:
        client_id = SERVICE_CLIENT[0]
        return httpx.post(
            f"{url}/oauth/introspect", data={"token": value}, auth=(client_id, secret), timeout=10
        )

    for value in access[:3]:
        assert introspect(value, SERVICE_CLIENT[1]).json()["active"] is True
    assert introspect("lk_at_" + "B" * 38, SERVICE_CLIENT[1]).json() == {"active": False}
    assert introspect(access[0], "lk_ss_" + "C" * 38).status_code == 401

    def forward(query: str = "", **headers: str) -> int:
        return httpx.get(f"{url}/auth/forward{query}", headers=headers, timeout=10).status_code

    for value in access:
        assert forward(Authorization=f"Bearer {value}") == 200
    assert forward() == 401
    assert forward("?group=staff", Authorization=f"Bearer {access[0]}") == 403
    after = httpx.get(metrics_url, timeout=10).text

    grants = "latchkey_token_grants"
    assert _made(before, after, grants, grant_type="refresh_token", outcome="success") == 5
    assert _made(before, after, grants, grant_type="refresh_token", outcome="failure") == 2
    assert _made(before, after, "latchkey_introspections", outcome="active") == 3
    assert _made(before, after, "latchkey_introspections", outcome="inactive") == 1
    assert _made(before, after, "latchkey_introspections", outcome="unauthorized") == 1
    assert _made(before, after, "latchkey_forward_auth", outcome="allowed") == 5
    assert _made(before, after, "latchkey_forward_auth", outcome="unauthenticated") == 1
    assert _made(before, after, "latchkey_forward_auth", outcome="forbidden") == 1


def test_metrics_are_served_on_the_metrics_port_only(metrics_server):
    url, metrics_url = metrics_server
    assert httpx.get(f"{url}/metrics", timeout=10).status_code == 404
    scrape = httpx.get(metrics_url, timeout=10)
    assert scrape.status_code == 200
    assert scrape.headers["content-type"].startswith("text/plain")
    assert "# TYPE latchkey_http_requests_total counter" in scrape.text


def _every_kind_of_request(url: str) -> None:
    with httpx.Client(base_url=url, timeout=10) as client:
        client.get("/")
        client.get("/health")
        client.get("/health/ready")
        client.get("/health/live")
        client.get("/health/started")
        client.get("/login")
        client.get("/account")
        client.get(f"/users/alice/{SECRET_LOOKING}")
        client.get(f"/static/{SECRET_LOOKING}.js")
        client.request("PROPFIND", "/graphql")
        client.delete("/graphql")
        client.post("/graphql", json={"query": "{ viewer { username } }"})
        client.post("/graphql", content=b"not json", headers={"content-type": "text/plain"})
        client.post("/oauth/token", data={"grant_type": "refresh_token", "refresh_token": "x"})
        client.post("/oauth/token", data={"grant_type": SECRET_LOOKING})
        client.post("/oauth/introspect", data={"token": SECRET_LOOKING})
        client.get("/auth/forward", headers={"X-Forwarded-Uri": f"/{SECRET_LOOKING}"})
        client.get("/.well-known/openid-configuration")
        client.get(f"/oauth/authorize?client_id={SECRET_LOOKING}")
    _sign_in(url, PASSWORD)
    _sign_in(url, "wrong password for alice")


def _allowed_values() -> dict[str, set[str]]:
    app = create_app(settings_for("sqlite://:memory:"))
    handlers = {UNMATCHED} | {getattr(route, "path", "") or "/" for route in app.routes}
    others = {metrics.OTHER}
    return {
        "handler": handlers,
        "method": set(metrics.METHODS) | others,
        "outcome": set().union(
            metrics.SIGN_IN_OUTCOMES,
            metrics.SECOND_FACTOR_OUTCOMES,
            metrics.TOKEN_OUTCOMES,
            metrics.INTROSPECTION_OUTCOMES,
            metrics.FORWARD_AUTH_OUTCOMES,
            metrics.DELIVERY_OUTCOMES,
            others,
        ),
        "grant_type": set(metrics.GRANT_TYPES) | others,
        "kind": set(metrics.OUTBOX_KINDS) | others,
        "status": {str(code) for code in range(100, 600)},
        "le": {"+Inf", *(str(float(bucket)) for bucket in metrics.DURATION_BUCKETS)},
    }


def test_every_label_value_comes_from_a_fixed_list(metrics_server):
    url, metrics_url = metrics_server
    _every_kind_of_request(url)
    scrape = httpx.get(metrics_url, timeout=10).text
    assert SECRET_LOOKING not in scrape
    assert "alice" not in scrape
    allowed = _allowed_values()
    families = {parsed.name for parsed in text_string_to_metric_families(scrape)}
    assert families >= {"latchkey_http_requests", "latchkey_sign_ins"}
    assert families <= FAMILIES
    seen_handlers = set()
    for parsed in text_string_to_metric_families(scrape):
        for sample in parsed.samples:
            for label, value in sample.labels.items():
                assert label in allowed, (sample.name, label)
                assert value in allowed[label], (sample.name, label, value)
            seen_handlers.add(sample.labels.get("handler"))
    assert {"/graphql", "/health/ready", UNMATCHED} <= seen_handlers


def test_promtool_accepts_a_scrape(metrics_server, tmp_path):
    promtool = shutil.which("promtool")
    if promtool is None:
        if os.environ.get("CI") == "true":
            pytest.fail("promtool is missing (the Debian package prometheus)")
        pytest.skip("promtool is not installed (the Debian package prometheus)")
    url, metrics_url = metrics_server
    _every_kind_of_request(url)
    scrape = httpx.get(metrics_url, timeout=10).text
    checked = subprocess.run(
        [promtool, "check", "metrics"], input=scrape, text=True, capture_output=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.strip() == "" and checked.stderr.strip() == ""
