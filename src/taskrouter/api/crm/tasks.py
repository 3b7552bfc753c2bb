"""/companies/{companyId}/twilio-unterminated-tasks: live tasks, filtered, sorted, paged,
deleted (one or many) and abandoned."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from taskrouter.api.crm import render
from taskrouter.api.crm.call import Call, answer, endpoint
from taskrouter.api.crm.paging import links, slice_sorted
from taskrouter.api.crm.sorting import TaskOrder
from taskrouter.api.twilio.wire import json_response
from taskrouter.domain.entities import Task
from taskrouter.domain.errors import Invalid
from taskrouter.domain.sids import Prefix, require_sid
from taskrouter.engine.state import WorkspaceState
from taskrouter.service.live_tasks import LiveTaskFilter


def _filter(call: Call) -> LiveTaskFilter:
    q = call.query
    queue_sid = q.str("taskQueueSid")
    return LiveTaskFilter(
        task_queue_sid=None
        if queue_sid is None
        else require_sid(queue_sid, Prefix.TASK_QUEUE, "taskQueueSid"),
        assignment_status=q.list("assignmentStatus"),
        task_type=q.list("taskType"),
        case_type=q.list("caseType"),
        case_id=q.list("caseId"),
        supercase_id=q.list("supercaseId"),
        interaction_id=q.list("interactionId"),
        unable_to_complete=q.bool("unableToComplete"),
        expression=q.str("taskAttrMatchExpr"),
        has_case=q.bool("hasCase"),
        has_case_owner=q.bool("hasCaseOwner"),
    )


def _render(call: Call, state: WorkspaceState, task: Task, include: set[str]) -> dict[str, Any]:
    out = render.task(state, task, call.service.runtime.clock.now_ms())
    if "reservation" in include:
        current = call.service.live_tasks.reservation_of(state, task)
        out["reservation"] = None if current is None else render.reservation(state, current)
    return out


@endpoint
async def list_tasks(call: Call) -> Response:
    state = call.company()
    include = call.query.include(("reservation",))
    order = TaskOrder(state, call.query.list("sortBy"))
    tasks = call.service.live_tasks.list(state, _filter(call))

    found = slice_sorted(tasks, order.key, order.position, order.key_of, call.query)
    return json_response(
        {
            "data": [_render(call, state, t, include) for t in found.items],
            **links(call.url, call.query, found.previous_before, found.next_after),
        }
    )


@endpoint
async def fetch_task(call: Call) -> Response:
    state = call.company()
    include = call.query.include(("reservation",))
    task = call.service.live_tasks.fetch(state, call.path("taskSid"))
    return json_response({"data": _render(call, state, task, include)})


@endpoint
async def delete_task(call: Call) -> Response:
    state = call.company()
    sid = call.path("taskSid")
    await call.service.live_tasks.delete(state, sid)
    return answer(message=f"Task {sid} deleted")


@endpoint
async def bulk_delete(call: Call) -> Response:
    state = call.company()
    body = await call.json()
    sids = body.get("taskSids")
    if not isinstance(sids, list) or not all(isinstance(s, str) for s in sids):
        raise Invalid("taskSids must be a list of task SIDs", param="taskSids")
    results = await call.service.live_tasks.bulk_delete(state, sids)
    deleted = sum(1 for r in results if r.outcome == "deleted")
    return answer(
        {"results": [{"sid": r.sid, "result": r.outcome} for r in results]},
        f"Deleted {deleted} of {len(results)} tasks",
    )


@endpoint
async def abandon_task(call: Call) -> Response:
    state = call.company()
    sid = call.path("taskSid")
    copy = await call.service.live_tasks.abandon(state, sid)
    now = call.service.runtime.clock.now_ms()
    return answer(render.task(state, copy, now), f"Task {sid} abandoned; {copy.sid} replaces it")
