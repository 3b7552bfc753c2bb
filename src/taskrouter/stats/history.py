"""The retained history of one workspace, kept as facts per scope as events are appended.

Each stored event becomes a few facts: "a reservation was accepted at t on channel c", filed
under every scope it counts for (the workspace, the task's workflow, the queue it was in, the
worker), with the wait it ended where there is one. Cumulative statistics then read windows
of these columns (`series`), never the events themselves. Worker activity changes become one
`Timeline` per worker.

Which queue a fact belongs to is the queue the task was in *when it happened*: events are
read in commit order and each task's queue is followed from its `task-queue.entered` events,
because an event's own fields show the task as it was at the end of its command (a target
timeout cancels reservations in the old queue and enters the next one in one command).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sortedcontainers import SortedList

from taskrouter.stats.series import Durations, Moments, Summary
from taskrouter.stats.timeline import Timeline

TASKS_CREATED = "tasks_created"
TASKS_ENTERED = "tasks_entered"
TASKS_CANCELED = "tasks_canceled"
TASKS_COMPLETED = "tasks_completed"
TASKS_DELETED = "tasks_deleted"
TASKS_MOVED = "tasks_moved"
TASKS_TIMED_OUT = "tasks_timed_out_in_workflow"

RESERVATION_KINDS = {
    "reservation.created": "reservations_created",
    "reservation.accepted": "reservations_accepted",
    "reservation.rejected": "reservations_rejected",
    "reservation.timeout": "reservations_timed_out",
    "reservation.canceled": "reservations_canceled",
    "reservation.rescinded": "reservations_rescinded",
}
RESERVATION_FIELDS = tuple(RESERVATION_KINDS.values())

# waits (ms), each filed at the moment it ended
UNTIL_ACCEPTED = "wait_duration_until_accepted"
UNTIL_CANCELED = "wait_duration_until_canceled"
IN_QUEUE_UNTIL_ACCEPTED = "wait_duration_in_queue_until_accepted"

_CLOSING = frozenset(("task.completed", "task.canceled", "task.deleted", "task.system-deleted"))


@dataclass(slots=True)
class _Task:
    """What the facts of a live task need to know about it."""

    created: int
    entered: int | None
    queue: str | None
    workflow: str | None
    channel: str


class History:
    def __init__(self, workspace_sid: str) -> None:
        self.workspace_sid = workspace_sid
        # (scope sid, kind) -> task channel sid -> moments
        self.moments: dict[tuple[str, str], dict[str, Moments]] = {}
        self.waits: dict[tuple[str, str], dict[str, Durations]] = {}
        self.timelines: dict[str, Timeline] = {}
        # Every worker's latest change, so that the workers who did not change inside a
        # window (most of them, for short windows) are counted per activity without a visit.
        self._latest: dict[str, tuple[int, str]] = {}
        self._recent: SortedList = SortedList()  # (time of latest change, worker sid)
        self._settled: dict[str, SortedList] = {}  # activity sid -> latest-change times
        # Workers whose timeline changed since those three were last brought up to date: a
        # worker's entries there depend only on its latest change, so they are refreshed
        # when read, once per worker however many changes came in between. Refreshing on
        # every change cost four sorted-list updates, ~60 µs, on each activity update.
        self._stale: set[str] = set()
        self._tasks: dict[str, _Task] = {}

    # -- appending -----------------------------------------------------------------------------

    def observe(self, body: dict[str, Any]) -> None:
        """Take one stored event body (in commit order)."""
        kind: str = body["event_type"]
        at: int = body["event_date_ms"]
        data: dict[str, str] = body["data"]
        if kind.startswith("worker."):
            self._worker_event(kind, at, data)
            return
        task_sid = data.get("TaskSid")
        if not task_sid:
            return
        task = self._task(task_sid, data)
        ws = self.workspace_sid
        if kind == "task.created":
            task.created = at
            self._count((ws,), TASKS_CREATED, task.channel, at)
        elif kind == "workflow.entered":
            self._count((body["resource_sid"],), TASKS_ENTERED, task.channel, at)
        elif kind == "task-queue.entered":
            task.queue = body["resource_sid"]
            task.entered = at
            self._count((task.queue,), TASKS_ENTERED, task.channel, at)
        elif kind == "task-queue.moved":
            # Counted where the task came from: the event precedes its `task-queue.entered`.
            self._count((ws, task.workflow, task.queue), TASKS_MOVED, task.channel, at)
        elif kind == "task.canceled":
            scopes = (ws, task.workflow, task.queue)
            self._count(scopes, TASKS_CANCELED, task.channel, at)
            self._wait(scopes, UNTIL_CANCELED, task.channel, at, at - task.created)
        elif kind == "task.completed":
            self._count((ws, task.workflow, task.queue), TASKS_COMPLETED, task.channel, at)
        elif kind in ("task.deleted", "task.system-deleted"):
            self._count((ws, task.workflow, task.queue), TASKS_DELETED, task.channel, at)
        elif kind == "workflow.timeout":
            self._count((ws, task.workflow), TASKS_TIMED_OUT, task.channel, at)
        elif kind in RESERVATION_KINDS:
            task_scopes = (ws, task.workflow, task.queue)
            worker = data.get("WorkerSid")
            self._count((*task_scopes, worker), RESERVATION_KINDS[kind], task.channel, at)
            if kind == "reservation.accepted":
                self._wait(task_scopes, UNTIL_ACCEPTED, task.channel, at, at - task.created)
                entered = task.entered if task.entered is not None else task.created
                self._wait((task.queue,), IN_QUEUE_UNTIL_ACCEPTED, task.channel, at, at - entered)
        if kind in _CLOSING:
            self._tasks.pop(task_sid, None)

    def _task(self, sid: str, data: dict[str, str]) -> _Task:
        task = self._tasks.get(sid)
        if task is None:
            # First seen here (its creation is older than the retained history, or this is
            # a fresh task): start from what the event says, to the second.
            created = _iso_ms(data.get("TaskDateCreated"))
            task = _Task(
                created=created if created is not None else 0,
                entered=_iso_ms(data.get("TaskQueueEnteredDate")),
                queue=data.get("TaskQueueSid"),
                workflow=data.get("WorkflowSid"),
                channel=data.get("TaskChannelSid", ""),
            )
            self._tasks[sid] = task
        return task

    def _count(self, scopes: Iterable[str | None], kind: str, channel: str, at: int) -> None:
        for scope in scopes:
            if scope:
                by_channel = self.moments.setdefault((scope, kind), {})
                series = by_channel.get(channel)
                if series is None:
                    series = by_channel[channel] = Moments()
                series.add(at)

    def _wait(
        self, scopes: Iterable[str | None], kind: str, channel: str, at: int, wait: int
    ) -> None:
        for scope in scopes:
            if scope:
                by_channel = self.waits.setdefault((scope, kind), {})
                series = by_channel.get(channel)
                if series is None:
                    series = by_channel[channel] = Durations()
                series.add(at, max(wait, 0))

    def _worker_event(self, kind: str, at: int, data: dict[str, str]) -> None:
        worker_sid = data.get("WorkerSid")
        if not worker_sid:
            return
        if kind == "worker.deleted":
            self.timelines.pop(worker_sid, None)
            self._stale.add(worker_sid)
            return
        activity = data.get("WorkerActivitySid")
        if not activity or kind not in ("worker.created", "worker.activity.update"):
            return
        timeline = self.timelines.get(worker_sid)
        if timeline is None:
            timeline = self.timelines[worker_sid] = Timeline()
            previous = data.get("WorkerPreviousActivitySid")
            spent = data.get("WorkerTimeInPreviousActivityMs")
            if previous and spent and spent.isdigit():
                timeline.change(at - int(spent), previous)
        timeline.change(at, activity)
        self._stale.add(worker_sid)

    def seed_worker(self, worker_sid: str, activity_sid: str, since: int) -> None:
        """A worker with no retained activity event has been in its activity since `since`."""
        if worker_sid not in self.timelines:
            timeline = self.timelines[worker_sid] = Timeline()
            timeline.change(since, activity_sid)
            self._stale.add(worker_sid)

    def _refresh_latest(self) -> None:
        stale, self._stale = self._stale, set()
        for worker_sid in stale:
            self._relatest(worker_sid)

    def _relatest(self, worker_sid: str) -> None:
        timeline = self.timelines.get(worker_sid)
        latest = (
            (timeline.times[-1], timeline.activities[-1])
            if timeline is not None and len(timeline.times)
            else None
        )
        before = self._latest.get(worker_sid)
        if before == latest:
            return
        if before is not None:
            self._recent.remove((before[0], worker_sid))
            self._settled[before[1]].remove(before[0])
            del self._latest[worker_sid]
        if latest is not None:
            self._latest[worker_sid] = latest
            self._recent.add((latest[0], worker_sid))
            self._settled.setdefault(latest[1], SortedList()).add(latest[0])

    def prune(self, cutoff: int) -> None:
        """Forget facts older than `cutoff` (the retention boundary)."""
        for table in (self.moments, self.waits):
            for key in list(table):
                by_channel = table[key]
                for channel in list(by_channel):
                    series = by_channel[channel]
                    series.prune(cutoff)
                    if not len(series):
                        del by_channel[channel]
                if not by_channel:
                    del table[key]
        for timeline in self.timelines.values():
            timeline.prune(cutoff)

    # -- reading -------------------------------------------------------------------------------

    def count(self, scope: str, kind: str, channel: str | None, start: int, end: int) -> int:
        by_channel = self.moments.get((scope, kind))
        if not by_channel:
            return 0
        if channel is not None:
            series = by_channel.get(channel)
            return series.count(start, end) if series is not None else 0
        return sum(series.count(start, end) for series in by_channel.values())

    def _durations(self, scope: str, kind: str, channel: str | None) -> list[Durations]:
        by_channel = self.waits.get((scope, kind))
        if not by_channel:
            return []
        if channel is not None:
            series = by_channel.get(channel)
            return [series] if series is not None else []
        return list(by_channel.values())

    def wait(self, scope: str, kind: str, channel: str | None, start: int, end: int) -> Summary:
        total = Summary()
        for series in self._durations(scope, kind, channel):
            total.merge(series.summary(start, end))
        return total

    def wait_split(
        self, scope: str, kind: str, channel: str | None, start: int, end: int, limit_ms: int
    ) -> tuple[int, int]:
        """(at most `limit_ms`, above it) among the waits of the window."""
        below = above = 0
        for series in self._durations(scope, kind, channel):
            first, last = series.span(start, end)
            count = last - first
            under = series.at_most(start, end, limit_ms)
            below += under
            above += count - under
        return below, above

    def activity_stints(
        self, worker_sids: Iterable[str] | None, start: int, end: int
    ) -> dict[str, Summary]:
        """Per activity sid: the stints the given workers (None: all) spent in it inside the
        window."""
        # [count, total, least, most] per activity.
        acc: dict[str, list[int]] = {}
        if worker_sids is None:
            self._refresh_latest()
            # Who has not changed since `start` spent the whole window in one activity.
            length = end - start
            if length > 0:
                for activity, times in self._settled.items():
                    settled = times.bisect_right(start)
                    if settled:
                        acc[activity] = [settled, settled * length, length, length]
            worker_sids = [sid for _, sid in self._recent.irange((start + 1, ""))]
        timelines = self.timelines
        for sid in worker_sids:
            timeline = timelines.get(sid)
            if timeline is None:
                continue
            times = timeline.times
            activities = timeline.activities
            last = len(times) - 1
            k = max(bisect_right(times, start) - 1, 0)
            while k <= last:
                began = times[k]
                if began >= end:
                    break
                ended = times[k + 1] if k < last else end
                length = (ended if ended < end else end) - (began if began > start else start)
                if length > 0:
                    figures = acc.get(activities[k])
                    if figures is None:
                        acc[activities[k]] = [1, length, length, length]
                    else:
                        figures[0] += 1
                        figures[1] += length
                        if length < figures[2]:
                            figures[2] = length
                        if length > figures[3]:
                            figures[3] = length
                k += 1
        return {activity: Summary(*figures) for activity, figures in acc.items()}


def _iso_ms(text: str | None) -> int | None:
    if not text:
        return None
    try:
        return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        return None
