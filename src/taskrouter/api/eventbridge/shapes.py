"""Entities as the Worker SDK reads them, which is not the public REST shape.

The SDK checks that each of its keys is present and turns dates with `new Date(x * 1000)`,
so dates are epoch seconds; Worker, Reservation and Task carry an integer `version`;
attributes stay JSON text; a task names its queue as `queue_sid`/`queue_name` and its workflow
as `workflow_name`. Events render from their stored fields (the state when they happened),
with the live entity filling what an event does not record.
"""

from __future__ import annotations

from typing import Any

from taskrouter.domain.entities import (
    Activity,
    Reservation,
    Task,
    TaskChannel,
    Worker,
    WorkerChannel,
)
from taskrouter.engine.state import WorkspaceState

# What a reservation's status was when each of its events happened.
RESERVATION_STATUS_AT = {
    "reservation.created": "pending",
    "reservation.accepted": "accepted",
    "reservation.rejected": "rejected",
    "reservation.timeout": "timeout",
    "reservation.canceled": "canceled",
    "reservation.rescinded": "rescinded",
    "reservation.completed": "completed",
    "reservation.wrapup": "wrapping",
}


def seconds(ms: int | None) -> int | None:
    return None if ms is None else ms // 1000


def activity(a: Activity) -> dict[str, Any]:
    return {
        "account_sid": a.account_sid,
        "available": a.available,
        "date_created": seconds(a.date_created),
        "date_updated": seconds(a.date_updated),
        "friendly_name": a.friendly_name,
        "sid": a.sid,
        "workspace_sid": a.workspace_sid,
    }


def task_channel(c: TaskChannel) -> dict[str, Any]:
    return {
        "account_sid": c.account_sid,
        "date_created": seconds(c.date_created),
        "date_updated": seconds(c.date_updated),
        "friendly_name": c.friendly_name,
        "sid": c.sid,
        "unique_name": c.unique_name,
        "workspace_sid": c.workspace_sid,
        "channel_optimized_routing": c.channel_optimized_routing,
    }


def worker(state: WorkspaceState, w: Worker, data: dict[str, str] | None = None) -> dict[str, Any]:
    """`data`: an event's fields, whose activity, attributes and version win."""
    activity_sid = w.activity_sid
    attributes = w.attributes
    version = w.version
    if data:
        activity_sid = data.get("WorkerActivitySid", activity_sid)
        attributes = data.get("WorkerAttributes", attributes)
        version = int(data.get("WorkerVersion", version))
    current = state.activities.get(activity_sid)
    return {
        "account_sid": w.account_sid,
        "activity_name": current.friendly_name if current else None,
        "activity_sid": activity_sid,
        "attributes": attributes,
        "available": current.available if current else False,
        "date_created": seconds(w.date_created),
        "date_status_changed": seconds(w.date_status_changed),
        "date_updated": seconds(w.date_updated),
        "friendly_name": w.friendly_name,
        "sid": w.sid,
        "workspace_sid": w.workspace_sid,
        "version": version,
    }


def worker_channel(state: WorkspaceState, wc: WorkerChannel) -> dict[str, Any]:
    channel = state.channels.get(wc.task_channel_sid)
    return {
        "account_sid": wc.account_sid,
        "assigned_tasks": wc.assigned_tasks,
        "available": wc.available,
        "available_capacity_percentage": wc.available_capacity_percentage,
        "configured_capacity": wc.configured_capacity,
        "date_created": seconds(wc.date_created),
        "date_updated": seconds(wc.date_updated),
        # The one field the SDK reads in milliseconds.
        "last_reserved_time": wc.last_assignment or None,
        "sid": wc.sid,
        "task_channel_sid": wc.task_channel_sid,
        "task_channel_unique_name": channel.unique_name if channel else None,
        "worker_sid": wc.worker_sid,
        "workspace_sid": wc.workspace_sid,
    }


def task(state: WorkspaceState, t: Task, now_ms: int) -> dict[str, Any]:
    queue = state.queues.get(t.task_queue_sid or "")
    workflow = state.workflows.get(t.workflow_sid or "")
    channel = state.channels.get(t.task_channel_sid)
    return {
        "account_sid": t.account_sid,
        "addons": t.addons,
        "age": max((now_ms - t.date_created) // 1000, 0),
        "assignment_status": t.assignment_status,
        "attributes": t.attributes,
        "date_created": seconds(t.date_created),
        "date_updated": seconds(t.date_updated),
        "priority": t.priority,
        "queue_name": queue.friendly_name if queue else None,
        "queue_sid": t.task_queue_sid,
        "reason": t.reason,
        "routing_target": t.routing_target,
        "sid": t.sid,
        "task_channel_sid": t.task_channel_sid,
        "task_channel_unique_name": channel.unique_name if channel else None,
        "timeout": t.timeout,
        "version": t.version,
        "virtual_start_time": seconds(t.virtual_start_time),
        "workflow_name": workflow.friendly_name if workflow else None,
        "workflow_sid": t.workflow_sid,
        "workspace_sid": t.workspace_sid,
    }


def reservation(
    state: WorkspaceState, r: Reservation, now_ms: int, *, with_task: bool = True
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "account_sid": r.account_sid,
        "date_created": seconds(r.date_created),
        "date_updated": seconds(r.date_updated),
        "reservation_status": r.reservation_status,
        "reservation_timeout": max((r.timeout_at - r.date_created) // 1000, 0),
        "sid": r.sid,
        "task_sid": r.task_sid,
        "worker_sid": r.worker_sid,
        "workspace_sid": r.workspace_sid,
        "version": r.version,
        "canceled_reason_code": None,
    }
    if with_task:
        t = state.engine.tasks.get(r.task_sid)
        out["task"] = None if t is None else task(state, t, now_ms)
    return out


# -- events ----------------------------------------------------------------------------------


def task_from_event(state: WorkspaceState, body: dict[str, Any]) -> dict[str, Any]:
    """The task as an event saw it; a task already forgotten is rebuilt from the event."""
    data: dict[str, str] = body["data"]
    sid = data.get("TaskSid", body["resource_sid"])
    live = state.engine.tasks.get(sid)
    event_s = body["event_date_ms"] // 1000
    if live is not None:
        out = task(state, live, body["event_date_ms"])
    else:
        out = {
            "account_sid": body["account_sid"],
            "addons": "{}",
            "date_created": event_s,
            "reason": None,
            "routing_target": data.get("TaskRoutingTarget"),
            "sid": sid,
            "timeout": None,
            "virtual_start_time": None,
            "workspace_sid": body["workspace_sid"],
            "task_channel_sid": data.get("TaskChannelSid"),
            "task_channel_unique_name": data.get("TaskChannelUniqueName"),
            "queue_sid": data.get("TaskQueueSid"),
            "queue_name": data.get("TaskQueueName"),
            "workflow_sid": data.get("WorkflowSid"),
            "workflow_name": data.get("WorkflowName"),
        }
    out["date_updated"] = event_s
    out["assignment_status"] = data.get("TaskAssignmentStatus", out.get("assignment_status"))
    out["attributes"] = data.get("TaskAttributes", out.get("attributes", "{}"))
    out["age"] = int(data.get("TaskAge", out.get("age", 0)))
    out["priority"] = int(data.get("TaskPriority", out.get("priority", 0)))
    out["version"] = int(data.get("TaskVersion", out.get("version", 0)))
    reason = data.get("TaskCompletedReason") or data.get("TaskCanceledReason")
    if reason:
        out["reason"] = reason
    return out


def reservation_from_event(state: WorkspaceState, body: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, str] = body["data"]
    sid = data.get("ReservationSid", body["resource_sid"])
    live = state.engine.reservations.get(sid)
    event_s = body["event_date_ms"] // 1000
    if live is not None:
        out = reservation(state, live, body["event_date_ms"], with_task=False)
    else:
        out = {
            "account_sid": body["account_sid"],
            "date_created": event_s,
            "reservation_timeout": None,
            "sid": sid,
            "task_sid": data.get("TaskSid"),
            "worker_sid": data.get("WorkerSid"),
            "workspace_sid": body["workspace_sid"],
            "canceled_reason_code": None,
        }
    out["date_updated"] = event_s
    out["reservation_status"] = RESERVATION_STATUS_AT.get(
        body["event_type"], out.get("reservation_status")
    )
    out["version"] = int(data.get("ReservationVersion", out.get("version", 0)))
    out["task"] = task_from_event(state, body)
    return out


def worker_channel_from_event(state: WorkspaceState, body: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, str] = body["data"]
    worker_sid = data.get("WorkerSid", "")
    channels = state.worker_channels.get(worker_sid, {})
    wc = next((c for c in channels.values() if c.sid == data.get("WorkerChannelSid")), None)
    if wc is not None:
        out = worker_channel(state, wc)
    else:
        out = {
            "account_sid": body["account_sid"],
            "assigned_tasks": int(data.get("WorkerChannelTaskCount", 0)),
            "available_capacity_percentage": None,
            "date_created": None,
            "last_reserved_time": None,
            "sid": data.get("WorkerChannelSid"),
            "task_channel_sid": data.get("TaskChannelSid"),
            "task_channel_unique_name": data.get("TaskChannelUniqueName"),
            "worker_sid": worker_sid,
            "workspace_sid": body["workspace_sid"],
        }
    out["available"] = data.get("WorkerChannelAvailable", "true") == "true"
    out["configured_capacity"] = int(data.get("WorkerChannelAvailableCapacity", 0))
    out["date_updated"] = body["event_date_ms"] // 1000
    return out
