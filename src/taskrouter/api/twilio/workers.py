"""/v1/Workspaces/{WorkspaceSid}/Workers and their channels."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from taskrouter.api.twilio import render
from taskrouter.api.twilio.call import Call, endpoint
from taskrouter.api.twilio.wire import Params, json_response, page
from taskrouter.api.twilio.workspaces import workspace_sid
from taskrouter.domain.entities import Worker
from taskrouter.domain.sids import Prefix
from taskrouter.service.workers import WorkerFields, WorkerFilter


def _position(item: Any) -> tuple[int, str]:
    return item.date_created, item.sid


def _etag(worker: Worker) -> dict[str, str]:
    return {"ETag": str(worker.version)}


def worker_fields(f: Params) -> WorkerFields:
    """A worker update's form; the Worker SDK face parses its actions with it too."""
    return WorkerFields(
        friendly_name=f.str("FriendlyName"),
        activity_sid=f.sid("ActivitySid", Prefix.ACTIVITY),
        attributes=f.str("Attributes"),
        reject_pending_reservations=f.bool("RejectPendingReservations"),
    )


@endpoint
async def list_workers(call: Call) -> Response:
    q = call.query
    ws = workspace_sid(call)
    where = WorkerFilter(
        activity_name=q.str("ActivityName"),
        activity_sid=q.sid("ActivitySid", Prefix.ACTIVITY),
        available=q.bool("Available"),
        friendly_name=q.str("FriendlyName"),
        target_workers_expression=q.str("TargetWorkersExpression"),
        task_queue_sid=q.sid("TaskQueueSid", Prefix.TASK_QUEUE),
        task_queue_name=q.str("TaskQueueName"),
    )
    workers = call.service.workers.list(call.account_sid, ws, where)
    state = call.service.runtime.workspaces[ws]
    return json_response(
        page(
            workers,
            key="workers",
            query=q,
            url=call.url,
            render=lambda w: render.worker(call.base, state, w, with_attributes=False),
            position=_position,
        )
    )


@endpoint
async def create_worker(call: Call) -> Response:
    ws = workspace_sid(call)
    fields = worker_fields(call.form)
    fields.friendly_name = call.form.required("FriendlyName")
    worker = await call.service.workers.create(call.account_sid, ws, fields)
    state = call.service.runtime.workspaces[ws]
    return json_response(render.worker(call.base, state, worker), 201, _etag(worker))


@endpoint
async def fetch_worker(call: Call) -> Response:
    ws = workspace_sid(call)
    worker = call.service.workers.fetch(call.account_sid, ws, call.path_sid("Sid", Prefix.WORKER))
    state = call.service.runtime.workspaces[ws]
    return json_response(render.worker(call.base, state, worker), 200, _etag(worker))


@endpoint
async def update_worker(call: Call) -> Response:
    ws = workspace_sid(call)
    worker = await call.service.workers.update(
        call.account_sid,
        ws,
        call.path_sid("Sid", Prefix.WORKER),
        worker_fields(call.form),
        call.if_match,
    )
    state = call.service.runtime.workspaces[ws]
    return json_response(render.worker(call.base, state, worker), 200, _etag(worker))


@endpoint
async def delete_worker(call: Call) -> Response:
    await call.service.workers.delete(
        call.account_sid, workspace_sid(call), call.path_sid("Sid", Prefix.WORKER), call.if_match
    )
    return Response(status_code=204)


# Worker channels: `{Sid}` is the WC SID, or the task channel's SID or unique name.


@endpoint
async def list_worker_channels(call: Call) -> Response:
    ws = workspace_sid(call)
    worker_sid = call.path_sid("WorkerSid", Prefix.WORKER)
    channels = call.service.worker_channels.list(call.account_sid, ws, worker_sid)
    state = call.service.runtime.workspaces[ws]
    return json_response(
        page(
            channels,
            key="channels",
            query=call.query,
            url=call.url,
            render=lambda wc: render.worker_channel(call.base, state, wc),
            position=_position,
        )
    )


@endpoint
async def fetch_worker_channel(call: Call) -> Response:
    ws = workspace_sid(call)
    wc = call.service.worker_channels.fetch(
        call.account_sid, ws, call.path_sid("WorkerSid", Prefix.WORKER), call.path("Sid")
    )
    state = call.service.runtime.workspaces[ws]
    return json_response(render.worker_channel(call.base, state, wc))


@endpoint
async def update_worker_channel(call: Call) -> Response:
    ws = workspace_sid(call)
    wc = await call.service.worker_channels.update(
        call.account_sid,
        ws,
        call.path_sid("WorkerSid", Prefix.WORKER),
        call.path("Sid"),
        capacity=call.form.int("Capacity"),
        available=call.form.bool("Available"),
    )
    state = call.service.runtime.workspaces[ws]
    return json_response(render.worker_channel(call.base, state, wc))
