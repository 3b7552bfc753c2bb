"""/v1/Workspaces/{WorkspaceSid}/TaskQueues."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

from taskrouter.api.twilio import render
from taskrouter.api.twilio.call import Call, endpoint
from taskrouter.api.twilio.wire import json_response, page
from taskrouter.api.twilio.workspaces import workspace_sid
from taskrouter.domain.errors import Invalid
from taskrouter.domain.sids import Prefix
from taskrouter.service.queues import QueueFields


def _position(item: Any) -> tuple[int, str]:
    return item.date_created, item.sid


def _fields(call: Call) -> QueueFields:
    f = call.form
    return QueueFields(
        friendly_name=f.str("FriendlyName"),
        target_workers=f.str("TargetWorkers"),
        max_reserved_workers=f.int("MaxReservedWorkers"),
        task_order=f.str("TaskOrder"),
        reservation_activity_sid=f.sid("ReservationActivitySid", Prefix.ACTIVITY),
        assignment_activity_sid=f.sid("AssignmentActivitySid", Prefix.ACTIVITY),
    )


@endpoint
async def list_task_queues(call: Call) -> Response:
    q = call.query
    ws = workspace_sid(call)
    attributes = None
    text = q.str("EvaluateWorkerAttributes")
    if text is not None:
        try:
            attributes = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            raise Invalid(
                f"EvaluateWorkerAttributes is not valid JSON: {exc}",
                param="EvaluateWorkerAttributes",
            ) from None
        if not isinstance(attributes, dict):
            raise Invalid(
                "EvaluateWorkerAttributes must be a JSON object", param="EvaluateWorkerAttributes"
            )
    queues = call.service.task_queues.list(
        call.account_sid,
        ws,
        q.str("FriendlyName"),
        attributes,
        q.sid("WorkerSid", Prefix.WORKER),
    )
    state = call.service.runtime.workspaces[ws]
    return json_response(
        page(
            queues,
            key="task_queues",
            query=q,
            url=call.url,
            render=lambda x: render.task_queue(call.base, state, x),
            position=_position,
        )
    )


@endpoint
async def create_task_queue(call: Call) -> Response:
    ws = workspace_sid(call)
    fields = _fields(call)
    fields.friendly_name = call.form.required("FriendlyName")
    queue = await call.service.task_queues.create(call.account_sid, ws, fields)
    state = call.service.runtime.workspaces[ws]
    return json_response(render.task_queue(call.base, state, queue), 201)


@endpoint
async def fetch_task_queue(call: Call) -> Response:
    ws = workspace_sid(call)
    queue = call.service.task_queues.fetch(
        call.account_sid, ws, call.path_sid("Sid", Prefix.TASK_QUEUE)
    )
    state = call.service.runtime.workspaces[ws]
    return json_response(render.task_queue(call.base, state, queue))


@endpoint
async def update_task_queue(call: Call) -> Response:
    ws = workspace_sid(call)
    queue = await call.service.task_queues.update(
        call.account_sid, ws, call.path_sid("Sid", Prefix.TASK_QUEUE), _fields(call)
    )
    state = call.service.runtime.workspaces[ws]
    return json_response(render.task_queue(call.base, state, queue))


@endpoint
async def delete_task_queue(call: Call) -> Response:
    await call.service.task_queues.delete(
        call.account_sid, workspace_sid(call), call.path_sid("Sid", Prefix.TASK_QUEUE)
    )
    return Response(status_code=204)
