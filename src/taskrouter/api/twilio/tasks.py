"""/v1/Workspaces/{WorkspaceSid}/Tasks and the reservations under tasks and workers."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from taskrouter.api.twilio import render
from taskrouter.api.twilio.call import Call, endpoint
from taskrouter.api.twilio.wire import Params, Position, json_response, page
from taskrouter.api.twilio.workspaces import workspace_sid
from taskrouter.domain.entities import Reservation, Task
from taskrouter.domain.errors import Invalid
from taskrouter.domain.sids import Prefix
from taskrouter.service.tasks import NewTask, TaskChanges, TaskFilter

ORDERING_FIELDS = {
    "DateCreated": "date_created",
    "Priority": "priority",
    "VirtualStartTime": "virtual_start_time",
}


def _etag(version: int) -> dict[str, str]:
    return {"ETag": str(version)}


def _ordering(text: str | None) -> list[tuple[str, bool]]:
    """`Attr:asc,Attr:desc` into (field, descending) pairs; DateCreated:asc by default."""
    if not text:
        return [("date_created", False)]
    pairs: list[tuple[str, bool]] = []
    for part in text.split(","):
        name, _, direction = part.strip().partition(":")
        field = ORDERING_FIELDS.get(name)
        if field is None or direction.lower() not in ("asc", "desc"):
            raise Invalid(
                f"Ordering must be Attribute:asc|desc pairs over DateCreated, Priority and"
                f" VirtualStartTime, got {text!r}",
                param="Ordering",
            )
        pairs.append((field, direction.lower() == "desc"))
    names = {f for f, _ in pairs}
    if {"date_created", "virtual_start_time"} <= names:
        raise Invalid(
            "Ordering cannot use DateCreated and VirtualStartTime together", param="Ordering"
        )
    return pairs


def new_task(f: Params) -> NewTask:
    """A task create's form; the Worker SDK face parses `worker.createTask` with it too."""
    return NewTask(
        attributes=f.str("Attributes"),
        priority=f.int("Priority"),
        timeout=f.int("Timeout"),
        task_channel=f.str("TaskChannel"),
        workflow_sid=f.sid("WorkflowSid", Prefix.WORKFLOW),
        virtual_start_time=f.datetime_ms("VirtualStartTime"),
        routing_target=f.str("RoutingTarget"),
        ignore_capacity=f.bool("IgnoreCapacity"),
        task_queue_sid=f.sid("TaskQueueSid", Prefix.TASK_QUEUE),
    )


def task_changes(f: Params) -> TaskChanges:
    """A task update's form (shared with the Worker SDK face)."""
    return TaskChanges(
        attributes=f.str("Attributes"),
        assignment_status=f.str("AssignmentStatus"),
        reason=f.str("Reason"),
        priority=f.int("Priority"),
        task_channel=f.str("TaskChannel"),
        virtual_start_time=f.datetime_ms("VirtualStartTime"),
    )


@endpoint
async def list_tasks(call: Call) -> Response:
    q = call.query
    ws = workspace_sid(call)
    where = TaskFilter(
        priority=q.int("Priority"),
        assignment_status=q.list("AssignmentStatus"),
        workflow_sid=q.sid("WorkflowSid", Prefix.WORKFLOW),
        workflow_name=q.str("WorkflowName"),
        task_queue_sid=q.sid("TaskQueueSid", Prefix.TASK_QUEUE),
        task_queue_name=q.str("TaskQueueName"),
        evaluate_task_attributes=q.str("EvaluateTaskAttributes"),
        routing_target=q.str("RoutingTarget"),
        has_addons=q.bool("HasAddons"),
    )
    ordering = _ordering(q.str("Ordering"))
    tasks = call.service.tasks.list(call.account_sid, ws, where)
    state = call.service.runtime.workspaces[ws]
    now = call.service.runtime.clock.now_ms()

    def position(t: Task) -> Position:
        keys: list[Any] = [-getattr(t, f) if desc else getattr(t, f) for f, desc in ordering]
        return (*keys, t.date_created, t.sid)

    return json_response(
        page(
            tasks,
            key="tasks",
            query=q,
            url=call.url,
            position=position,
            render=lambda t: render.task(call.base, state, t, now, with_attributes=False),
        )
    )


@endpoint
async def create_task(call: Call) -> Response:
    ws = workspace_sid(call)
    task = await call.service.tasks.create(call.account_sid, ws, new_task(call.form))
    return _task_response(call, ws, task, 201)


def _task_response(call: Call, ws: str, task: Task, status: int = 200) -> Response:
    state = call.service.runtime.workspaces[ws]
    now = call.service.runtime.clock.now_ms()
    return json_response(render.task(call.base, state, task, now), status, _etag(task.version))


@endpoint
async def fetch_task(call: Call) -> Response:
    ws = workspace_sid(call)
    task = call.service.tasks.fetch(call.account_sid, ws, call.path_sid("Sid", Prefix.TASK))
    return _task_response(call, ws, task)


@endpoint
async def update_task(call: Call) -> Response:
    ws = workspace_sid(call)
    task = await call.service.tasks.update(
        call.account_sid,
        ws,
        call.path_sid("Sid", Prefix.TASK),
        task_changes(call.form),
        call.if_match,
    )
    return _task_response(call, ws, task)


@endpoint
async def delete_task(call: Call) -> Response:
    await call.service.tasks.delete(
        call.account_sid, workspace_sid(call), call.path_sid("Sid", Prefix.TASK), call.if_match
    )
    return Response(status_code=204)


# Reservations


def _reservation_position(r: Reservation) -> Position:
    return r.date_created, r.sid


def instruction_params(form: Params) -> dict[str, Any]:
    """Every instruction parameter the client sent, kept by its wire name."""
    skip = {"ReservationStatus", "WorkerActivitySid", "Instruction"}
    params: dict[str, Any] = {}
    for key, value in form.items():
        if key in skip:
            continue
        if key in params:
            existing = params[key]
            params[key] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            params[key] = value
    return params


async def _update_reservation(
    call: Call, *, task_sid: str | None, worker_sid: str | None, scope: str
) -> Response:
    ws = workspace_sid(call)
    f = call.form
    reservation = await call.service.reservations.update(
        call.account_sid,
        ws,
        call.path_sid("Sid", Prefix.RESERVATION),
        task_sid=task_sid,
        worker_sid=worker_sid,
        status=f.str("ReservationStatus"),
        worker_activity_sid=f.sid("WorkerActivitySid", Prefix.ACTIVITY),
        instruction=f.str("Instruction"),
        instruction_params=instruction_params(f),
        if_match=call.if_match,
    )
    state = call.service.runtime.workspaces[ws]
    return json_response(
        render.reservation(call.base, state, reservation, scope=scope),
        200,
        _etag(reservation.version),
    )


@endpoint
async def list_task_reservations(call: Call) -> Response:
    ws = workspace_sid(call)
    found = call.service.reservations.list_for_task(
        call.account_sid,
        ws,
        call.path_sid("TaskSid", Prefix.TASK),
        call.query.str("ReservationStatus"),
        call.query.sid("WorkerSid", Prefix.WORKER),
    )
    state = call.service.runtime.workspaces[ws]
    return json_response(
        page(
            found,
            key="reservations",
            query=call.query,
            url=call.url,
            position=_reservation_position,
            render=lambda r: render.reservation(call.base, state, r, scope="task"),
        )
    )


@endpoint
async def fetch_task_reservation(call: Call) -> Response:
    ws = workspace_sid(call)
    reservation = call.service.reservations.fetch(
        call.account_sid,
        ws,
        call.path_sid("Sid", Prefix.RESERVATION),
        task_sid=call.path_sid("TaskSid", Prefix.TASK),
    )
    state = call.service.runtime.workspaces[ws]
    return json_response(
        render.reservation(call.base, state, reservation, scope="task"),
        200,
        _etag(reservation.version),
    )


@endpoint
async def update_task_reservation(call: Call) -> Response:
    return await _update_reservation(
        call, task_sid=call.path_sid("TaskSid", Prefix.TASK), worker_sid=None, scope="task"
    )


@endpoint
async def list_worker_reservations(call: Call) -> Response:
    ws = workspace_sid(call)
    found = call.service.reservations.list_for_worker(
        call.account_sid,
        ws,
        call.path_sid("WorkerSid", Prefix.WORKER),
        call.query.str("ReservationStatus"),
    )
    state = call.service.runtime.workspaces[ws]
    return json_response(
        page(
            found,
            key="reservations",
            query=call.query,
            url=call.url,
            position=_reservation_position,
            render=lambda r: render.reservation(call.base, state, r, scope="worker"),
        )
    )


@endpoint
async def fetch_worker_reservation(call: Call) -> Response:
    ws = workspace_sid(call)
    reservation = call.service.reservations.fetch(
        call.account_sid,
        ws,
        call.path_sid("Sid", Prefix.RESERVATION),
        worker_sid=call.path_sid("WorkerSid", Prefix.WORKER),
    )
    state = call.service.runtime.workspaces[ws]
    return json_response(
        render.reservation(call.base, state, reservation, scope="worker"),
        200,
        _etag(reservation.version),
    )


@endpoint
async def update_worker_reservation(call: Call) -> Response:
    return await _update_reservation(
        call, task_sid=None, worker_sid=call.path_sid("WorkerSid", Prefix.WORKER), scope="worker"
    )
