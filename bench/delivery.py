"""`make bench-delivery`: queued webhook deliveries and mailed notices sent by
`latchkey serve --workers 2` to receivers on loopback, timed until the last one arrives.

The target: 10,000 queued events delivered in under 60 seconds, none twice. The events are
split between the two outboxes the workers drain: webhook deliveries (queued by the
product's own `emit`, as a change does) to one endpoint, and a share of notices (queued by
the product's own `notices.queue`, then made due, as after a first attempt that found the
mail server down) to an aiosmtpd server. The webhook receiver is a real HTTP server that
verifies every signature with the `standardwebhooks` library; both receivers count each
webhook-id and each recipient (one address per notice), so anything sent twice is seen.

`--database URL` or LATCHKEY_BENCH_DATABASE_URL measures PostgreSQL (its schema `public` is
dropped and migrated afresh), a SQLite file otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import dataclasses
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

BIN = Path(sys.executable).parent
SECRET_KEY = "benchmark-only-secret-key"
TARGET_SECONDS = 60
USERS = 100  # whom the events are about
EVENT_TYPES = ("user.updated", "token.issued", "session.ended", "password.changed")
QUEUE_CHUNK = 500  # events queued per transaction
LINGER_SECONDS = 3.0  # after the last arrival: every worker has looked again, twice


@dataclasses.dataclass(frozen=True)
class Split:
    webhooks: int
    mail: int

    @classmethod
    def of(cls, events: int, mail_share: float) -> Split:
        mail = round(events * mail_share)
        return cls(webhooks=events - mail, mail=mail)


@dataclasses.dataclass
class Result:
    split: Split
    workers: int
    database: str
    webhook_ids: collections.Counter[str]
    recipients: collections.Counter[str]
    bad_signatures: int
    seconds: float  # from the server's start until the last arrival
    first_arrival: float  # seconds from the server's start
    undelivered_rows: int  # webhook deliveries not marked delivered, notices left in the outbox
    attempts: int  # webhook attempts the database recorded
    failed_attempts: collections.Counter[str]  # by status or error; each was tried again
    load_average: float = 0.0
    server_cpu_seconds: float = 0.0  # of `latchkey serve` and its workers, start-up included
    start_up_cpu_seconds: float = 0.0  # the same, until the first event arrived
    timed_out: bool = False

    @property
    def delivered(self) -> int:
        return len(self.webhook_ids) + len(self.recipients)

    @property
    def duplicates(self) -> int:
        counts = [*self.webhook_ids.values(), *self.recipients.values()]
        return sum(count - 1 for count in counts)

    @property
    def complete(self) -> bool:
        return (
            len(self.webhook_ids) == self.split.webhooks
            and len(self.recipients) == self.split.mail
            and not self.bad_signatures
            and not self.undelivered_rows
        )

    @property
    def met(self) -> bool:
        return self.complete and not self.duplicates and self.seconds < TARGET_SECONDS


class WebhookReceiver:
    """An HTTP server on loopback (uvicorn, keep-alive like a real consumer's) that verifies
    each delivery's signature and counts its webhook-id; a bad signature is answered 400."""

    def __init__(self) -> None:
        self.ids: collections.Counter[str] = collections.Counter()
        self.bad_signatures = 0
        self.first_at = 0.0
        self.last_at = 0.0
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/hooks"
        self._webhook = None
        self._server = None
        self._thread: threading.Thread | None = None

    def trust(self, secret: str) -> None:
        from standardwebhooks import Webhook

        self._webhook = Webhook(secret)

    async def __call__(self, scope, receive, send) -> None:
        from standardwebhooks import WebhookVerificationError

        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        headers = {
            name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]
        }
        try:
            if self._webhook is None:
                raise WebhookVerificationError("no secret yet")
            self._webhook.verify(body, headers)
        except WebhookVerificationError:
            self.bad_signatures += 1
            status = 400
        else:
            self.ids[headers["webhook-id"]] += 1
            self.last_at = time.monotonic()
            self.first_at = self.first_at or self.last_at
            status = 204
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    def start(self) -> None:
        import uvicorn

        config = uvicorn.Config(
            self,
            host="127.0.0.1",
            port=self.port,
            lifespan="off",
            log_level="warning",
            access_log=False,
            backlog=256,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the webhook receiver did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)


class MailReceiver:
    """An aiosmtpd server on loopback counting each recipient (one address per notice)."""

    def __init__(self) -> None:
        self.recipients: collections.Counter[str] = collections.Counter()
        self.first_at = 0.0
        self.last_at = 0.0
        self.port = _free_port()
        self._controller = None

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        for recipient in envelope.rcpt_tos:
            self.recipients[recipient] += 1
        self.last_at = time.monotonic()
        self.first_at = self.first_at or self.last_at
        return "250 Message accepted"

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()


@contextlib.contextmanager
def receivers() -> Iterator[tuple[WebhookReceiver, MailReceiver]]:
    hooks, mail = WebhookReceiver(), MailReceiver()
    hooks.start()
    try:
        mail.start()
        try:
            yield hooks, mail
        finally:
            mail.stop()
    finally:
        hooks.stop()


def prepare(url: str) -> None:
    """An empty, migrated database at `url` (PostgreSQL: the schema `public` afresh)."""
    if url.startswith("sqlite://"):
        path = url.removeprefix("sqlite://").split("?")[0]
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    else:
        from bench import seed

        asyncio.run(seed.reset_postgres(url))
    subprocess.run(
        [str(BIN / "latchkey"), "migrate"], env=_env(url), check=True, capture_output=True
    )


async def queue(url: str, split: Split, webhook_url: str, secret_key: str = SECRET_KEY) -> str:
    """Users, an endpoint hearing every event at `webhook_url`, and `split`'s events queued
    by the product's own functions; the endpoint's signing secret."""
    from tortoise import Tortoise
    from tortoise.transactions import in_transaction

    from backend.accounts.models import User
    from backend.events import endpoints
    from backend.events.emit import emit
    from backend.infra.database import tortoise_config
    from backend.kernel import clock
    from backend.kernel.secret_box import SecretBox
    from backend.notifications import notices
    from backend.notifications.models import OutboxMessage
    from bench import seed

    await seed.seed(url, seed.Shape(users=USERS, measured=1, tokens_per_user=1))
    await Tortoise.init(config=tortoise_config(url))
    try:
        users = await User.all().order_by("id")
        _, secret = await endpoints.create(SecretBox(secret_key), webhook_url, "*", "benchmark")
        for start in range(0, split.webhooks, QUEUE_CHUNK):
            async with in_transaction():
                for n in range(start, min(start + QUEUE_CHUNK, split.webhooks)):
                    kind = EVENT_TYPES[n % len(EVENT_TYPES)]
                    await emit(kind, user=users[n % len(users)], fields=[f"field_{n}"])
        for start in range(0, split.mail, QUEUE_CHUNK):
            async with in_transaction():
                for n in range(start, min(start + QUEUE_CHUNK, split.mail)):
                    await notices.queue(
                        _recipient(n), "Your password changed", f"Notice {n}.\n\n{notices.NOT_YOU}"
                    )
        # As if the mail server had been down at each first attempt, and the wait were over.
        await OutboxMessage.all().update(next_attempt_at=clock.now())
    finally:
        await Tortoise.close_connections()
    return secret


def _recipient(n: int) -> str:
    return f"notice{n}@example.com"


async def _tally(url: str) -> tuple[int, int, collections.Counter[str]]:
    """Rows not delivered (webhooks not marked delivered, notices still in the outbox),
    webhook attempts recorded, and the failed ones by answer or error."""
    from tortoise import Tortoise
    from tortoise.expressions import Q

    from backend.events.models import WebhookAttempt, WebhookDelivery
    from backend.infra.database import tortoise_config
    from backend.notifications.models import OutboxMessage

    await Tortoise.init(config=tortoise_config(url))
    try:
        left = await WebhookDelivery.filter(delivered_at=None).count()
        left += await OutboxMessage.all().count()
        attempts = await WebhookAttempt.all().count()
        not_2xx = Q(status__isnull=True) | Q(status__lt=200) | Q(status__gte=300)
        answers = await WebhookAttempt.filter(not_2xx).values_list("status", "error")
        failed = collections.Counter(error or str(status) for status, error in answers)
        return left, attempts, failed
    finally:
        await Tortoise.close_connections()


def run(
    url: str,
    events: int = 10_000,
    *,
    workers: int = 2,
    mail_share: float = 0.1,
    timeout: float = 300.0,
    fresh: bool = True,
    progress: Callable[[str], None] = lambda _: None,
) -> Result:
    """Queue `events` on the database at `url` (made afresh unless `fresh` is false: then it
    must be migrated and empty), serve it with `workers` workers until every event arrived
    or `timeout` seconds passed, and count what arrived."""
    split = Split.of(events, mail_share)
    if fresh:
        prepare(url)
    with receivers() as (hooks, mail):
        started = time.monotonic()
        secret = asyncio.run(queue(url, split, hooks.url))
        hooks.trust(secret)
        progress(
            f"queued {split.webhooks:,} webhook deliveries and {split.mail:,} notices "
            f"in {time.monotonic() - started:.1f} s"
        )
        timed_out = False
        with _serving(url, workers, mail.port) as server:
            started = last_told = server.started
            cpu_at_first = None  # the server's start-up is over when the first event arrives
            while len(hooks.ids) < split.webhooks or len(mail.recipients) < split.mail:
                now = time.monotonic()
                if now - started > timeout:
                    timed_out = True
                    break
                if now - last_told >= 5:
                    last_told = now
                    progress(
                        f"{now - started:5.0f} s: {len(hooks.ids):,} webhooks, "
                        f"{len(mail.recipients):,} notices"
                    )
                if cpu_at_first is None and (hooks.first_at or mail.first_at):
                    cpu_at_first = server.cpu_seconds()
                time.sleep(0.05)
            last = max(hooks.last_at, mail.last_at)
            time.sleep(LINGER_SECONDS)  # a second send of anything would arrive meanwhile
            cpu = server.cpu_seconds()
        firsts = [at for at in (hooks.first_at, mail.first_at) if at]
        undelivered, attempts, failed = asyncio.run(_tally(url))
        return Result(
            split=split,
            workers=workers,
            database=_database_name(url),
            webhook_ids=collections.Counter(hooks.ids),
            recipients=collections.Counter(mail.recipients),
            bad_signatures=hooks.bad_signatures,
            seconds=(last - started) if last else 0.0,
            first_arrival=(min(firsts) - started) if firsts else 0.0,
            undelivered_rows=undelivered,
            attempts=attempts,
            failed_attempts=failed,
            load_average=os.getloadavg()[0],
            server_cpu_seconds=cpu,
            start_up_cpu_seconds=cpu_at_first or 0.0,
            timed_out=timed_out,
        )


class _Server:
    """`latchkey serve` as started: when, and the CPU its processes have used."""

    def __init__(self, process: subprocess.Popen[bytes], started: float) -> None:
        self.process = process
        self.started = started

    def cpu_seconds(self) -> float:
        """User and system time of the server and its workers (Linux /proc), or 0."""
        tick = os.sysconf("SC_CLK_TCK")
        tree, total = {self.process.pid}, 0.0
        with contextlib.suppress(OSError):
            stats = {}
            for entry in Path("/proc").iterdir():
                if entry.name.isdigit():
                    with contextlib.suppress(OSError):
                        fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                        stats[int(entry.name)] = fields
            grew = True
            while grew:  # uvicorn's workers are its children, spawned ones have one more level
                children = {pid for pid, f in stats.items() if int(f[1]) in tree} - tree
                tree |= children
                grew = bool(children)
            for pid in tree:
                if pid in stats:
                    total += (int(stats[pid][11]) + int(stats[pid][12])) / tick
        return total


@contextlib.contextmanager
def _serving(url: str, workers: int, smtp_port: int) -> Iterator[_Server]:
    """`latchkey serve --workers N` against `url`, mailing to `smtp_port`."""
    port = _free_port()
    env = _env(
        url,
        LATCHKEY_SMTP_HOST="127.0.0.1",
        LATCHKEY_SMTP_PORT=str(smtp_port),
        LATCHKEY_SMTP_SECURITY="none",
    )
    started = time.monotonic()
    process = subprocess.Popen(
        [str(BIN / "latchkey"), "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield _Server(process, started)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _env(url: str, **overrides: str) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("LATCHKEY_")},
        "LATCHKEY_DATABASE_URL": url,
        "LATCHKEY_SECRET_KEY": SECRET_KEY,
        "LATCHKEY_LOG_LEVEL": "ERROR",  # a failed attempt would log a warning per row
        **overrides,
    }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _database_name(url: str) -> str:
    if url.startswith("sqlite://"):
        return "SQLite file"
    parts = urlsplit(url)  # never the password
    return f"PostgreSQL {parts.hostname}:{parts.port or 5432}{parts.path}"


def report(result: Result) -> None:
    split, seconds = result.split, result.seconds
    rate = result.delivered / seconds if seconds else 0.0
    print(
        f"\n{result.database}; {result.workers} workers; "
        f"load average at the end {result.load_average:.1f}"
    )
    print(f"{'outbox':34} {'queued':>8} {'arrived':>8} {'twice':>6}")
    rows = [
        ("webhooks (signatures verified)", split.webhooks, result.webhook_ids),
        ("mailed notices (SMTP)", split.mail, result.recipients),
    ]
    for label, queued, counts in rows:
        twice = sum(count - 1 for count in counts.values())
        print(f"{label:34} {queued:8,} {len(counts):8,} {twice:6,}")
    print(f"{'bad signatures':34} {'':8} {result.bad_signatures:8,}")
    print(f"{'rows left undelivered':34} {'':8} {result.undelivered_rows:8,}")
    print(f"{'webhook attempts recorded':34} {'':8} {result.attempts:8,}")
    failed = ", ".join(f"{n} {why}" for why, n in result.failed_attempts.most_common())
    retried = result.failed_attempts.total()
    print(f"{'  of which failed, then retried':34} {'':8} {retried:8,}  {failed}")
    print(
        f"\n{result.delivered:,} events in {seconds:.1f} s from the server's start "
        f"({rate:,.0f} events/s; the first arrived after {result.first_arrival:.1f} s)"
    )
    if result.server_cpu_seconds:
        delivering = result.server_cpu_seconds - result.start_up_cpu_seconds
        print(
            f"server CPU {result.server_cpu_seconds:.1f} s: {result.start_up_cpu_seconds:.1f} "
            f"until the first arrival, then {1000 * delivering / max(result.delivered, 1):.2f} ms "
            "an event (the database's and the receivers' not counted)"
        )
    verdict = "met" if result.met else "MISSED"
    why = []
    if result.timed_out or not result.complete:
        why.append("not all delivered")
    if result.duplicates:
        why.append(f"{result.duplicates} twice")
    if seconds >= TARGET_SECONDS:
        why.append(f"{seconds:.0f} s")
    print(
        f"target: {split.webhooks + split.mail:,} events in under {TARGET_SECONDS} s, "
        f"none twice: {verdict}{' (' + ', '.join(why) + ')' if why else ''}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.delivery")
    parser.add_argument("--events", type=int, default=10_000, help="webhooks and notices")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--mail-share", type=float, default=0.1, help="the share of events that are notices"
    )
    parser.add_argument(
        "--database",
        default=os.environ.get("LATCHKEY_BENCH_DATABASE_URL", ""),
        help="PostgreSQL URL (default LATCHKEY_BENCH_DATABASE_URL; a SQLite file without)",
    )
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds before giving up")
    parser.add_argument("--directory", type=Path, help="for the SQLite file (default: a temp dir)")
    args = parser.parse_args()

    load, cores = os.getloadavg()[0], os.cpu_count() or 1
    print(f"load average {load:.1f} on {cores} cores at the start")
    with tempfile.TemporaryDirectory(dir=args.directory) as directory:
        url = args.database or f"sqlite://{Path(directory) / 'delivery.sqlite3'}"
        print(f"database: {_database_name(url)}", flush=True)
        result = run(
            url,
            args.events,
            workers=args.workers,
            mail_share=args.mail_share,
            timeout=args.timeout,
            progress=lambda line: print(f"  {line}", flush=True),
        )
    report(result)
    sys.exit(0 if result.met else 1)


if __name__ == "__main__":
    main()
