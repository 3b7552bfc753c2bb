"""The routing engine at Twilio's largest workspace, in process.

15,000 registered workers (7,500 available), 5,000 queues, a 100-filter workflow and 500,000
live tasks, built through the service on a SQLite file (so the reload figure reads a real
database). Then, repeated RUNS times:
  - decisions: a worker completes its task and the engine reserves its next one, timed per
    decision (the completion and the choice of the next task together), then it is accepted;
  - re-index: one worker's attributes change, re-evaluated against all 5,000 queues;
and once: resident memory after loading, the server's periodic audit of the whole workspace
(in slices; how long the longest slice holds the event loop, and how long it all takes), and
the time to reload everything from SQLite.

Usage: python bench/engine.py [--tasks 500000] [--workers 15000] [--queues 5000]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import random
import resource
import statistics
import tempfile
import time
from pathlib import Path

from serving import report
from taskrouter.domain.clock import SystemClock
from taskrouter.domain.lifecycles import ReservationStatus
from taskrouter.engine.audit import audit_slices
from taskrouter.engine.engine import TaskUpdate
from taskrouter.service.queues import QueueFields
from taskrouter.service.runtime import Runtime
from taskrouter.service.service import Service
from taskrouter.service.workers import WorkerFields
from taskrouter.service.workflows import WorkflowFields
from taskrouter.store import open_store

RUNS = 5
SKILLS = 500
FILTERS = 100


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def gather_in_batches(coros: list, size: int = 2000) -> list:  # type: ignore[type-arg]
    out = []
    for start in range(0, len(coros), size):
        out.extend(await asyncio.gather(*coros[start : start + size]))
    return out


async def build(service: Service, args: argparse.Namespace) -> tuple[str, str, str]:
    rnd = random.Random(7)
    account = await service.accounts.create("bench")
    state = await service.workspaces.create(account.sid, "bench")
    ws = state.sid
    available = next(a.sid for a in state.activities.values() if a.friendly_name == "Available")
    offline = next(a.sid for a in state.activities.values() if a.friendly_name == "Offline")
    queue_sids = []
    for i in range(args.queues):
        expression = f"skills HAS 's{i % SKILLS}' AND level >= {i % 5}"
        queue = await service.task_queues.create(
            account.sid, ws, QueueFields(friendly_name=f"q{i}", target_workers=expression)
        )
        queue_sids.append(queue.sid)
    filters = [
        {
            "filter_friendly_name": f"f{j}",
            "expression": f"type == 't{j}' AND tier IN ['gold', 'silver', 'bronze']",
            "targets": [{"queue": queue_sids[j * (args.queues // FILTERS)]}],
        }
        for j in range(FILTERS)
    ]
    configuration = json.dumps({"task_routing": {"filters": filters}})
    workflow = await service.workflows.create(
        account.sid, ws, WorkflowFields(friendly_name="wf", configuration=configuration)
    )
    started = time.perf_counter()
    creates = []
    for i in range(args.workers):
        skills = [
            f"s{(j * FILTERS // (args.queues // FILTERS)) % SKILLS}"
            for j in rnd.sample(range(FILTERS), 3)
        ]
        skills += [f"s{rnd.randrange(SKILLS)}" for _ in range(3)]
        attributes = json.dumps(
            {
                "skills": skills,
                "level": rnd.randrange(10),
                "languages": {"en": rnd.randrange(5), "es": rnd.randrange(5)},
            }
        )
        activity = available if i % 2 == 0 else offline
        creates.append(
            service.workers.create(
                account.sid,
                ws,
                WorkerFields(friendly_name=f"w{i}", attributes=attributes, activity_sid=activity),
            )
        )
    await gather_in_batches(creates)
    print(f"  {args.workers} workers in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    from taskrouter.service.tasks import NewTask

    tiers = ["gold", "silver", "bronze"]
    task_creates = [
        service.tasks.create(
            account.sid,
            ws,
            NewTask(
                attributes=json.dumps(
                    {"type": f"t{rnd.randrange(FILTERS)}", "tier": tiers[i % 3], "n": i}
                ),
                workflow_sid=workflow.sid,
                priority=rnd.randrange(3),
            ),
        )
        for i in range(args.tasks)
    ]
    await gather_in_batches(task_creates)
    print(f"  {args.tasks} tasks in {time.perf_counter() - started:.1f} s")
    return account.sid, ws, workflow.sid


def accept_all_pending(service: Service, ws: str) -> None:
    engine = service.runtime.workspaces[ws].engine
    for reservation in list(engine.reservations.values()):
        if reservation.reservation_status == ReservationStatus.PENDING:
            engine.update_reservation(reservation.sid, "accepted")
    engine.drain()


def decisions(service: Service, ws: str, count: int) -> list[float]:
    """Complete a worker's task; the engine picks that worker's next task. µs per decision."""
    engine = service.runtime.workspaces[ws].engine
    assigned = [t.sid for t in engine.tasks.values() if t.assignment_status == "assigned"]
    timings: list[float] = []
    for task_sid in assigned[:count]:
        worker_sid = next(
            engine.reservations[r].worker_sid
            for r in engine.reservations_of_task[task_sid]
            if engine.reservations[r].reservation_status == "accepted"
        )
        started = time.perf_counter_ns()
        engine.update_task(task_sid, TaskUpdate(assignment_status="completed", reason="done"))
        timings.append((time.perf_counter_ns() - started) / 1000)
        for rsid in engine.reservations_of_worker[worker_sid][-1:]:
            if engine.reservations[rsid].reservation_status == "pending":
                engine.update_reservation(rsid, "accepted")
        engine.drain()
    return timings


def reindex(service: Service, ws: str, count: int) -> list[float]:
    state = service.runtime.workspaces[ws]
    workers = list(state.workers.values())[:count]
    timings = []
    for i, worker in enumerate(workers):
        attributes = dict(worker.parsed_attributes)
        attributes["skills"] = [*attributes["skills"][1:], f"s{i % SKILLS}"]
        started = time.perf_counter_ns()
        worker.parsed_attributes = attributes
        state.index_worker(worker)
        state.engine.worker_changed(worker)
        timings.append((time.perf_counter_ns() - started) / 1000)
        state.engine.drain()
    return timings


def audit(service: Service, ws: str) -> tuple[list[float], int]:
    """The audit the server runs every minute, slice by slice: each slice's ms, and findings."""
    slices: list[float] = []
    findings = 0
    steps = audit_slices(service.runtime.workspaces[ws].engine)
    while True:
        started = time.perf_counter_ns()
        found = next(steps, None)
        if found is None:
            return slices, findings
        slices.append((time.perf_counter_ns() - started) / 1e6)
        findings += len(found)


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98]


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=500_000)
    parser.add_argument("--workers", type=int, default=15_000)
    parser.add_argument("--queues", type=int, default=5_000)
    parser.add_argument("--decisions", type=int, default=5_000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="taskrouter-bench-"))
    url = f"sqlite:///{folder / 'bench.db'}"
    service = Service(open_store(url))
    await service.start()
    print(
        f"building: {args.workers} workers, {args.queues} queues, {FILTERS} filters,"
        f" {args.tasks} tasks"
    )
    _, ws, _ = await build(service, args)
    accept_all_pending(service, ws)
    gc.collect()
    gc.freeze()
    memory = rss_mib()
    print(f"  resident memory {memory:.0f} MiB")

    rates, p99s, reindex_ms = [], [], []
    for run in range(RUNS):
        timings = decisions(service, ws, args.decisions)
        rate = len(timings) / (sum(timings) / 1e6)
        rates.append(rate)
        p99s.append(p99(timings) / 1000)
        re = reindex(service, ws, 200)
        reindex_ms.append(statistics.median(re) / 1000)
        print(
            f"  run {run + 1}: {rate:,.0f} decisions/s, p99 {p99s[-1]:.3f} ms,"
            f" re-index median {reindex_ms[-1]:.3f} ms (max {max(re) / 1000:.3f})"
        )
    slices, findings = audit(service, ws)
    print(
        f"  audit: {len(slices)} slices, longest {max(slices):.1f} ms, {sum(slices) / 1000:.1f} s"
        f" in all, {findings} findings"
    )
    await service.runtime.commit_with_engine(service.runtime.workspaces[ws])
    await service.stop()

    started = time.perf_counter()
    runtime = Runtime(open_store(url), SystemClock())
    await runtime.store.open()
    await runtime.load()
    reload_s = time.perf_counter() - started
    await runtime.store.close()
    print(f"  reload from SQLite: {reload_s:.1f} s")

    figures: list[tuple[str, float, str, float | None, str]] = [
        ("decisions_per_second", statistics.median(rates), "1/s", 100_000, "higher"),
        ("decision_p99_ms", statistics.median(p99s), "ms", 0.2, "lower"),
        ("reindex_worker_ms", statistics.median(reindex_ms), "ms", 2, "lower"),
        ("resident_memory_mib", memory, "MiB", 1536, "lower"),
        ("reload_seconds", reload_s, "s", 30, "lower"),
        ("audit_longest_slice_ms", max(slices), "ms", None, "lower"),
        ("audit_seconds", sum(slices) / 1000, "s", None, "lower"),
    ]
    report("engine", figures)


if __name__ == "__main__":
    asyncio.run(main())
