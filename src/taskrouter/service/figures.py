"""The CRM's figures: per queue, tasks now and today; per worker, what it did today.

"Today" starts at midnight in the workspace's time zone. Figures of now come from the engine's
live state, those of today from the event log (`events.tallies`). They overlap with the
statistics module (issue 6), which may serve them later.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time
from zoneinfo import ZoneInfo

from taskrouter.domain.lifecycles import TaskStatus
from taskrouter.engine.state import WorkspaceState
from taskrouter.events.tallies import Tallies
from taskrouter.service.runtime import Runtime

T = TaskStatus
LIVE = (T.PENDING, T.RESERVED, T.ASSIGNED, T.WRAPPING)
WAITING = (T.PENDING, T.RESERVED)

# event type -> name of the count in a worker's day
RESERVATION_COUNTS = {
    "reservation.created": "reservationsCreated",
    "reservation.accepted": "reservationsAccepted",
    "reservation.rejected": "reservationsRejected",
    "reservation.timeout": "reservationsTimedOut",
    "reservation.canceled": "reservationsCanceled",
    "reservation.rescinded": "reservationsRescinded",
    "reservation.completed": "reservationsCompleted",
}
QUEUE_COUNTS = {
    "task-queue.entered": "tasksEntered",
    "task.completed": "tasksCompleted",
    "task.canceled": "tasksCanceled",
    "task.deleted": "tasksDeleted",
}


@dataclass(slots=True)
class QueueNow:
    tasks_by_status: dict[str, int]
    longest_waiting_age_s: int
    longest_waiting_sid: str | None
    eligible_workers: int
    available_workers: int
    today: dict[str, int]


@dataclass(slots=True)
class WorkerDay:
    counts: dict[str, int]
    # activity sid -> milliseconds spent in it since the start of the day
    activity_ms: dict[str, int] = field(default_factory=dict)


def start_of_day_ms(now_ms: int, time_zone: str) -> int:
    zone = ZoneInfo(time_zone)
    day = datetime.fromtimestamp(now_ms / 1000, zone).date()
    return int(datetime.combine(day, time(0), tzinfo=zone).timestamp() * 1000)


class Figures:
    def __init__(self, runtime: Runtime) -> None:
        self._rt = runtime
        self._tallies = Tallies(runtime.events.archive)

    def today_starts(self, state: WorkspaceState) -> int:
        return start_of_day_ms(self._rt.clock.now_ms(), state.workspace.time_zone)

    async def queues(self, state: WorkspaceState) -> dict[str, QueueNow]:
        now = self._rt.clock.now_ms()
        since = self.today_starts(state)
        figures: dict[str, QueueNow] = {}
        activities = state.activities
        for queue_sid in state.queues:
            members = state.membership.members.get(queue_sid, set())
            figures[queue_sid] = QueueNow(
                tasks_by_status={s.value: 0 for s in LIVE},
                longest_waiting_age_s=0,
                longest_waiting_sid=None,
                eligible_workers=len(members),
                available_workers=sum(
                    1 for w in members if activities[state.workers[w].activity_sid].available
                ),
                today={name: 0 for name in QUEUE_COUNTS.values()},
            )
        oldest: dict[str, tuple[int, str]] = {}
        for task in state.engine.tasks.values():
            entry = figures.get(task.task_queue_sid or "")
            if entry is None or task.deleted or task.assignment_status not in LIVE:
                continue
            entry.tasks_by_status[task.assignment_status] += 1
            if task.assignment_status in WAITING:
                key = (task.date_created, task.sid)
                if task.task_queue_sid not in oldest or key < oldest[task.task_queue_sid or ""]:
                    oldest[task.task_queue_sid or ""] = key
        for queue_sid, (created, sid) in oldest.items():
            figures[queue_sid].longest_waiting_age_s = max(now - created, 0) // 1000
            figures[queue_sid].longest_waiting_sid = sid
        counts = await self._tallies.counts(state.sid, since, QUEUE_COUNTS, "TaskQueueSid")
        for (event_type, queue_sid), n in counts.items():
            if queue_sid in figures:
                figures[queue_sid].today[QUEUE_COUNTS[event_type]] += n
        return figures

    async def workers_today(self, state: WorkspaceState) -> dict[str, WorkerDay]:
        now = self._rt.clock.now_ms()
        since = self.today_starts(state)
        days = {
            sid: WorkerDay({name: 0 for name in RESERVATION_COUNTS.values()})
            for sid in state.workers
        }
        counts = await self._tallies.counts(state.sid, since, RESERVATION_COUNTS, "WorkerSid")
        for (event_type, worker_sid), n in counts.items():
            if worker_sid in days:
                days[worker_sid].counts[RESERVATION_COUNTS[event_type]] += n
        left = await self._tallies.time_left_in_activities(state.sid, since)
        for (worker_sid, activity_sid), ms in left.items():
            if worker_sid in days:
                spent = days[worker_sid].activity_ms
                spent[activity_sid] = spent.get(activity_sid, 0) + ms
        for sid, worker in state.workers.items():
            spent = days[sid].activity_ms
            current = max(now - max(worker.date_status_changed, since), 0)
            spent[worker.activity_sid] = spent.get(worker.activity_sid, 0) + current
        return days
