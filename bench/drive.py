"""Driving load: wrk with bench/rotate.lua when installed, else bench/load.py; CPU pinning.

The server gets one core and the load the other, so that neither steals the other's CPU.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import shutil
import statistics
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from bench import load

ROTATE_SCRIPT = Path(__file__).with_name("rotate.lua")
SEPARATOR = b"\x1e"  # between requests in the file rotate.lua reads
SERVER_CORE, LOAD_CORE = 0, 1


@dataclasses.dataclass(frozen=True)
class Measurement:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds

    @classmethod
    def combined(cls, parts: Sequence[Measurement]) -> Measurement:
        """Measurements taken in turns as one: every request over all their time, and the
        middle turn's latencies (a turn of a few seconds has a few dozen sign-ins, so its
        99th percentile is nearly its slowest one)."""
        return cls(
            sum(part.requests for part in parts),
            sum(part.seconds for part in parts),
            statistics.median_high(part.p50_ms for part in parts),
            statistics.median_high(part.p99_ms for part in parts),
        )


@dataclasses.dataclass(frozen=True)
class Pinning:
    server: tuple[str, ...]  # command prefixes
    load: tuple[str, ...]
    note: str

    @classmethod
    def detect(cls) -> Pinning:
        taskset = shutil.which("taskset")
        cores = sorted(os.sched_getaffinity(0))
        if taskset is None:
            return cls((), (), "taskset not found: server and load share every core")
        if len(cores) < 2:
            return cls((), (), "only one core: server and load share it")
        server, loader = cores[SERVER_CORE], cores[LOAD_CORE]
        return cls(
            (taskset, "-c", str(server)),
            (taskset, "-c", str(loader)),
            f"server pinned to core {server}, load to core {loader}",
        )


class Driver:
    def __init__(self, pinning: Pinning, connections: int) -> None:
        self.pinning = pinning
        self.connections = connections
        self.wrk = shutil.which("wrk")

    def narrower(self, connections: int) -> Driver:
        """The same driver with at most `connections` connections."""
        return Driver(self.pinning, min(connections, self.connections))

    @property
    def name(self) -> str:
        if self.wrk:
            return f"wrk, {self.connections} connections"
        return f"bench/load.py (wrk not installed), {self.connections} connections"

    def measure(
        self,
        port: int,
        requests: Sequence[bytes],
        seconds: float,
        expect: str = "",
        *,
        warm_up: bool = True,
    ) -> Measurement:
        """A short warm-up, then `seconds` of load; every request must answer 2xx, with
        `expect` in its body when given (a GraphQL refusal also answers 200)."""
        if warm_up:
            self._run(port, requests, min(1.0, seconds), expect)
        return self._run(port, requests, seconds, expect)

    def _run(
        self, port: int, requests: Sequence[bytes], seconds: float, expect: str
    ) -> Measurement:
        if self.wrk:
            return self._wrk(port, requests, seconds, expect)
        result = load.run(
            port, requests, seconds=seconds, connections=self.connections, expect=expect.encode()
        )
        if result.failures:
            raise RuntimeError(
                f"{result.failures} requests did not answer 200, the first: {result.first_failure}"
            )
        return Measurement(
            result.requests, result.seconds, result.percentile(0.5), result.percentile(0.99)
        )

    def _wrk(
        self, port: int, requests: Sequence[bytes], seconds: float, expect: str
    ) -> Measurement:
        with tempfile.NamedTemporaryFile(suffix=".requests") as file:
            file.write(SEPARATOR.join(requests))
            file.flush()
            command = [
                *self.pinning.load,
                self.wrk,
                "--threads",
                "1",
                "--connections",
                str(self.connections),
                "--duration",
                f"{max(1, round(seconds))}s",
                "--timeout",
                "30s",
                "--script",
                str(ROTATE_SCRIPT),
                f"http://127.0.0.1:{port}",
                "--",
                file.name,
                *([expect] if expect else []),
            ]
            output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        summary = json.loads(output.strip().splitlines()[-1])
        failed = ("non_2xx", "socket_errors", "timeouts", "unexpected")
        if any(summary[name] for name in failed):
            raise RuntimeError(f"wrk saw failures: {summary}")
        if not summary["requests"]:  # nothing answered within the run: infinitely slow
            return Measurement(0, summary["duration_us"] / 1e6, math.inf, math.inf)
        return Measurement(
            summary["requests"],
            summary["duration_us"] / 1e6,
            summary["p50_us"] / 1000,
            summary["p99_us"] / 1000,
        )
