"""Entities in Twilio's response shapes: snake_case fields, ISO dates, `url` and `links`."""

from __future__ import annotations

from typing import Any

from taskrouter.domain.clock import iso8601
from taskrouter.domain.entities import (
    Activity,
    Reservation,
    Task,
    TaskChannel,
    TaskQueue,
    Worker,
    WorkerChannel,
    Workflow,
    Workspace,
)
from taskrouter.engine.state import WorkspaceState


def workspace_url(base: str, sid: str) -> str:
    return f"{base}/v1/Workspaces/{sid}"


def workspace(base: str, state: WorkspaceState) -> dict[str, Any]:
    ws: Workspace = state.workspace
    url = workspace_url(base, ws.sid)
    default = state.activities.get(ws.default_activity_sid or "")
    timeout = state.activities.get(ws.timeout_activity_sid or "")
    return {
        "account_sid": ws.account_sid,
        "date_created": iso8601(ws.date_created),
        "date_updated": iso8601(ws.date_updated),
        "default_activity_name": default.friendly_name if default else None,
        "default_activity_sid": ws.default_activity_sid,
        "event_callback_url": ws.event_callback_url,
        "events_filter": ws.events_filter,
        "friendly_name": ws.friendly_name,
        "multi_task_enabled": ws.multi_task_enabled,
        "sid": ws.sid,
        "timeout_activity_name": timeout.friendly_name if timeout else None,
        "timeout_activity_sid": ws.timeout_activity_sid,
        "prioritize_queue_order": ws.prioritize_queue_order,
        "url": url,
        "links": {
            name: f"{url}/{path}"
            for name, path in (
                ("activities", "Activities"),
                ("cumulative_statistics", "CumulativeStatistics"),
                ("events", "Events"),
                ("real_time_statistics", "RealTimeStatistics"),
                ("statistics", "Statistics"),
                ("task_channels", "TaskChannels"),
                ("task_queues", "TaskQueues"),
                ("tasks", "Tasks"),
                ("workers", "Workers"),
                ("workflows", "Workflows"),
            )
        },
    }


def activity(base: str, a: Activity) -> dict[str, Any]:
    ws_url = workspace_url(base, a.workspace_sid)
    return {
        "account_sid": a.account_sid,
        "available": a.available,
        "date_created": iso8601(a.date_created),
        "date_updated": iso8601(a.date_updated),
        "friendly_name": a.friendly_name,
        "sid": a.sid,
        "workspace_sid": a.workspace_sid,
        "url": f"{ws_url}/Activities/{a.sid}",
        "links": {"workspace": ws_url},
    }


def task_channel(base: str, c: TaskChannel) -> dict[str, Any]:
    ws_url = workspace_url(base, c.workspace_sid)
    return {
        "account_sid": c.account_sid,
        "date_created": iso8601(c.date_created),
        "date_updated": iso8601(c.date_updated),
        "friendly_name": c.friendly_name,
        "sid": c.sid,
        "unique_name": c.unique_name,
        "workspace_sid": c.workspace_sid,
        "channel_optimized_routing": c.channel_optimized_routing,
        "url": f"{ws_url}/TaskChannels/{c.sid}",
        "links": {"workspace": ws_url},
    }


def task_queue(base: str, state: WorkspaceState, q: TaskQueue) -> dict[str, Any]:
    ws_url = workspace_url(base, q.workspace_sid)
    url = f"{ws_url}/TaskQueues/{q.sid}"
    reservation = state.activities.get(q.reservation_activity_sid or "")
    assignment = state.activities.get(q.assignment_activity_sid or "")
    links = {
        "workspace": ws_url,
        "statistics": f"{url}/Statistics",
        "real_time_statistics": f"{url}/RealTimeStatistics",
        "cumulative_statistics": f"{url}/CumulativeStatistics",
        "list_statistics": f"{ws_url}/TaskQueues/Statistics",
        "bulk_real_time_statistics": f"{ws_url}/TaskQueues/RealTimeStatistics",
    }
    if reservation:
        links["reservation_activity"] = f"{ws_url}/Activities/{reservation.sid}"
    if assignment:
        links["assignment_activity"] = f"{ws_url}/Activities/{assignment.sid}"
    return {
        "account_sid": q.account_sid,
        "assignment_activity_sid": q.assignment_activity_sid,
        "assignment_activity_name": assignment.friendly_name if assignment else None,
        "date_created": iso8601(q.date_created),
        "date_updated": iso8601(q.date_updated),
        "friendly_name": q.friendly_name,
        "max_reserved_workers": q.max_reserved_workers,
        "reservation_activity_sid": q.reservation_activity_sid,
        "reservation_activity_name": reservation.friendly_name if reservation else None,
        "sid": q.sid,
        "target_workers": q.target_workers,
        "task_order": q.task_order,
        "url": url,
        "workspace_sid": q.workspace_sid,
        "links": links,
    }


def worker(
    base: str, state: WorkspaceState, w: Worker, *, with_attributes: bool = True
) -> dict[str, Any]:
    ws_url = workspace_url(base, w.workspace_sid)
    url = f"{ws_url}/Workers/{w.sid}"
    activity_ = state.activities[w.activity_sid]
    return {
        "account_sid": w.account_sid,
        "activity_name": activity_.friendly_name,
        "activity_sid": w.activity_sid,
        # Twilio's spec: attributes only on a single-resource read, null in lists.
        "attributes": w.attributes if with_attributes else None,
        "available": activity_.available,
        "date_created": iso8601(w.date_created),
        "date_status_changed": iso8601(w.date_status_changed),
        "date_updated": iso8601(w.date_updated),
        "friendly_name": w.friendly_name,
        "sid": w.sid,
        "workspace_sid": w.workspace_sid,
        "url": url,
        "links": {
            "activity": f"{ws_url}/Activities/{w.activity_sid}",
            "channels": f"{url}/Channels",
            "cumulative_statistics": f"{ws_url}/Workers/CumulativeStatistics",
            "real_time_statistics": f"{ws_url}/Workers/RealTimeStatistics",
            "reservations": f"{url}/Reservations",
            "statistics": f"{ws_url}/Workers/Statistics",
            "worker_channels": f"{url}/Channels",
            "worker_statistics": f"{url}/Statistics",
            "workspace": ws_url,
        },
    }


def worker_channel(base: str, state: WorkspaceState, wc: WorkerChannel) -> dict[str, Any]:
    ws_url = workspace_url(base, wc.workspace_sid)
    channel = state.channels[wc.task_channel_sid]
    return {
        "account_sid": wc.account_sid,
        "assigned_tasks": wc.assigned_tasks,
        "available": wc.available,
        "available_capacity_percentage": wc.available_capacity_percentage,
        "configured_capacity": wc.configured_capacity,
        "date_created": iso8601(wc.date_created),
        "date_updated": iso8601(wc.date_updated),
        "sid": wc.sid,
        "task_channel_sid": wc.task_channel_sid,
        "task_channel_unique_name": channel.unique_name,
        "worker_sid": wc.worker_sid,
        "workspace_sid": wc.workspace_sid,
        "url": f"{ws_url}/Workers/{wc.worker_sid}/Channels/{wc.sid}",
    }


def workflow(base: str, wf: Workflow) -> dict[str, Any]:
    url = f"{workspace_url(base, wf.workspace_sid)}/Workflows/{wf.sid}"
    return {
        "account_sid": wf.account_sid,
        "assignment_callback_url": wf.assignment_callback_url,
        "configuration": wf.configuration,
        "date_created": iso8601(wf.date_created),
        "date_updated": iso8601(wf.date_updated),
        "document_content_type": "application/json",
        "fallback_assignment_callback_url": wf.fallback_assignment_callback_url,
        "friendly_name": wf.friendly_name,
        "sid": wf.sid,
        "task_reservation_timeout": wf.task_reservation_timeout,
        "workspace_sid": wf.workspace_sid,
        "url": url,
        "links": {
            "statistics": f"{url}/Statistics",
            "real_time_statistics": f"{url}/RealTimeStatistics",
            "cumulative_statistics": f"{url}/CumulativeStatistics",
        },
    }


def task(
    base: str, state: WorkspaceState, t: Task, now_ms: int, *, with_attributes: bool = True
) -> dict[str, Any]:
    ws_url = workspace_url(base, t.workspace_sid)
    url = f"{ws_url}/Tasks/{t.sid}"
    queue = state.queues.get(t.task_queue_sid or "")
    workflow_ = state.workflows.get(t.workflow_sid or "")
    channel = state.channels.get(t.task_channel_sid)
    links = {"reservations": f"{url}/Reservations", "workspace": ws_url}
    if queue is not None:
        links["task_queue"] = f"{ws_url}/TaskQueues/{queue.sid}"
    if workflow_ is not None:
        links["workflow"] = f"{ws_url}/Workflows/{workflow_.sid}"
    return {
        "account_sid": t.account_sid,
        "age": max((now_ms - t.date_created) // 1000, 0),
        "assignment_status": t.assignment_status,
        "attributes": t.attributes if with_attributes else None,
        "addons": t.addons,
        "date_created": iso8601(t.date_created),
        "date_updated": iso8601(t.date_updated),
        "task_queue_entered_date": iso8601(t.task_queue_entered_date),
        "priority": t.priority,
        "reason": t.reason,
        "sid": t.sid,
        "task_queue_sid": t.task_queue_sid,
        "task_queue_friendly_name": queue.friendly_name if queue else None,
        "task_channel_sid": t.task_channel_sid,
        "task_channel_unique_name": channel.unique_name if channel else None,
        "timeout": t.timeout,
        "workflow_sid": t.workflow_sid,
        "workflow_friendly_name": workflow_.friendly_name if workflow_ else None,
        "workspace_sid": t.workspace_sid,
        "url": url,
        "links": links,
        "virtual_start_time": iso8601(t.virtual_start_time),
        "ignore_capacity": t.ignore_capacity,
        "routing_target": t.routing_target,
    }


def reservation(base: str, state: WorkspaceState, r: Reservation, *, scope: str) -> dict[str, Any]:
    """`scope` is "task" or "worker": the collection the reservation was reached through."""
    ws_url = workspace_url(base, r.workspace_sid)
    owner = f"Tasks/{r.task_sid}" if scope == "task" else f"Workers/{r.worker_sid}"
    worker_ = state.workers.get(r.worker_sid)
    return {
        "account_sid": r.account_sid,
        "date_created": iso8601(r.date_created),
        "date_updated": iso8601(r.date_updated),
        "reservation_status": r.reservation_status,
        "sid": r.sid,
        "task_sid": r.task_sid,
        "worker_name": worker_.friendly_name if worker_ else None,
        "worker_sid": r.worker_sid,
        "workspace_sid": r.workspace_sid,
        "url": f"{ws_url}/{owner}/Reservations/{r.sid}",
        "links": {
            "task": f"{ws_url}/Tasks/{r.task_sid}",
            "worker": f"{ws_url}/Workers/{r.worker_sid}",
            "workspace": ws_url,
        },
    }
