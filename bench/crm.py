"""The CRM face's reads and task-type availability, in process.

One workspace with `--tasks` live tasks (default 20,000) carrying the CRM's attributes, built
through the service on a SQLite file. Then, over RUNS rounds:
  - list: GET .../twilio-unterminated-tasks (a page of 50, through the ASGI app, no network)
    unfiltered, by taskType, by taskAttrMatchExpr, and sorted by an attribute;
  - routing (the engine alone, no commit): creating a task that is reserved at once, in a
    workspace of `--workers` available workers (default 1,000), without a task-type
    availability configuration and with one that blocks the task's type for every worker but
    the longest-busy one (the worst case: matching walks past every blocked worker).

Usage: python bench/crm.py [--tasks 20000] [--workers 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from taskrouter.app import create_app
from taskrouter.engine.engine import TaskUpdate
from taskrouter.service.queues import QueueFields
from taskrouter.service.service import Service
from taskrouter.service.tasks import NewTask
from taskrouter.service.workers import WorkerFields
from taskrouter.service.workflows import WorkflowFields

RUNS = 30
TYPES = ["answerInboundVoiceCall", "replyToNewText", "reviewVoicemail", "smartReviewCase"]


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(len(ordered) * q), len(ordered) - 1)]


async def workspace(service: Service, account_sid: str, name: str) -> tuple[str, str]:
    state = await service.workspaces.create(account_sid, name)
    queue = await service.task_queues.create(
        account_sid, state.sid, QueueFields(friendly_name="all", target_workers="1==1")
    )
    config = json.dumps({"task_routing": {"filters": [], "default_filter": {"queue": queue.sid}}})
    workflow = await service.workflows.create(
        account_sid, state.sid, WorkflowFields(friendly_name="wf", configuration=config)
    )
    return state.sid, workflow.sid


async def bench_lists(
    service: Service, app: object, account: object, args: argparse.Namespace
) -> dict[str, float]:
    rnd = random.Random(3)
    sid, workflow = await workspace(service, account.sid, "lists")  # type: ignore[attr-defined]
    creates = [
        service.tasks.create(
            account.sid,  # type: ignore[attr-defined]
            sid,
            NewTask(
                attributes=json.dumps(
                    {
                        "taskType": rnd.choice(TYPES),
                        "caseId": f"C{rnd.randrange(5000)}",
                        "rank": rnd.randrange(100),
                    }
                ),
                workflow_sid=workflow,
            ),
        )
        for _ in range(args.tasks)
    ]
    for start in range(0, len(creates), 2000):
        await asyncio.gather(*creates[start : start + 2000])
    token = base64.b64encode(f"{account.sid}:{account.auth_token}".encode()).decode()  # type: ignore[attr-defined]
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    figures: dict[str, float] = {}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://bench", headers={"Authorization": f"Basic {token}"}
    ) as client:
        cases = {
            "all": {},
            "task_type": {"taskType": "reviewVoicemail"},
            "expression": {"taskAttrMatchExpr": "rank > 90 AND taskType == 'replyToNewText'"},
            "sorted_by_attribute": {"sortBy": "-attributes.rank"},
        }
        for name, params in cases.items():
            times = []
            for _ in range(RUNS):
                started = time.perf_counter()
                response = await client.get(
                    f"/companies/{sid}/twilio-unterminated-tasks", params=params
                )
                times.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, response.text
            figures[name] = statistics.median(times)
            print(f"  list {name}: median {figures[name]:.1f} ms, p90 {p(times, 0.9):.1f} ms")
    return figures


async def bench_routing(
    service: Service, account: object, args: argparse.Namespace
) -> dict[str, float]:
    account_sid = account.sid  # type: ignore[attr-defined]
    sid, workflow = await workspace(service, account_sid, "routing")
    state = service.runtime.workspaces[sid]
    available = next(a.sid for a in state.activities.values() if a.friendly_name == "Available")
    channel = next(c.sid for c in state.channels.values() if c.unique_name == "default")
    workers = []
    for i in range(args.workers):
        worker = await service.workers.create(
            account_sid, sid, WorkerFields(friendly_name=f"w{i}", activity_sid=available)
        )
        workers.append(worker.sid)
    figures: dict[str, float] = {}
    for label, config in (
        ("no_availability", {}),
        ("type_blocked_for_all_but_one", {w: {"replyToNewText": False} for w in workers[:-1]}),
    ):
        await service.task_type_availability.replace(state, config)
        times = []
        engine = state.engine
        for _ in range(RUNS * 10):
            # The engine alone (no commit), so the figure is the matching, not the disk.
            started = time.perf_counter()
            task = engine.create_task(
                account_sid=account_sid,
                attributes='{"taskType": "replyToNewText"}',
                parsed_attributes={"taskType": "replyToNewText"},
                priority=None,
                task_channel_sid=channel,
                workflow_sid=workflow,
                timeout=3600,
                virtual_start_time=None,
            )
            times.append((time.perf_counter() - started) * 1000)
            assert task.assignment_status == "reserved"
            # Free the worker again, so every round sees the same workspace.
            engine.update_task(task.sid, TaskUpdate(assignment_status="canceled", reason="bench"))
            engine.drain()
        figures[label] = statistics.median(times)
        print(
            f"  engine create+route {label}: median {figures[label]:.3f} ms,"
            f" p90 {p(times, 0.9):.3f} ms"
        )
    return figures


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(f"sqlite:///{Path(tmp) / 'bench.db'}", run_timers=False)
        service: Service = app.state.service
        await service.start()
        try:
            account = await service.accounts.create("bench")
            lists = await bench_lists(service, app, account, args)
            routing = await bench_routing(service, account, args)
        finally:
            await service.stop()
    for name, value in lists.items():
        print(
            json.dumps(
                {
                    "bench": "crm",
                    "metric": f"list_{name}_{args.tasks}_tasks_ms",
                    "value": round(value, 2),
                    "unit": "ms",
                    "better": "lower",
                }
            )
        )
    for name, value in routing.items():
        print(
            json.dumps(
                {
                    "bench": "crm",
                    "metric": f"engine_create_and_route_{name}_{args.workers}_workers_ms",
                    "value": round(value, 3),
                    "unit": "ms",
                    "better": "lower",
                }
            )
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=1_000)
    asyncio.run(main(parser.parse_args()))
