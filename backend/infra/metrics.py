"""Prometheus metrics: the fixed families, recorded where the domain decides an outcome.

Off until `latchkey serve --metrics-port PORT` (or LATCHKEY_METRICS_PORT) is given; until
then nothing is counted and prometheus-client is not even imported.

Across workers: uvicorn's workers are separate processes, each counting its own requests.
`serve` makes a fresh, empty directory for each start, names it in PROMETHEUS_MULTIPROC_DIR
before any worker starts, and removes it when the server stops. prometheus-client's
multiprocess mode then keeps every value in a file of that directory (one per process and
type), and the supervising process, which handles no request itself, serves `/metrics` on
the metrics port alone from a collector that sums the files: a scrape sees the whole server,
whichever worker would have answered, and the application's own port has no `/metrics`.
A fresh directory per start means counts never carry over from an earlier run (counters
restart at zero, as Prometheus expects after a restart). A worker that stops removes its
gauges' files (`worker_stopped`); one killed outright leaves its last gauge values in the
sums until the server restarts.

The families are made on first use, not at import: prometheus-client reads
PROMETHEUS_MULTIPROC_DIR when a value is made, and `serve` sets it only after the modules
that record are imported.

No label value comes from a caller: every one is taken from a fixed list below (an unknown
value becomes "other"), so no username, address, token or id can reach a scrape.
"""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ParamSpec

MULTIPROCESS_DIRECTORY = "PROMETHEUS_MULTIPROC_DIR"
OTHER = "other"

# The allowed values of every label (besides `handler`, a route template, and `status`, an
# HTTP status code).
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
SIGN_IN_OUTCOMES = (
    "success",  # signed in: a session started
    "second_factor_required",  # the password was right; a second factor is asked for
    "failure",  # wrong username or password
    "locked",  # the account is locked
    "throttled",  # too many attempts from this address or on this account
    "refused",  # the account is disabled or scheduled for deletion
    "error",  # anything else (a database outage)
)
SECOND_FACTOR_METHODS = ("totp", "email", "sms", "passkey", "recovery_code")
SECOND_FACTOR_OUTCOMES = ("success", "failure", "throttled", "expired", "error")
GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials")
TOKEN_OUTCOMES = ("success", "failure", "throttled", "error")
INTROSPECTION_OUTCOMES = ("active", "inactive", "unauthorized", "error")
FORWARD_AUTH_OUTCOMES = ("allowed", "unauthenticated", "forbidden", "error")
OUTBOX_KINDS = ("email", "sms", "webhook", "backchannel_logout")
DELIVERY_OUTCOMES = ("delivered", "failed", "given_up")
# Seconds; most requests take milliseconds, a sign-in's password hash about a tenth.
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def enabled() -> bool:
    """Whether metrics are served (`serve` named the directory): work done only for them,
    such as counting the outbox, is skipped otherwise."""
    return bool(os.environ.get(MULTIPROCESS_DIRECTORY))


P = ParamSpec("P")


def _when_served(record: Callable[P, None]) -> Callable[P, None]:
    @functools.wraps(record)
    def recording(*args: P.args, **kwargs: P.kwargs) -> None:
        if enabled():
            record(*args, **kwargs)

    return recording


def allowed(value: str, values: tuple[str, ...]) -> str:
    return value if value in values else OTHER


@functools.cache
def _families() -> dict[str, Any]:
    from prometheus_client import Counter, Gauge, Histogram

    return {
        "requests": Counter(
            "latchkey_http_requests",
            "HTTP requests answered, by route template, method and status code.",
            ["handler", "method", "status"],
        ),
        "duration": Histogram(
            "latchkey_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template.",
            ["handler"],
            buckets=DURATION_BUCKETS,
        ),
        "sign_ins": Counter(
            "latchkey_sign_ins", "Sign-ins with a password, by outcome.", ["outcome"]
        ),
        "second_factor": Counter(
            "latchkey_second_factor_checks",
            "Second-factor checks at sign-in, by method and outcome.",
            ["method", "outcome"],
        ),
        "lockouts": Counter(
            "latchkey_account_lockouts", "Accounts locked after too many failed sign-ins."
        ),
        "grants": Counter(
            "latchkey_token_grants",
            "OAuth token requests, by grant type and outcome.",
            ["grant_type", "outcome"],
        ),
        "introspections": Counter(
            "latchkey_introspections", "Token introspections, by outcome.", ["outcome"]
        ),
        "forward_auth": Counter(
            "latchkey_forward_auth", "Forward-auth checks, by outcome.", ["outcome"]
        ),
        "outbox_pending": Gauge(
            "latchkey_outbox_pending",
            "Messages waiting to be sent, by kind.",
            ["kind"],
            multiprocess_mode="livemax",
        ),
        "deliveries": Counter(
            "latchkey_outbox_deliveries",
            "Attempts to send a message, by kind and outcome.",
            ["kind", "outcome"],
        ),
        "hashes": Gauge(
            "latchkey_password_hashes_in_flight",
            "Password hashes being computed now.",
            multiprocess_mode="livesum",
        ),
    }


@_when_served
def http_request(handler: str, method: str, status: int, seconds: float) -> None:
    families = _families()
    families["requests"].labels(handler, allowed(method, METHODS), str(status)).inc()
    families["duration"].labels(handler).observe(seconds)


@_when_served
def sign_in(outcome: str) -> None:
    _families()["sign_ins"].labels(allowed(outcome, SIGN_IN_OUTCOMES)).inc()


@_when_served
def second_factor_check(method: str | None, outcome: str) -> None:
    _families()["second_factor"].labels(
        allowed((method or "").lower(), SECOND_FACTOR_METHODS),
        allowed(outcome, SECOND_FACTOR_OUTCOMES),
    ).inc()


@_when_served
def account_locked() -> None:
    _families()["lockouts"].inc()


@_when_served
def token_grant(grant_type: str, outcome: str) -> None:
    _families()["grants"].labels(
        allowed(grant_type, GRANT_TYPES), allowed(outcome, TOKEN_OUTCOMES)
    ).inc()


@_when_served
def introspection(outcome: str) -> None:
    _families()["introspections"].labels(allowed(outcome, INTROSPECTION_OUTCOMES)).inc()


@_when_served
def forward_auth(outcome: str) -> None:
    _families()["forward_auth"].labels(allowed(outcome, FORWARD_AUTH_OUTCOMES)).inc()


@_when_served
def outbox_pending(kind: str, count: int) -> None:
    _families()["outbox_pending"].labels(allowed(kind, OUTBOX_KINDS)).set(count)


@_when_served
def outbox_delivery(kind: str, outcome: str) -> None:
    _families()["deliveries"].labels(
        allowed(kind, OUTBOX_KINDS), allowed(outcome, DELIVERY_OUTCOMES)
    ).inc()


@contextmanager
def password_hash() -> Iterator[None]:
    if not enabled():
        yield
        return
    gauge = _families()["hashes"]
    gauge.inc()
    try:
        yield
    finally:
        gauge.dec()


def worker_stopped() -> None:
    """Forget this process's gauges (`livesum`, `livemax`): a worker that stopped holds no
    password hash and counts no outbox. Its counters stay in the sums."""
    if enabled():
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(os.getpid())


@contextmanager
def multiprocess_directory() -> Iterator[str]:
    """A fresh directory for the workers' values, named in the environment the workers
    inherit, and removed with what it holds when the block ends."""
    directory = tempfile.mkdtemp(prefix="latchkey-metrics-")
    previous = os.environ.get(MULTIPROCESS_DIRECTORY)
    os.environ[MULTIPROCESS_DIRECTORY] = directory
    try:
        yield directory
    finally:
        if previous is None:
            os.environ.pop(MULTIPROCESS_DIRECTORY, None)
        else:
            os.environ[MULTIPROCESS_DIRECTORY] = previous
        shutil.rmtree(directory, ignore_errors=True)


def serve(host: str, port: int) -> Any:
    """Serve `/metrics`, summed over the directory's processes, on its own port from a
    thread; returns the server (`.shutdown()` stops it)."""
    from prometheus_client import CollectorRegistry, start_http_server
    from prometheus_client.multiprocess import MultiProcessCollector

    registry = CollectorRegistry()
    MultiProcessCollector(registry)
    server, _thread = start_http_server(port, addr=host, registry=registry)
    return server
