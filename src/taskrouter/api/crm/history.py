"""/companies/{companyId}/twilio-terminated-tasks: finished tasks for the retention period,
newest closed first, and cloning one into a new task."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from taskrouter.api.crm import render
from taskrouter.api.crm.call import Call, answer, endpoint
from taskrouter.api.crm.paging import links, page_size, read_token
from taskrouter.api.twilio.wire import json_response
from taskrouter.domain.entities import Task
from taskrouter.domain.errors import Invalid
from taskrouter.events.finished_tasks import Cursor


def _cursor(position: list[Any]) -> Cursor:
    if (
        len(position) != 2
        or not isinstance(position[0], int)
        or isinstance(position[0], bool)
        or not isinstance(position[1], str)
    ):
        raise Invalid("Invalid pageToken", param="pageToken")
    return (position[0], position[1])


def _position(task: Task) -> list[Any]:
    return [task.date_closed, task.sid]


@endpoint
async def list_finished(call: Call) -> Response:
    state = call.company()
    size = page_size(call.query)
    token = read_token(call.query)
    after = before = None
    if token is not None:
        cursor = _cursor(token.position)
        after, before = (cursor, None) if token.forward else (None, cursor)
    found = await call.service.history.page(state, after=after, before=before, limit=size)
    first = _position(found.tasks[0]) if found.tasks and found.more_before else None
    last = _position(found.tasks[-1]) if found.tasks and found.more_after else None
    return json_response(
        {
            "data": [render.finished_task(state, t) for t in found.tasks],
            **links(call.url, call.query, first, last),
        }
    )


@endpoint
async def fetch_finished(call: Call) -> Response:
    state = call.company()
    task = await call.service.history.fetch(state, call.path("taskHistoryId"))
    return json_response({"data": render.finished_task(state, task)})


@endpoint
async def clone_finished(call: Call) -> Response:
    state = call.company()
    task_id = call.path("taskHistoryId")
    task = await call.service.history.clone(state, task_id)
    now = call.service.runtime.clock.now_ms()
    return answer(render.task(state, task, now), f"Task {task_id} cloned as {task.sid}")
