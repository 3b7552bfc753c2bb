"""Worker SDK sockets at scale: 7,500 workers connected to one server process.

One `taskrouter serve` (SQLite) with a workspace of WORKERS available workers; a client
process opens one /v1/wschannels socket per worker, as the Worker SDK does (token in the query,
permessage-deflate offered, no client pings), and waits for each `init`. Measured:
  - resident memory the server added for the sockets (VmRSS after connecting minus before);
  - idle CPU of the server with every socket connected and heartbeats flowing (% of a core),
    beside the same server's idle CPU before any socket connected;
  - commit-to-socket latency: tasks created at RATE/s (open loop), each reserving one worker;
    for every reservation, the time from its event's `event_date_ms` (stamped as the command
    builds its commit, so the commit itself is inside the figure) to the arrival of
    `reservation.created` on that worker's socket. Client and server share the machine clock.
Last, in process and apart from all that: the microseconds the fan-out adds to one task
create's commit, with WORKERS connections registered.
Each latency run uses fresh workers (no task is completed), so RUNS x RATE x SECONDS must stay
below WORKERS. The client, the load generator and the server share the 2 cores.

Usage: python bench/websockets.py [--workers 7500] [--rate 1000] [--seconds 2.5] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from multiprocessing.connection import Connection as Pipe
from pathlib import Path
from typing import Any

import orjson

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from loadgen import Connection, open_loop, percentile  # noqa: E402
from serving import ACCOUNT, ROOT, TOKEN, start_server  # noqa: E402
from taskrouter.api.eventbridge.sockets import Connection as Socket  # noqa: E402
from taskrouter.api.eventbridge.sockets import Sockets  # noqa: E402
from taskrouter.auth.access_tokens import TaskRouterGrant, issue  # noqa: E402
from taskrouter.domain.sids import Prefix, new_sid  # noqa: E402
from taskrouter.service.queues import QueueFields  # noqa: E402
from taskrouter.service.service import Service  # noqa: E402
from taskrouter.service.tasks import NewTask  # noqa: E402
from taskrouter.service.workers import WorkerFields  # noqa: E402
from taskrouter.service.workflows import WorkflowFields  # noqa: E402
from taskrouter.store import open_store  # noqa: E402

# This file is named like the `websockets` library: import the library, not this script.
sys.path = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.modules.pop("websockets", None)
import websockets  # noqa: E402

SETUP_CONNECTIONS = 16
CONNECT_CONCURRENCY = 200


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def idle_cpu_percent(pid: int, seconds: float) -> float:
    cpu0, t0 = cpu_seconds(pid), time.perf_counter()
    time.sleep(seconds)
    return (cpu_seconds(pid) - cpu0) / (time.perf_counter() - t0) * 100


async def setup(port: int, workers: int) -> tuple[str, str, list[str]]:
    conns = [Connection("127.0.0.1", port, (ACCOUNT, TOKEN)) for _ in range(SETUP_CONNECTIONS)]
    await asyncio.gather(*(c.open() for c in conns))
    first = conns[0]
    reply = await first.request("POST", "/v1/Workspaces", {"FriendlyName": f"ws-{uuid.uuid4()}"})
    ws = orjson.loads(reply.body)["sid"]
    base = f"/v1/Workspaces/{ws}"
    activities = orjson.loads((await first.request("GET", f"{base}/Activities")).body)
    available = next(a["sid"] for a in activities["activities"] if a["available"])
    queue = orjson.loads(
        (await first.request("POST", f"{base}/TaskQueues", {"FriendlyName": "all"})).body
    )["sid"]
    configuration = {"task_routing": {"filters": [], "default_filter": {"queue": queue}}}
    workflow = orjson.loads(
        (
            await first.request(
                "POST",
                f"{base}/Workflows",
                {
                    "FriendlyName": "wf",
                    "Configuration": json.dumps(configuration),
                    # No reservation may time out while the bench runs.
                    "TaskReservationTimeout": "86400",
                },
            )
        ).body
    )["sid"]
    sids: list[str] = []

    async def make(conn: Connection, start: int) -> None:
        for i in range(start, workers, SETUP_CONNECTIONS):
            reply = await conn.request(
                "POST", f"{base}/Workers", {"FriendlyName": f"w{i}", "ActivitySid": available}
            )
            assert reply.status == 201, reply.body
            sids.append(orjson.loads(reply.body)["sid"])

    await asyncio.gather(*(make(c, i) for i, c in enumerate(conns)))
    for conn in conns:
        await conn.close()
    return ws, workflow, sids


def api_key(database: str) -> dict[str, str]:
    out = subprocess.run(
        [
            *(sys.executable, "-m", "taskrouter", "keys", "create"),
            *("--account", ACCOUNT, "--database", database),
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout
    key: dict[str, str] = json.loads(out)
    return key


# -- the client process ---------------------------------------------------------------------


def client_main(url: str, tokens: list[str], pipe: Pipe) -> None:
    asyncio.run(_client(url, tokens, pipe))


async def _client(url: str, tokens: list[str], pipe: Pipe) -> None:
    arrivals: dict[str, float] = {}
    sockets: list[Any] = []
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    marker = b'{"event_type":"reservation.created"'

    async def listen(socket: Any) -> None:
        try:
            async for message in socket:
                if isinstance(message, str) and message.startswith(marker.decode()):
                    at = time.time() * 1000
                    arrivals[orjson.loads(message)["payload"]["sid"]] = at
        except websockets.ConnectionClosed:
            pass

    async def open_one(token: str) -> None:
        async with gate:
            socket = await websockets.connect(
                f"{url}?token={token}&closeExistingSessions=false&clientVersion=2.1.1",
                ping_interval=None,
                max_queue=None,
                open_timeout=120,
            )
            init = orjson.loads(await socket.recv())
            assert init["event_type"] == "init", init
            sockets.append(socket)
            asyncio.get_running_loop().create_task(listen(socket))

    started = time.perf_counter()
    await asyncio.gather(*(open_one(t) for t in tokens))
    pipe.send(("connected", time.perf_counter() - started))
    loop = asyncio.get_running_loop()
    while True:
        command = await loop.run_in_executor(None, pipe.recv)
        if command == "arrivals":
            pipe.send(dict(arrivals))
            arrivals.clear()
        elif command == "stop":
            break
    await asyncio.gather(*(s.close() for s in sockets), return_exceptions=True)
    pipe.send(("closed", len(sockets)))


# -- measuring ------------------------------------------------------------------------------


async def event_dates(port: int, ws: str) -> dict[str, int]:
    """reservation sid -> event_date_ms of its reservation.created event."""
    conn = Connection("127.0.0.1", port, (ACCOUNT, TOKEN))
    await conn.open()
    found: dict[str, int] = {}
    path: str | None = (
        f"/v1/Workspaces/{ws}/Events?EventType=reservation.created&Minutes=60&PageSize=1000"
    )
    while path:
        page = orjson.loads((await conn.request("GET", path)).body)
        for event in page["events"]:
            found[event["resource_sid"]] = event["event_date_ms"]
        next_url = page["meta"]["next_page_url"]
        path = next_url.split(str(port), 1)[1] if next_url else None
    await conn.close()
    return found


async def load(
    port: int, ws: str, workflow: str, rate: float, seconds: float
) -> tuple[list[str], list[float]]:
    """Create tasks at `rate`; returns failures and each create's reply latency (ms)."""
    failures: list[str] = []
    conns = [Connection("127.0.0.1", port, (ACCOUNT, TOKEN)) for _ in range(32)]
    await asyncio.gather(*(c.open() for c in conns))

    async def one(conn: Connection, i: int) -> None:
        reply = await conn.request(
            "POST", f"/v1/Workspaces/{ws}/Tasks", {"WorkflowSid": workflow, "Attributes": "{}"}
        )
        if reply.status != 201 or b'"assignment_status":"reserved"' not in reply.body:
            failures.append(reply.body[:200].decode(errors="replace"))

    latencies = await open_loop(conns, one, rate, seconds)
    for conn in conns:
        await conn.close()
    return failures, latencies


async def fanout_cost(workers: int, database: str, repeats: int = 2_000) -> float:
    """In process, without sockets or a load generator around it: microseconds that routing
    one task create's committed events (a reservation among them) to `workers` registered
    connections takes on the committing task. Less sensitive to a busy machine than the rest."""
    service = Service(open_store(database))
    await service.start()
    try:
        account = await service.accounts.create()
        state = await service.workspaces.create(account.sid, "fanout")
        ws = state.sid
        available = next(a.sid for a in state.activities.values() if a.available)
        queue = await service.task_queues.create(account.sid, ws, QueueFields(friendly_name="q"))
        routing = {"task_routing": {"filters": [], "default_filter": {"queue": queue.sid}}}
        workflow = await service.workflows.create(
            account.sid,
            ws,
            WorkflowFields(friendly_name="wf", configuration=json.dumps(routing)),
        )
        worker = await service.workers.create(
            account.sid, ws, WorkerFields(friendly_name="w", activity_sid=available)
        )
        batches: list[list[dict[str, Any]]] = []
        service.runtime.events.streams.add_listener(batches.append)
        await service.tasks.create(account.sid, ws, NewTask(workflow_sid=workflow.sid))
        batch = batches[-1]
        sockets = Sockets(service)
        sids = [worker.sid] + [new_sid(Prefix.WORKER) for _ in range(workers - 1)]
        for sid in sids:
            grant = TaskRouterGrant(account.sid, "SK", ws, sid, "worker", None, 2**40)
            sockets.by_worker[sid] = [Socket(None, grant, True)]  # type: ignore[arg-type]
        mine = sockets.by_worker[worker.sid][0]
        started = time.perf_counter()
        for _ in range(repeats):
            sockets.publish(batch)
            while not mine.queue.empty():
                mine.queue.get_nowait()
        return (time.perf_counter() - started) / repeats * 1e6
    finally:
        await service.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=7_500)
    parser.add_argument("--rate", type=float, default=1_000.0)
    parser.add_argument("--seconds", type=float, default=2.5)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--idle", type=float, default=30.0, help="idle CPU window, seconds")
    args = parser.parse_args()
    if args.runs * args.rate * args.seconds > args.workers:
        parser.error("runs x rate x seconds must stay below --workers (fresh workers per run)")

    with tempfile.TemporaryDirectory() as tmp:
        database = f"sqlite:///{tmp}/taskrouter.db"
        proc, port = start_server(database)
        try:
            print(f"setting up {args.workers:,} workers ...", flush=True)
            ws, workflow, workers = asyncio.run(setup(port, args.workers))
            key = api_key(database)
            now_s = int(time.time())
            tokens = [
                issue(
                    account_sid=ACCOUNT,
                    key_sid=key["sid"],
                    secret=key["secret"],
                    workspace_sid=ws,
                    worker_sid=sid,
                    now_s=now_s,
                    ttl_s=7200,
                )
                for sid in workers
            ]
            time.sleep(2)  # let setup garbage settle before the baseline
            before = rss_bytes(proc.pid)
            baseline_cpu = idle_cpu_percent(proc.pid, args.idle)
            print(f"  idle CPU before any socket: {baseline_cpu:.1f}% of a core", flush=True)
            parent, child = multiprocessing.Pipe()
            client = multiprocessing.get_context("fork").Process(
                target=client_main, args=(f"ws://127.0.0.1:{port}/v1/wschannels", tokens, child)
            )
            client.start()
            _, connect_s = parent.recv()
            print(f"  {args.workers:,} sockets connected in {connect_s:.1f} s", flush=True)
            time.sleep(3)
            added = rss_bytes(proc.pid) - before
            print(f"  resident memory added: {added / 2**20:.0f} MiB", flush=True)

            idle_cpu = idle_cpu_percent(proc.pid, args.idle)
            print(f"  idle CPU with every socket open: {idle_cpu:.1f}% of a core", flush=True)

            p99s: list[float] = []
            p50s: list[float] = []
            replies: list[float] = []
            for _ in range(args.runs):
                failures, reply_ms = asyncio.run(load(port, ws, workflow, args.rate, args.seconds))
                replies.append(percentile(reply_ms, 99))
                if failures:
                    raise RuntimeError(f"{len(failures)} tasks failed, e.g. {failures[0]}")
                time.sleep(1)
                parent.send("arrivals")
                arrivals: dict[str, float] = parent.recv()
                dates = asyncio.run(event_dates(port, ws))
                latencies = [at - dates[sid] for sid, at in arrivals.items() if sid in dates]
                expected = int(args.rate * args.seconds)
                if len(latencies) < expected:
                    raise RuntimeError(f"only {len(latencies)} of {expected} reservations arrived")
                p99s.append(percentile(latencies, 99))
                p50s.append(percentile(latencies, 50))
                print(
                    f"  run: {len(latencies):,} reservations at {args.rate:,.0f}/s,"
                    f" commit-to-socket p50 {p50s[-1]:.1f} ms p99 {p99s[-1]:.1f} ms"
                    f" (the creates' own replies: p99 {replies[-1]:.1f} ms)",
                    flush=True,
                )
            parent.send("stop")
            parent.recv()
            client.join(30)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)

    with tempfile.TemporaryDirectory() as tmp:
        costs = [
            asyncio.run(fanout_cost(args.workers, f"sqlite:///{tmp}/fanout{i}.db"))
            for i in range(3)
        ]
    fanout_us = statistics.median(costs)
    print(f"  fan-out of one task create's events in process: {fanout_us:.1f} us", flush=True)

    figures = [
        ("resident_memory_added", added / 2**20, "MiB", 1024, "lower"),
        ("idle_cpu", idle_cpu, "% of a core", None, "lower"),
        ("idle_cpu_before_sockets", baseline_cpu, "% of a core", None, "lower"),
        ("reservation_to_socket_p99", statistics.median(p99s), "ms", 20, "lower"),
        ("reservation_to_socket_p50", statistics.median(p50s), "ms", None, "lower"),
        # The same load's HTTP replies, for scale: what the machine allowed the server.
        ("task_create_reply_p99", statistics.median(replies), "ms", None, "lower"),
        ("fanout_per_task_create", fanout_us, "us", None, "lower"),
    ]
    for metric, value, unit, target, better in figures:
        line = {"bench": "websockets", "metric": metric, "value": round(value, 2), "unit": unit}
        line |= {"target": target, "better": better, "workers": args.workers}
        print(json.dumps(line))


if __name__ == "__main__":
    main()
