"""/taskrouter/tasks: create, search, fetch, update, delete."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.responses import Response

from taskrouter.api.cpaas import render
from taskrouter.api.cpaas import search as searching
from taskrouter.api.cpaas.call import Call, endpoint
from taskrouter.api.cpaas.errors import Kind, bad_request, not_found
from taskrouter.api.cpaas.wire import ok, query_bool
from taskrouter.domain import errors
from taskrouter.domain.entities import Task
from taskrouter.domain.lifecycles import ReservationStatus, TaskStatus
from taskrouter.service.tasks import NewTask, TaskChanges

# The document's words for task statuses, either case; it spells canceled both ways.
STATUS_WORDS = {status.value: status.value for status in TaskStatus} | {"cancelled": "canceled"}
FINISHED = frozenset((TaskStatus.COMPLETED.value, TaskStatus.CANCELED.value))
HOLDING = frozenset(
    (ReservationStatus.ACCEPTED, ReservationStatus.WRAPPING, ReservationStatus.COMPLETED)
)


# Sort values straight from the task; its dates are printed to the millisecond.
KEYS: dict[str, Callable[[Task], Any]] = {
    "sid": lambda t: t.sid,
    "dateCreated": lambda t: t.date_created,
    "dateUpdated": lambda t: t.date_updated,
    "workspaceSid": lambda t: t.workspace_sid,
    "workflowSid": lambda t: t.workflow_sid,
    "taskQueueSid": lambda t: t.task_queue_sid,
    "priority": lambda t: t.priority,
    "timeout": lambda t: t.timeout,
    "reason": lambda t: t.reason,
}


def _status(name: str, value: str | None) -> str | None:
    if value is None:
        return None
    status = STATUS_WORDS.get(value.strip().lower())
    if status is None:
        raise bad_request(
            f"{name} must be one of Pending, Reserved, Assigned, Wrapping, Canceled, Completed;"
            f" got {value!r}",
            name,
        )
    return status


def _record(call: Call, task: Task) -> dict[str, Any]:
    state = None
    if call.service.lookup.workspace_of(call.account_sid, task.workspace_sid) is not None:
        state = call.service.workspaces.fetch(call.account_sid, task.workspace_sid)
    worker_sid = None
    # Reservations are kept while the task is in memory; history has none to show.
    if state is not None and call.service.lookup.workspace_of(call.account_sid, task.sid):
        reservations = call.service.reservations.list_for_task(
            call.account_sid, state.sid, task.sid, None, None
        )
        worker_sid = next(
            (r.worker_sid for r in reservations if r.reservation_status in HOLDING), None
        )
    now = call.service.runtime.clock.now_ms()
    return render.task(call.view, state, task, worker_sid, now)


@endpoint
async def create_task(call: Call) -> Response:
    b = call.body
    workflow_sid = b.text("workflowSid")
    if workflow_sid is not None:
        state = call.holder(Kind.WORKFLOW, workflow_sid)
    else:
        # Without a workflow the workspace must say where, and hold exactly one workflow.
        workspace_sid = b.text("workspaceSid")
        if workspace_sid is None:
            raise bad_request("workflowSid is mandatory (or workspaceSid with one workflow)")
        state = call.workspace(workspace_sid)
    call.about(Kind.TASK)
    new = NewTask(
        attributes=b.json_text("attributes"),
        priority=b.number("priority"),
        timeout=b.number("timeout"),
        task_channel=b.text("taskChannel"),
        workflow_sid=workflow_sid,
        bypass_reserved_state=bool(b.flag("bypassReservedState")),
    )
    if new.task_channel is not None:
        new.task_channel = new.task_channel.lower()
    task = await call.service.tasks.create(call.account_sid, state.sid, new)
    return ok(_record(call, task))


@endpoint
async def search_tasks(call: Call) -> Response:
    want = searching.criteria(call, "tasks")
    live = query_bool("isLiveSession", call.query("isLiveSession"))
    status = _status("assignmentStatus", call.query("assignmentStatus"))
    workspace_sid = call.query("workspaceSid")
    # A deleted workspace's tasks remain searchable; an unknown workspace is refused.
    if (
        workspace_sid is not None
        and call.service.lookup.workspace_of(call.account_sid, workspace_sid) is None
        and not await call.service.tasks.history(call.account_sid, workspace_sid)
    ):
        raise not_found(Kind.WORKSPACE, workspace_sid)
    found = await call.service.tasks.history(
        call.account_sid, workspace_sid, finished=live is not True
    )

    def keep(task: Task) -> bool:
        if status is not None:
            # A status asked for decides alone, unless isLiveSession was also given.
            if task.assignment_status != status:
                return False
            if live is None:
                return want.keeps(task.date_created)
        finished = task.assignment_status in FINISHED
        return finished != bool(live) and want.keeps(task.date_created)

    kept = [t for t in found if keep(t)]
    return ok(searching.result(call, "tasks", kept, lambda t: _record(call, t), want, KEYS))


async def _task(call: Call, sid: str) -> Task:
    try:
        return await call.service.tasks.fetch_any(call.account_sid, sid)
    except errors.NotFound:
        raise not_found(Kind.TASK, sid) from None


@endpoint
async def fetch_task(call: Call) -> Response:
    return ok(_record(call, await _task(call, call.path_sid())))


async def _live(call: Call, sid: str) -> Task:
    task = await _task(call, sid)
    if call.service.lookup.workspace_of(call.account_sid, sid) is None:
        raise bad_request(
            f"Task {sid} finished and is kept as history; it can no longer be changed", sid
        )
    call.about(Kind.TASK, sid)
    return task


@endpoint
async def update_task(call: Call) -> Response:
    sid = call.path_sid()
    task = await _live(call, sid)
    b = call.body
    status = _status("assignmentStatus", b.text("assignmentStatus"))
    reason = b.text("reason")
    if reason is None and status in FINISHED:
        # The document makes the reason optional; the core keeps one for every ending.
        reason = f"Task {status} by API call"
    changes = TaskChanges(
        attributes=b.json_text("attributes"),
        assignment_status=status,
        reason=reason,
        priority=b.number("priority"),
    )
    task = await call.service.tasks.update(call.account_sid, task.workspace_sid, sid, changes)
    return ok(_record(call, task))


@endpoint
async def delete_task(call: Call) -> Response:
    sid = call.path_sid()
    task = await _live(call, sid)
    shown = _record(call, task)
    await call.service.tasks.delete(call.account_sid, task.workspace_sid, sid)
    return ok(shown)
