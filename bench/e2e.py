"""Tasks over HTTP with durable commits, end to end, on SQLite and PostgreSQL.

For each store, RUNS times on a fresh workspace (1,000 available workers, capacity 50 each on
the default channel, one queue, a workflow):
  - sustained: tasks created and routed per second (each 201 must come back `reserved`),
    32 connections back to back;
  - latency: create-to-reservation at 1,000 tasks/s offered (open loop); the reservation is
    made before the create is answered, so this is the create's latency;
  - lifecycles: create, find the reservation, accept it, complete the task, per second.
Beside them, from the same run, the rate of a bare ASGI handler on the same machine, so the
figures read as a share of the ceiling. The load generator shares the 2 cores with the server.

Usage: python bench/e2e.py [--seconds 5] [--runs 3] [--stores sqlite,postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from loadgen import Connection, closed_loop, open_loop, percentile

ROOT = Path(__file__).resolve().parents[1]
ACCOUNT = "AC" + "b" * 32
TOKEN = "bench-token"
WORKERS = 1_000
CONNECTIONS = 32


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.time() + 30
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("server exited during start")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("server did not start")


def start_server(database: str) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    env = os.environ | {"TASKROUTER_ACCOUNT_SID": ACCOUNT, "TASKROUTER_AUTH_TOKEN": TOKEN}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "taskrouter",
            "serve",
            "--port",
            str(port),
            "--database",
            database,
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    wait_ready(port, proc)
    return proc, port


def start_bare() -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    code = (
        "import uvicorn\n"
        "async def app(scope, receive, send):\n"
        "    if scope['type'] != 'http': return\n"
        "    while (await receive()).get('more_body'): pass\n"
        "    await send({'type': 'http.response.start', 'status': 201,"
        " 'headers': [(b'content-type', b'application/json'), (b'content-length', b'2')]})\n"
        "    await send({'type': 'http.response.body', 'body': b'{}'})\n"
        f"uvicorn.run(app, host='127.0.0.1', port={port}, loop='uvloop', http='httptools',"
        " log_level='warning', access_log=False)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code])
    wait_ready(port, proc)
    return proc, port


async def connections(
    port: int, auth: tuple[str, str] | None = (ACCOUNT, TOKEN)
) -> list[Connection]:
    conns = [Connection("127.0.0.1", port, auth) for _ in range(CONNECTIONS)]
    await asyncio.gather(*(c.open() for c in conns))
    return conns


async def setup_workspace(conn: Connection) -> tuple[str, str]:
    ws = orjson.loads(
        (
            await conn.request(
                "POST", "/v1/Workspaces", {"FriendlyName": f"bench-{uuid.uuid4().hex[:8]}"}
            )
        ).body
    )
    base = f"/v1/Workspaces/{ws['sid']}"
    activities = orjson.loads((await conn.request("GET", f"{base}/Activities")).body)
    available = next(a["sid"] for a in activities["activities"] if a["available"])
    reply = await conn.request("POST", f"{base}/TaskQueues", {"FriendlyName": "all"})
    assert reply.status == 201, reply.body
    queue = orjson.loads(reply.body)
    configuration = {"task_routing": {"filters": [], "default_filter": {"queue": queue["sid"]}}}
    workflow = orjson.loads(
        (
            await conn.request(
                "POST",
                f"{base}/Workflows",
                {"FriendlyName": "wf", "Configuration": json.dumps(configuration)},
            )
        ).body
    )
    for i in range(WORKERS):
        worker = orjson.loads(
            (
                await conn.request(
                    "POST", f"{base}/Workers", {"FriendlyName": f"w{i}", "ActivitySid": available}
                )
            ).body
        )
        reply = await conn.request(
            "POST", f"{base}/Workers/{worker['sid']}/Channels/default", {"Capacity": "50"}
        )
        assert reply.status == 200, reply.body
    return base, workflow["sid"]


def create_task_op(base: str, workflow: str, failures: list[str]):  # type: ignore[no-untyped-def]
    async def one(conn: Connection, i: int) -> None:
        reply = await conn.request(
            "POST",
            f"{base}/Tasks",
            {"WorkflowSid": workflow, "Attributes": f'{{"n": {i}, "type": "bench"}}'},
        )
        if reply.status != 201 or b'"assignment_status":"reserved"' not in reply.body:
            failures.append(reply.body[:200].decode(errors="replace"))

    return one


def lifecycle_op(base: str, workflow: str, failures: list[str]):  # type: ignore[no-untyped-def]
    async def one(conn: Connection, i: int) -> None:
        task = orjson.loads(
            (
                await conn.request(
                    "POST",
                    f"{base}/Tasks",
                    {"WorkflowSid": workflow, "Attributes": f'{{"n": {i}}}'},
                )
            ).body
        )
        reservations = orjson.loads(
            (await conn.request("GET", f"{base}/Tasks/{task['sid']}/Reservations")).body
        )["reservations"]
        if not reservations:
            failures.append(f"task {task['sid']} not reserved")
            return
        url = f"{base}/Tasks/{task['sid']}/Reservations/{reservations[0]['sid']}"
        accepted = await conn.request("POST", url, {"ReservationStatus": "accepted"})
        done = await conn.request(
            "POST",
            f"{base}/Tasks/{task['sid']}",
            {"AssignmentStatus": "completed", "Reason": "bench"},
        )
        if accepted.status != 200 or done.status != 200:
            failures.append(done.body[:200].decode(errors="replace"))

    return one


async def measure_store(database: str, seconds: float, runs: int) -> dict[str, list[float]]:
    proc, port = start_server(database)
    figures: dict[str, list[float]] = {
        "tasks_per_second": [],
        "p99_ms": [],
        "p50_ms": [],
        "lifecycles_per_second": [],
    }
    try:
        for _ in range(runs):
            conns = await connections(port)
            failures: list[str] = []
            base, workflow = await setup_workspace(conns[0])
            count, elapsed = await closed_loop(
                conns, create_task_op(base, workflow, failures), seconds
            )
            figures["tasks_per_second"].append(count / elapsed)
            base, workflow = await setup_workspace(conns[0])
            latencies = await open_loop(
                conns, create_task_op(base, workflow, failures), 1000, seconds
            )
            figures["p99_ms"].append(percentile(latencies, 99))
            figures["p50_ms"].append(percentile(latencies, 50))
            base, workflow = await setup_workspace(conns[0])
            count, elapsed = await closed_loop(
                conns, lifecycle_op(base, workflow, failures), seconds
            )
            figures["lifecycles_per_second"].append(count / elapsed)
            if failures:
                raise RuntimeError(f"{len(failures)} failed operations, e.g. {failures[0]}")
            print(
                f"    run: {figures['tasks_per_second'][-1]:,.0f} tasks/s,"
                f" p50 {figures['p50_ms'][-1]:.2f} ms p99 {figures['p99_ms'][-1]:.2f} ms at"
                f" 1,000/s, {figures['lifecycles_per_second'][-1]:,.0f} lifecycles/s"
            )
            for conn in conns:
                await conn.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    return figures


async def measure_bare(seconds: float) -> float:
    proc, port = start_bare()
    try:
        conns = await connections(port, None)

        async def one(conn: Connection, i: int) -> None:
            await conn.request("POST", "/v1/Workspaces/WS/Tasks", {"Attributes": '{"n": 1}'})

        count, elapsed = await closed_loop(conns, one, seconds)
        return count / elapsed
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def postgres_database() -> str | None:
    admin = os.environ.get(
        "TASKROUTER_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
    )
    name = f"taskrouter_bench_{uuid.uuid4().hex[:8]}"
    try:
        import asyncpg

        async def create() -> None:
            conn = await asyncpg.connect(admin, timeout=3)
            await conn.execute(f'CREATE DATABASE "{name}"')
            await conn.close()

        asyncio.run(create())
    except Exception as exc:
        print(f"  PostgreSQL not reachable at {admin} ({exc}); skipping it")
        return None
    return admin.rsplit("/", 1)[0] + f"/{name}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--stores", default="sqlite,postgres")
    args = parser.parse_args()
    results: list[tuple[str, float, str, float, str]] = []
    bare = statistics.median(asyncio.run(measure_bare(args.seconds)) for _ in range(args.runs))
    print(f"bare ASGI handler: {bare:,.0f} requests/s")
    for store in args.stores.split(","):
        if store == "sqlite":
            database: str | None = f"sqlite:///{tempfile.mkdtemp(prefix='taskrouter-e2e-')}/e2e.db"
        else:
            database = postgres_database()
        if database is None:
            continue
        print(f"{store}:")
        figures = asyncio.run(measure_store(database, args.seconds, args.runs))
        tps = statistics.median(figures["tasks_per_second"])
        results += [
            (f"{store}_tasks_per_second", tps, "1/s", 4000, "higher"),
            (
                f"{store}_create_to_reservation_p99_ms",
                statistics.median(figures["p99_ms"]),
                "ms",
                5,
                "lower",
            ),
            (
                f"{store}_create_to_reservation_p50_ms",
                statistics.median(figures["p50_ms"]),
                "ms",
                5,
                "lower",
            ),
            (
                f"{store}_lifecycles_per_second",
                statistics.median(figures["lifecycles_per_second"]),
                "1/s",
                1500,
                "higher",
            ),
            (f"{store}_share_of_bare_asgi", tps / bare, "ratio", 0, "higher"),
        ]
    results.append(("bare_asgi_requests_per_second", bare, "1/s", 0, "higher"))
    for metric, value, unit, target, better in results:
        print(
            json.dumps(
                {
                    "bench": "e2e",
                    "metric": metric,
                    "value": round(value, 4),
                    "unit": unit,
                    "target": target,
                    "better": better,
                }
            )
        )


if __name__ == "__main__":
    main()
