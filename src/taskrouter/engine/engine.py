"""The routing engine of one workspace: tasks, reservations, matching and deadlines.

Pure and deterministic: it reads time only from the injected clock, does no I/O, and records
every entity it changed and every event it caused in an `Outcome`, which the service makes
durable before it answers. Status changes go through the lifecycle tables in
`domain.lifecycles`; nothing here sets a status without them.

Matching is driven by two work lists: tasks that may now be reservable, and (worker, channel)
pairs that may now take work. `_settle` drains both after every command, so no task is left
pending while an eligible worker with capacity sits idle.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from taskrouter.domain.clock import Clock, to_datetime
from taskrouter.domain.entities import Reservation, Task, Worker, WorkerChannel
from taskrouter.domain.errors import Gone, IllegalTransition, Invalid, PreconditionFailed
from taskrouter.domain.lifecycles import (
    RESERVATION_ACTIVE,
    TASK_LIVE,
    ReservationStatus,
    TaskStatus,
    check_reservation,
    check_task,
    check_task_request,
)
from taskrouter.domain.sids import Prefix, new_sid
from taskrouter.domain.task_types import task_type_of
from taskrouter.domain.workflow_config import Target
from taskrouter.engine.indexes import PendingTasks, ReadyWorkers, Slot, TaskKey, fifo_key, lifo_key
from taskrouter.engine.state import WorkspaceState
from taskrouter.engine.timers import Deadline, Timers
from taskrouter.expressions import skip_if_root, target_root, task_root, worker_view

R = ReservationStatus
T = TaskStatus

DEFAULT_RESERVATION_TIMEOUT = 120


@dataclass(frozen=True, slots=True)
class Limits:
    max_reservation_attempts: int = 1_000
    assigned_lifetime_ms: int = 86_400_000
    # How long a finished task stays fetchable through the Twilio face (Twilio: 5 minutes).
    closed_visible_ms: int = 300_000


@dataclass(slots=True)
class EngineEvent:
    event_type: str
    resource_sid: str
    task_sid: str | None = None
    reservation_sid: str | None = None
    worker_sid: str | None = None
    description: str = ""
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Outcome:
    """What one command changed: entities to write, and events to record."""

    tasks: dict[str, Task] = field(default_factory=dict)
    reservations: dict[str, Reservation] = field(default_factory=dict)
    workers: dict[str, Worker] = field(default_factory=dict)
    worker_channels: dict[str, WorkerChannel] = field(default_factory=dict)
    events: list[EngineEvent] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.tasks or self.reservations or self.workers or self.worker_channels)


@dataclass(slots=True)
class TaskUpdate:
    attributes: str | None = None
    parsed_attributes: dict[str, Any] | None = None
    assignment_status: str | None = None
    reason: str | None = None
    priority: int | None = None
    task_channel_sid: str | None = None
    virtual_start_time: int | None = None


class WorkspaceEngine:
    def __init__(self, state: WorkspaceState, clock: Clock, limits: Limits | None = None) -> None:
        self.state = state
        self.clock = clock
        self.limits = limits or Limits()
        self.tasks: dict[str, Task] = {}
        self.reservations: dict[str, Reservation] = {}
        self.reservations_of_task: dict[str, list[str]] = {}
        self.reservations_of_worker: dict[str, list[str]] = {}
        self.pending = PendingTasks()
        self.ready = ReadyWorkers()
        self.timers = Timers()
        # Tasks routed straight to one worker (RoutingTarget=WK...), waiting for capacity.
        self.direct: dict[str, list[str]] = {}
        self._tasks_to_route: list[str] = []
        self._workers_to_fill: list[tuple[str, str]] = []
        self._out = Outcome()

    def release(self) -> None:
        """Let go of everything the deleted workspace held: tasks, reservations, timers, and
        the state's workers, queues and the rest. The engine and its state refer to each
        other, so all of it would otherwise wait for the cycle collector: a pause of ~200 ms
        for 15,000 tasks, in whichever request came next. Emptied here, it is freed within
        the delete; a request still holding the state finds nothing in it."""
        self.state.clear()
        self.tasks = {}
        self.reservations = {}
        self.reservations_of_task = {}
        self.reservations_of_worker = {}
        self.pending = PendingTasks()
        self.ready = ReadyWorkers()
        self.timers = Timers()
        self.direct = {}

    # ------------------------------------------------------------------ plumbing

    def drain(self) -> Outcome:
        """Hand over what changed since the last drain."""
        out, self._out = self._out, Outcome()
        return out

    # One command moves an entity's version on by one, however many steps it took.
    def _touch_task(self, task: Task, now: int) -> None:
        task.date_updated = now
        if task.sid not in self._out.tasks:
            task.version += 1
            self._out.tasks[task.sid] = task

    def _touch_reservation(self, reservation: Reservation, now: int) -> None:
        reservation.date_updated = now
        if reservation.sid not in self._out.reservations:
            reservation.version += 1
            self._out.reservations[reservation.sid] = reservation

    def _emit(self, event_type: str, resource_sid: str, **kwargs: Any) -> None:
        self._out.events.append(EngineEvent(event_type, resource_sid, **kwargs))

    def _emit_reservation(self, event_type: str, reservation: Reservation) -> None:
        # Positional: the routing path emits two or three of these per decision.
        self._out.events.append(
            EngineEvent(
                event_type,
                reservation.sid,
                reservation.task_sid,
                reservation.sid,
                reservation.worker_sid,
            )
        )

    # ------------------------------------------------------------------ loading

    def restore(
        self, tasks: Iterable[Task], reservations: Iterable[Reservation], *, settle: bool = True
    ) -> None:
        """Rebuild live state after a start; deadlines that passed fire on the next advance.

        Reservations made by settling (a pending task that a ready worker could take) stay in
        the outcome for the caller to commit, so they are durable and their events go out.
        `settle=False` keeps the state exactly as stored, for `taskrouter check` to judge.
        """
        now = self.clock.now_ms()
        for task in tasks:
            self.tasks[task.sid] = task
            self.reservations_of_task[task.sid] = []
        for reservation in reservations:
            if reservation.task_sid not in self.tasks:
                continue
            self._index_reservation(reservation)
            if reservation.reservation_status in RESERVATION_ACTIVE:
                self._count_active(reservation, +1)
            if reservation.reservation_status == R.PENDING:
                self.timers.at(
                    reservation.timeout_at, Deadline.RESERVATION_TIMEOUT, reservation.sid
                )
        waiting: list[tuple[str, Slot, TaskKey]] = []
        for task in self.tasks.values():
            self._schedule_task_deadlines(task)
            if task.assignment_status == T.PENDING:
                place = self._pending_place(task)
                if place is not None:
                    waiting.append((task.sid, *place))
        self.pending.add_all(waiting)
        for task_sid, slot, _ in waiting:
            self.ready.route(slot)
            self._tasks_to_route.append(task_sid)
        for worker in self.state.workers.values():
            self._refresh_worker(worker)
        # Settling below tries every pending task; list all ready workers now rather than
        # look at the last few refreshed ones on each try.
        self.ready.list_all()
        self.drain()
        if settle:
            self._settle(now)

    def settle(self) -> None:
        """Match every pending task that a ready worker can take now."""
        self._settle(self.clock.now_ms())

    def _index_reservation(self, reservation: Reservation) -> None:
        self.reservations[reservation.sid] = reservation
        self.reservations_of_task.setdefault(reservation.task_sid, []).append(reservation.sid)
        self.reservations_of_worker.setdefault(reservation.worker_sid, []).append(reservation.sid)

    def _schedule_task_deadlines(self, task: Task) -> None:
        status = task.assignment_status
        if status in (T.PENDING, T.RESERVED):
            self.timers.at(task.date_created + task.timeout * 1000, Deadline.TASK_TTL, task.sid)
            deadline = self._target_deadline(task)
            if deadline is not None:
                self.timers.at(
                    deadline,
                    Deadline.TARGET_TIMEOUT,
                    task.sid,
                    (task.filter_index, task.target_index),
                )
        elif status in (T.ASSIGNED, T.WRAPPING):
            assigned_at = max(
                (
                    r.date_updated
                    for r in self._reservations_of(task.sid)
                    if r.reservation_status in (R.ACCEPTED, R.WRAPPING)
                ),
                default=task.date_updated,
            )
            self.timers.at(
                assigned_at + self.limits.assigned_lifetime_ms, Deadline.ASSIGNED_LIMIT, task.sid
            )
        elif task.date_closed is not None:
            self.timers.at(
                task.date_closed + self.limits.closed_visible_ms, Deadline.FORGET_CLOSED, task.sid
            )

    # ------------------------------------------------------------------ tasks

    def create_task(
        self,
        *,
        account_sid: str,
        attributes: str,
        parsed_attributes: dict[str, Any],
        priority: int | None,
        task_channel_sid: str,
        workflow_sid: str | None,
        timeout: int,
        virtual_start_time: int | None,
        routing_target: str | None = None,
        ignore_capacity: bool | None = None,
        bypass_reserved_state: bool = False,
        declined_by: list[str] | None = None,
    ) -> Task:
        """`declined_by`: workers never to offer the task (an abandoned task's copy)."""
        now = self.clock.now_ms()
        task = Task(
            sid=new_sid(Prefix.TASK),
            account_sid=account_sid,
            workspace_sid=self.state.sid,
            attributes=attributes,
            assignment_status=T.PENDING,
            priority=priority if priority is not None else 0,
            task_channel_sid=task_channel_sid,
            workflow_sid=workflow_sid,
            timeout=timeout,
            date_created=now,
            date_updated=now,
            virtual_start_time=virtual_start_time if virtual_start_time is not None else now,
            routing_target=routing_target,
            ignore_capacity=ignore_capacity,
            bypass_reserved_state=bypass_reserved_state,
            declined_by=list(declined_by or ()),
            parsed_attributes=parsed_attributes,
        )
        self.tasks[task.sid] = task
        self.reservations_of_task[task.sid] = []
        self._out.tasks[task.sid] = task
        self._emit("task.created", task.sid, task_sid=task.sid)
        self.timers.at(now + timeout * 1000, Deadline.TASK_TTL, task.sid)
        self._route(task, now)
        self._settle(now)
        return task

    def update_task(self, sid: str, update: TaskUpdate, if_match: str | None = None) -> Task:
        now = self.clock.now_ms()
        task = self.tasks[sid]
        _check_version("Task", sid, task.version, if_match)
        status = _task_status(update.assignment_status) if update.assignment_status else None
        if status is not None and status != task.assignment_status:
            check_task_request(task.assignment_status, status, sid, self.state.sid)
            if status in (T.CANCELED, T.COMPLETED) and not update.reason:
                raise Invalid(f"Reason is required to set a task {status.value}", param="Reason")
        changed_routing = False
        if task.assignment_status in (T.COMPLETED, T.CANCELED) and (
            update.attributes is not None
            or update.priority is not None
            or update.virtual_start_time is not None
        ):
            raise IllegalTransition(
                f"Task {sid} is {task.assignment_status}; its fields can no longer change"
            )
        if update.attributes is not None and update.parsed_attributes is not None:
            task.attributes = update.attributes
            task.parsed_attributes = update.parsed_attributes
            changed_routing = True
            self._emit("task.updated", sid, task_sid=sid)
        if update.priority is not None:
            task.priority = update.priority
            changed_routing = True
        if update.virtual_start_time is not None:
            task.virtual_start_time = update.virtual_start_time
            changed_routing = True
        if update.task_channel_sid is not None and update.task_channel_sid != task.task_channel_sid:
            if task.assignment_status != T.PENDING:
                raise Invalid(
                    f"TaskChannel of task {sid} can change only while it is pending",
                    param="TaskChannel",
                )
            task.task_channel_sid = update.task_channel_sid
            changed_routing = True
        if update.reason is not None:
            task.reason = update.reason
        self._touch_task(task, now)
        if status is not None and status != task.assignment_status:
            if status is T.CANCELED:
                self._cancel(task, update.reason or "canceled", now)
            elif status is T.WRAPPING:
                self._wrap(task, now)
            elif status is T.COMPLETED:
                self._complete(task, update.reason or "completed", now)
        elif changed_routing and task.assignment_status == T.PENDING:
            # New attributes or priority can change which filter and queue the task belongs to.
            self.pending.discard(sid)
            self._route(task, now)
        self._settle(now)
        return task

    def delete_task(self, sid: str, if_match: str | None = None, *, system: bool = False) -> None:
        now = self.clock.now_ms()
        task = self.tasks[sid]
        _check_version("Task", sid, task.version, if_match)
        self._release_all(task, now)
        task.deleted = True
        if task.date_closed is None:
            task.date_closed = now
        self._touch_task(task, now)
        self._emit("task.system-deleted" if system else "task.deleted", sid, task_sid=sid)
        self._forget(task)
        self._settle(now)

    def _release_all(self, task: Task, now: int) -> None:
        """End every open reservation of a task that is going away."""
        self.pending.discard(task.sid)
        self._remove_direct(task)
        for reservation in self._reservations_of(task.sid):
            status = reservation.reservation_status
            if status == R.PENDING:
                self._end_reservation(reservation, R.CANCELED, now, reroute=False)
            elif status in (R.ACCEPTED, R.WRAPPING):
                self._finish_reservation(reservation, now)

    def _cancel(self, task: Task, reason: str, now: int) -> None:
        check_task(task.assignment_status, T.CANCELED, task.sid, self.state.sid)
        self.pending.discard(task.sid)
        self._remove_direct(task)
        for reservation in self._reservations_of(task.sid):
            if reservation.reservation_status == R.PENDING:
                self._end_reservation(reservation, R.CANCELED, now, reroute=False)
        task.assignment_status = T.CANCELED
        task.reason = reason
        self._close(task, now)
        self._emit("task.canceled", task.sid, task_sid=task.sid, description=reason)

    def _wrap(self, task: Task, now: int) -> None:
        check_task(task.assignment_status, T.WRAPPING, task.sid, self.state.sid)
        task.assignment_status = T.WRAPPING
        self._touch_task(task, now)
        for reservation in self._reservations_of(task.sid):
            if reservation.reservation_status == R.ACCEPTED:
                self._move_reservation(reservation, R.WRAPPING, now)
                self._emit_reservation("reservation.wrapup", reservation)
        self._emit("task.wrapup", task.sid, task_sid=task.sid)

    def _complete(self, task: Task, reason: str, now: int) -> None:
        check_task(task.assignment_status, T.COMPLETED, task.sid, self.state.sid)
        task.assignment_status = T.COMPLETED
        task.reason = reason
        for reservation in self._reservations_of(task.sid):
            if reservation.reservation_status in (R.ACCEPTED, R.WRAPPING):
                self._finish_reservation(reservation, now)
        self._close(task, now)
        self._emit("task.completed", task.sid, task_sid=task.sid, description=reason)

    def _close(self, task: Task, now: int) -> None:
        task.date_closed = now
        self._touch_task(task, now)
        self.timers.at(now + self.limits.closed_visible_ms, Deadline.FORGET_CLOSED, task.sid)

    def _forget(self, task: Task) -> None:
        """Drop a finished task from memory; the store keeps it for history."""
        self.tasks.pop(task.sid, None)
        for rsid in self.reservations_of_task.pop(task.sid, []):
            reservation = self.reservations.pop(rsid, None)
            if reservation is not None:
                of_worker = self.reservations_of_worker.get(reservation.worker_sid)
                if of_worker is not None and rsid in of_worker:
                    of_worker.remove(rsid)

    # ------------------------------------------------------------------ workflow evaluation

    def _route(self, task: Task, now: int) -> None:
        """Put a pending task where its routing says, reserving workers at once if it can."""
        target = task.routing_target
        if target is not None and target.startswith(Prefix.WORKER.value):
            self._route_to_worker(task, target, now)
            return
        if target is not None and target.startswith(Prefix.TASK_QUEUE.value):
            self._place(task, None, None, Target(queue_sid=target), now)
            return
        self._route_from(task, 0, False, now)

    def _route_from(self, task: Task, first_filter: int, matched: bool, now: int) -> None:
        """The first matching filter from `first_filter` on takes the task.

        A filter whose every target is skipped counts as not taking it; `default_filter`
        applies only when no filter took it, never after a timeout.
        """
        configuration = self.state.configurations.get(task.workflow_sid or "")
        if configuration is None:
            self._cancel(task, "Workflow not found", now)
            return
        root = task_root(task.parsed_attributes, to_datetime(now))
        for index, filter_ in enumerate(configuration.filters):
            if index < first_filter or not _safe(filter_.expression, root):
                continue
            matched = True
            outcome = self._enter_filter(task, index, filter_.targets, now)
            if outcome != "skipped":
                return
        default = configuration.default_filter
        if default is not None:
            self._place(task, -1, 0, default, now)
            return
        if matched:
            self._emit("workflow.skipped", task.workflow_sid or "", task_sid=task.sid)
            self._cancel(task, "Workflow skipped", now)
        else:
            self._cancel(task, "No workflow filter matched", now)

    def _enter_filter(
        self,
        task: Task,
        filter_index: int,
        targets: tuple[Target, ...],
        now: int,
        first: int | None = None,
    ) -> str:
        """Try the filter's targets from the first still within its timeout.

        Returns "placed", "skipped" (every remaining target skipped) or "timed out" (the
        task's age is past every target's timeout: it falls out of the workflow).
        """
        age_limit = task.date_created
        start = first
        for index, target in enumerate(targets):
            if target.timeout is None:
                if start is None:
                    start = index
                continue
            age_limit += target.timeout * 1000
            if start is None and age_limit > now:
                start = index
        if start is None:
            self._fall_out(task, now)
            return "timed out"
        for index in range(start, len(targets)):
            target = targets[index]
            reserved = self._place(task, filter_index, index, target, now)
            if reserved or target.skip_if is None or not self._should_skip(target, now):
                return "placed"
            self.pending.discard(task.sid)
        return "skipped"

    def _place(
        self,
        task: Task,
        filter_index: int | None,
        target_index: int | None,
        target: Target,
        now: int,
    ) -> bool:
        """Enter a target; True when reservations were created at once."""
        if task.task_queue_sid != target.queue_sid:
            task.task_queue_entered_date = now
            task.task_queue_sid = target.queue_sid
            self._emit("task-queue.entered", target.queue_sid, task_sid=task.sid)
        task.filter_index = filter_index
        task.target_index = target_index
        # A target's priority wins over the one the task was created or updated with.
        if target.priority is not None:
            task.priority = target.priority
        self._touch_task(task, now)
        if filter_index is not None:
            self._emit("workflow.target-matched", task.workflow_sid or "", task_sid=task.sid)
        deadline = self._target_deadline(task)
        if deadline is not None:
            self.timers.at(
                deadline, Deadline.TARGET_TIMEOUT, task.sid, (filter_index, target_index)
            )
        self._queue_pending(task)
        return self._try_task(task, now)

    def _target(self, task: Task) -> Target | None:
        if task.routing_target is not None and task.routing_target.startswith(
            Prefix.TASK_QUEUE.value
        ):
            return Target(queue_sid=task.routing_target)
        configuration = self.state.configurations.get(task.workflow_sid or "")
        if configuration is None or task.filter_index is None or task.target_index is None:
            return None
        if task.filter_index == -1:
            return configuration.default_filter
        if task.filter_index >= len(configuration.filters):
            return None
        targets = configuration.filters[task.filter_index].targets
        return targets[task.target_index] if task.target_index < len(targets) else None

    def _target_deadline(self, task: Task) -> int | None:
        """Target timeouts add up from the task's creation, not from entering the step."""
        configuration = self.state.configurations.get(task.workflow_sid or "")
        if configuration is None or task.filter_index is None or task.filter_index < 0:
            return None
        if task.target_index is None or task.filter_index >= len(configuration.filters):
            return None
        targets = configuration.filters[task.filter_index].targets
        if task.target_index >= len(targets) or targets[task.target_index].timeout is None:
            return None
        total = sum(t.timeout or 0 for t in targets[: task.target_index + 1])
        return task.date_created + total * 1000

    def _should_skip(self, target: Target, now: int) -> bool:
        assert target.skip_if is not None
        available = unavailable = 0
        by_activity: dict[str, int] = {}
        activities = self.state.activities
        for worker_sid in self.state.membership.members.get(target.queue_sid, ()):
            worker = self.state.workers[worker_sid]
            by_activity[worker.activity_sid] = by_activity.get(worker.activity_sid, 0) + 1
            if activities[worker.activity_sid].available:
                available += 1
            else:
                unavailable += 1
        return _safe(target.skip_if, skip_if_root(available, unavailable, by_activity))

    def _fall_out(self, task: Task, now: int) -> None:
        self.pending.discard(task.sid)
        self._emit("workflow.timeout", task.workflow_sid or "", task_sid=task.sid)
        self._cancel(task, "Workflow Timeout", now)

    def _next_target(self, task: Task, now: int) -> None:
        """A target's timeout passed: cancel its open offers and move the task on."""
        for reservation in self._reservations_of(task.sid):
            if reservation.reservation_status == R.PENDING:
                self._end_reservation(reservation, R.CANCELED, now, reroute=False)
        if task.assignment_status == T.RESERVED:
            self._set_task_status(task, T.PENDING, now)
        self.pending.discard(task.sid)
        if task.task_queue_sid is not None:
            self._emit("task-queue.timeout", task.task_queue_sid, task_sid=task.sid)
        configuration = self.state.configurations.get(task.workflow_sid or "")
        if configuration is None or task.filter_index is None or task.filter_index < 0:
            return
        targets = configuration.filters[task.filter_index].targets
        following = (task.target_index or 0) + 1
        if following >= len(targets):
            self._fall_out(task, now)
            return
        outcome = self._enter_filter(task, task.filter_index, targets, now, first=following)
        if outcome == "skipped":
            self._route_from(task, task.filter_index + 1, True, now)

    def _queue_pending(self, task: Task) -> None:
        place = self._pending_place(task)
        if place is None:
            return
        slot, key = place
        self.pending.add(task.sid, slot, key)
        self.ready.route(slot)
        self._tasks_to_route.append(task.sid)

    def _pending_place(self, task: Task) -> tuple[Slot, TaskKey] | None:
        """Where a pending task waits, and its place in that queue's order."""
        if task.routing_target is not None and task.routing_target.startswith(Prefix.WORKER.value):
            return None
        queue = self.state.queues.get(task.task_queue_sid or "")
        if queue is None:
            return None
        key_of = lifo_key if queue.task_order == "LIFO" else fifo_key
        slot = (queue.sid, task.task_channel_sid)
        return slot, key_of(task.priority, task.virtual_start_time, task.sid)

    # ------------------------------------------------------------------ direct routing

    def _route_to_worker(self, task: Task, worker_sid: str, now: int) -> None:
        if worker_sid not in self.state.workers:
            self._cancel(task, f"RoutingTarget {worker_sid} is not a worker of this workspace", now)
            return
        self.direct.setdefault(worker_sid, []).append(task.sid)
        self._try_direct(worker_sid, now)

    def _remove_direct(self, task: Task) -> None:
        target = task.routing_target
        if target is not None and target in self.direct and task.sid in self.direct[target]:
            self.direct[target].remove(task.sid)

    def _try_direct(self, worker_sid: str, now: int) -> None:
        for task_sid in list(self.direct.get(worker_sid, ())):
            task = self.tasks.get(task_sid)
            if task is None or task.assignment_status != T.PENDING:
                continue
            worker = self.state.workers[worker_sid]
            if self._type_blocked(task, worker_sid):
                continue
            ignore = task.ignore_capacity is not False
            if ignore or self.ready.is_ready(worker_sid, task.task_channel_sid):
                self.direct[worker_sid].remove(task_sid)
                self._reserve(task, [worker], now)

    # ------------------------------------------------------------------ matching

    def _settle(self, now: int) -> None:
        while self._tasks_to_route or self._workers_to_fill:
            while self._tasks_to_route:
                task = self.tasks.get(self._tasks_to_route.pop())
                if task is not None and task.sid in self.pending:
                    self._try_task(task, now)
            while self._workers_to_fill:
                worker_sid, channel_sid = self._workers_to_fill.pop()
                self._try_worker(worker_sid, channel_sid, now)

    def _try_task(self, task: Task, now: int) -> bool:
        """Reserve the best ready workers for a pending task; True if any was reserved."""
        if task.assignment_status != T.PENDING or task.sid not in self.pending:
            return False
        if not self.ready.has_workers((task.task_queue_sid or "", task.task_channel_sid)):
            # Nobody is ready there, so nothing below could choose anyone (a start tries
            # every waiting task, and most wait because every member is busy).
            return False
        target = self._target(task)
        queue = self.state.queues.get(task.task_queue_sid or "")
        if target is None or queue is None:
            return False
        channel_sid = task.task_channel_sid
        wanted = queue.max_reserved_workers
        known = self._known_worker(task, target)
        ready = self.ready
        workers = self.state.workers
        slot = (queue.sid, channel_sid)
        candidates: Iterable[Worker]
        if known is None:
            candidates = (workers[sid] for _, sid in ready.in_order(slot))
        else:
            candidates = (workers[known],) if ready.is_listed(known, slot) else ()
        chosen: list[Worker] = []
        channel = self.state.channels.get(channel_sid)
        if target.order_by is None and not (channel and channel.channel_optimized_routing):
            for worker in candidates:
                if self._can_take(task, target, worker, now):
                    chosen.append(worker)
                    if len(chosen) == wanted:
                        break
        else:
            # order_by needs every candidate's attributes, and channel-optimized routing each
            # candidate's idle time on this channel; the overall idle time breaks ties.
            ranked = [
                (self._rank(target, worker, channel_sid), worker)
                for worker in candidates
                if self._can_take(task, target, worker, now)
            ]
            ranked.sort(key=lambda pair: pair[0])
            chosen = [worker for _, worker in ranked[:wanted]]
        if not chosen:
            return False
        self._reserve(task, chosen, now)
        return True

    def _rank(self, target: Target, worker: Worker, channel_sid: str) -> tuple[Any, ...]:
        order = target.order_by.sort_key(self._worker_view(worker)) if target.order_by else ()
        channel = self.state.worker_channels[worker.sid].get(channel_sid)
        idle = (
            channel.last_assignment
            if channel is not None and self.state.channels[channel_sid].channel_optimized_routing
            else worker.last_assignment
        )
        return (order, idle, worker.last_assignment, worker.sid)

    def _try_worker(self, worker_sid: str, channel_sid: str, now: int) -> None:
        """Give a worker who can take more work the best task waiting in any of its queues."""
        if self.direct.get(worker_sid):
            self._try_direct(worker_sid, now)
        if not self.pending.has_channel(channel_sid):
            return  # nothing waits on the channel: no queue of the worker's can offer a task
        while self.ready.is_ready(worker_sid, channel_sid):
            worker = self.state.workers.get(worker_sid)
            if worker is None:
                return
            best = self._best_task_for(worker, channel_sid, now)
            if best is None:
                return
            if not self._try_task(best, now):
                return

    def _best_task_for(self, worker: Worker, channel_sid: str, now: int) -> Task | None:
        lifo_first = self.state.workspace.prioritize_queue_order == "LIFO"
        best: Task | None = None
        best_rank: tuple[int, TaskKey] | None = None
        mine = self.state.membership.frozen_queues_of(worker.sid)
        pending = self.pending
        queues = self.state.queues
        # Queues of the preferred kind drain first; within a kind, the queue's own ordering
        # key decides. Walking the queues best first by the task at their head, the first
        # task the worker can take usually ends the search: a queue whose head ranks below
        # it has nothing better, nor has any queue after it.
        heads: list[tuple[tuple[int, TaskKey], str]] = []
        for queue_sid in mine & pending.queues_waiting_on(channel_sid):
            kind = 0 if (queues[queue_sid].task_order == "LIFO") == lifo_first else 1
            heads.append(((kind, pending.first((queue_sid, channel_sid))), queue_sid))
        heads.sort()
        for head, queue_sid in heads:
            if best_rank is not None and head >= best_rank:
                break
            kind = head[0]
            slot: Slot = (queue_sid, channel_sid)
            for key in pending.in_order(slot):
                if best_rank is not None and (kind, key) >= best_rank:
                    break  # everything after this in the queue ranks lower still
                task = self.tasks[key[2]]
                target = self._target(task)
                if target is None:
                    continue
                known = self._known_worker(task, target)
                if known is not None and known != worker.sid:
                    continue
                if self._can_take(task, target, worker, now):
                    rank = (kind, key)
                    if best_rank is None or rank < best_rank:
                        best, best_rank = task, rank
                    break
        return best

    def _can_take(self, task: Task, target: Target, worker: Worker, now: int) -> bool:
        if worker.sid in task.declined_by or self._type_blocked(task, worker.sid):
            return False
        for rsid in self.reservations_of_task.get(task.sid, ()):
            reservation = self.reservations[rsid]
            if reservation.worker_sid == worker.sid and reservation.reservation_status == R.PENDING:
                return False
        if target.expression is None:
            return True
        root = target_root(task.parsed_attributes, self._worker_view(worker), to_datetime(now))
        return _safe(target.expression, root)

    def _type_blocked(self, task: Task, worker_sid: str) -> bool:
        blocked = self.state.blocked_task_types.get(worker_sid)
        return blocked is not None and task_type_of(task.parsed_attributes) in blocked

    def _known_worker(self, task: Task, target: Target) -> str | None:
        reference = target.known_worker_sid or target.known_worker_friendly_name
        if reference is None:
            return None
        value: Any = task.parsed_attributes
        for part in reference.removeprefix("task.").split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if not isinstance(value, str):
            return "-"  # a bad reference matches nobody; the task waits for its timeout
        if target.known_worker_sid is not None:
            return value
        return self.state.worker_names.get(value.lower(), "-")

    def _worker_view(self, worker: Worker) -> dict[str, Any]:
        activity = self.state.activities[worker.activity_sid]
        channels = {
            self.state.channels[wc.task_channel_sid].unique_name: {
                "configured_capacity": wc.configured_capacity,
                "assigned_tasks": wc.assigned_tasks,
                "available_capacity_percentage": wc.available_capacity_percentage,
            }
            for wc in self.state.worker_channels.get(worker.sid, {}).values()
        }
        return worker_view(
            worker.sid,
            worker.friendly_name,
            worker.activity_sid,
            activity.friendly_name,
            worker.parsed_attributes,
            channels,
        )

    # ------------------------------------------------------------------ reservations

    def _reserve(self, task: Task, workers: list[Worker], now: int) -> None:
        if task.reservation_attempts >= self.limits.max_reservation_attempts:
            self._cancel(task, "Max assignment count exceeded", now)
            return
        self._set_task_status(task, T.RESERVED, now)
        task.reservation_attempts += 1
        self.pending.discard(task.sid)
        workflow = self.state.workflows.get(task.workflow_sid or "")
        timeout_s = workflow.task_reservation_timeout if workflow else DEFAULT_RESERVATION_TIMEOUT
        queue = self.state.queues.get(task.task_queue_sid or "")
        made: list[Reservation] = []
        for worker in workers:
            reservation = Reservation(
                sid=new_sid(Prefix.RESERVATION),
                account_sid=task.account_sid,
                workspace_sid=task.workspace_sid,
                task_sid=task.sid,
                worker_sid=worker.sid,
                reservation_status=R.PENDING,
                date_created=now,
                date_updated=now,
                timeout_at=now + timeout_s * 1000,
                worker_previous_activity_sid=worker.activity_sid,
            )
            self._index_reservation(reservation)
            self._out.reservations[reservation.sid] = reservation
            self._count_active(reservation, +1)
            if not self.state.workspace.multi_task_enabled and queue is not None:
                self._set_activity(worker, queue.reservation_activity_sid, now)
            self.timers.at(reservation.timeout_at, Deadline.RESERVATION_TIMEOUT, reservation.sid)
            self._emit_reservation("reservation.created", reservation)
            self._refresh_worker(worker)
            made.append(reservation)
        if task.bypass_reserved_state and made:
            # Nobody is asked: the first worker chosen gets the task, the others are rescinded.
            self._accept(made[0], task, now)

    def update_reservation(
        self,
        sid: str,
        status: str,
        *,
        worker_activity_sid: str | None = None,
        instruction: dict[str, Any] | None = None,
        if_match: str | None = None,
    ) -> Reservation:
        now = self.clock.now_ms()
        reservation = self.reservations[sid]
        _check_version("Reservation", sid, reservation.version, if_match)
        current = ReservationStatus(reservation.reservation_status)
        new = ReservationStatus(status)
        if new is R.ACCEPTED and current is R.RESCINDED:
            raise Gone(f"Reservation {sid} was rescinded: another worker accepted the task")
        if worker_activity_sid is not None and worker_activity_sid not in self.state.activities:
            raise Invalid(
                f"WorkerActivitySid {worker_activity_sid} is not an Activity of this workspace",
                param="WorkerActivitySid",
            )
        if new == current and instruction is None:
            return reservation
        # Every check comes before the first change, so a refused request changes nothing.
        if new != current:
            check_reservation(current, new, sid)
            if new not in (R.ACCEPTED, R.REJECTED, R.WRAPPING, R.COMPLETED):
                raise IllegalTransition(f"Reservation {sid} cannot be set {new.value} by request")
            task = self.tasks[reservation.task_sid]
            wanted_task = {
                R.ACCEPTED: T.ASSIGNED,
                R.WRAPPING: T.WRAPPING,
                R.COMPLETED: T.COMPLETED,
            }.get(new)
            if wanted_task is not None and wanted_task != task.assignment_status:
                check_task(task.assignment_status, wanted_task, task.sid, self.state.sid)
        if instruction is not None:
            reservation.instruction = instruction
            self._touch_reservation(reservation, now)
        if new != current:
            if new is R.ACCEPTED:
                self._accept(reservation, task, now)
            elif new is R.REJECTED:
                self._decline(reservation, task, R.REJECTED, worker_activity_sid, now)
            elif new is R.WRAPPING:
                self._wrap(task, now)
            elif new is R.COMPLETED:
                self._complete(task, "Reservation completed", now)
        self._settle(now)
        return reservation

    def _accept(self, reservation: Reservation, task: Task, now: int) -> None:
        self._move_reservation(reservation, R.ACCEPTED, now)
        self._set_task_status(task, T.ASSIGNED, now)
        worker = self.state.workers[reservation.worker_sid]
        channel = self.state.worker_channels[worker.sid].get(task.task_channel_sid)
        if channel is not None:
            channel.assigned_tasks += 1
            channel.last_assignment = now
            self._out.worker_channels[channel.sid] = channel
        worker.last_assignment = now
        self._out.workers[worker.sid] = worker
        queue = self.state.queues.get(task.task_queue_sid or "")
        if not self.state.workspace.multi_task_enabled and queue is not None:
            self._set_activity(worker, queue.assignment_activity_sid, now)
        self._emit_reservation("reservation.accepted", reservation)
        for other in self._reservations_of(task.sid):
            if other.sid != reservation.sid and other.reservation_status == R.PENDING:
                self._end_reservation(other, R.RESCINDED, now, reroute=False)
        self.timers.at(now + self.limits.assigned_lifetime_ms, Deadline.ASSIGNED_LIMIT, task.sid)
        self._refresh_worker(worker)

    def _decline(
        self,
        reservation: Reservation,
        task: Task,
        status: ReservationStatus,
        activity_sid: str | None,
        now: int,
    ) -> None:
        """A reject or a timeout: the worker is not asked again, the task is offered on."""
        task.declined_by.append(reservation.worker_sid)
        worker = self.state.workers[reservation.worker_sid]
        if status is R.TIMEOUT:
            activity_sid = self.state.workspace.timeout_activity_sid
        elif activity_sid is None and not self.state.workspace.multi_task_enabled:
            activity_sid = reservation.worker_previous_activity_sid
        self._end_reservation(reservation, status, now)
        if activity_sid is not None:
            self._set_activity(worker, activity_sid, now)

    def _end_reservation(
        self, reservation: Reservation, status: ReservationStatus, now: int, *, reroute: bool = True
    ) -> None:
        """Close a pending reservation; the task goes back to pending when none is left."""
        self._move_reservation(reservation, status, now)
        self._count_active(reservation, -1)
        worker = self.state.workers.get(reservation.worker_sid)
        if (
            worker is not None
            and status in (R.CANCELED, R.RESCINDED)
            and not self.state.workspace.multi_task_enabled
            and reservation.worker_previous_activity_sid is not None
        ):
            self._set_activity(worker, reservation.worker_previous_activity_sid, now)
        self._emit_reservation(f"reservation.{status.value}", reservation)
        if worker is not None:
            self._refresh_worker(worker)
        task = self.tasks.get(reservation.task_sid)
        if (
            reroute
            and task is not None
            and task.assignment_status == T.RESERVED
            and not any(r.reservation_status == R.PENDING for r in self._reservations_of(task.sid))
        ):
            self._set_task_status(task, T.PENDING, now)
            if task.routing_target is not None and task.routing_target.startswith(
                Prefix.WORKER.value
            ):
                self.direct.setdefault(task.routing_target, []).append(task.sid)
            else:
                self._queue_pending(task)

    def _finish_reservation(self, reservation: Reservation, now: int) -> None:
        self._move_reservation(reservation, R.COMPLETED, now)
        self._count_active(reservation, -1)
        task = self.tasks.get(reservation.task_sid)
        channel = None
        if task is not None:
            channel = self.state.worker_channels.get(reservation.worker_sid, {}).get(
                task.task_channel_sid
            )
        if channel is not None:
            channel.assigned_tasks = max(channel.assigned_tasks - 1, 0)
        self._emit_reservation("reservation.completed", reservation)
        worker = self.state.workers.get(reservation.worker_sid)
        if worker is not None:
            self._refresh_worker(worker)

    def _move_reservation(
        self, reservation: Reservation, status: ReservationStatus, now: int
    ) -> None:
        check_reservation(reservation.reservation_status, status, reservation.sid)
        reservation.reservation_status = status
        self._touch_reservation(reservation, now)

    def _set_task_status(self, task: Task, status: TaskStatus, now: int) -> None:
        check_task(task.assignment_status, status, task.sid, self.state.sid)
        task.assignment_status = status
        self._touch_task(task, now)

    def _reservations_of(self, task_sid: str) -> list[Reservation]:
        return [self.reservations[r] for r in self.reservations_of_task.get(task_sid, ())]

    def _count_active(self, reservation: Reservation, delta: int) -> None:
        task = self.tasks.get(reservation.task_sid)
        if task is None:
            return
        channel = self.state.worker_channels.get(reservation.worker_sid, {}).get(
            task.task_channel_sid
        )
        if channel is None:
            return
        channel.active_tasks = max(channel.active_tasks + delta, 0)
        if delta > 0 and reservation.reservation_status in (R.ACCEPTED, R.WRAPPING):
            channel.assigned_tasks += 1

    # ------------------------------------------------------------------ workers

    def _set_activity(self, worker: Worker, activity_sid: str | None, now: int) -> None:
        if activity_sid is None or activity_sid == worker.activity_sid:
            return
        if activity_sid not in self.state.activities:
            return
        worker.activity_sid = activity_sid
        worker.date_status_changed = now
        worker.date_updated = now
        worker.version += 1
        self._out.workers[worker.sid] = worker
        self._emit("worker.activity.update", worker.sid, worker_sid=worker.sid)
        self._refresh_worker(worker)

    def _is_busy(self, worker_sid: str) -> bool:
        return any(
            self.reservations[r].reservation_status in RESERVATION_ACTIVE
            for r in self.reservations_of_worker.get(worker_sid, ())
        )

    def _refresh_worker(self, worker: Worker) -> None:
        """Recompute on which channels the worker can take a new reservation now."""
        state = self.state
        worker_sid = worker.sid
        ready: list[str] = []
        if state.activities[worker.activity_sid].available and (
            state.workspace.multi_task_enabled or not self._is_busy(worker_sid)
        ):
            ready = [
                channel_sid
                for channel_sid, channel in state.worker_channels.get(worker_sid, {}).items()
                if channel.has_capacity
            ]
        if not ready:
            self.ready.unset(worker_sid)
            return
        before = self.ready.channels_of(worker_sid)
        queues = state.membership.frozen_queues_of(worker_sid)
        self.ready.set(worker_sid, (worker.last_assignment, worker_sid), queues, frozenset(ready))
        has_channel = self.pending.has_channel
        fill = self._workers_to_fill
        for channel_sid in ready:
            # Only a channel with waiting work is worth a look for this worker.
            if has_channel(channel_sid) or channel_sid not in before:
                fill.append((worker_sid, channel_sid))

    def worker_changed(self, worker: Worker, *, reject_pending: bool = False) -> None:
        """After a worker's activity, attributes or channels changed through the API."""
        now = self.clock.now_ms()
        if reject_pending and not self.state.activities[worker.activity_sid].available:
            for rsid in list(self.reservations_of_worker.get(worker.sid, ())):
                reservation = self.reservations[rsid]
                if reservation.reservation_status == R.PENDING:
                    task = self.tasks[reservation.task_sid]
                    task.declined_by.append(worker.sid)
                    self._end_reservation(reservation, R.REJECTED, now)
        self._refresh_worker(worker)
        self._settle(now)

    def task_types_changed(self, worker_sids: Iterable[str]) -> None:
        """After the workers' task-type availability changed: offers of types they no longer
        take are canceled (the tasks are offered on), and each worker is matched again."""
        now = self.clock.now_ms()
        for worker_sid in worker_sids:
            worker = self.state.workers.get(worker_sid)
            if worker is None:
                continue
            for rsid in list(self.reservations_of_worker.get(worker_sid, ())):
                reservation = self.reservations[rsid]
                task = self.tasks.get(reservation.task_sid)
                if (
                    reservation.reservation_status == R.PENDING
                    and task is not None
                    and self._type_blocked(task, worker_sid)
                ):
                    self._end_reservation(reservation, R.CANCELED, now)
            self._refresh_worker(worker)
            if self.direct.get(worker_sid):
                self._try_direct(worker_sid, now)
            # A type taken again may match tasks already waiting on a channel the worker was
            # ready on, which `_refresh_worker` alone would not look at again.
            for channel_sid in self.ready.channels_of(worker_sid):
                if self.pending.has_channel(channel_sid):
                    self._workers_to_fill.append((worker_sid, channel_sid))
        self._settle(now)

    def worker_removed(self, worker_sid: str) -> None:
        self.ready.forget(worker_sid)
        self.direct.pop(worker_sid, None)

    def holds_work(self, worker_sid: str) -> bool:
        return self._is_busy(worker_sid)

    def queue_changed(self) -> None:
        """A queue's members or ordering changed: re-list workers and re-order its tasks."""
        now = self.clock.now_ms()
        for worker in self.state.workers.values():
            self._refresh_worker(worker)
        for sid in self.pending.task_sids():
            task = self.tasks[sid]
            self._queue_pending(task)
        self._settle(now)

    def tasks_in_queue(self, queue_sid: str) -> int:
        return sum(
            1
            for t in self.tasks.values()
            if t.task_queue_sid == queue_sid and t.assignment_status in TASK_LIVE
        )

    def workflow_changed(self, workflow_sid: str, re_evaluate: bool) -> None:
        if not re_evaluate:
            return
        now = self.clock.now_ms()
        for task in list(self.tasks.values()):
            if task.workflow_sid == workflow_sid and task.assignment_status == T.PENDING:
                self.pending.discard(task.sid)
                self._route(task, now)
        self._settle(now)

    # ------------------------------------------------------------------ time

    def next_deadline(self) -> int | None:
        return self.timers.next_due()

    def advance(self) -> None:
        """Fire every deadline that is due by the clock's now."""
        now = self.clock.now_ms()
        while (entry := self.timers.pop_due(now)) is not None:
            _, _, kind, sid, stamp = entry
            if kind is Deadline.RESERVATION_TIMEOUT:
                self._reservation_timed_out(sid, now)
            else:
                task = self.tasks.get(sid)
                if task is not None:
                    self._task_deadline(kind, task, stamp, now)
            self._settle(now)

    def _reservation_timed_out(self, sid: str, now: int) -> None:
        reservation = self.reservations.get(sid)
        if reservation is not None and reservation.reservation_status == R.PENDING:
            self._decline(reservation, self.tasks[reservation.task_sid], R.TIMEOUT, None, now)

    def _task_deadline(self, kind: Deadline, task: Task, stamp: Any, now: int) -> None:
        """Act on a task's deadline if it still applies; stale entries do nothing."""
        waiting = task.assignment_status in (T.PENDING, T.RESERVED)
        if kind is Deadline.TARGET_TIMEOUT:
            if waiting and (task.filter_index, task.target_index) == stamp:
                self._next_target(task, now)
        elif kind is Deadline.TASK_TTL:
            if waiting and task.date_created + task.timeout * 1000 <= now:
                self._cancel(task, "Task TTL Exceeded", now)
        elif kind is Deadline.ASSIGNED_LIMIT:
            if task.assignment_status in (T.ASSIGNED, T.WRAPPING):
                self._system_delete(task, now)
        elif kind is Deadline.FORGET_CLOSED:
            closed = task.date_closed
            if closed is not None and closed + self.limits.closed_visible_ms <= now:
                self._forget(task)

    def _system_delete(self, task: Task, now: int) -> None:
        self._release_all(task, now)
        task.deleted = True
        task.date_closed = now
        task.reason = "Assigned task exceeded its maximum lifetime"
        self._touch_task(task, now)
        self._emit("task.system-deleted", task.sid, task_sid=task.sid)
        self._forget(task)


_TASK_STATUSES = {status.value: status for status in TaskStatus}


def _task_status(value: str) -> TaskStatus:
    """The member for a requested status; the enum's own lookup (and its error for a value
    that is none) only off the common path."""
    return _TASK_STATUSES.get(value) or TaskStatus(value)


def _check_version(kind: str, sid: str, version: int, if_match: str | None) -> None:
    if if_match is not None and if_match.strip().strip('"') != str(version):
        raise PreconditionFailed(f"{kind} {sid} is at version {version}, not {if_match}")


def _safe(predicate: Any, root: Any) -> bool:
    try:
        return bool(predicate(root))
    except Exception:
        return False
