"""`latchkey serve` in a subprocess on a free port, for browser and multi-process tests."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from backend.infra.config import Settings

LATCHKEY = Path(sys.executable).parent / "latchkey"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def environment(settings: Settings, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("LATCHKEY_")}
    env.update(
        {
            "LATCHKEY_DATABASE_URL": settings.database_url,
            "LATCHKEY_SECRET_KEY": settings.secret_key,
            "LATCHKEY_ARGON2_MEMORY_KIB": str(settings.argon2_memory_kib),
            "LATCHKEY_ARGON2_TIME_COST": str(settings.argon2_time_cost),
            "LATCHKEY_ARGON2_PARALLELISM": str(settings.argon2_parallelism),
            "LATCHKEY_LOG_LEVEL": "WARNING",
            **extra,
        }
    )
    return env


class _PortTaken(RuntimeError):
    """Another process took the free port between our look and the server's bind."""


def smtp_env(port: int) -> dict[str, str]:
    """What a live server needs to send its mail to the test's SMTP server on `port`."""
    return {
        "LATCHKEY_SMTP_HOST": "127.0.0.1",
        "LATCHKEY_SMTP_PORT": str(port),
        "LATCHKEY_SMTP_SECURITY": "none",
    }


@contextlib.contextmanager
def live_server(
    settings: Settings,
    *,
    host_name: str = "127.0.0.1",
    log: Path | None = None,
    workers: int = 1,
    serve_options: tuple[str, ...] = (),
    **extra_env: str,
) -> Iterator[str]:
    """`host_name`: how the browser names the server (it listens on 127.0.0.1 either way);
    passkeys need a domain name, and localhost is a secure context. `log`: a file that gets
    everything the server writes, as an operator would collect it. `workers`: uvicorn's
    worker processes. `serve_options`: more of `latchkey serve`'s options."""
    # Tests run in several processes at once, each picking free ports: a rare clash gets
    # a new port rather than a failed test.
    for attempt in range(3):
        port = free_port()
        url = f"http://{host_name}:{port}"
        env = environment(settings, LATCHKEY_PUBLIC_URL=url, **extra_env)
        with contextlib.ExitStack() as files:
            output = files.enter_context(log.open("wb")) if log else subprocess.PIPE
            process = subprocess.Popen(
                [
                    str(LATCHKEY),
                    "serve",
                    "--port",
                    str(port),
                    "--workers",
                    str(workers),
                    *serve_options,
                ],
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        try:
            _wait_until_up(url, process, log)
            break
        except _PortTaken:
            _stop(process)
            if attempt == 2:
                raise
        except BaseException:
            _stop(process)
            raise
    try:
        yield url
    finally:
        _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path | None = None) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read().decode() if process.stdout else ""
            output = log.read_text(errors="replace") if log else output
            failure = _PortTaken if "address already in use" in output.lower() else RuntimeError
            raise failure(f"latchkey serve exited early:\n{output}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError("latchkey serve did not come up within 30 seconds")
