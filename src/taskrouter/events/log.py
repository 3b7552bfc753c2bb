"""Turning what a command did into event rows (and assignment outbox rows), for one commit.

Two sources feed it: the engine's `EngineEvent`s (routing: tasks, reservations, queues,
workflows, engine-made activity changes) and the service's `Emitted` (configuration changes
and API-driven worker changes). Both become one stored event body each:

    {sid, account_sid, workspace_sid, event_type, event_date_ms, resource_type,
     resource_sid, data}

where `data` holds the callback fields (PascalCase, string values, the workspace's sid and name
among them), snapshotted now. The description is derived from them when shown (`describe`).
An event owed a callback carries the URL in its row's `callback_url` column (the courier reads
those); an assignment callback is an outbox row.

Event SIDs are ordered: `EV` + 16 hex digits of a sequence number (the clock's milliseconds
shifted left 20 bits, never repeating or going back) + 16 random hex digits. Sorting by SID is
sorting by the order events were made, which the Events list, the SSE stream's
Last-Event-ID and the ordered delivery lanes all rely on.
"""

from __future__ import annotations

import contextlib
import os
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from taskrouter.domain.clock import Clock
from taskrouter.domain.entities import (
    Activity,
    Task,
    TaskChannel,
    TaskQueue,
    Worker,
    WorkerChannel,
    Workflow,
    Workspace,
)
from taskrouter.domain.sids import Prefix
from taskrouter.engine.state import WorkspaceState
from taskrouter.events import outbox, payload
from taskrouter.events.catalog import CALLBACK_RESOURCE_TYPE, KINDS
from taskrouter.store import Change, Put

if TYPE_CHECKING:
    from taskrouter.engine.engine import EngineEvent, Outcome

SEQ_SHIFT = 20
WORKFLOW_PREFIX = Prefix.WORKFLOW.value

# What a task's status was when the event happened, where the end-of-command snapshot may
# already show a later one (a task created and reserved in one command).
TASK_STATUS_AT = {
    "task.created": "pending",
    "workflow.entered": "pending",
    "workflow.target-matched": "pending",
    "task-queue.entered": "pending",
    "task-queue.moved": "pending",
    "task.wrapup": "wrapping",
    "task.canceled": "canceled",
    "task.completed": "completed",
    "reservation.created": "reserved",
    "reservation.accepted": "assigned",
    "reservation.wrapup": "wrapping",
    "reservation.completed": "completed",
}


@dataclass(slots=True)
class Emitted:
    """An event the service layer causes: `subject` is the entity it is about.

    `data` adds or overrides fields; `WorkerActivitySid` there names the activity the API
    set, which the engine may have changed again before the commit.
    """

    event_type: str
    subject: Any
    data: dict[str, str] | None = None


@dataclass(slots=True)
class Batch:
    """One command's events: rows for its commit, and what to hand on once it is durable."""

    changes: list[Change] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    # Assignment callbacks (event callbacks are read from the log by the courier).
    deliveries: list[outbox.Delivery] = field(default_factory=list)
    # Whether an event of it is owed a callback.
    owed: bool = False


class EventLog:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._last_seq = 0
        # The newest SID handed out (or stored, at start).
        self.last_sid = ""
        self._random = random.Random(os.urandom(16))
        # worker sid -> (activity sid, since ms): what the last event said, so the next
        # activity change can tell the previous activity and the time spent in it.
        self._activity: dict[str, tuple[str, int]] = {}

    # -- start ---------------------------------------------------------------------------------

    def prime(self, workspaces: Iterable[WorkspaceState]) -> None:
        for state in workspaces:
            for worker in state.workers.values():
                self._activity[worker.sid] = (worker.activity_sid, worker.date_status_changed)

    def continue_after(self, sid: str | None) -> None:
        """Never hand out a SID at or below the newest stored one (the clock may go back)."""
        if sid and len(sid) == 34:
            with contextlib.suppress(ValueError):
                self._last_seq = max(self._last_seq, int(sid[2:18], 16))
            self.last_sid = max(self.last_sid, sid)

    def new_sid(self, now: int) -> str:
        seq = max(now << SEQ_SHIFT, self._last_seq + 1)
        self._last_seq = seq
        sid = self.last_sid = f"EV{seq:016x}{self._random.getrandbits(64):016x}"
        return sid

    # -- one command ---------------------------------------------------------------------------

    def record(
        self,
        state: WorkspaceState,
        outcome: Outcome | None,
        emitted: Sequence[Emitted] = (),
    ) -> Batch | None:
        engine_events = outcome.events if outcome is not None else ()
        if not engine_events and not emitted:
            return None
        now = self._clock.now_ms()
        bodies: list[dict[str, Any]] = []
        assignments: list[outbox.Delivery] = []
        for item in emitted:
            bodies.append(self._service_event(state, item, now))
        if engine_events:
            assert outcome is not None
            snap = _Snapshots(state, now)
            created: set[str] = set()
            for ev in engine_events:
                kind = ev.event_type
                if kind == "task.created" and ev.task_sid is not None:
                    created.add(ev.task_sid)
                elif kind == "task-queue.entered" and ev.task_sid not in created:
                    # Entering a queue after the first one is a move (a target timed out, or
                    # new attributes routed the task elsewhere).
                    bodies.append(self._engine_event(snap, outcome, ev, now, "task-queue.moved"))
                body = self._engine_event(snap, outcome, ev, now)
                bodies.append(body)
                if kind == "task.created":
                    entered = self._workflow_entered(snap, outcome, ev, now)
                    if entered is not None:
                        bodies.append(entered)
                elif kind == "reservation.created":
                    delivery = self._assignment(state, body, now)
                    if delivery is not None:
                        assignments.append(delivery)
        return self._batch(state, bodies, assignments, now)

    def _batch(
        self,
        state: WorkspaceState,
        bodies: list[dict[str, Any]],
        assignments: list[outbox.Delivery],
        now: int,
    ) -> Batch:
        ws = state.workspace
        batch = Batch(events=bodies)
        changes = batch.changes
        url = ws.event_callback_url
        wanted: set[str] | None = None
        if url and ws.events_filter:
            wanted = {t.strip() for t in ws.events_filter.split(",") if t.strip()}
        for body in bodies:
            owed = url if url and (wanted is None or body["event_type"] in wanted) else None
            if owed:
                batch.owed = True
            changes.append(
                Put(
                    "events",
                    body["sid"],
                    {
                        "account_sid": body["account_sid"],
                        "workspace_sid": body["workspace_sid"],
                        "event_type": body["event_type"],
                        "event_date_ms": body["event_date_ms"],
                        "resource_sid": body["resource_sid"],
                        "callback_url": owed,
                        "body": body,
                    },
                )
            )
        for delivery in assignments:
            batch.deliveries.append(delivery)
            changes.append(delivery.put())
        return batch

    def _body(
        self,
        state: WorkspaceState,
        event_type: str,
        resource_sid: str,
        fields: payload.Fields,
        now: int,
    ) -> dict[str, Any]:
        kind = KINDS.get(event_type)
        ws = state.workspace
        return {
            "sid": self.new_sid(now),
            "account_sid": ws.account_sid,
            "workspace_sid": ws.sid,
            "event_type": event_type,
            "event_date_ms": now,
            "resource_type": kind.resource if kind is not None else _resource_of(resource_sid),
            "resource_sid": resource_sid,
            "data": fields,
        }

    # -- engine events -------------------------------------------------------------------------

    def _engine_event(
        self,
        snap: _Snapshots,
        outcome: Outcome,
        ev: EngineEvent,
        now: int,
        event_type: str | None = None,
    ) -> dict[str, Any]:
        state = snap.state
        event_type = event_type or ev.event_type
        kind = KINDS.get(event_type)
        fields = dict(snap.base)
        engine = state.engine
        task = _task(outcome, engine.tasks, ev.task_sid)
        if task is not None and (kind is None or "task" in kind.subjects):
            fields.update(snap.task(task))
            status = TASK_STATUS_AT.get(event_type)
            if status is not None:
                fields["TaskAssignmentStatus"] = status
        if event_type.startswith("task-queue."):
            # The queue the event is about, which a timed-out task is already leaving.
            queue = state.queues.get(ev.resource_sid)
            if queue is not None:
                payload.queue_fields(fields, queue)
        if ev.reservation_sid is not None:
            reservation = outcome.reservations.get(ev.reservation_sid) or engine.reservations.get(
                ev.reservation_sid
            )
            if reservation is not None:
                payload.reservation_fields(fields, reservation)
            else:
                fields["ReservationSid"] = ev.reservation_sid
        if ev.worker_sid is not None:
            worker = state.workers.get(ev.worker_sid) or outcome.workers.get(ev.worker_sid)
            if worker is not None:
                activity_sid = ev.data.get("activity_sid") if ev.data else None
                if activity_sid is None:
                    fields.update(snap.worker(worker))
                else:
                    payload.worker_fields(fields, state, worker, activity_sid)
                if event_type == "worker.activity.update":
                    self._activity_change(state, fields, worker, now)
        if event_type == "workflow.target-matched" and task is not None:
            payload.filter_fields(fields, state, task)
        if ev.data:
            fields.update((k, str(v)) for k, v in ev.data.items() if k[:1].isupper())
        return self._body(state, event_type, ev.resource_sid, fields, now)

    def _workflow_entered(
        self, snap: _Snapshots, outcome: Outcome, ev: EngineEvent, now: int
    ) -> dict[str, Any] | None:
        task = _task(outcome, snap.state.engine.tasks, ev.task_sid)
        if task is None or task.workflow_sid is None:
            return None
        target = task.routing_target
        if target is not None and not target.startswith(WORKFLOW_PREFIX):
            return None  # routed straight to a worker or a queue: no workflow involved
        fields = dict(snap.base)
        fields.update(snap.task(task))
        fields["TaskAssignmentStatus"] = "pending"
        return self._body(snap.state, "workflow.entered", task.workflow_sid, fields, now)

    def _activity_change(
        self, state: WorkspaceState, fields: payload.Fields, worker: Worker, now: int
    ) -> None:
        current = fields["WorkerActivitySid"]
        previous = self._activity.get(worker.sid)
        if previous is not None and previous[0] != current:
            payload.previous_activity_fields(fields, state, previous[0], previous[1], now)
        self._activity[worker.sid] = (current, now)

    def _assignment(
        self, state: WorkspaceState, body: dict[str, Any], now: int
    ) -> outbox.Delivery | None:
        data = body["data"]
        workflow = state.workflows.get(data.get("WorkflowSid", ""))
        if workflow is None or not workflow.assignment_callback_url:
            return None
        params = {
            "Timestamp": str(now // 1000),
            "AccountSid": body["account_sid"],
            "WorkspaceSid": body["workspace_sid"],
            "WorkflowSid": workflow.sid,
            "TaskQueueSid": data.get("TaskQueueSid", ""),
            "WorkerSid": data.get("WorkerSid", ""),
            "WorkerAttributes": data.get("WorkerAttributes", "{}"),
            "TaskSid": data.get("TaskSid", ""),
            "TaskAttributes": data.get("TaskAttributes", "{}"),
            "TaskAge": data.get("TaskAge", "0"),
            "TaskPriority": data.get("TaskPriority", "0"),
            "ReservationSid": body["resource_sid"],
        }
        return outbox.assignment_delivery(
            reservation_sid=body["resource_sid"],
            task_sid=data.get("TaskSid", ""),
            workspace_sid=body["workspace_sid"],
            account_sid=body["account_sid"],
            url=workflow.assignment_callback_url,
            fallback_url=workflow.fallback_assignment_callback_url,
            params=params,
            now=now,
        )

    # -- service events ------------------------------------------------------------------------

    def _service_event(self, state: WorkspaceState, item: Emitted, now: int) -> dict[str, Any]:
        fields: payload.Fields = {}
        payload.workspace_fields(fields, state.workspace)
        subject = item.subject
        resource_sid: str = getattr(subject, "sid", state.sid)
        extra = item.data or {}
        if isinstance(subject, Worker):
            payload.worker_fields(fields, state, subject, extra.get("WorkerActivitySid"))
            if item.event_type == "worker.activity.update":
                self._activity_change(state, fields, subject, now)
            elif item.event_type == "worker.created":
                self._activity[subject.sid] = (fields["WorkerActivitySid"], now)
            elif item.event_type == "worker.deleted":
                self._activity.pop(subject.sid, None)
        elif isinstance(subject, WorkerChannel):
            resource_sid = subject.worker_sid
            worker = state.workers.get(subject.worker_sid)
            if worker is not None:
                payload.worker_fields(fields, state, worker)
            payload.worker_channel_fields(fields, state, subject)
        elif isinstance(subject, Activity):
            payload.activity_fields(fields, subject)
        elif isinstance(subject, TaskChannel):
            payload.channel_fields(fields, subject)
        elif isinstance(subject, TaskQueue):
            payload.queue_fields(fields, subject)
        elif isinstance(subject, Workflow):
            payload.workflow_fields(fields, subject)
        elif isinstance(subject, Workspace):
            payload.workspace_fields(fields, subject)
        elif isinstance(subject, Task):
            payload.task_fields(fields, state, subject, now)
            payload.task_context(fields, state, subject)
        fields.update(extra)
        return self._body(state, item.event_type, resource_sid, fields, now)


class _Snapshots:
    """Field groups computed once per command: several of its events name the same task or
    worker, as it is at the end of the command."""

    __slots__ = ("base", "now", "state", "tasks", "workers")

    def __init__(self, state: WorkspaceState, now: int) -> None:
        self.state = state
        self.now = now
        self.base: payload.Fields = {}
        payload.workspace_fields(self.base, state.workspace)
        self.tasks: dict[str, payload.Fields] = {}
        self.workers: dict[str, payload.Fields] = {}

    def task(self, task: Task) -> payload.Fields:
        fields = self.tasks.get(task.sid)
        if fields is None:
            fields = self.tasks[task.sid] = {}
            payload.task_fields(fields, self.state, task, self.now)
            payload.task_context(fields, self.state, task)
        return fields

    def worker(self, worker: Worker) -> payload.Fields:
        fields = self.workers.get(worker.sid)
        if fields is None:
            fields = self.workers[worker.sid] = {}
            payload.worker_fields(fields, self.state, worker)
        return fields


def callback_params(body: dict[str, Any]) -> dict[str, str]:
    return payload.callback_params(body, CALLBACK_RESOURCE_TYPE.get(body["resource_type"], ""))


def _task(outcome: Outcome, live: dict[str, Task], sid: str | None) -> Task | None:
    if sid is None:
        return None
    return outcome.tasks.get(sid) or live.get(sid)


_PREFIX_RESOURCE = {
    Prefix.TASK.value: "task",
    Prefix.RESERVATION.value: "reservation",
    Prefix.WORKER.value: "worker",
    Prefix.ACTIVITY.value: "activity",
    Prefix.WORKFLOW.value: "workflow",
    Prefix.WORKSPACE.value: "workspace",
    Prefix.TASK_QUEUE.value: "task_queue",
    Prefix.TASK_CHANNEL.value: "task_channel",
}


def _resource_of(sid: str) -> str:
    return _PREFIX_RESOURCE.get(sid[:2], "workspace")
