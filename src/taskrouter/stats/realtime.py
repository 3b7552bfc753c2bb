"""Real-time statistics: what the engine holds right now, counted.

A task is *waiting* while it is pending or reserved (no one has accepted it yet); its age
counts from its creation, its relative age from entering its current queue. With a task
channel given, tasks of other channels are left out, and so are workers whose channel for it
is switched off (unavailable, or capacity 0).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from operator import attrgetter
from typing import Any

from taskrouter.domain.entities import Activity, Task, Worker
from taskrouter.engine.state import WorkspaceState

LIVE_STATUSES = ("pending", "reserved", "assigned", "wrapping")
WAITING = frozenset(("pending", "reserved"))


def task_figures(
    tasks: Iterable[Task], now: int, channel_sid: str | None, *, relative: bool = False
) -> dict[str, Any]:
    by_status = dict.fromkeys(LIVE_STATUSES, 0)
    by_priority: dict[str, int] = {}
    total = 0
    oldest: Task | None = None
    oldest_in_queue: Task | None = None
    for task in tasks:
        if channel_sid is not None and task.task_channel_sid != channel_sid:
            continue
        status = task.assignment_status
        if status not in by_status:
            continue
        total += 1
        by_status[status] += 1
        key = str(task.priority)
        by_priority[key] = by_priority.get(key, 0) + 1
        if status in WAITING:
            if oldest is None or (task.date_created, task.sid) < (oldest.date_created, oldest.sid):
                oldest = task
            if relative:
                entered = _entered(task)
                if oldest_in_queue is None or (entered, task.sid) < (
                    _entered(oldest_in_queue),
                    oldest_in_queue.sid,
                ):
                    oldest_in_queue = task
    out: dict[str, Any] = {
        "tasks_by_status": by_status,
        "tasks_by_priority": by_priority,
        "total_tasks": total,
        "longest_task_waiting_age": _age(now, oldest.date_created) if oldest else 0,
        "longest_task_waiting_sid": oldest.sid if oldest else None,
    }
    if relative:
        out["longest_relative_task_age_in_queue"] = (
            _age(now, _entered(oldest_in_queue)) if oldest_in_queue else 0
        )
        out["longest_relative_task_sid_in_queue"] = oldest_in_queue.sid if oldest_in_queue else None
    return out


def _entered(task: Task) -> int:
    entered = task.task_queue_entered_date
    return entered if entered is not None else task.date_created


def _age(now: int, since: int) -> int:
    return max(now - since, 0) // 1000


def ordered_activities(state: WorkspaceState) -> list[Activity]:
    """Activities in the order the API lists them, the same before and after a restart."""
    return sorted(state.activities.values(), key=lambda a: (a.date_created, a.sid))


def counts_channel(state: WorkspaceState, worker: Worker, channel_sid: str | None) -> bool:
    if channel_sid is None:
        return True
    channel = state.worker_channels.get(worker.sid, {}).get(channel_sid)
    return channel is not None and channel.available and channel.configured_capacity > 0


def worker_figures(
    state: WorkspaceState, workers: Iterable[Worker], channel_sid: str | None
) -> tuple[list[dict[str, Any]], int, int]:
    """(activity_statistics, workers counted, of them in an available activity)."""
    if channel_sid is None:
        # Counted in C: a queue's figures are asked for often, 50 at a time in bulk.
        per_activity = Counter(map(_activity_of, workers))
    else:
        per_activity = Counter(
            w.activity_sid for w in workers if counts_channel(state, w, channel_sid)
        )
    activities = state.activities
    available = sum(
        n for sid, n in per_activity.items() if sid in activities and activities[sid].available
    )
    statistics = [
        {"sid": a.sid, "friendly_name": a.friendly_name, "workers": per_activity.get(a.sid, 0)}
        for a in ordered_activities(state)
    ]
    return statistics, sum(per_activity.values()), available


_activity_of = attrgetter("activity_sid")
