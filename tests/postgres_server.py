"""A PostgreSQL server of the test's own, which the test may stop and start at will."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.live import free_port

BIN = Path("/usr/lib/postgresql/15/bin")
IN_CI = os.environ.get("CI", "").lower() == "true"
# PostgreSQL refuses to run as root; run its tools as this user when we are root.
OWNER = "postgres"


def require_binaries() -> None:
    if (BIN / "initdb").exists() and (BIN / "pg_ctl").exists():
        return
    if IN_CI:
        pytest.fail(f"CI must test database outages: PostgreSQL binaries missing in {BIN}")
    pytest.skip(f"PostgreSQL binaries not found in {BIN}")


class PostgresServer:
    def __init__(self, directory: Path, port: int) -> None:
        self.directory = directory
        self.data = directory / "data"
        self.port = port
        self.url = f"postgres://{OWNER}@127.0.0.1:{port}/postgres"

    def _run(self, *command: str, timeout: float = 30) -> None:
        prefix = ["runuser", "-u", OWNER, "--"] if os.geteuid() == 0 else []
        subprocess.run(
            [*prefix, *command],
            check=True,
            timeout=timeout,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )

    def init(self) -> None:
        self._run(
            str(BIN / "initdb"),
            "-D",
            str(self.data),
            "-U",
            OWNER,
            "--auth=trust",
            "--no-sync",
            "-E",
            "UTF8",
        )

    def start(self) -> None:
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} "
            f"-c unix_socket_directories={self.directory} -c fsync=off"
        )
        self._run(
            str(BIN / "pg_ctl"),
            "start",
            "-w",
            "-t",
            "20",
            "-D",
            str(self.data),
            "-l",
            str(self.directory / "server.log"),
            "-o",
            options,
        )

    def stop(self) -> None:
        self._run(
            str(BIN / "pg_ctl"), "stop", "-w", "-t", "20", "-m", "immediate", "-D", str(self.data)
        )

    def stop_if_running(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
            self.stop()


@contextlib.contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """A fresh cluster on a free loopback port, running; removed afterwards."""
    require_binaries()
    directory = Path(tempfile.mkdtemp(prefix="latchkey-pg-"))
    if os.geteuid() == 0:
        shutil.chown(directory, OWNER, OWNER)
    server = PostgresServer(directory, free_port())
    try:
        server.init()
        _start_on_a_free_port(server)
        yield server
    finally:
        server.stop_if_running()
        shutil.rmtree(directory, ignore_errors=True)


def _start_on_a_free_port(server: PostgresServer) -> None:
    """Tests run in several processes at once, each picking free ports: a rare clash gets
    a new port rather than a failed test."""
    for attempt in range(3):
        try:
            server.start()
            return
        except subprocess.CalledProcessError:
            log = server.directory / "server.log"
            taken = log.exists() and "could not bind" in log.read_text().lower()
            if not taken or attempt == 2:
                raise
            server.port = free_port()
            server.url = f"postgres://{OWNER}@127.0.0.1:{server.port}/postgres"
