"""Store throughput with group commit: many concurrent callers, one Put per commit.

Usage: python bench/store.py [--seconds S] [--runs N] [--callers C]
PostgreSQL is benchmarked in a throwaway database made through TASKROUTER_BENCH_POSTGRES_URL
(default postgresql://postgres@127.0.0.1:5432/test); it is skipped when unreachable.
Prints human lines, then one JSON line per figure.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import orjson

from taskrouter.store import Put, open_store

POSTGRES_URL = os.environ.get(
    "TASKROUTER_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
TARGET_COMMITS_PER_SECOND = 5000


def task_put(sid: str) -> Put:
    """A task row about the size the service writes (a ~600-byte body)."""
    body = {
        "sid": sid,
        "account_sid": "AC" + "0" * 32,
        "workspace_sid": "WS" + "0" * 32,
        "workflow_sid": "WW" + "0" * 32,
        "attributes": '{"type":"support","language":"en","priority":"high","customer":"c-123"}',
        "assignment_status": "pending",
        "priority": 0,
        "reason": None,
        "timeout": 86400,
        "task_queue_sid": "WQ" + "0" * 32,
        "task_channel_unique_name": "default",
        "date_created": 1_700_000_000_000,
        "date_updated": 1_700_000_000_000,
        "links": {"reservations": "https://example.invalid/v1/Workspaces/WS/Tasks/WT/R"},
    }
    return Put(
        "tasks",
        sid,
        {
            "account_sid": body["account_sid"],
            "workspace_sid": body["workspace_sid"],
            "assignment_status": "pending",
            "date_created_ms": 1_700_000_000_000,
            "date_closed_ms": None,
            "body": body,
        },
    )


async def one_run(url: str, seconds: float, callers: int) -> tuple[float, float, float]:
    """(commits per second, p99 commit latency in ms, commits per transaction)."""
    store = open_store(url)
    await store.open()
    latencies: list[float] = []
    prefix = secrets.token_hex(4)
    stop_at = time.perf_counter() + seconds
    stats = getattr(store, "stats", None)
    tx_before = stats.transactions if stats else 0

    async def caller(n: int) -> None:
        i = 0
        while time.perf_counter() < stop_at:
            put = task_put(f"WT{prefix}{n:03}{i:09}")
            i += 1
            t0 = time.perf_counter()
            await store.commit([put])
            latencies.append(time.perf_counter() - t0)

    started = time.perf_counter()
    try:
        await asyncio.gather(*(caller(n) for n in range(callers)))
        elapsed = time.perf_counter() - started
        transactions = (stats.transactions - tx_before) if stats else 0
    finally:
        await store.close()
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99)] * 1000
    return len(latencies) / elapsed, p99, len(latencies) / max(transactions, 1)


def bench(name: str, url: str, args: argparse.Namespace) -> float:
    rates = []
    for run in range(1, args.runs + 1):
        rate, p99, per_tx = asyncio.run(one_run(url, args.seconds, args.callers))
        rates.append(rate)
        print(
            f"{name} run {run}: {rate:,.0f} commits/s, p99 {p99:.1f} ms, "
            f"{per_tx:.1f} commits per transaction ({args.callers} callers)"
        )
    median = statistics.median(rates)
    print(f"{name}: median {median:,.0f} commits/s over {args.runs} runs")
    return median


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(POSTGRES_URL, timeout=3)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--callers", type=int, default=64)
    args = parser.parse_args()

    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        figures["sqlite"] = bench("sqlite", f"sqlite:///{Path(tmp) / 'bench.db'}", args)

    name = "taskrouter_bench_" + secrets.token_hex(4)
    try:
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
        where = POSTGRES_URL.rsplit("@", 1)[-1]
        print(f"postgres: skipped, not reachable at {where} ({exc})")
    else:
        url = urlunsplit(urlsplit(POSTGRES_URL)._replace(path="/" + name))
        try:
            figures["postgres"] = bench("postgres", url, args)
        finally:
            asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    for backend, value in figures.items():
        line = {
            "bench": "store",
            "metric": f"{backend}_commits_per_second",
            "value": round(value, 1),
            "unit": "1/s",
            "target": TARGET_COMMITS_PER_SECOND,
            "better": "higher",
        }
        sys.stdout.write(orjson.dumps(line).decode() + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
