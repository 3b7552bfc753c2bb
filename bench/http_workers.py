"""Worker activity updates over HTTP against the real server: throughput and latency.

    python bench/http_workers.py [--backend sqlite|postgres|both] [--runs 3] [--seconds 5]

For each backend it starts `python -m taskrouter serve` as a subprocess (SQLite in a temp dir,
synchronous=FULL as the server runs it; PostgreSQL in a fresh database of the cluster at
$TASKROUTER_TEST_POSTGRES_URL, default postgresql://postgres@127.0.0.1:5432/test, skipped with a
message when unreachable), creates a workspace and 200 workers, then measures

1. sustained: as many `POST /v1/Workspaces/WS/Workers/WK  ActivitySid=...` (alternating
   Available/Unavailable) as ~32 concurrent keep-alive requests of one asyncio HTTP client
   manage in `--seconds` -> updates/s;
2. latency: exactly 1,000 updates/s offered for `--seconds` on an open-loop schedule; each
   latency is counted from the request's scheduled time (no coordinated omission) -> p50/p99.

Each is run `--runs` times and the median reported. Every reply means the update is durable
(the server answers after COMMIT). The load generator runs on the same 2 cores as the server,
so the figures are a lower bound of what the server alone could do.

The client is aiohttp (installed with twilio) by default. `--client httpx` uses httpx's
AsyncClient instead: on these machines it costs ~3 ms of CPU per request and tops out near
300 requests/s, so it measures itself rather than the server.

The last lines are one JSON object per figure, e.g.
{"bench": "http_workers", "metric": "sqlite_updates_per_second", "value": 3500.0, "unit": "1/s",
 "target": 3000, "better": "higher"}
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

WORKERS = 200
CONCURRENCY = 32
OFFERED_RATE = 1000
TARGET_UPDATES_PER_SECOND = 3000
TARGET_P99_MS = 10
POSTGRES_URL = os.environ.get(
    "TASKROUTER_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


# -- the server -----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    base_url: str
    auth: tuple[str, str]
    log: Path


@contextmanager
def serve(database_url: str, workdir: Path) -> Iterator[Server]:
    port = _free_port()
    sid, token = "AC" + secrets.token_hex(16), secrets.token_hex(16)
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("TWILIO_EDGE", "TWILIO_REGION", "HTTP_PROXY", "http_proxy")
    }
    env.update(TASKROUTER_ACCOUNT_SID=sid, TASKROUTER_AUTH_TOKEN=token, NO_PROXY="127.0.0.1")
    log = workdir / f"server-{port}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "taskrouter",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--database",
                database_url,
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=workdir,
            env=env,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited {proc.returncode}:\n{log.read_text()}")
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"server not ready in 30 s:\n{log.read_text()}")
            time.sleep(0.05)
        yield Server(proc, base, (sid, token), log)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _postgres_admin(sql: str) -> None:
    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect(POSTGRES_URL, timeout=3)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run())


@contextmanager
def postgres_database() -> Iterator[str]:
    name = "taskrouter_bench_" + secrets.token_hex(4)
    _postgres_admin(f'CREATE DATABASE "{name}"')
    parts = urlsplit(POSTGRES_URL)
    try:
        yield urlunsplit(parts._replace(path="/" + name))
    finally:
        _postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# -- the load ------------------------------------------------------------------------------------


@dataclass
class Fixture:
    path: str  # /v1/Workspaces/WS.../Workers
    workers: list[str]
    activities: tuple[str, str]  # Available, Unavailable


@dataclass
class Outcome:
    ok: int = 0
    errors: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    first_error: str | None = None
    client_cpu_s: float = 0.0  # CPU the load generator itself used

    def summary(self) -> str:
        first = f"; first: {self.first_error}" if self.errors else ""
        return f"{self.ok} ok, {self.errors} errors{first}"


class Http:
    """The few calls the bench makes, over aiohttp (default) or httpx."""

    def __init__(self, server: Server, connections: int, kind: str) -> None:
        self.server = server
        self.connections = connections
        self.kind = kind
        token = base64.b64encode(":".join(server.auth).encode()).decode()
        self.headers = {"Authorization": f"Basic {token}"}
        self._aiohttp: Any = None
        self._httpx: httpx.AsyncClient | None = None

    async def __aenter__(self) -> Http:
        if self.kind == "aiohttp":
            import aiohttp

            self._aiohttp = aiohttp.ClientSession(
                self.server.base_url,
                headers=self.headers,
                connector=aiohttp.TCPConnector(limit=self.connections),
                timeout=aiohttp.ClientTimeout(total=30),
            )
        else:
            limits = httpx.Limits(
                max_connections=self.connections, max_keepalive_connections=self.connections
            )
            self._httpx = httpx.AsyncClient(
                base_url=self.server.base_url, headers=self.headers, limits=limits, timeout=30
            )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._aiohttp is not None:
            await self._aiohttp.close()
        if self._httpx is not None:
            await self._httpx.aclose()

    async def request(
        self, method: str, path: str, form: dict[str, str] | None = None
    ) -> tuple[int, str]:
        if self._aiohttp is not None:
            async with self._aiohttp.request(method, path, data=form) as r:
                return r.status, await r.text()
        assert self._httpx is not None
        response = await self._httpx.request(method, path, data=form)
        return response.status_code, response.text


async def setup(http: Http) -> Fixture:
    status, text = await http.request("POST", "/v1/Workspaces", {"FriendlyName": "bench"})
    assert status == 201, text
    ws = json.loads(text)["sid"]
    status, text = await http.request("GET", f"/v1/Workspaces/{ws}/Activities")
    by_name = {a["friendly_name"]: a["sid"] for a in json.loads(text)["activities"]}
    path = f"/v1/Workspaces/{ws}/Workers"
    sem = asyncio.Semaphore(CONCURRENCY)

    async def make(i: int) -> str:
        async with sem:
            status, text = await http.request(
                "POST",
                path,
                {"FriendlyName": f"agent-{i}", "Attributes": '{"skills": ["support"]}'},
            )
            assert status == 201, text
            sid: str = json.loads(text)["sid"]
            return sid

    workers = await asyncio.gather(*(make(i) for i in range(WORKERS)))
    return Fixture(path, list(workers), (by_name["Available"], by_name["Unavailable"]))


async def _update(http: Http, fx: Fixture, n: int, out: Outcome) -> bool:
    worker = fx.workers[n % len(fx.workers)]
    activity = fx.activities[(n // len(fx.workers)) % 2]
    try:
        status, text = await http.request("POST", f"{fx.path}/{worker}", {"ActivitySid": activity})
    except (TimeoutError, OSError, httpx.HTTPError) as exc:
        out.errors += 1
        out.first_error = out.first_error or repr(exc)
        return False
    if status != 200:
        out.errors += 1
        out.first_error = out.first_error or f"HTTP {status}: {text[:200]}"
        return False
    out.ok += 1
    return True


async def sustained(
    server: Server, kind: str, fx: Fixture, seconds: float
) -> tuple[float, Outcome]:
    out = Outcome()
    counter = iter(range(10**9))
    async with Http(server, CONCURRENCY, kind) as http:
        deadline = time.perf_counter() + seconds

        async def loop() -> None:
            while time.perf_counter() < deadline:
                await _update(http, fx, next(counter), out)

        started, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(loop() for _ in range(CONCURRENCY)))
        elapsed = time.perf_counter() - started
        out.client_cpu_s = time.process_time() - cpu
    return out.ok / elapsed, out


async def open_loop(server: Server, kind: str, fx: Fixture, seconds: float, rate: int) -> Outcome:
    out = Outcome()
    total = int(seconds * rate)
    async with Http(server, 4 * CONCURRENCY, kind) as http:
        start = time.perf_counter() + 0.05
        tasks = []

        async def one(n: int, scheduled: float) -> None:
            if await _update(http, fx, n, out):
                out.latencies_ms.append((time.perf_counter() - scheduled) * 1000)

        for n in range(total):
            scheduled = start + n / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(n, scheduled)))
        await asyncio.gather(*tasks)
    return out


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))
    return ordered[index]


async def measure(server: Server, kind: str, runs: int, seconds: float) -> dict[str, float]:
    async with Http(server, CONCURRENCY, kind) as http:
        fx = await setup(http)
    await sustained(server, kind, fx, 1.0)  # warm-up
    rates: list[float] = []
    p50s: list[float] = []
    p99s: list[float] = []
    for run in range(1, runs + 1):
        rate, out = await sustained(server, kind, fx, seconds)
        rates.append(rate)
        per_request_us = out.client_cpu_s / max(out.ok, 1) * 1e6
        print(
            f"  run {run}: sustained {rate:8.0f} updates/s "
            f"({out.summary()}; "
            f"load generator CPU {per_request_us:.0f} us/request, "
            f"{out.client_cpu_s / seconds:.0%} of a core)"
        )
    for run in range(1, runs + 1):
        out = await open_loop(server, kind, fx, seconds, OFFERED_RATE)
        p50 = _percentile(out.latencies_ms, 0.50)
        p99 = _percentile(out.latencies_ms, 0.99)
        p50s.append(p50)
        p99s.append(p99)
        print(
            f"  run {run}: at {OFFERED_RATE}/s offered p50 {p50:6.2f} ms  p99 {p99:6.2f} ms "
            f"({out.summary()})"
        )
    return {
        "updates_per_second": statistics.median(rates),
        "p50_ms_at_1000": statistics.median(p50s),
        "p99_ms_at_1000": statistics.median(p99s),
    }


def _install_uvloop() -> str:
    try:
        import uvloop

        uvloop.install()
        return "uvloop"
    except ImportError:  # pragma: no cover - uvicorn[standard] brings it
        return "asyncio"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--client", choices=["aiohttp", "httpx"], default="aiohttp")
    args = parser.parse_args()
    loop_kind = _install_uvloop()
    print(
        f"http_workers: {WORKERS} workers, {CONCURRENCY} concurrent keep-alive requests "
        f"({args.client} on {loop_kind}), {args.seconds:g} s per run, median of {args.runs} runs."
    )
    print(
        f"Note: the load generator shares this machine's {os.cpu_count()} cores with the "
        "server, so these figures understate what the server alone does; its own CPU per "
        "request is shown. Load average before start: "
        + ", ".join(f"{x:.2f}" for x in os.getloadavg())
        + " (anything else running skews the figures)."
    )
    results: list[dict[str, object]] = []
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    with tempfile.TemporaryDirectory(prefix="bench-http-workers-") as tmp:
        for backend in backends:
            workdir = Path(tmp) / backend
            workdir.mkdir()
            if backend == "sqlite":
                label = "SQLite (WAL, synchronous=FULL)"
                database: AbstractContextManager[str] = _sqlite(workdir)
            else:
                try:
                    _postgres_admin("SELECT 1")
                except Exception as exc:
                    where = POSTGRES_URL.rsplit("@", 1)[-1]
                    print(
                        f"{backend}: skipped, PostgreSQL not reachable at {where} "
                        f"({type(exc).__name__}: {exc})"
                    )
                    continue
                label = "PostgreSQL"
                database = postgres_database()
            print(f"{backend}: {label}")
            with database as url, serve(url, workdir) as server:
                figures = asyncio.run(measure(server, args.client, args.runs, args.seconds))
            print(
                f"{backend}: {figures['updates_per_second']:.0f} updates/s sustained "
                f"(target >= {TARGET_UPDATES_PER_SECOND}); at {OFFERED_RATE}/s: "
                f"p50 {figures['p50_ms_at_1000']:.2f} ms, p99 {figures['p99_ms_at_1000']:.2f} ms "
                f"(target p99 <= {TARGET_P99_MS} ms)"
            )
            results += [
                {
                    "bench": "http_workers",
                    "metric": f"{backend}_updates_per_second",
                    "value": round(figures["updates_per_second"], 1),
                    "unit": "1/s",
                    "target": TARGET_UPDATES_PER_SECOND,
                    "better": "higher",
                },
                {
                    "bench": "http_workers",
                    "metric": f"{backend}_p50_ms_at_1000",
                    "value": round(figures["p50_ms_at_1000"], 3),
                    "unit": "ms",
                    "better": "lower",
                },
                {
                    "bench": "http_workers",
                    "metric": f"{backend}_p99_ms_at_1000",
                    "value": round(figures["p99_ms_at_1000"], 3),
                    "unit": "ms",
                    "target": TARGET_P99_MS,
                    "better": "lower",
                },
            ]
    for result in results:
        print(json.dumps(result))
    return 0


@contextmanager
def _sqlite(workdir: Path) -> Iterator[str]:
    yield f"sqlite:///{workdir / 'taskrouter.db'}"


if __name__ == "__main__":
    raise SystemExit(main())
