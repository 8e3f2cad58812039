"""Two server processes on one PostgreSQL database: each expiry reminder arrives once."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import httpx

from backend.infra.config import Settings
from tests.cli_helpers import create_user
from tests.conftest import settings_for, smtp_settings
from tests.helpers import PASSWORD, SIGN_IN, days_ahead
from tests.live import _stop, _wait_until_up, environment, free_port

# `latchkey serve` with this process's clock moved forward, as backend.kernel.clock allows tests.
SERVE_LATER = (
    "import sys; from datetime import timedelta; "
    "from backend.kernel import clock; from backend.app import cli; "
    "clock.advance(timedelta(seconds=float(sys.argv[1]))); sys.exit(cli.main(sys.argv[2:]))"
)
PASS_DONE = "token expiry reminders checked"
ISSUE = """mutation($n: String!, $e: DateTime) {
  issueToken(input: {name: $n, expiresAt: $e, password: "@PASSWORD@",
                     scopes: ["account:read"]}) { secret userErrors { code } } }""".replace(
    "@PASSWORD@", PASSWORD
)


@contextlib.contextmanager
def servers_later(settings: Settings, ahead: timedelta, logs: list[Path]) -> Iterator[list[str]]:
    """One server per log file, all started at once, each with its clock `ahead`."""
    started: list[tuple[str, subprocess.Popen[bytes]]] = []
    with contextlib.ExitStack() as stack:
        for log in logs:
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            env = environment(
                settings,
                LATCHKEY_PUBLIC_URL=url,
                LATCHKEY_LOG_LEVEL="DEBUG",
                LATCHKEY_SMTP_HOST=settings.smtp.host,
                LATCHKEY_SMTP_PORT=str(settings.smtp.port),
                LATCHKEY_SMTP_SECURITY=settings.smtp.security,
            )
            output = stack.enter_context(log.open("wb"))
            command = [sys.executable, "-c", SERVE_LATER, str(ahead.total_seconds())]
            process = subprocess.Popen(
                [*command, "serve", "--port", str(port)],
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
            stack.callback(_stop, process)
            started.append((url, process))
        for url, process in started:
            _wait_until_up(url, process)
        yield [url for url, _ in started]


def wait_until(done: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if done():
            return
        time.sleep(0.1)
    raise AssertionError(f"waited in vain: {what}")


def two_servers(
    settings: Settings, ahead: timedelta, tmp_path: Path, round_: str, arrived: Callable[[], bool]
) -> None:
    """Both servers look for due reminders when they start; wait for both, and the mail."""
    logs = [tmp_path / f"{round_}-{n}.log" for n in (1, 2)]
    with servers_later(settings, ahead, logs):
        wait_until(
            lambda: all(PASS_DONE in log.read_text(errors="replace") for log in logs),
            "both servers looked for reminders",
        )
        wait_until(arrived, "the reminders arrived")


def test_each_reminder_arrives_once_from_two_servers(postgres_url, smtp, tmp_path):
    settings = settings_for(postgres_url, smtp=smtp_settings(smtp.port))
    create_user(settings)
    with (
        servers_later(settings, timedelta(), [tmp_path / "issue.log"]) as [url],
        httpx.Client(base_url=url) as browser,
    ):
        browser.post(
            "/graphql",
            json={"query": SIGN_IN, "variables": {"username": "alice", "password": PASSWORD}},
        )
        for name in ("deploy", "backup", "report"):
            answer = browser.post(
                "/graphql",
                json={"query": ISSUE, "variables": {"n": name, "e": days_ahead(10)}},
            )
            assert answer.json()["data"]["issueToken"]["userErrors"] == []

    def subjects() -> list[str]:
        return sorted(str(m["Subject"]) for m in smtp.messages if "expires" in str(m["Subject"]))

    week = [f"Your token “{name}” expires in 7 days" for name in ("backup", "deploy", "report")]
    day = [f"Your token “{name}” expires within a day" for name in ("backup", "deploy", "report")]

    two_servers(
        settings, timedelta(days=3, hours=12), tmp_path, "week", lambda: len(subjects()) >= 3
    )
    assert subjects() == week
    # Nothing new is due an hour later.
    two_servers(settings, timedelta(days=3, hours=13), tmp_path, "again", lambda: True)
    assert subjects() == week
    two_servers(
        settings, timedelta(days=9, hours=12), tmp_path, "day", lambda: len(subjects()) >= 6
    )
    assert subjects() == sorted(week + day)
