"""`make bench`: throughput and latency of the hot paths against `latchkey serve --workers 1`.

Measures (a) `{ viewer { username tokens { name expiresAt } } }` with a bearer access token,
(b) the refresh_token exchange at /oauth/token, (c) the baseline: a bare Starlette
endpoint (bench/baseline.py) doing the same database work as (a) without GraphQL, and
(d) the server CPU of the worst documents we can write (bench/worst.py), for a user with
as many tokens as one may have.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from bench import load, worst

BIN = Path(sys.executable).parent
PASSWORD = "benchmark password that is long enough"
VIEWER_QUERY = json.dumps({"query": "{ viewer { username tokens { name expiresAt } } }"}).encode()
SIGN_IN = """mutation($u: String!, $p: String!) {
  signIn(input: {username: $u, password: $p}) { status } }"""
# As many live tokens as one user may have (LATCHKEY_MAX_TOKENS_PER_USER's default).
MAX_TOKENS = 100
WORST_TARGET_MS = 20
ISSUE = """mutation($n: String!, $e: DateTime!, $p: String!) {
  issueToken(input: {name: $n, expiresAt: $e, password: $p}) { secret userErrors { message } } }"""


def main() -> None:
    parser = argparse.ArgumentParser(prog="make bench")
    parser.add_argument("--seconds", type=float, default=10.0, help="per measurement")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--worst-only", action="store_true", help="only the worst documents")
    parser.add_argument("--worst-requests", type=int, default=100, help="per worst document")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        env = _environment(Path(directory))
        _latchkey(env, "migrate")
        _latchkey(
            env,
            "user",
            "create",
            "bench",
            "--email",
            "bench@example.com",
            "--password-stdin",
            stdin=PASSWORD,
        )
        serve = [str(BIN / "latchkey"), "serve", "--workers", "1"]
        with _serving(serve, env) as (port, _):
            refresh, access = _credentials(port)
            if not args.worst_only:
                viewer = _measure(port, _viewer_request(access), args)
                exchange_body = f"grant_type=refresh_token&refresh_token={refresh}".encode()
                exchange = _measure(
                    port,
                    load.post("/oauth/token", exchange_body, "application/x-www-form-urlencoded"),
                    args,
                )
            _issue_tokens(port, MAX_TOKENS - 3)
        if not args.worst_only:
            baseline_command = [
                str(BIN / "uvicorn"),
                "--factory",
                "bench.baseline:create_app",
                "--log-level",
                "warning",
            ]
            with _serving(baseline_command, env) as (port, _):
                baseline = _measure(port, _viewer_request(access), args)
            _report(viewer, exchange, baseline)
        # Production turns introspection off; development keeps it on for GraphiQL.
        costs = {}
        for introspection in (False, True):
            served_env = {**env, "LATCHKEY_GRAPHIQL": "true" if introspection else "false"}
            with _serving(serve, served_env) as (port, pid):
                for document in worst.DOCUMENTS:
                    if document.introspection == introspection:
                        costs[document] = worst.cpu_per_request(
                            port, pid, document, _bearer(access), args.worst_requests
                        )
    _report_worst(costs)


def _environment(directory: Path) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("LATCHKEY_")},
        "LATCHKEY_DATABASE_URL": f"sqlite://{directory / 'bench.sqlite3'}",
        "LATCHKEY_SECRET_KEY": "benchmark-only-secret-key",
        "LATCHKEY_ACCESS_TOKEN_SECONDS": "86400",
        "LATCHKEY_LOG_LEVEL": "WARNING",
    }


def _latchkey(env: dict[str, str], *args: str, stdin: str = "") -> None:
    subprocess.run(
        [str(BIN / "latchkey"), *args],
        env=env,
        input=stdin,
        text=True,
        check=True,
        capture_output=True,
    )


@contextlib.contextmanager
def _serving(command: list[str], env: dict[str, str]) -> Iterator[tuple[int, int]]:
    """Serve on a free port; yields the port and the serving process's id."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [*command, "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(httpx.HTTPError):
                httpx.post(f"http://127.0.0.1:{port}/graphql", json={}, timeout=1)
                break
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"{command[0]} did not start")
            time.sleep(0.1)
        yield port, process.pid
    finally:
        process.terminate()
        process.wait(timeout=10)


def _credentials(port: int) -> tuple[str, str]:
    """Sign in, issue three refresh tokens, and exchange one for an access token."""
    with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
        client.post("/graphql", json={"query": SIGN_IN, "variables": {"u": "bench", "p": PASSWORD}})
        expires = (datetime.now(UTC) + timedelta(days=30)).isoformat()
        secrets = [
            client.post(
                "/graphql",
                json={
                    "query": ISSUE,
                    "variables": {"n": f"token {n}", "e": expires, "p": PASSWORD},
                },
            ).json()["data"]["issueToken"]["secret"]
            for n in range(3)
        ]
        access = client.post(
            "/oauth/token", data={"grant_type": "refresh_token", "refresh_token": secrets[0]}
        ).json()["access_token"]
    return secrets[0], access


def _issue_tokens(port: int, count: int) -> None:
    with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
        client.post("/graphql", json={"query": SIGN_IN, "variables": {"u": "bench", "p": PASSWORD}})
        expires = (datetime.now(UTC) + timedelta(days=30)).isoformat()
        for n in range(count):
            variables = {"n": f"listed {n}", "e": expires, "p": PASSWORD}
            answer = client.post("/graphql", json={"query": ISSUE, "variables": variables})
            if not answer.json()["data"]["issueToken"]["secret"]:
                raise RuntimeError(f"could not issue token {n}: {answer.text}")


def _bearer(access: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access}"}


def _viewer_request(access: str) -> bytes:
    return load.post("/graphql", VIEWER_QUERY, "application/json", **_bearer(access))


def _measure(port: int, request: bytes, args: argparse.Namespace) -> load.Result:
    load.run(port, request, seconds=1, connections=args.connections)  # warm up
    result = load.run(port, request, seconds=args.seconds, connections=args.connections)
    if result.failures:
        raise RuntimeError(f"{result.failures} requests did not answer 200")
    return result


def _report(viewer: load.Result, exchange: load.Result, baseline: load.Result) -> None:
    rows = [
        ("viewer query, bearer token (GraphQL)", viewer),
        ("refresh_token exchange (/oauth/token)", exchange),
        ("baseline: bare Starlette, same queries", baseline),
    ]
    print(f"{'':42} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}")
    for name, result in rows:
        print(
            f"{name:42} {result.per_second:8.0f} {result.percentile(0.5):8.2f} "
            f"{result.percentile(0.99):8.2f}"
        )
    ratio = viewer.per_second / baseline.per_second
    print(f"\nviewer query / baseline throughput: {ratio:.0%} (target: at least 50%)")
    print(f"exchange: {exchange.per_second:.0f} req/s (target: at least 700 on one worker)")


def _report_worst(costs: dict[worst.Document, tuple[float, str]]) -> None:
    print(f"\n{'worst documents (server CPU per request)':42} {'ms':>8}  answer")
    for document, (ms, error) in costs.items():
        where = " (introspection on)" if document.introspection else ""
        print(f"{document.name + where:42} {ms:8.2f}  {error[:60] or 'data'}")
    production = max(ms for d, (ms, _) in costs.items() if not d.introspection)
    development = max(ms for d, (ms, _) in costs.items() if d.introspection)
    verdict = "met" if production <= WORST_TARGET_MS else "MISSED"
    print(
        f"\nworst document: {production:.1f} ms of server CPU "
        f"(target: at most {WORST_TARGET_MS} ms; {verdict})"
    )
    print(f"worst with introspection on (GraphiQL, development): {development:.1f} ms")


if __name__ == "__main__":
    main()
