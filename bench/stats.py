"""Statistics at Twilio's largest workspace, in process.

7,500 available workers, 5,000 queues (skill expressions, membership computed by the real
predicates), 10,000 live tasks across them, and a retained history of 1,000,000 events spread
over 30 days (task lifecycles with reservations accepted, rejected and timed out, and worker
activity changes), fed through the same `History.observe` the server uses. The state is built
directly in memory (not over HTTP) to keep set-up short. Then, repeated RUNS times, each
request is a call on the service layer plus serialising its answer:
  - queue real-time statistics of a random queue;
  - bulk real-time statistics of 50 random queues;
  - workspace cumulative statistics over the last 24 hours and over 30 days;
  - workers statistics (real-time and cumulative, all 7,500 workers, default 15 minutes).
Also: how fast the history replays from the event log in the store at start (events/s; read,
decoded and observed), and resident memory once built.

Usage: python bench/stats.py [--scale 1.0]   (e.g. --scale 0.05 for a quick run)
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import random
import resource
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from taskrouter.domain.clock import iso8601
from taskrouter.domain.entities import Task, Worker
from taskrouter.domain.sids import Prefix, new_sid
from taskrouter.service.queues import QueueFields
from taskrouter.service.service import Service
from taskrouter.service.statistics import Span
from taskrouter.store import Put, open_store

RUNS = 3
SKILLS = 500
DAY_MS = 86_400_000
START_MS = 1_767_225_600_000  # 2026-01-01


class FixedClock:
    def __init__(self, ms: int) -> None:
        self.ms = ms

    def now_ms(self) -> int:
        return self.ms


def rss_mib() -> float:
    """Resident memory now (Linux), not the peak: the peak includes the generated bodies."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


async def build(service: Service, args: argparse.Namespace, now: int) -> dict[str, Any]:
    rnd = random.Random(11)
    account = await service.accounts.create("bench")
    state = await service.workspaces.create(account.sid, "bench")
    ws = state.sid
    activities = {a.friendly_name: a.sid for a in state.activities.values()}
    channels = [c.sid for c in state.channels.values()]
    queue_sids: list[str] = []
    started = time.perf_counter()
    for i in range(args.queues):
        queue = await service.task_queues.create(
            account.sid,
            ws,
            QueueFields(friendly_name=f"q{i}", target_workers=f"skills HAS 's{i % SKILLS}'"),
        )
        queue_sids.append(queue.sid)
    print(f"  {args.queues} queues in {time.perf_counter() - started:.1f} s")

    started = time.perf_counter()
    for i in range(args.workers):
        skills = [f"s{rnd.randrange(SKILLS)}" for _ in range(6)]
        sid = new_sid(Prefix.WORKER)
        worker = Worker(
            sid,
            account.sid,
            ws,
            f"w{i}",
            activities["Available"],
            json.dumps({"skills": skills}),
            now - 30 * DAY_MS,
            now - 30 * DAY_MS,
            now - rnd.randrange(3_600_000),
        )
        state.workers[sid] = worker
        state.worker_names[worker.friendly_name] = sid
        state.worker_channels[sid] = {}
    # Membership as the server keeps it: every worker indexed, then every queue evaluated.
    for worker in state.workers.values():
        state.index_worker(worker)
    for queue_sid in queue_sids:
        state.index_queue(state.queues[queue_sid])
    print(f"  {args.workers} workers and membership in {time.perf_counter() - started:.1f} s")

    # Live tasks, straight into the engine and the live index.
    engine = state.engine
    live = service.runtime.stats.live_tasks(ws)
    statuses = ["pending", "pending", "reserved", "assigned", "wrapping"]
    for _ in range(args.tasks):
        created = now - rnd.randrange(3_600_000)
        task = Task(
            new_sid(Prefix.TASK),
            account.sid,
            ws,
            "{}",
            rnd.choice(statuses),
            rnd.randrange(5),
            rnd.choice(channels),
            None,
            86_400,
            created,
            created,
            created,
            task_queue_sid=rnd.choice(queue_sids),
            task_queue_entered_date=created + rnd.randrange(60_000),
        )
        engine.tasks[task.sid] = task
        live.update(task)
    return {
        "account": account.sid,
        "ws": ws,
        "queues": queue_sids,
        "workers": list(state.workers),
        "channels": channels,
        "activities": list(activities.values()),
        "state": state,
    }


def history_events(built: dict[str, Any], count: int, now: int) -> list[dict[str, Any]]:
    """`count` event bodies over the 30 days before `now`, shaped like the stored ones."""
    rnd = random.Random(5)
    ws = built["ws"]
    queues, workers, channels = built["queues"], built["workers"], built["channels"]
    activities = built["activities"]
    workflow = new_sid(Prefix.WORKFLOW)
    bodies: list[dict[str, Any]] = []
    span = 30 * DAY_MS - 60_000
    moments = sorted(now - span + rnd.randrange(span) for _ in range(count // 5 + 1))

    def body(kind: str, at: int, resource: str, data: dict[str, str]) -> None:
        bodies.append(
            {
                "sid": "",
                "account_sid": built["account"],
                "workspace_sid": ws,
                "event_type": kind,
                "event_date_ms": at,
                "resource_type": "task",
                "resource_sid": resource,
                "data": {"WorkspaceSid": ws, **data},
            }
        )

    for created in moments:
        if len(bodies) >= count:
            break
        task = new_sid(Prefix.TASK)
        queue = rnd.choice(queues)
        worker = rnd.choice(workers)
        fields = {
            "TaskSid": task,
            "TaskChannelSid": rnd.choice(channels),
            "TaskQueueSid": queue,
            "WorkflowSid": workflow,
            "TaskDateCreated": iso8601(created) or "",
        }
        body("task.created", created, task, fields)
        body("workflow.entered", created, workflow, fields)
        body("task-queue.entered", created, queue, fields)
        reserved = created + rnd.randrange(1, 120_000)
        outcome = rnd.random()
        body("reservation.created", reserved, task, {**fields, "WorkerSid": worker})
        if outcome < 0.8:
            accepted = reserved + rnd.randrange(1, 20_000)
            body("reservation.accepted", accepted, task, {**fields, "WorkerSid": worker})
            body("task.completed", accepted + 300_000, task, fields)
            body("reservation.completed", accepted + 300_000, task, {**fields, "WorkerSid": worker})
        elif outcome < 0.9:
            body("reservation.rejected", reserved + 5_000, task, {**fields, "WorkerSid": worker})
            body("task.canceled", reserved + 60_000, task, fields)
        else:
            body("reservation.timeout", reserved + 120_000, task, {**fields, "WorkerSid": worker})
            body(
                "worker.activity.update",
                reserved + 120_000,
                worker,
                {
                    "WorkerSid": worker,
                    "WorkerActivitySid": rnd.choice(activities),
                    "WorkerPreviousActivitySid": rnd.choice(activities),
                    "WorkerTimeInPreviousActivityMs": str(rnd.randrange(3_600_000)),
                },
            )
    bodies.sort(key=lambda b: b["event_date_ms"])
    # SIDs follow commit order, as the event log hands them out.
    for seq, body in enumerate(bodies, 1):
        body["sid"] = f"EV{seq:032x}"
    return bodies[:count]


def timed(run: Callable[[], Any], repeat: int) -> list[float]:
    timings = []
    for _ in range(repeat):
        started = time.perf_counter_ns()
        orjson.dumps(run())
        timings.append((time.perf_counter_ns() - started) / 1e6)
    return timings


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args()
    args.workers = max(int(7_500 * args.scale), 50)
    args.queues = max(int(5_000 * args.scale), 50)
    args.tasks = max(int(10_000 * args.scale), 50)
    args.events = max(int(1_000_000 * args.scale), 1_000)
    now = START_MS + 31 * DAY_MS
    clock = FixedClock(now)
    folder = Path(tempfile.mkdtemp(prefix="taskrouter-bench-stats-"))
    service = Service(open_store(f"sqlite:///{folder / 'bench.db'}"), clock)
    await service.start()
    print(
        f"building: {args.workers} available workers, {args.queues} queues,"
        f" {args.tasks} live tasks, {args.events} events of history"
    )
    built = await build(service, args, now)
    bodies = history_events(built, args.events, now)
    # The events go into the store as the event log writes them, then the history is
    # replayed from there as a serving process does at start.
    started = time.perf_counter()
    for first in range(0, len(bodies), 10_000):
        await service.runtime.store.commit(
            [
                Put(
                    "events",
                    body["sid"],
                    {
                        "account_sid": body["account_sid"],
                        "workspace_sid": body["workspace_sid"],
                        "event_type": body["event_type"],
                        "event_date_ms": body["event_date_ms"],
                        "resource_sid": body["resource_sid"],
                        "body": body,
                    },
                )
                for body in bodies[first : first + 10_000]
            ]
        )
    print(f"  {len(bodies)} events stored in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    await service.statistics.rebuild()
    replay_s = time.perf_counter() - started
    replay_rate = len(bodies) / replay_s
    print(f"  history of {len(bodies)} events replayed from the store in {replay_s:.1f} s")
    del bodies
    gc.collect()
    gc.freeze()
    memory = rss_mib()
    print(f"  resident memory {memory:.0f} MiB")

    stats = service.statistics
    account, ws, queues = built["account"], built["ws"], built["queues"]
    rnd = random.Random(3)
    day = Span(start_ms=now - DAY_MS)
    month = Span(start_ms=now - 30 * DAY_MS + 60_000)
    results: dict[str, list[float]] = {}
    for run in range(RUNS):
        figures = {
            "queue_realtime_p99_ms": timed(
                lambda: stats.queue_realtime(account, ws, rnd.choice(queues), None), 2_000
            ),
            "bulk_realtime_50_p99_ms": timed(
                lambda: stats.bulk_realtime(account, ws, rnd.sample(queues, 50)), 300
            ),
            "workspace_cumulative_24h_p99_ms": timed(
                lambda: stats.workspace_cumulative(account, ws, day, None), 200
            ),
            "workspace_cumulative_30d_p99_ms": timed(
                lambda: stats.workspace_cumulative(account, ws, month, None, ["20", "60"]), 200
            ),
            "workers_statistics_p99_ms": timed(
                lambda: (
                    stats.workers_realtime(account, ws, None),
                    stats.workers_cumulative(account, ws, Span(), None),
                ),
                100,
            ),
        }
        line = []
        for name, timings in figures.items():
            results.setdefault(name, []).append(p99(timings))
            line.append(f"{name.removesuffix('_p99_ms')} {median(timings):.2f}/{p99(timings):.2f}")
        print(f"  run {run + 1} median/p99 ms: " + ", ".join(line))
    await service.stop()

    targets = {
        "queue_realtime_p99_ms": 5,
        "bulk_realtime_50_p99_ms": 20,
        "workspace_cumulative_24h_p99_ms": 50,
        "workspace_cumulative_30d_p99_ms": 50,
        "workers_statistics_p99_ms": 50,
    }
    out = [(name, median(values), "ms", targets[name], "lower") for name, values in results.items()]
    out.append(("history_replay_events_per_second", replay_rate, "1/s", 100_000, "higher"))
    out.append(("resident_memory_mib", memory, "MiB", 2048, "lower"))
    for metric, value, unit, target, better in out:
        print(
            json.dumps(
                {
                    "bench": "statistics",
                    "metric": metric,
                    "value": round(value, 4),
                    "unit": unit,
                    "target": target,
                    "better": better,
                }
            )
        )


if __name__ == "__main__":
    asyncio.run(main())
