"""What the HTTP benches share: a taskrouter server, a bare ASGI ceiling, throwaway
databases, a local webhook receiver, and the JSON figure lines every bench ends with."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from loadgen import Connection

ROOT = Path(__file__).resolve().parents[1]
ACCOUNT = "AC" + "b" * 32
TOKEN = "bench-token"
# How long `quiet` waits without a callback before it calls the courier caught up.
QUIET_S = 1.0
POSTGRES_ADMIN = os.environ.get(
    "TASKROUTER_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_listening(port: int, proc: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.time() + 30
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited during start")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{what} did not start")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def start_server(database: str) -> tuple[subprocess.Popen[bytes], int]:
    """`taskrouter serve` on `database` with the bench account, listening; the caller stops
    it (SIGTERM). `server` below does both for those that need only the port."""
    port = free_port()
    env = os.environ | {"TASKROUTER_ACCOUNT_SID": ACCOUNT, "TASKROUTER_AUTH_TOKEN": TOKEN}
    command = [sys.executable, "-m", "taskrouter", "serve", "--port", str(port)]
    command += ["--database", database, "--log-level", "warning"]
    proc = subprocess.Popen(command, env=env, cwd=ROOT)
    try:
        _wait_listening(port, proc, "taskrouter")
    except BaseException:
        stop(proc)
        raise
    return proc, port


@contextmanager
def server(database: str) -> Iterator[int]:
    """`taskrouter serve` on `database` with the bench account; yields its port."""
    proc, port = start_server(database)
    try:
        yield port
    finally:
        stop(proc)


_BARE = """
import uvicorn
async def app(scope, receive, send):
    if scope['type'] != 'http':
        return
    while (await receive()).get('more_body'):
        pass
    await send({'type': 'http.response.start', 'status': 200,
                'headers': [(b'content-type', b'application/json'), (b'content-length', b'2')]})
    await send({'type': 'http.response.body', 'body': b'{}'})
uvicorn.run(app, host='127.0.0.1', port=PORT, loop='uvloop', http='httptools',
            log_level='warning', access_log=False)
"""


@contextmanager
def bare_asgi() -> Iterator[int]:
    """The ceiling: uvicorn with a handler that answers `{}` to everything."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", _BARE.replace("PORT", str(port))])
    try:
        _wait_listening(port, proc, "bare ASGI server")
        yield port
    finally:
        stop(proc)


_RECEIVER = """
import asyncio, sys, uvloop
answer = sys.argv[2] == "answer"
received = 0
class Receiver(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport, self.buffer = transport, b""
    def data_received(self, data):
        global received
        self.buffer += data
        while True:
            head, sep, rest = self.buffer.partition(b"\\r\\n\\r\\n")
            if not sep:
                return
            length = 0
            for line in head.split(b"\\r\\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if len(rest) < length:
                return
            self.buffer = rest[length:]
            if head.startswith(b"GET /count"):
                body = str(received).encode()
            else:
                received += 1
                if not answer:
                    continue
                body = b""
            self.transport.write(b"HTTP/1.1 200 OK\\r\\nContent-Length: %d\\r\\n\\r\\n" % len(body)
                                 + body)
async def main():
    server = await asyncio.get_running_loop().create_server(Receiver, "127.0.0.1",
                                                            int(sys.argv[1]))
    await server.serve_forever()
uvloop.run(main())
"""


@contextmanager
def receiver(answers: bool) -> Iterator[str]:
    """A webhook receiver in its own process: it answers 200 at once, or never answers.
    Yields its URL; `GET /count` there tells how many callbacks it got (when it answers)."""
    port = free_port()
    mode = "answer" if answers else "silent"
    proc = subprocess.Popen([sys.executable, "-c", _RECEIVER, str(port), mode])
    try:
        _wait_listening(port, proc, "receiver")
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(proc)


def _admin(sql: str) -> None:
    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect(POSTGRES_ADMIN, timeout=3)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run())


@contextmanager
def database(store: str) -> Iterator[str | None]:
    """A fresh database for `store` ("sqlite" or "postgres"), dropped afterwards; None, with a
    message, when PostgreSQL is not reachable."""
    if store == "sqlite":
        with tempfile.TemporaryDirectory(prefix="taskrouter-bench-") as folder:
            yield f"sqlite:///{folder}/bench.db"
        return
    name = f"taskrouter_bench_{uuid.uuid4().hex[:8]}"
    try:
        _admin(f'CREATE DATABASE "{name}"')
    except Exception as exc:
        print(f"  PostgreSQL not reachable at {POSTGRES_ADMIN} ({exc}); skipping it")
        yield None
        return
    try:
        yield POSTGRES_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def connections(
    port: int, count: int, auth: tuple[str, str] | None = (ACCOUNT, TOKEN)
) -> list[Connection]:
    conns = [Connection("127.0.0.1", port, auth) for _ in range(count)]
    await asyncio.gather(*(c.open() for c in conns))
    return conns


def report(bench: str, figures: list[tuple[str, float, str, float | None, str]]) -> None:
    """One JSON line per figure: (metric, value, unit, target or None, better)."""
    for metric, value, unit, target, better in figures:
        line: dict[str, object] = {"bench": bench, "metric": metric, "value": round(value, 4)}
        line["unit"] = unit
        if target is not None:
            line["target"] = target
        line["better"] = better
        print(json.dumps(line))


async def quiet(url: str, still_s: float = QUIET_S, limit_s: float = 300.0) -> int:
    """Wait until the receiver at `url` got no callback for `still_s` (the courier has caught
    up), at most `limit_s`; the number it got."""
    host, port = url.removeprefix("http://").split(":")
    conn = Connection(host, int(port), None)
    await conn.open()
    try:
        count, deadline = -1, time.monotonic() + limit_s
        while time.monotonic() < deadline:
            now = int((await conn.request("GET", "/count")).body)
            if now == count:
                break
            count = now
            await asyncio.sleep(still_s)
        return count
    finally:
        await conn.close()
