"""A lean HTTP/1.1 keep-alive load generator for the benches, on asyncio streams.

The benches run the server and this client on the same 2 cores, so the client must cost as
little as possible per request: it writes pre-encoded requests and reads Content-Length
bodies, nothing more, and runs on uvloop (`run`), as the server does. On asyncio's own loop it
took 23-26% of a core at 1,000 requests/s, against 18-19%, and the server's event loop spent
16-18% of its time waiting for a CPU, against 8-11%.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlencode

import uvloop

run = uvloop.run


@dataclass(slots=True)
class Reply:
    status: int
    body: bytes


class Connection:
    def __init__(self, host: str, port: int, auth: tuple[str, str] | None) -> None:
        self.host, self.port = host, port
        token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode() if auth else None
        self.auth_header = f"Authorization: Basic {token}\r\n" if token else ""
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()

    async def request(self, method: str, path: str, form: dict[str, str] | None = None) -> Reply:
        assert self.reader is not None and self.writer is not None
        body = urlencode(form).encode() if form else b""
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n{self.auth_header}"
            f"Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        request = head.encode() + body
        self.writer.write(request)
        status_line = await self.reader.readline()
        if not status_line:
            # The server closed the connection while it sat idle (keep-alive timeout): the
            # request never reached it, so sending it again on a new one is safe.
            await self.open()
            assert self.reader is not None and self.writer is not None
            self.writer.write(request)
            status_line = await self.reader.readline()
        status = int(status_line.split(b" ", 2)[1])
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
        payload = await self.reader.readexactly(length) if length else b""
        return Reply(status, payload)


async def closed_loop(
    connections: list[Connection],
    one: Callable[[Connection, int], Awaitable[None]],
    seconds: float,
) -> tuple[int, float]:
    """Each connection runs `one` back to back for `seconds`; returns (count, elapsed)."""
    deadline = time.perf_counter() + seconds
    counts = [0] * len(connections)

    async def worker(index: int, conn: Connection) -> None:
        n = 0
        while time.perf_counter() < deadline:
            await one(conn, index * 10_000_000 + n)
            n += 1
        counts[index] = n

    started = time.perf_counter()
    await asyncio.gather(*(worker(i, c) for i, c in enumerate(connections)))
    return sum(counts), time.perf_counter() - started


async def open_loop(
    connections: list[Connection],
    one: Callable[[Connection, int], Awaitable[None]],
    rate: float,
    seconds: float,
) -> list[float]:
    """Start `rate` operations per second on a schedule; returns each one's latency in ms,
    measured from its scheduled start so a stalled server cannot hide its queueing."""
    free: asyncio.Queue[Connection] = asyncio.Queue()
    for conn in connections:
        free.put_nowait(conn)
    latencies: list[float] = []
    total = int(rate * seconds)
    started = time.perf_counter()

    async def run(i: int, scheduled: float) -> None:
        conn = await free.get()
        try:
            await one(conn, i)
        finally:
            free.put_nowait(conn)
        latencies.append((time.perf_counter() - scheduled) * 1000)

    tasks = []
    for i in range(total):
        scheduled = started + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(run(i, scheduled)))
    await asyncio.gather(*tasks)
    return latencies


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]
