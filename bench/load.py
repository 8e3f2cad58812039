"""A small HTTP/1.1 load generator: keep-alive connections sending requests in turn.

The fallback when wrk is not installed. It runs in its own process so that it does not
share the server's event loop; it is slower than wrk, so the server may be less busy.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import multiprocessing
import time
from collections.abc import Sequence


@dataclasses.dataclass
class Result:
    requests: int
    seconds: float
    latencies: list[float]
    failures: int
    first_failure: str = ""  # the status line and the start of the body, to say why

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds

    def percentile(self, fraction: float) -> float:
        """Milliseconds."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))] * 1000


def run(
    port: int,
    requests: Sequence[bytes],
    *,
    seconds: float,
    connections: int,
    expect: bytes = b"",
) -> Result:
    """Load the server at 127.0.0.1:port from a separate process and return what it saw.

    Every connection sends the requests in turn, each starting at another place. An answer
    other than 200, or whose body lacks `expect`, is a failure.
    """
    queue: multiprocessing.Queue = multiprocessing.Queue()
    process = multiprocessing.Process(
        target=_process, args=(queue, port, list(requests), seconds, connections, expect)
    )
    process.start()
    result = queue.get(timeout=seconds + 60)
    process.join()
    return result


def _process(queue, port, requests, seconds, connections, expect) -> None:
    queue.put(asyncio.run(_load(port, requests, seconds, connections, expect)))


async def _load(
    port: int, requests: list[bytes], seconds: float, connections: int, expect: bytes
) -> Result:
    latencies: list[float] = []
    failures: list = [0, ""]
    start = time.perf_counter()
    deadline = start + seconds
    stride = max(1, len(requests) // connections)
    turns = [
        itertools.islice(itertools.cycle(requests), n * stride, None) for n in range(connections)
    ]
    await asyncio.gather(
        *(_connection(port, turn, deadline, latencies, failures, expect) for turn in turns)
    )
    return Result(len(latencies), time.perf_counter() - start, latencies, *failures)


async def _connection(port, turn, deadline, latencies, failures, expect) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.perf_counter() < deadline:
            sent = time.perf_counter()
            writer.write(next(turn))
            head = await reader.readuntil(b"\r\n\r\n")
            body = await reader.readexactly(_content_length(head))
            if not head.startswith(b"HTTP/1.1 200") or expect not in body:
                failures[0] += 1
                failures[1] = failures[1] or (head.split(b"\r\n")[0] + b" " + body[:200]).decode(
                    "utf-8", "replace"
                )
                continue
            latencies.append(time.perf_counter() - sent)
    finally:
        writer.close()


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    raise ValueError("the benchmark needs responses with Content-Length")


def post(path: str, body: bytes, content_type: str, **headers: str) -> bytes:
    lines = [
        f"POST {path} HTTP/1.1",
        "Host: 127.0.0.1",
        f"Content-Type: {content_type}",
        f"Content-Length: {len(body)}",
    ]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def get(path: str, **headers: str) -> bytes:
    lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()
