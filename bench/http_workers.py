"""Worker activity updates over HTTP against the real server: throughput and latency.

    python bench/http_workers.py [--stores sqlite,postgres] [--runs 3] [--seconds 5]

For each store it starts `taskrouter serve` (SQLite WAL with synchronous=FULL as the server
runs it, or a fresh PostgreSQL database, skipped with a message when unreachable), creates a
workspace and 200 workers, then measures

1. sustained: `POST /v1/Workspaces/WS/Workers/WK  ActivitySid=...` (alternating Available and
   Unavailable) back to back on 32 keep-alive connections for `--seconds` -> updates/s;
2. latency: 1,000 updates/s offered on an open-loop schedule for `--seconds`; each latency
   counts from the request's scheduled time, so queueing is not hidden -> p50/p99.

Each is run `--runs` times and the median reported. Every 200 means the update is durable (the
server answers after COMMIT). The load generator (bench/loadgen.py, a lean keep-alive client)
runs on the same 2 cores as the server, so the figures are a lower bound of the server alone.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from loadgen import Connection, closed_loop, open_loop, percentile
from serving import connections, database, report, server

WORKERS = 200
CONNECTIONS = 32
OFFERED_RATE = 1000
TARGET_UPDATES_PER_SECOND = 3000
TARGET_P99_MS = 10


@dataclass
class Fixture:
    path: str  # /v1/Workspaces/WS.../Workers
    workers: list[str]
    activities: tuple[str, str]  # Available, Unavailable


async def setup(conn: Connection) -> Fixture:
    reply = await conn.request("POST", "/v1/Workspaces", {"FriendlyName": "bench"})
    assert reply.status == 201, reply.body
    ws = orjson.loads(reply.body)["sid"]
    reply = await conn.request("GET", f"/v1/Workspaces/{ws}/Activities")
    by_name = {a["friendly_name"]: a["sid"] for a in orjson.loads(reply.body)["activities"]}
    path = f"/v1/Workspaces/{ws}/Workers"
    workers = []
    for i in range(WORKERS):
        form = {"FriendlyName": f"agent-{i}", "Attributes": '{"skills": ["support"]}'}
        reply = await conn.request("POST", path, form)
        assert reply.status == 201, reply.body
        workers.append(orjson.loads(reply.body)["sid"])
    return Fixture(path, workers, (by_name["Available"], by_name["Unavailable"]))


def update_op(fx: Fixture, failures: list[str]):  # type: ignore[no-untyped-def]
    async def one(conn: Connection, n: int) -> None:
        worker = fx.workers[n % len(fx.workers)]
        activity = fx.activities[(n // len(fx.workers)) % 2]
        reply = await conn.request("POST", f"{fx.path}/{worker}", {"ActivitySid": activity})
        if reply.status != 200:
            failures.append(f"HTTP {reply.status}: {reply.body[:200]!r}")

    return one


async def measure(port: int, runs: int, seconds: float) -> dict[str, float]:
    (admin,) = await connections(port, 1)
    fx = await setup(admin)
    await admin.close()
    failures: list[str] = []
    op = update_op(fx, failures)
    rates: list[float] = []
    p50s: list[float] = []
    p99s: list[float] = []
    for run in range(runs + 1):
        conns = await connections(port, CONNECTIONS)
        cpu = time.process_time()
        count, elapsed = await closed_loop(conns, op, 1.0 if run == 0 else seconds)
        client_us = (time.process_time() - cpu) / max(count, 1) * 1e6
        if run:  # the first is a warm-up
            rates.append(count / elapsed)
            print(f"  run {run}: {rates[-1]:,.0f} updates/s (client CPU {client_us:.0f} µs each)")
        latencies = await open_loop(conns, op, OFFERED_RATE, seconds) if run else []
        if latencies:
            p50s.append(percentile(latencies, 50))
            p99s.append(percentile(latencies, 99))
            print(f"  run {run}: at {OFFERED_RATE}/s p50 {p50s[-1]:.2f} ms p99 {p99s[-1]:.2f} ms")
        for conn in conns:
            await conn.close()
    if failures:
        raise RuntimeError(f"{len(failures)} failed updates, e.g. {failures[0]}")
    return {
        "updates_per_second": statistics.median(rates),
        "p50_ms": statistics.median(p50s),
        "p99_ms": statistics.median(p99s),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stores", default="sqlite,postgres")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"http_workers: {WORKERS} workers, {CONNECTIONS} connections; load average {load}")
    results: list[tuple[str, float, str, float | None, str]] = []
    for store in args.stores.split(","):
        with database(store) as url:
            if url is None:
                continue
            print(f"{store}:")
            with server(url) as port:
                figures = asyncio.run(measure(port, args.runs, args.seconds))
        results += [
            (
                f"{store}_updates_per_second",
                figures["updates_per_second"],
                "1/s",
                TARGET_UPDATES_PER_SECOND,
                "higher",
            ),
            (f"{store}_p50_ms_at_1000", figures["p50_ms"], "ms", None, "lower"),
            (f"{store}_p99_ms_at_1000", figures["p99_ms"], "ms", TARGET_P99_MS, "lower"),
        ]
    report("http_workers", results)


if __name__ == "__main__":
    main()
