"""`make bench`: throughput and latency of the hot paths against `latchkey serve --workers 1`.

The server runs on one core, the load (wrk, rotating over every measured user's token) on
the other. Measured, on a database seeded in bulk:

- the viewer query `{ viewer { username email tokens { name expiresAt } } }`, bearer token;
- the refresh_token exchange at /oauth/token;
- /auth/forward (a reverse proxy's sub-request) with a session cookie, and with a bearer token;
- /oauth/introspect of an access token by a service client;
- the authorization_code exchange at /oauth/token (PKCE, an ES256 ID token);
- `signIn` with the right password;
- the hand-written baseline of each (bench/baselines/), in the same run, each right after
  the product's path, both servers running;
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
import base64
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
from urllib.parse import urlencode, urlsplit

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
FORM = "application/x-www-form-urlencoded"
# Codes work once, so each run of the code exchange sends codes of its own: at most this
# many a second of a run (a run that would need more fails, rather than reuse one).
CODES_PER_SECOND = 3000

SMALL = seed.Shape(users=1000, measured=1000, tokens_per_user=3, events=10_000)
SCALE_SMALL = dataclasses.replace(SMALL, tokens_per_user=100)
SCALE_LARGE = seed.Shape(users=1_000_000, measured=1000, tokens_per_user=100, events=10_000_000)

# The rows of the table: (key, label).
BY_HAND = "  baseline: Starlette + Tortoise by hand"
PATHS = [
    ("viewer", "viewer query, bearer token (GraphQL)"),
    ("viewer_baseline", BY_HAND),
    ("exchange", "refresh_token exchange (/oauth/token)"),
    ("exchange_baseline", BY_HAND),
    ("forward_session", "/auth/forward, session cookie"),
    ("forward_session_baseline", BY_HAND),
    ("forward_bearer", "/auth/forward, bearer token"),
    ("forward_bearer_baseline", BY_HAND),
    ("introspect", "/oauth/introspect, access token"),
    ("introspect_baseline", BY_HAND),
    ("code_exchange", "code exchange, PKCE + ES256 ID token"),
    ("code_exchange_baseline", "  baseline: by hand, joserfc"),
    ("sign_in", f"signIn (GraphQL), {SIGN_IN_CONNECTIONS} connections"),
    ("sign_in_baseline", BY_HAND),
]
# The paths of the second round of targets, each measured on the product, then its baseline.
ROUND_TWO = ("viewer", "exchange", "forward_session", "forward_bearer")


@dataclasses.dataclass
class Figures:
    shape: seed.Shape
    paths: dict[str, Measurement] = dataclasses.field(default_factory=dict)
    argon2_per_second: float = 0.0
    rss_bytes: int = 0  # latchkey serve, after round two's paths and signIn
    # Of it, pages of mapped files (Python's and the other shared libraries, the same pages
    # in every worker), read at the same time: they only grow.
    rss_shared_bytes: int = 0
    rss_before_sign_in_bytes: int = 0
    rss_all_bytes: int = 0  # after every path
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
        self.applications: seed.Applications | None = None
        self.codes: list[seed.Code] = []

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
            asyncio.run(seed.reset_postgres(self.database))
        else:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.sqlite_path}{suffix}").unlink(missing_ok=True)
        subprocess.run(
            [str(BIN / "latchkey"), "migrate"], env=self.env(), check=True, capture_output=True
        )
        self.accounts = asyncio.run(
            seed.seed(self.url, shape, lambda line: print(f"  {line}", flush=True))
        )
        self.applications = asyncio.run(
            seed.applications(self.url, self.env()["LATCHKEY_SECRET_KEY"])
        )
        # Four runs (warm-ups included) and two checks.
        per_run = math.ceil(CODES_PER_SECOND * max(1.0, self.args.seconds))
        count = 2 * (per_run + CODES_PER_SECOND) + 2
        self.codes = asyncio.run(seed.codes(self.url, self.accounts, count))
        print(f"  {count:,} authorization codes", flush=True)
        print(f"  seeded in {time.monotonic() - started:.0f} s", flush=True)
        return self.accounts[0]

    def hot_paths(self, shape: seed.Shape) -> Figures:
        """Every path on the product and then on its baseline, back to back, both servers
        running (the one not measured is idle), so that both meet the same machine."""
        self.prepare(shape)
        figures = Figures(shape)
        seconds = self.args.seconds
        serve = [str(BIN / "latchkey"), "serve", "--workers", "1"]
        baseline = [
            str(BIN / "uvicorn"),
            "--factory",
            "bench.baselines:create_app",
            "--log-level",
            "warning",
        ]
        codes = iter(self.codes)
        with self.serving(serve) as (port, pid), self.serving(baseline) as (by_hand, by_hand_pid):
            for server, account in ((port, self.accounts[0]), (by_hand, self.accounts[1])):
                _check_viewer(server, account)
                _check_exchange(server, self.accounts[-1])
                _check_forward(server, account)
                _check_sign_in(server, account)
            print("measuring each path, then its baseline", flush=True)
            requests = {
                "viewer": self.viewer_requests(),
                "exchange": self.exchange_requests(),
                **self.forward_requests(),
                "introspect": self.introspect_requests(),
            }
            # Round two's paths and signIn first: the peak memory after them is the one its
            # guard was set on; introspection and the code exchange load more (joserfc).
            for key in ROUND_TWO:
                self.pair(figures, key, requests[key], port, by_hand)
            figures.rss_before_sign_in_bytes = _peak_rss(pid)
            signed_in, figures.argon2_per_second = self.sign_in_and_argon2(port, by_hand, seconds)
            figures.paths["sign_in"], figures.paths["sign_in_baseline"] = signed_in
            figures.rss_bytes = _peak_rss(pid)
            figures.rss_shared_bytes = _status_bytes(pid, "RssFile")
            for server, account in ((port, self.accounts[0]), (by_hand, self.accounts[1])):
                _check_introspect(server, account, self.applications)
                _check_code(server, next(codes), self.applications)
            self.pair(figures, "introspect", requests["introspect"], port, by_hand)
            for key, server in (("code_exchange", port), ("code_exchange_baseline", by_hand)):
                figures.paths[key] = self.code_exchanges(server, codes, seconds)
            figures.rss_all_bytes = _peak_rss(pid)
            figures.baseline_rss_bytes = _peak_rss(by_hand_pid)
        figures.load_average = os.getloadavg()[0]
        return figures

    def pair(
        self, figures: Figures, key: str, requests: list[bytes], port: int, by_hand: int
    ) -> None:
        figures.paths[key] = self.driver.measure(port, requests, self.args.seconds)
        figures.paths[f"{key}_baseline"] = self.driver.measure(by_hand, requests, self.args.seconds)

    def code_exchanges(self, port: int, codes: Iterator[seed.Code], seconds: float) -> Measurement:
        """A warm-up and a run, each sending codes no run sent before."""
        measured = Measurement(0, 1.0, 0.0, 0.0)
        for run_seconds in (min(1.0, seconds), seconds):
            count = math.ceil(CODES_PER_SECOND * max(1.0, run_seconds))
            batch = [next(codes) for _ in range(count)]
            measured = self.driver.measure(
                port, self.code_requests(batch), run_seconds, warm_up=False
            )
        return measured

    def sign_in_and_argon2(
        self, port: int, by_hand: int, seconds: float
    ) -> tuple[tuple[Measurement, Measurement], float]:
        """signIn, the baseline's sign-in and argon2id verifications on the server's core,
        taking turns a few seconds at a time: whatever else slows the machine meanwhile
        slows all three alike."""
        print("measuring signIn, its baseline and argon2id in turns on the server's core")
        driver = self.driver.narrower(SIGN_IN_CONNECTIONS)
        turn = max(1.0, seconds / TURNS)
        product, baseline, rates = [], [], []
        for number in range(TURNS):
            for server, measured in ((port, product), (by_hand, baseline)):
                measured.append(
                    driver.measure(
                        server,
                        self.sign_in_requests(),
                        turn,
                        expect="SIGNED_IN",
                        warm_up=number == 0,
                    )
                )
            rates.append(self.argon2_rate(turn))
        combined = (Measurement.combined(product), Measurement.combined(baseline))
        return combined, sum(rates) / len(rates)

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
        return [post("/oauth/token", _exchange_form(a).encode(), FORM) for a in self.accounts]

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

    def introspect_requests(self) -> list[bytes]:
        assert self.applications is not None
        basic = _basic(self.applications.service_client_id, self.applications.service_secret)
        # One service at one address, 32 introspections in flight, as a busy API gateway.
        return [
            post("/oauth/introspect", f"token={a.access_token}".encode(), FORM, **basic)
            for a in self.accounts
        ]

    def code_requests(self, codes: list[seed.Code]) -> list[bytes]:
        assert self.applications is not None
        basic = _basic(self.applications.oidc_client_id, self.applications.oidc_secret)
        return [post("/oauth/token", _code_form(c).encode(), FORM, **basic) for c in codes]

    def sign_in_requests(self) -> list[bytes]:
        # Each user signs in from an address of their own, as people do: from one address,
        # 32 sign-ins at once would meet the per-address throttle, answered without a hash.
        return [
            post(
                "/graphql",
                json.dumps(_sign_in_body(a)).encode(),
                "application/json",
                **{"X-Forwarded-For": _address(n)},
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


def _database_name(url: str) -> str:
    parts = urlsplit(url)  # never the password
    return f"{parts.hostname}:{parts.port or 5432}{parts.path}"


def _bearer(account: seed.Account) -> dict[str, str]:
    return {"Authorization": f"Bearer {account.access_token}"}


def _exchange_form(account: seed.Account) -> str:
    return f"grant_type=refresh_token&refresh_token={account.refresh_token}"


def _address(n: int) -> str:
    return str(ipaddress.IPv4Address("10.0.0.1") + n)


def _basic(client_id: str, secret: str) -> dict[str, str]:
    encoded = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {encoded}"}


def _code_form(code: seed.Code) -> str:
    return urlencode(
        {
            "grant_type": "authorization_code",
            "code": code.code,
            "redirect_uri": seed.REDIRECT_URI,
            "code_verifier": code.verifier,
        }
    )


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


def _check_introspect(port: int, account: seed.Account, made: seed.Applications | None) -> None:
    assert made is not None
    answer = httpx.post(
        f"http://127.0.0.1:{port}/oauth/introspect",
        data={"token": account.access_token},
        headers=_basic(made.service_client_id, made.service_secret),
        timeout=30,
    )
    if answer.json().get("username") != account.username:
        raise RuntimeError(f"introspection failed: {answer.status_code} {answer.text[:300]}")


def _check_code(port: int, code: seed.Code, made: seed.Applications | None) -> None:
    assert made is not None
    answer = httpx.post(
        f"http://127.0.0.1:{port}/oauth/token",
        content=_code_form(code).encode(),
        headers={"Content-Type": FORM, **_basic(made.oidc_client_id, made.oidc_secret)},
        timeout=30,
    )
    if not answer.json().get("id_token"):
        raise RuntimeError(f"the code exchange failed: {answer.status_code} {answer.text[:300]}")


def _check_sign_in(port: int, account: seed.Account) -> None:
    answer = httpx.post(f"http://127.0.0.1:{port}/graphql", json=_sign_in_body(account), timeout=30)
    if (answer.json().get("data") or {}).get("signIn", {}).get("status") != "SIGNED_IN":
        raise RuntimeError(f"signIn failed: {answer.text[:300]}")


def _peak_rss(pid: int) -> int:
    return _status_bytes(pid, "VmHWM")


def _status_bytes(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} in /proc")


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
        f"peak RSS: latchkey serve {figures.rss_bytes / MIB:.1f} MiB after round two's paths "
        f"({figures.rss_before_sign_in_bytes / MIB:.1f} MiB before signIn), "
        f"{figures.rss_all_bytes / MIB:.1f} MiB after every path; "
        f"baseline {figures.baseline_rss_bytes / MIB:.1f} MiB\n"
        f"  of latchkey serve's peak, {figures.rss_shared_bytes / MIB:.1f} MiB are pages of "
        "mapped files (Python and the other shared libraries), the same in every worker"
    )
    p = figures.paths

    def ratio(key: str) -> float:
        return _ratio(p[key].per_second, p[f"{key}_baseline"].per_second)

    rss = figures.rss_bytes / MIB
    argon2 = _ratio(p["sign_in"].per_second, figures.argon2_per_second)
    print("\ntargets")
    for key, label, at_least in (
        ("forward_session", "/auth/forward session / baseline", 1.2),
        ("forward_bearer", "/auth/forward bearer / baseline", 1.2),
        ("introspect", "introspect / baseline", 1.2),
        ("code_exchange", "code exchange / baseline", 1.0),
        ("sign_in", "signIn / baseline", 0.9),
        ("viewer", "viewer / baseline", 1.0),
        ("exchange", "exchange / baseline", 1.3),
    ):
        met = ratio(key) >= at_least
        print(f"  {label:34} {ratio(key):5.2f}x  (at least {at_least}x: {_verdict(met)})")
    for key, label, at_most in (
        ("forward_session", "/auth/forward session p99", 20),
        ("forward_bearer", "/auth/forward bearer p99", 20),
        ("viewer", "viewer p99", 60),
    ):
        ms = p[key].p99_ms
        print(f"  {label:32} {ms:6.1f} ms  (at most {at_most} ms: {_verdict(ms <= at_most)})")
    print(f"  {'peak RSS':32} {rss:6.1f} MiB (at most 80 MiB: {_verdict(rss <= 80)})")
    print(f"  {'signIn / argon2id alone (context)':34} {argon2:5.2f}x")


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
