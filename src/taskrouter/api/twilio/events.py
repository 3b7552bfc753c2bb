"""/v1/Workspaces/{WorkspaceSid}/Events: the event log, its live stream, and failed deliveries.

- `GET …/Events` lists events newest first with every Twilio filter; the window is the last
  `Minutes` (default 15) unless `StartDate`/`EndDate` say otherwise. Token paging:
  `PageToken=PA<sid of the last event shown>`.
- `GET …/Events/{Sid}` fetches one.
- `GET …/Events/Stream` (ours, not Twilio's) is a Server-Sent Events stream, filtered by
  `EventType` (repeatable or comma-joined), `WorkerSid`, `TaskSid`, `TaskQueueSid`,
  `ReservationSid`, `WorkflowSid`; it resumes after `Last-Event-ID` (header, or the
  `LastEventId` query parameter for clients that cannot set headers).
- `GET /admin/v1/Workspaces/{WorkspaceSid}/Deliveries` lists failed callback deliveries;
  `POST …/Deliveries/Redeliver` (optional `Sid`, repeatable) sends them again.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.responses import Response, StreamingResponse

from taskrouter.api.twilio.call import Call, endpoint
from taskrouter.api.twilio.wire import DEFAULT_PAGE_SIZE, json_response
from taskrouter.api.twilio.workspaces import workspace_sid
from taskrouter.domain import errors
from taskrouter.domain.clock import iso8601
from taskrouter.domain.request_limits import REQUEST_LIMITS
from taskrouter.domain.sids import Prefix, is_sid
from taskrouter.events import outbox, payload
from taskrouter.events.archive import EventQuery
from taskrouter.events.catalog import describe
from taskrouter.events.stream import StreamFilter, stream

DEFAULT_MINUTES = 15
# Twilio redacts task attributes in events older than this (43,200 minutes).
REDACT_AFTER_MS = 30 * 24 * 3_600_000
SOURCE = "taskrouter"

# query parameter -> event field it filters on
_DATA_FILTERS = (
    ("ReservationSid", Prefix.RESERVATION, "ReservationSid"),
    ("TaskQueueSid", Prefix.TASK_QUEUE, "TaskQueueSid"),
    ("TaskSid", Prefix.TASK, "TaskSid"),
    ("WorkerSid", Prefix.WORKER, "WorkerSid"),
    ("WorkflowSid", Prefix.WORKFLOW, "WorkflowSid"),
)

_RESOURCE_PATH = {
    "task": "Tasks",
    "worker": "Workers",
    "activity": "Activities",
    "workflow": "Workflows",
    "task_queue": "TaskQueues",
    "task_channel": "TaskChannels",
}


def render_event(base: str, body: dict[str, Any], now_ms: int) -> dict[str, Any]:
    ws_url = f"{base}/v1/Workspaces/{body['workspace_sid']}"
    data = body["data"]
    event_data = payload.event_data(data)
    if now_ms - body["event_date_ms"] > REDACT_AFTER_MS:
        event_data.pop("task_attributes", None)
    resource_sid = body.get("resource_sid") or None
    return {
        "account_sid": body["account_sid"],
        # Who acted is not recorded per event: the workspace stands for it, as in Twilio's
        # examples.
        "actor_sid": body["workspace_sid"],
        "actor_type": "workspace",
        "actor_url": ws_url,
        "description": describe(body["event_type"], data),
        "event_data": event_data,
        "event_date": iso8601(body["event_date_ms"]),
        "event_date_ms": body["event_date_ms"],
        "event_type": body["event_type"],
        "resource_sid": resource_sid,
        "resource_type": body.get("resource_type"),
        "resource_url": _resource_url(ws_url, body["resource_type"], resource_sid, data),
        "sid": body["sid"],
        "source": SOURCE,
        "source_ip_address": None,
        "url": f"{ws_url}/Events/{body['sid']}",
        "workspace_sid": body["workspace_sid"],
    }


def _resource_url(
    ws_url: str, resource_type: str, sid: str | None, data: dict[str, Any]
) -> str | None:
    if sid is None:
        return None
    if resource_type == "workspace":
        return ws_url
    if resource_type == "reservation":
        task_sid = data.get("TaskSid")
        return f"{ws_url}/Tasks/{task_sid}/Reservations/{sid}" if task_sid else None
    path = _RESOURCE_PATH.get(resource_type)
    return f"{ws_url}/{path}/{sid}" if path else None


def _query(call: Call, now_ms: int) -> EventQuery:
    q = call.query
    minutes = q.int("Minutes")
    if minutes is not None and minutes < 0:
        raise errors.Invalid(f"Minutes must not be negative, got {minutes}", param="Minutes")
    start = q.datetime_ms("StartDate")
    end = q.datetime_ms("EndDate")
    if start is None:
        if minutes is not None:
            start = now_ms - minutes * 60_000
        elif end is not None:
            start = end - DEFAULT_MINUTES * 60_000
        else:
            start = now_ms - DEFAULT_MINUTES * 60_000
    if end is not None and end < start:
        raise errors.Invalid("EndDate is before StartDate", param="EndDate")
    query = EventQuery(
        start_ms=start,
        end_ms=end,
        event_type=q.str("EventType") or None,
        sid=q.sid("Sid", Prefix.EVENT),
        task_channel=q.str("TaskChannel") or None,
    )
    for param, prefix, field in _DATA_FILTERS:
        value = q.sid(param, prefix)
        if value is not None:
            query.data.append((field, value))
    return query


def _page_size(call: Call) -> int:
    size = call.query.int("PageSize")
    if size is None:
        return REQUEST_LIMITS.page_size(DEFAULT_PAGE_SIZE)
    largest = REQUEST_LIMITS.max_page_size
    if not 1 <= size <= largest:
        raise errors.Invalid(
            f"PageSize must be between 1 and {largest}, got {size}", param="PageSize"
        )
    return size


def _after(token: str | None) -> str | None:
    if not token:
        return None
    if not token.startswith("PA") or not is_sid(token[2:], Prefix.EVENT):
        raise errors.Invalid(f"Invalid PageToken {token!r}", param="PageToken")
    return token[2:]


@endpoint
async def list_events(call: Call) -> Response:
    ws = workspace_sid(call)
    call.service.workspaces.fetch(call.account_sid, ws)
    events = call.service.runtime.events
    now = events.clock.now_ms()
    query = _query(call, now)
    size = _page_size(call)
    token = call.query.str("PageToken")
    before = _after(token)
    number = call.query.page_number()
    rows = await events.archive.page(ws, query, before_sid=before, limit=size + 1)
    more = len(rows) > size
    rows = rows[:size]
    filters = [(k, v) for k, v in call.query.items() if k not in ("PageSize", "Page", "PageToken")]

    def link(page_number: int, page_token: str | None) -> str:
        params = [*filters, ("PageSize", str(size)), ("Page", str(page_number))]
        if page_token:
            params.append(("PageToken", page_token))
        return f"{call.url}?{urlencode(params)}"

    return json_response(
        {
            "events": [render_event(call.base, body, now) for body in rows],
            "meta": {
                "first_page_url": link(0, None),
                "key": "events",
                "next_page_url": link(number + 1, "PA" + rows[-1]["sid"]) if more else None,
                "page": number,
                "page_size": size,
                "previous_page_url": None,
                "url": link(number, token),
            },
        }
    )


@endpoint
async def fetch_event(call: Call) -> Response:
    ws = workspace_sid(call)
    call.service.workspaces.fetch(call.account_sid, ws)
    sid = call.path_sid("Sid", Prefix.EVENT)
    events = call.service.runtime.events
    body = await events.archive.fetch(ws, sid)
    if body is None:
        raise errors.NotFound(f"The requested resource /Workspaces/{ws}/Events/{sid} was not found")
    return json_response(render_event(call.base, body, events.clock.now_ms()))


@endpoint
async def stream_events(call: Call) -> Response:
    ws = workspace_sid(call)
    call.service.workspaces.fetch(call.account_sid, ws)
    q = call.query
    types = q.list("EventType")
    where = StreamFilter(
        event_types=frozenset(types) if types else None,
        worker_sid=q.sid("WorkerSid", Prefix.WORKER),
        task_sid=q.sid("TaskSid", Prefix.TASK),
        task_queue_sid=q.sid("TaskQueueSid", Prefix.TASK_QUEUE),
        reservation_sid=q.sid("ReservationSid", Prefix.RESERVATION),
        workflow_sid=q.sid("WorkflowSid", Prefix.WORKFLOW),
    )
    last = call.request.headers.get("last-event-id") or q.str("LastEventId") or None
    if last is not None and not is_sid(last, Prefix.EVENT):
        raise errors.Invalid(f"Last-Event-ID must be an event SID, got {last!r}")
    runtime = call.service.runtime
    events = runtime.events
    cap = runtime.limits.max_streams_per_account
    if cap:
        # Checked against streams already open, so none can leak a slot; two opening at the
        # same instant may both pass, which a soft cap allows.
        mine = [
            s
            for s, st in runtime.workspaces.items()
            if st.workspace.account_sid == call.account_sid
        ]
        if events.streams.open_for(mine) >= cap:
            raise errors.RateLimited(
                f"Too many open event streams: an account may hold {cap} at once",
                retry_after=5,
            )
    base = call.base

    def render(body: dict[str, Any]) -> dict[str, Any]:
        return render_event(base, body, events.clock.now_ms())

    return StreamingResponse(
        stream(events.streams, events.archive, ws, where, last, render),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@endpoint
async def list_failed_deliveries(call: Call) -> Response:
    ws = workspace_sid(call)
    call.service.workspaces.fetch(call.account_sid, ws)
    failed = await outbox.failed_deliveries(call.service.runtime.store, ws)
    return json_response({"deliveries": [d.view() for d in failed]})


@endpoint
async def redeliver(call: Call) -> Response:
    ws = workspace_sid(call)
    call.service.workspaces.fetch(call.account_sid, ws)
    sids = call.form.list("Sid") or None
    chosen = await call.service.runtime.events.courier.redeliver(ws, sids)
    return json_response({"deliveries": [d.view() for d in chosen]})
