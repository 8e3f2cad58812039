"""`make bench`: throughput and latency of the hot paths against `latchkey serve --workers 1`.

The server runs on one core, the load (wrk, rotating over every measured user's token) on
the other. Measured, on a database seeded in bulk:

- the viewer query `{ viewer { username email tokens { name expiresAt } } }`, bearer token;
- the refresh_token exchange at /oauth/token;
- /auth/forward (a reverse proxy's sub-request) with a session cookie, and with a bearer token;
- `signIn` with the right password;
- the hand-written baselines of the first two (bench/baseline.py);
- argon2id verifications per second on the server's core, at the product's parameters;
- the peak memory (VmHWM) of each server process;
- the server CPU of the worst documents we can write (bench/worst.py).

`--scale` (`make bench-scale`) measures 1,000 users and then 1,000,000 users with
10,000,000 security events, 100 tokens on each measured user both times, and compares.
`LATCHKEY_BENCH_DATABASE_URL=postgres://...` measures PostgreSQL instead of a SQLite file;
that database's schema `public` is dropped and migrated afresh.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import ipaddress
import json
import math
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import httpx

from bench import seed, worst
from bench.drive import Driver, Measurement, Pinning
from bench.load import get, post

BIN = Path(sys.executable).parent
VIEWER_QUERY = "{ viewer { username email tokens { name expiresAt } } }"
# A sign-in is one argon2id hash on the server's one core: a few connections keep that core
# busy; 32 would only queue, and the sign-ins still queued when the run ends go uncounted.
SIGN_IN_CONNECTIONS = 4
# signIn and argon2id take turns this many times, so that both meet the same machine.
TURNS = 5
SIGN_IN = """mutation($u: String!, $p: String!) {
  signIn(input: {username: $u, password: $p}) { status } }"""
WORST_TARGET_MS = 20
FORWARD = "/auth/forward"
MIB = 1024 * 1024

SMALL = seed.Shape(users=1000, measured=1000, tokens_per_user=3, events=10_000)
SCALE_SMALL = dataclasses.replace(SMALL, tokens_per_user=100)
SCALE_LARGE = seed.Shape(users=1_000_000, measured=1000, tokens_per_user=100, events=10_000_000)

# The rows of the table: (key, label).
PATHS = [
    ("viewer", "viewer query, bearer token (GraphQL)"),
    ("viewer_baseline", "  baseline: Starlette + Tortoise by hand"),
    ("exchange", "refresh_token exchange (/oauth/token)"),
    ("exchange_baseline", "  baseline: Starlette + Tortoise by hand"),
    ("forward_session", "/auth/forward, session cookie"),
    ("forward_bearer", "/auth/forward, bearer token"),
    ("sign_in", f"signIn (GraphQL), {SIGN_IN_CONNECTIONS} connections"),
]


@dataclasses.dataclass
class Figures:
    shape: seed.Shape
    paths: dict[str, Measurement] = dataclasses.field(default_factory=dict)
    argon2_per_second: float = 0.0
    rss_bytes: int = 0  # latchkey serve, after every path
    rss_before_sign_in_bytes: int = 0
    baseline_rss_bytes: int = 0
    load_average: float = 0.0  # of the machine, the last minute, when measured


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--seconds", type=float, default=10.0, help="per measurement")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--scale", action="store_true", help="1,000 users, then 1,000,000")
    parser.add_argument("--users", type=int, help="accounts in the database (not with --scale)")
    parser.add_argument("--no-worst", action="store_true", help="skip the worst documents")
    parser.add_argument("--worst-only", action="store_true", help="only the worst documents")
    parser.add_argument("--worst-requests", type=int, default=100, help="per worst document")
    parser.add_argument("--directory", type=Path, help="for the SQLite file (default: a temp dir)")
    args = parser.parse_args()

    pinning = Pinning.detect()
    driver = Driver(pinning, args.connections)
    database = os.environ.get("LATCHKEY_BENCH_DATABASE_URL", "")
    print(f"{pinning.note}; load by {driver.name}; {args.seconds:g} s per measurement")
    print(f"database: {'PostgreSQL ' + _database_name(database) if database else 'SQLite file'}")
    _print_machine_load()
    with tempfile.TemporaryDirectory(dir=args.directory) as directory:
        bench = _Bench(args, driver, pinning, Path(directory), database)
        if args.worst_only:
            bench.worst_documents(bench.prepare(dataclasses.replace(SMALL, measured=1, users=1)))
        elif args.scale:
            small = bench.hot_paths(SCALE_SMALL)
            large = bench.hot_paths(SCALE_LARGE)
            _report(small)
            _report(large)
            _report_scale(small, large)
        else:
            shape = SMALL
            if args.users:
                shape = dataclasses.replace(
                    SMALL, users=args.users, measured=min(args.users, 1000), events=10 * args.users
                )
            figures = bench.hot_paths(shape)
            _report(figures)
            if not args.no_worst:
                bench.worst_documents(bench.accounts[0])


class _Bench:
    def __init__(self, args, driver: Driver, pinning: Pinning, directory: Path, database: str):
        self.args = args
        self.driver = driver
        self.pinning = pinning
        self.database = database
        self.sqlite_path = directory / "bench.sqlite3"
        self.accounts: list[seed.Account] = []

    @property
    def url(self) -> str:
        return self.database or f"sqlite://{self.sqlite_path}"

    def env(self, **overrides: str) -> dict[str, str]:
        return {
            **{k: v for k, v in os.environ.items() if not k.startswith("LATCHKEY_")},
            "LATCHKEY_DATABASE_URL": self.url,
            "LATCHKEY_SECRET_KEY": "benchmark-only-secret-key",
            "LATCHKEY_ACCESS_TOKEN_SECONDS": "86400",
            "LATCHKEY_LOG_LEVEL": "WARNING",
            "LATCHKEY_GRAPHIQL": "false",  # as in production
            # The load stands in for a proxy telling each user's address (see sign_in_requests).
            "LATCHKEY_TRUSTED_PROXIES": "127.0.0.1",
            # The seeded sessions must outlive the seeding of a large database.
            "LATCHKEY_SESSION_IDLE_SECONDS": str(7 * 86400),
            "LATCHKEY_SESSION_ABSOLUTE_SECONDS": str(7 * 86400),
            **overrides,
        }

    def prepare(self, shape: seed.Shape) -> seed.Account:
        """A fresh, migrated database seeded to `shape`; the first measured account."""
        print(
            f"\nseeding {shape.users:,} users, {shape.events:,} security events, "
            f"{shape.tokens_per_user} tokens on each of {shape.measured:,} measured users",
            flush=True,
        )
        started = time.monotonic()
        if self.database:
            asyncio.run(_reset_postgres(self.database))
        else:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.sqlite_path}{suffix}").unlink(missing_ok=True)
        subprocess.run(
            [str(BIN / "latchkey"), "migrate"], env=self.env(), check=True, capture_output=True
        )
        self.accounts = asyncio.run(
            seed.seed(self.url, shape, lambda line: print(f"  {line}", flush=True))
        )
        print(f"  seeded in {time.monotonic() - started:.0f} s", flush=True)
        return self.accounts[0]

    def hot_paths(self, shape: seed.Shape) -> Figures:
        self.prepare(shape)
        figures = Figures(shape)
        seconds = self.args.seconds
        serve = [str(BIN / "latchkey"), "serve", "--workers", "1"]
        with self.serving(serve) as (port, pid):
            _check_viewer(port, self.accounts[0])
            _check_exchange(port, self.accounts[-1])
            _check_sign_in(port, self.accounts[0])
            _check_forward(port, self.accounts[0])
            print("measuring the viewer query, the exchange, /auth/forward and signIn", flush=True)
            figures.paths["viewer"] = self.driver.measure(port, self.viewer_requests(), seconds)
            figures.paths["exchange"] = self.driver.measure(port, self.exchange_requests(), seconds)
            for key, requests in self.forward_requests().items():
                figures.paths[key] = self.driver.measure(port, requests, seconds)
            figures.rss_before_sign_in_bytes = _peak_rss(pid)
            figures.paths["sign_in"], figures.argon2_per_second = self.sign_in_and_argon2(
                port, seconds
            )
            figures.rss_bytes = _peak_rss(pid)
        baseline = [
            str(BIN / "uvicorn"),
            "--factory",
            "bench.baselines:create_app",
            "--log-level",
            "warning",
        ]
        with self.serving(baseline) as (port, pid):
            _check_viewer(port, self.accounts[1 % len(self.accounts)])
            _check_exchange(port, self.accounts[-1])
            print("measuring the baselines", flush=True)
            figures.paths["viewer_baseline"] = self.driver.measure(
                port, self.viewer_requests(), seconds
            )
            figures.paths["exchange_baseline"] = self.driver.measure(
                port, self.exchange_requests(), seconds
            )
            figures.baseline_rss_bytes = _peak_rss(pid)
        figures.load_average = os.getloadavg()[0]
        return figures

    def sign_in_and_argon2(self, port: int, seconds: float) -> tuple[Measurement, float]:
        """signIn, and argon2id verifications on the server's core, taking turns a few
        seconds at a time: whatever else slows the machine meanwhile slows both alike."""
        print("measuring signIn and argon2id in turns on the server's core", flush=True)
        driver = self.driver.narrower(SIGN_IN_CONNECTIONS)
        turn = max(1.0, seconds / TURNS)
        sign_ins, rates = [], []
        for number in range(TURNS):
            sign_ins.append(
                driver.measure(
                    port, self.sign_in_requests(), turn, expect="SIGNED_IN", warm_up=number == 0
                )
            )
            rates.append(self.argon2_rate(turn))
        return Measurement.combined(sign_ins), sum(rates) / len(rates)

    def argon2_rate(self, seconds: float) -> float:
        rate = subprocess.run(
            [*self.pinning.server, str(BIN / "python"), "-m", "bench.argon2_rate", str(seconds)],
            capture_output=True,
            text=True,
            check=True,
        )
        return float(rate.stdout)

    def worst_documents(self, account: seed.Account) -> None:
        """The worst documents, for a user with as many tokens as one may have."""
        asyncio.run(seed.add_listed_tokens(self.url, account, worst.MAX_TOKENS))
        serve = [str(BIN / "latchkey"), "serve", "--workers", "1"]
        costs = {}
        # Production turns introspection off; development keeps it on for GraphiQL.
        for introspection in (False, True):
            env = self.env(LATCHKEY_GRAPHIQL="true" if introspection else "false")
            with self.serving(serve, env) as (port, pid):
                for document in worst.DOCUMENTS:
                    if document.introspection == introspection:
                        costs[document] = worst.cpu_per_request(
                            port, pid, document, _bearer(account), self.args.worst_requests
                        )
        _report_worst(costs)

    def viewer_requests(self) -> list[bytes]:
        body = json.dumps({"query": VIEWER_QUERY}).encode()
        return [post("/graphql", body, "application/json", **_bearer(a)) for a in self.accounts]

    def exchange_requests(self) -> list[bytes]:
        # An exchange mints an access token and leaves the refresh token as it is (it does
        # not rotate), so every refresh token can be sent again and again.
        form = "application/x-www-form-urlencoded"
        return [post("/oauth/token", _exchange_form(a).encode(), form) for a in self.accounts]

    def forward_requests(self) -> dict[str, list[bytes]]:
        """A proxy's sub-requests, one user's credentials each, as nginx sends them."""
        original = {
            "X-Original-URL": "https://app.example.com/reports",
            "X-Forwarded-Method": "GET",
        }
        return {
            "forward_session": [
                get(FORWARD, Cookie=f"latchkey_session={a.session}", **original)
                for a in self.accounts
            ],
            "forward_bearer": [get(FORWARD, **_bearer(a), **original) for a in self.accounts],
        }

    def sign_in_requests(self) -> list[bytes]:
        # Each user signs in from an address of their own, as people do: from one address,
        # 32 sign-ins at once would meet the per-address throttle, answered without a hash.
        return [
            post(
                "/graphql",
                json.dumps(_sign_in_body(a)).encode(),
                "application/json",
                **{"X-Forwarded-For": str(ipaddress.IPv4Address("10.0.0.1") + n)},
            )
            for n, a in enumerate(self.accounts)
        ]

    @contextlib.contextmanager
    def serving(
        self, command: list[str], env: dict[str, str] | None = None
    ) -> Iterator[tuple[int, int]]:
        """Serve on a free port, pinned to the server's core; the port and process id."""
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        process = subprocess.Popen(
            [*self.pinning.server, *command, "--port", str(port)],
            env=env or self.env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    httpx.post(f"http://127.0.0.1:{port}/graphql", json={}, timeout=1)
                    break
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"{command[0]} did not start")
                time.sleep(0.1)
            yield port, process.pid  # taskset execs the command: the same process
        finally:
            process.terminate()
            process.wait(timeout=10)


async def _reset_postgres(url: str) -> None:
    connection = await asyncpg.connect(url)
    try:
        await connection.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    finally:
        await connection.close()


def _database_name(url: str) -> str:
    parts = urlsplit(url)  # never the password
    return f"{parts.hostname}:{parts.port or 5432}{parts.path}"


def _bearer(account: seed.Account) -> dict[str, str]:
    return {"Authorization": f"Bearer {account.access_token}"}


def _exchange_form(account: seed.Account) -> str:
    return f"grant_type=refresh_token&refresh_token={account.refresh_token}"


def _sign_in_body(account: seed.Account) -> dict:
    return {"query": SIGN_IN, "variables": {"u": account.username, "p": seed.PASSWORD}}


# Each server must answer what the load will ask correctly before it is measured.
def _check_viewer(port: int, account: seed.Account) -> None:
    answer = httpx.post(
        f"http://127.0.0.1:{port}/graphql",
        json={"query": VIEWER_QUERY},
        headers=_bearer(account),
        timeout=30,
    )
    viewer = answer.json().get("data", {}).get("viewer") or {}
    if viewer.get("username") != account.username or not viewer.get("tokens"):
        raise RuntimeError(f"the viewer query failed: {answer.text[:300]}")


def _check_exchange(port: int, account: seed.Account) -> None:
    answer = httpx.post(
        f"http://127.0.0.1:{port}/oauth/token",
        data=dict(grant_type="refresh_token", refresh_token=account.refresh_token),
        timeout=30,
    )
    if not answer.json().get("access_token"):
        raise RuntimeError(f"the exchange failed: {answer.text[:300]}")


def _check_forward(port: int, account: seed.Account) -> None:
    for headers in ({"Cookie": f"latchkey_session={account.session}"}, _bearer(account)):
        answer = httpx.get(f"http://127.0.0.1:{port}{FORWARD}", headers=headers, timeout=30)
        if answer.headers.get("x-latchkey-user") != account.username:
            raise RuntimeError(f"/auth/forward failed: {answer.status_code} {answer.text[:300]}")


def _check_sign_in(port: int, account: seed.Account) -> None:
    answer = httpx.post(f"http://127.0.0.1:{port}/graphql", json=_sign_in_body(account), timeout=30)
    if (answer.json().get("data") or {}).get("signIn", {}).get("status") != "SIGNED_IN":
        raise RuntimeError(f"signIn failed: {answer.text[:300]}")


def _peak_rss(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc")


def _verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def _print_machine_load() -> None:
    """Other work on the machine competes with the server and the load: say so."""
    load, cores = os.getloadavg()[0], os.cpu_count() or 1
    print(f"load average {load:.1f} on {cores} cores", end="")
    print("; other work is running: the figures will be noisy" if load > 0.5 else "")


def _ratio(a: float, b: float) -> float:
    return a / b if b else math.inf


def _report(figures: Figures) -> None:
    shape = figures.shape
    print(
        f"\nload average at the end: {figures.load_average:.1f} (the server and the load "
        "alone make about 2)"
    )
    print(
        f"{shape.users:,} users, {shape.events:,} security events, "
        f"{shape.tokens_per_user} tokens per measured user; rotating over "
        f"{shape.measured:,} users' tokens"
    )
    print(f"{'path':42} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}")
    for key, label in PATHS:
        m = figures.paths[key]
        print(f"{label:42} {m.per_second:8.0f} {m.p50_ms:8.1f} {m.p99_ms:8.1f}")
    print(f"{'argon2id verify, one core, same parameters':42} {figures.argon2_per_second:8.1f}")
    print(
        f"peak RSS: latchkey serve {figures.rss_bytes / MIB:.1f} MiB "
        f"({figures.rss_before_sign_in_bytes / MIB:.1f} MiB before signIn), "
        f"baseline {figures.baseline_rss_bytes / MIB:.1f} MiB"
    )
    p = figures.paths
    viewer = _ratio(p["viewer"].per_second, p["viewer_baseline"].per_second)
    exchange = _ratio(p["exchange"].per_second, p["exchange_baseline"].per_second)
    sign_in = _ratio(p["sign_in"].per_second, figures.argon2_per_second)
    rss = figures.rss_bytes / MIB
    print("\ntargets")
    print(f"  viewer / baseline          {viewer:5.2f}x  (at least 1.0x: {_verdict(viewer >= 1)})")
    print(
        f"  viewer p99              {p['viewer'].p99_ms:6.1f} ms  "
        f"(at most 60 ms: {_verdict(p['viewer'].p99_ms <= 60)})"
    )
    print(
        f"  exchange / baseline        {exchange:5.2f}x  "
        f"(at least 1.3x: {_verdict(exchange >= 1.3)})"
    )
    print(
        f"  signIn / argon2id verify   {sign_in:5.2f}x  (at least 0.9x: {_verdict(sign_in >= 0.9)})"
    )
    print(f"  peak RSS                {rss:6.1f} MiB (at most 80 MiB: {_verdict(rss <= 80)})")


def _report_scale(small: Figures, large: Figures) -> None:
    """Each figure at 1,000,000 users next to the one at 1,000: at most 10% worse."""
    print(f"\n{'scale: 1,000 users -> 1,000,000 users':42} {'1,000':>9} {'1,000,000':>10}  verdict")
    rows: list[tuple[str, float, float, bool]] = []  # label, small, large, higher is better
    for key, _ in PATHS:
        a, b = small.paths[key], large.paths[key]
        name = key.replace("_", " ").replace("sign in", "signIn")
        rows.append((f"{name} req/s", a.per_second, b.per_second, True))
        rows.append((f"{name} p99 ms", a.p99_ms, b.p99_ms, False))
    rows.append(("peak RSS MiB", small.rss_bytes / MIB, large.rss_bytes / MIB, False))
    for label, a, b, higher_is_better in rows:
        within = b >= 0.9 * a if higher_is_better else b <= 1.1 * a
        print(f"{label[:42]:42} {a:9.1f} {b:10.1f}  {'within 10%' if within else 'MISSED'}")


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
