"""Statistics of the Twilio face: workspace, task queues, workflows, workers, one worker.

Every endpoint translates its parameters (`Minutes` or `StartDate`/`EndDate`, `TaskChannel`,
`SplitByWaitTime`, the workers' filters) and asks the service; the bodies are the service's
figures wrapped with `account_sid`, `workspace_sid`, the scope's SID and `url`.
`POST …/TaskQueues/RealTimeStatistics` takes a JSON body, `{"QueueSids": [...]}` (or
`queueSids`).
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

from taskrouter.api.twilio.call import Call, endpoint
from taskrouter.api.twilio.wire import json_response, page
from taskrouter.api.twilio.workspaces import workspace_sid
from taskrouter.domain.entities import TaskQueue
from taskrouter.domain.errors import Invalid
from taskrouter.domain.sids import Prefix
from taskrouter.service.statistics import Span
from taskrouter.service.workers import WorkerFilter


def _span(call: Call) -> Span:
    q = call.query
    return Span(q.int("Minutes"), q.datetime_ms("StartDate"), q.datetime_ms("EndDate"))


def _channel(call: Call) -> str | None:
    return call.query.str("TaskChannel")


def _split(call: Call) -> list[str]:
    return call.query.list("SplitByWaitTime")


def _envelope(call: Call, ws: str, **extra: Any) -> dict[str, Any]:
    return {"account_sid": call.account_sid, "workspace_sid": ws, **extra, "url": call.url}


# -- workspace ---------------------------------------------------------------------------------


@endpoint
async def workspace_statistics(call: Call) -> Response:
    ws = workspace_sid(call)
    stats = call.service.statistics
    cumulative = stats.workspace_cumulative(
        call.account_sid, ws, _span(call), _channel(call), _split(call)
    )
    realtime = stats.workspace_realtime(call.account_sid, ws, _channel(call))
    return json_response(_envelope(call, ws, cumulative=cumulative, realtime=realtime))


@endpoint
async def workspace_real_time_statistics(call: Call) -> Response:
    ws = workspace_sid(call)
    figures = call.service.statistics.workspace_realtime(call.account_sid, ws, _channel(call))
    return json_response(_envelope(call, ws, **figures))


@endpoint
async def workspace_cumulative_statistics(call: Call) -> Response:
    ws = workspace_sid(call)
    figures = call.service.statistics.workspace_cumulative(
        call.account_sid, ws, _span(call), _channel(call), _split(call)
    )
    return json_response(_envelope(call, ws, **figures))


# -- task queues -------------------------------------------------------------------------------


def _queue_sid(call: Call) -> str:
    return call.path_sid("TaskQueueSid", Prefix.TASK_QUEUE)


@endpoint
async def task_queue_statistics(call: Call) -> Response:
    ws = workspace_sid(call)
    queue_sid = _queue_sid(call)
    stats = call.service.statistics
    cumulative = stats.queue_cumulative(
        call.account_sid, ws, queue_sid, _span(call), _channel(call), _split(call)
    )
    realtime = stats.queue_realtime(call.account_sid, ws, queue_sid, _channel(call))
    body = _envelope(call, ws, task_queue_sid=queue_sid, cumulative=cumulative, realtime=realtime)
    return json_response(body)


@endpoint
async def task_queue_real_time_statistics(call: Call) -> Response:
    ws = workspace_sid(call)
    queue_sid = _queue_sid(call)
    figures = call.service.statistics.queue_realtime(
        call.account_sid, ws, queue_sid, _channel(call)
    )
    return json_response(_envelope(call, ws, task_queue_sid=queue_sid, **figures))


@endpoint
async def task_queue_cumulative_statistics(call: Call) -> Response:
    ws = workspace_sid(call)
    queue_sid = _queue_sid(call)
    figures = call.service.statistics.queue_cumulative(
        call.account_sid, ws, queue_sid, _span(call), _channel(call), _split(call)
    )
    return json_response(_envelope(call, ws, task_queue_sid=queue_sid, **figures))


@endpoint
async def list_task_queues_statistics(call: Call) -> Response:
    ws = workspace_sid(call)
    stats = call.service.statistics
    span, channel, split = _span(call), _channel(call), _split(call)
    stats.check_query(call.account_sid, ws, span, channel, split)
    queues = call.service.task_queues.list(call.account_sid, ws, call.query.str("FriendlyName"))

    def render(queue: TaskQueue) -> dict[str, Any]:
        [(cumulative, realtime)] = stats.queues_statistics(
            call.account_sid, ws, [queue.sid], span, channel, split
        )
        return {
            "account_sid": call.account_sid,
            "cumulative": cumulative,
            "realtime": realtime,
            "task_queue_sid": queue.sid,
            "workspace_sid": ws,
        }

    return json_response(
        page(
            queues,
            key="task_queues_statistics",
            query=call.query,
            url=call.url,
            render=render,
            position=lambda q: (q.date_created, q.sid),
        )
    )


@endpoint
async def bulk_task_queue_real_time_statistics(call: Call) -> Response:
    ws = workspace_sid(call)
    # Another account's workspace answers 404 whatever the body holds, as on every route.
    call.service.runtime.workspace(call.account_sid, ws)
    usage = 'the body must be JSON like {"QueueSids": ["WQ...", ...]}'
    try:
        body = orjson.loads(await call.request.body())
    except orjson.JSONDecodeError:
        raise Invalid(f"The request body is not JSON: {usage}", param="QueueSids") from None
    sids = None
    if isinstance(body, dict):
        sids = body.get("QueueSids", body.get("queueSids"))
    if not isinstance(sids, list):
        raise Invalid(f"QueueSids is missing: {usage}", param="QueueSids")
    data = call.service.statistics.bulk_realtime(call.account_sid, ws, sids)
    return json_response(
        _envelope(call, ws, task_queue_data=data, task_queue_response_count=len(data))
    )


# -- workflows ---------------------------------------------------------------------------------


def _workflow_sid(call: Call) -> str:
    return call.path_sid("WorkflowSid", Prefix.WORKFLOW)


@endpoint
async def workflow_statistics(call: Call) -> Response:
    ws = workspace_sid(call)
    workflow_sid = _workflow_sid(call)
    stats = call.service.statistics
    cumulative = stats.workflow_cumulative(
        call.account_sid, ws, workflow_sid, _span(call), _channel(call), _split(call)
    )
    realtime = stats.workflow_realtime(call.account_sid, ws, workflow_sid, _channel(call))
    body = _envelope(call, ws, workflow_sid=workflow_sid, cumulative=cumulative, realtime=realtime)
    return json_response(body)


@endpoint
async def workflow_real_time_statistics(call: Call) -> Response:
    ws = workspace_sid(call)
    workflow_sid = _workflow_sid(call)
    figures = call.service.statistics.workflow_realtime(
        call.account_sid, ws, workflow_sid, _channel(call)
    )
    return json_response(_envelope(call, ws, workflow_sid=workflow_sid, **figures))


@endpoint
async def workflow_cumulative_statistics(call: Call) -> Response:
    ws = workspace_sid(call)
    workflow_sid = _workflow_sid(call)
    figures = call.service.statistics.workflow_cumulative(
        call.account_sid, ws, workflow_sid, _span(call), _channel(call), _split(call)
    )
    return json_response(_envelope(call, ws, workflow_sid=workflow_sid, **figures))


# -- workers -----------------------------------------------------------------------------------


def _workers_filter(call: Call) -> WorkerFilter:
    q = call.query
    return WorkerFilter(
        friendly_name=q.str("FriendlyName"),
        task_queue_sid=q.sid("TaskQueueSid", Prefix.TASK_QUEUE),
        task_queue_name=q.str("TaskQueueName"),
    )


@endpoint
async def workers_statistics(call: Call) -> Response:
    ws = workspace_sid(call)
    stats = call.service.statistics
    where = _workers_filter(call)
    cumulative = stats.workers_cumulative(call.account_sid, ws, _span(call), _channel(call), where)
    realtime = stats.workers_realtime(call.account_sid, ws, _channel(call), where)
    return json_response(_envelope(call, ws, cumulative=cumulative, realtime=realtime))


@endpoint
async def workers_real_time_statistics(call: Call) -> Response:
    ws = workspace_sid(call)
    figures = call.service.statistics.workers_realtime(call.account_sid, ws, _channel(call))
    return json_response(_envelope(call, ws, **figures))


@endpoint
async def workers_cumulative_statistics(call: Call) -> Response:
    ws = workspace_sid(call)
    figures = call.service.statistics.workers_cumulative(
        call.account_sid, ws, _span(call), _channel(call)
    )
    return json_response(_envelope(call, ws, **figures))


@endpoint
async def worker_statistics(call: Call) -> Response:
    ws = workspace_sid(call)
    worker_sid = call.path_sid("WorkerSid", Prefix.WORKER)
    cumulative = call.service.statistics.worker_cumulative(
        call.account_sid, ws, worker_sid, _span(call), _channel(call)
    )
    return json_response(_envelope(call, ws, worker_sid=worker_sid, cumulative=cumulative))
