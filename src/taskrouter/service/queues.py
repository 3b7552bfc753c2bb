"""Task queues: which workers may take their tasks, and in what order tasks leave."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from taskrouter.domain.entities import TaskQueue
from taskrouter.domain.errors import Conflict, Invalid, NotFound
from taskrouter.domain.sids import Prefix, new_sid
from taskrouter.engine.state import WorkspaceState
from taskrouter.events.log import Emitted
from taskrouter.expressions import Context, ExpressionError, compile_expression
from taskrouter.service import records, validation
from taskrouter.service.runtime import Runtime

TASK_ORDERS = ("FIFO", "LIFO")
MAX_RESERVED_WORKERS = 50


@dataclass(slots=True)
class QueueFields:
    friendly_name: str | None = None
    target_workers: str | None = None
    max_reserved_workers: int | None = None
    task_order: str | None = None
    reservation_activity_sid: str | None = None
    assignment_activity_sid: str | None = None
    # Refuse a name another queue of the workspace already has.
    unique_name: bool = False


class TaskQueues:
    def __init__(self, runtime: Runtime) -> None:
        self._rt = runtime

    def list(
        self,
        account_sid: str,
        workspace_sid: str,
        friendly_name: str | None = None,
        worker_attributes: dict[str, Any] | None = None,
        worker_sid: str | None = None,
    ) -> list[TaskQueue]:
        state = self._rt.workspace(account_sid, workspace_sid)
        queues = list(state.queues.values())
        if friendly_name is not None:
            queues = [q for q in queues if q.friendly_name == friendly_name]
        if worker_attributes is not None:
            matching = set(state.membership.queues_matching(worker_attributes))
            queues = [q for q in queues if q.sid in matching]
        if worker_sid is not None:
            of_worker = state.membership.queues_of.get(worker_sid, set())
            queues = [q for q in queues if q.sid in of_worker]
        return queues

    def fetch(self, account_sid: str, workspace_sid: str, sid: str) -> TaskQueue:
        return _queue(self._rt.workspace(account_sid, workspace_sid), sid)

    async def create(self, account_sid: str, workspace_sid: str, fields: QueueFields) -> TaskQueue:
        state = self._rt.workspace(account_sid, workspace_sid)
        if fields.friendly_name is None:
            raise Invalid("FriendlyName is required", param="FriendlyName")
        now = self._rt.clock.now_ms()
        queue = TaskQueue(
            new_sid(Prefix.TASK_QUEUE), account_sid, workspace_sid, fields.friendly_name, now, now
        )
        if not state.workspace.multi_task_enabled:
            queue.reservation_activity_sid = _activity_named(state, "Reserved")
            queue.assignment_activity_sid = _activity_named(state, "Busy")
        _apply(state, queue, fields)
        state.queues[queue.sid] = queue
        state.index_queue(queue)
        state.engine.queue_changed()
        await self._rt.commit_with_engine(
            state, [records.put(queue)], [Emitted("task-queue.created", queue)]
        )
        return queue

    async def update(
        self, account_sid: str, workspace_sid: str, sid: str, fields: QueueFields
    ) -> TaskQueue:
        state = self._rt.workspace(account_sid, workspace_sid)
        queue = _queue(state, sid)
        expression_changed = (
            fields.target_workers is not None and fields.target_workers != queue.target_workers
        )
        _apply(state, queue, fields)
        queue.date_updated = self._rt.clock.now_ms()
        if expression_changed:
            state.index_queue(queue)
        state.engine.queue_changed()
        events = [Emitted("task-queue.expression.updated", queue)] if expression_changed else []
        await self._rt.commit_with_engine(state, [records.put(queue)], events)
        return queue

    async def delete(self, account_sid: str, workspace_sid: str, sid: str) -> None:
        state = self._rt.workspace(account_sid, workspace_sid)
        queue = _queue(state, sid)
        users = state.workflows_using_queue(sid)
        if users:
            names = ", ".join(f"{w.sid} ({w.friendly_name})" for w in users)
            raise Invalid(f"TaskQueue {sid} is routed to by Workflow {names}; change it first")
        live = state.engine.tasks_in_queue(sid)
        if live:
            raise Invalid(f"TaskQueue {sid} still holds {live} task(s); they must finish first")
        del state.queues[sid]
        state.membership.remove_queue(sid)
        await self._rt.commit_with_engine(
            state, [records.delete(queue)], [Emitted("task-queue.deleted", queue)]
        )


def _apply(state: WorkspaceState, queue: TaskQueue, fields: QueueFields) -> None:
    """Validate every field first, then change the queue: a bad request changes nothing."""
    if fields.friendly_name is not None:
        validation.friendly_name(fields.friendly_name)
        if fields.unique_name:
            for other in state.queues.values():
                if other.friendly_name == fields.friendly_name and other.sid != queue.sid:
                    raise Conflict(
                        f"A TaskQueue named {fields.friendly_name!r} already exists ({other.sid})",
                        param="FriendlyName",
                    )
    if fields.target_workers is not None and fields.target_workers.strip():
        try:
            compile_expression(fields.target_workers, Context.WORKER)
        except ExpressionError as exc:
            raise Invalid(
                f"TargetWorkers is not a valid expression: {exc}", param="TargetWorkers"
            ) from None
    if fields.max_reserved_workers is not None:
        validation.integer(
            fields.max_reserved_workers, "MaxReservedWorkers", 1, MAX_RESERVED_WORKERS
        )
    task_order = None
    if fields.task_order is not None:
        task_order = validation.choice(fields.task_order, "TaskOrder", TASK_ORDERS)
    for param, value in (
        ("ReservationActivitySid", fields.reservation_activity_sid),
        ("AssignmentActivitySid", fields.assignment_activity_sid),
    ):
        if value is not None and value not in state.activities:
            raise Invalid(f"{param} {value} is not an Activity of this workspace", param=param)

    if fields.friendly_name is not None:
        queue.friendly_name = fields.friendly_name
    if fields.target_workers is not None:
        queue.target_workers = fields.target_workers
    if fields.max_reserved_workers is not None:
        queue.max_reserved_workers = fields.max_reserved_workers
    if task_order is not None:
        queue.task_order = task_order
    if fields.reservation_activity_sid is not None:
        queue.reservation_activity_sid = fields.reservation_activity_sid
    if fields.assignment_activity_sid is not None:
        queue.assignment_activity_sid = fields.assignment_activity_sid


def _activity_named(state: WorkspaceState, name: str) -> str | None:
    return next((a.sid for a in state.activities.values() if a.friendly_name == name), None)


def _queue(state: WorkspaceState, sid: str) -> TaskQueue:
    queue = state.queues.get(sid)
    if queue is None:
        raise NotFound(
            f"The requested resource /Workspaces/{state.sid}/TaskQueues/{sid} was not found"
        )
    return queue
