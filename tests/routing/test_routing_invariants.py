"""The invariant checker itself: each invariant is reported when broken (so the per-step
checks cannot pass vacuously), and the checks really run after every write."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from routing.helpers import Snapshot, World, config, invariant_problems

WS = "WS" + "0" * 32
QUEUE = "WQ" + "0" * 32
FLOW = "WW" + "0" * 32
AVAILABLE = "WA" + "1" * 32
OFFLINE = "WA" + "2" * 32
CHAT = "TC" + "1" * 32


def _task(sid: str, status: str, **extra: Any) -> dict[str, Any]:
    return {
        "sid": sid,
        "assignment_status": status,
        "task_channel_sid": CHAT,
        "task_queue_sid": QUEUE,
        "workflow_sid": FLOW,
        "routing_target": None,
        "ignore_capacity": None,
        **extra,
    }


def _reservation(sid: str, task: str, worker: str, status: str) -> dict[str, Any]:
    return {"sid": sid, "task_sid": task, "worker_sid": worker, "reservation_status": status}


def _channel(worker: str, capacity: int, assigned: int, percentage: int) -> dict[str, Any]:
    return {
        "task_channel_sid": CHAT,
        "task_channel_unique_name": "chat",
        "configured_capacity": capacity,
        "assigned_tasks": assigned,
        "available_capacity_percentage": percentage,
        "available": True,
        "worker_sid": worker,
    }


def _healthy() -> Snapshot:
    """Worker A holds T1 (accepted) at capacity 1; worker B has T2 pending; T3 waits while
    A is full and B is offline."""
    a, b = "WK" + "a" * 32, "WK" + "b" * 32
    t1, t2, t3 = ("WT" + str(n) * 32 for n in (1, 2, 3))
    r1 = _reservation("WR" + "1" * 32, t1, a, "accepted")
    r2 = _reservation("WR" + "2" * 32, t2, b, "pending")
    return Snapshot(
        tasks={t1: _task(t1, "assigned"), t2: _task(t2, "reserved"), t3: _task(t3, "pending")},
        workers={a: {"sid": a, "activity_sid": AVAILABLE}, b: {"sid": b, "activity_sid": OFFLINE}},
        activities={
            AVAILABLE: {"sid": AVAILABLE, "available": True},
            OFFLINE: {"sid": OFFLINE, "available": False},
        },
        workflows={FLOW: {"sid": FLOW, "configuration": config(default={"queue": QUEUE})}},
        task_reservations={t1: [r1], t2: [r2], t3: []},
        worker_reservations={a: [dict(r1)], b: [dict(r2)]},
        worker_channels={a: [_channel(a, 1, 1, 0)], b: [_channel(b, 1, 0, 0)]},
        queue_members={QUEUE: {a, b}},
    )


def test_a_healthy_snapshot_has_no_problems() -> None:
    assert invariant_problems(_healthy(), multi_task=True) == []


def _broken(change: str) -> Snapshot:
    snap = copy.deepcopy(_healthy())
    a, b = sorted(snap.workers)
    t1, t2, t3 = sorted(snap.tasks)
    if change == "over capacity":
        extra = _reservation("WR" + "9" * 32, t3, a, "pending")
        snap.tasks[t3]["assignment_status"] = "reserved"
        snap.task_reservations[t3] = [extra]
        snap.worker_reservations[a].append(dict(extra))
    elif change == "two accepted":
        extra = _reservation("WR" + "9" * 32, t1, b, "accepted")
        snap.task_reservations[t1].append(extra)
        snap.worker_reservations[b].append(dict(extra))
    elif change == "idle worker":
        snap.workers[b]["activity_sid"] = AVAILABLE
        snap.task_reservations[t2][0]["reservation_status"] = "rejected"
        snap.worker_reservations[b][0]["reservation_status"] = "rejected"
        snap.tasks[t2]["assignment_status"] = "pending"
        snap.worker_channels[b][0]["available_capacity_percentage"] = 100
    elif change == "views disagree":
        snap.worker_reservations[b][0]["reservation_status"] = "accepted"
    elif change == "missing from worker":
        snap.worker_reservations[b] = []
    elif change == "status mismatch":
        snap.tasks[t2]["assignment_status"] = "assigned"
    elif change == "channel counter":
        snap.worker_channels[a][0]["assigned_tasks"] = 0
    return snap


@pytest.mark.parametrize(
    ("change", "mentions"),
    [
        ("over capacity", "over its capacity"),
        ("two accepted", "accepted reservations"),
        ("idle worker", "is available with capacity"),
        ("views disagree", "through its worker"),
        ("missing from worker", "is not under worker"),
        ("status mismatch", "but its reservations are"),
        ("channel counter", "assigned_tasks"),
    ],
)
def test_each_broken_invariant_is_reported(change: str, mentions: str) -> None:
    problems = invariant_problems(_broken(change), multi_task=True)
    assert any(mentions in p for p in problems), problems


def test_single_tasking_allows_one_task_per_worker() -> None:
    snap = _broken("over capacity")
    a = sorted(snap.workers)[0]
    snap.worker_channels[a][0]["configured_capacity"] = 5
    snap.worker_channels[a][0]["available_capacity_percentage"] = 60
    assert invariant_problems(snap, multi_task=True) == []
    problems = invariant_problems(snap, multi_task=False)
    assert any("single-tasking" in p for p in problems), problems


def test_checks_run_after_every_write_and_clock_move(world: World) -> None:
    queue = world.queue("Q")
    world.simple_workflow(queue)
    before = world.checks
    world.worker("w")
    task = world.task()
    world.accept(task)
    world.advance(1)
    # worker create, task create, reservation update, clock move
    assert world.checks == before + 4
    with world.unchecked(check_after=False):
        world.complete(task)
    assert world.checks == before + 4
