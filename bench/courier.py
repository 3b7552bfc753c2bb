"""What an event callback costs the courier's process: CPU per callback delivered.

The courier runs in a child process of `taskrouter serve` (see events/courier_process.py).
On a machine whose cores routing also needs, each of its CPU milliseconds is one routing
cannot have, so this is the figure that decides whether callbacks slow routing down.

For each store, RUNS times: a workspace with WORKERS workers whose EventCallbackUrl is a
local receiver that answers at once; once the set-up's callbacks are delivered, tasks are
created at --rate per second for --seconds, and the courier's user and system CPU time
(`/proc/PID/stat`) is read from just before until the receiver stops getting callbacks.
Beside it, the same for the server's process and, on SQLite, its writer process.

Usage: python bench/courier.py [--seconds 5] [--runs 5] [--stores sqlite,postgres] [--rate 1000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from e2e import create_task_op, setup_workspace
from loadgen import open_loop, run
from serving import connections, database, quiet, receiver, report, start_server, stop

WORKERS = 200
WORKER_CAPACITY = 50
CONNECTIONS = 32
TICK_S = 1 / os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User plus system time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * TICK_S


def child_pid(parent: int, module: str) -> int | None:
    """The child of `parent` running `module`, if any."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == parent and module.encode() in command:
            return int(entry.name)
    return None


async def measure(port: int, server_pid: int, hook: str, rate: int, seconds: float) -> dict:
    (admin,) = await connections(port, 1)
    # Enough capacity that every task is reserved, with room to spare.
    workers = max(WORKERS, int(rate * seconds / WORKER_CAPACITY * 1.25))
    base, workflow = await setup_workspace(admin, hook, workers)
    await quiet(hook)
    processes = {"courier": "taskrouter.events.courier_process", "writer": "sqlite_writer"}
    pids = {name: child_pid(server_pid, module) for name, module in processes.items()}
    pids["server"] = server_pid
    running = {name: pid for name, pid in pids.items() if pid is not None}
    if "courier" not in running:
        raise RuntimeError("no courier process found under the server")
    before = {name: cpu_seconds(pid) for name, pid in running.items()}
    delivered_before = await quiet(hook, 0.0)
    conns = await connections(port, CONNECTIONS)
    started = time.perf_counter()
    failures: list[str] = []
    try:
        await open_loop(conns, create_task_op(base, workflow, failures), rate, seconds)
    finally:
        for conn in conns:
            await conn.close()
    loaded_s = time.perf_counter() - started
    during = {name: cpu_seconds(pid) - before[name] for name, pid in running.items()}
    delivered = await quiet(hook) - delivered_before
    elapsed = time.perf_counter() - started
    # `quiet` ends QUIET_S after the last callback: the courier idled through that second.
    spent = {name: cpu_seconds(pid) - before[name] for name, pid in running.items()}
    await admin.request("DELETE", base)
    await admin.close()
    if failures:
        raise RuntimeError(f"{len(failures)} failed creations, e.g. {failures[0]}")
    figures = {f"{name}_cpu_us_per_callback": s / delivered * 1e6 for name, s in spent.items()}
    figures["callbacks"] = delivered
    figures["seconds"] = elapsed
    for name, s in during.items():
        figures[f"{name}_share_of_a_core_under_load"] = s / loaded_s
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--stores", default="sqlite,postgres")
    parser.add_argument("--rate", type=int, default=1000, help="tasks/s offered")
    args = parser.parse_args()
    results: list[tuple[str, float, str, float | None, str]] = []
    with receiver(True) as hook:
        for store in args.stores.split(","):
            with database(store) as url:
                if url is None:
                    continue
                proc, port = start_server(url)
                try:
                    runs = []
                    for _ in range(args.runs):
                        figures = run(measure(port, proc.pid, hook, args.rate, args.seconds))
                        runs.append(figures)
                        shown = ", ".join(
                            f"{k.removesuffix('_cpu_us_per_callback')} {v:.1f} us"
                            for k, v in figures.items()
                            if k.endswith("_per_callback")
                        )
                        shares = ", ".join(
                            f"{k.split('_')[0]} {v:.0%}"
                            for k, v in figures.items()
                            if k.endswith("_under_load")
                        )
                        print(
                            f"  {store}: {figures['callbacks']:,} callbacks"
                            f" in {figures['seconds']:.1f} s; {shown}; under load {shares}",
                            flush=True,
                        )
                finally:
                    stop(proc)
                for name in sorted({k for r in runs for k in r if k.endswith("_per_callback")}):
                    value = statistics.median(r[name] for r in runs if name in r)
                    results.append((f"{store}_{name}", value, "us", None, "lower"))
    report("courier", results)


if __name__ == "__main__":
    main()
