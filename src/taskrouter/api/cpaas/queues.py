"""/taskrouter/taskqueues: create, search, fetch, update, delete."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from taskrouter.api.cpaas import render
from taskrouter.api.cpaas import search as searching
from taskrouter.api.cpaas.call import Call, endpoint
from taskrouter.api.cpaas.errors import Kind, Subject
from taskrouter.api.cpaas.wire import ok
from taskrouter.domain.entities import TaskQueue
from taskrouter.engine.state import WorkspaceState
from taskrouter.service.queues import QueueFields

KEYS = searching.entity_keys()


def show(call: Call, state: WorkspaceState, queue: TaskQueue) -> Response:
    return ok(render.task_queue(call.view, state, queue))


def _fields(call: Call, subject: Subject) -> QueueFields:
    b = call.body
    fields = QueueFields(
        friendly_name=b.text("name"),
        target_workers=b.text("targetWorkers"),
        max_reserved_workers=b.number("maxReservedWorkers"),
        task_order=b.text("taskOrder"),
        reservation_activity_sid=b.text("reservationActivitySid"),
        assignment_activity_sid=b.text("assignmentActivitySid"),
        unique_name=True,
    )
    for param, value in (
        ("ReservationActivitySid", fields.reservation_activity_sid),
        ("AssignmentActivitySid", fields.assignment_activity_sid),
    ):
        if value is not None:
            subject.refs[param] = (Kind.ACTIVITY, value)
    return fields


@endpoint
async def create_task_queue(call: Call) -> Response:
    state = call.workspace(call.body.required("workspaceSid"))
    name = call.body.required("name")
    fields = _fields(call, call.about(Kind.TASK_QUEUE, name=name))
    queue = await call.service.task_queues.create(call.account_sid, state.sid, fields)
    return show(call, state, queue)


@endpoint
async def search_task_queues(call: Call) -> Response:
    want = searching.criteria(call, "taskqueues")
    v = call.view
    found: list[tuple[WorkspaceState, Any]] = []
    for state in call.searched_workspaces():
        found.extend(
            (state, q)
            for q in call.service.task_queues.list(call.account_sid, state.sid)
            if want.keeps(q.date_created, q.friendly_name)
        )
    return ok(
        searching.result(call, "taskqueues", found, lambda i: render.task_queue(v, *i), want, KEYS)
    )


@endpoint
async def fetch_task_queue(call: Call) -> Response:
    sid = call.path_sid()
    state = call.holder(Kind.TASK_QUEUE, sid)
    return show(call, state, call.service.task_queues.fetch(call.account_sid, state.sid, sid))


@endpoint
async def update_task_queue(call: Call) -> Response:
    sid = call.path_sid()
    state = call.holder(Kind.TASK_QUEUE, sid)
    fields = _fields(call, call.about(Kind.TASK_QUEUE, sid, call.body.text("name")))
    queue = await call.service.task_queues.update(call.account_sid, state.sid, sid, fields)
    return show(call, state, queue)


@endpoint
async def delete_task_queue(call: Call) -> Response:
    sid = call.path_sid()
    state = call.holder(Kind.TASK_QUEUE, sid)
    call.about(Kind.TASK_QUEUE, sid)
    queue = call.service.task_queues.fetch(call.account_sid, state.sid, sid)
    shown = render.task_queue(call.view, state, queue)
    await call.service.task_queues.delete(call.account_sid, state.sid, sid)
    return ok(shown)
