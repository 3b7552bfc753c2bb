"""Entities in the CPaaS dialect's shapes: camelCase keys, `uri` and absolute `url`.

Where the document's examples and its tables spell a key two ways (`priortizeQueueOrder`
and `prioritizeQueueOrder`, `assignmentState` and `assignmentStatus`), both are given.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from taskrouter.api.cpaas.wire import date, date_ms
from taskrouter.domain.entities import Activity, Task, TaskQueue, Worker, Workflow
from taskrouter.engine.state import WorkspaceState

# Our task statuses as the document's examples (assignmentState) and tables
# (assignmentStatus) print them.
TASK_STATE = {
    "pending": "PENDING",
    "reserved": "RESERVED",
    "assigned": "ASSIGNED",
    "wrapping": "WRAPPING",
    "completed": "COMPLETED",
    "canceled": "CANCELED",
}


@dataclass(frozen=True, slots=True)
class View:
    base: str
    account_sid: str
    account_email: str | None


def uri(collection: str, sid: str) -> str:
    return f"/taskrouter/{collection}/search/{sid}"


def _common(view: View, collection: str, sid: str, created: int, updated: int) -> dict[str, Any]:
    path = uri(collection, sid)
    return {
        "sid": sid,
        "dateCreated": date(created),
        "dateUpdated": date(updated),
        "accountEmail": view.account_email,
        "uri": path,
        "url": view.base + path,
    }


def workspace(view: View, state: WorkspaceState) -> dict[str, Any]:
    ws = state.workspace
    default = state.activities.get(ws.default_activity_sid or "")
    timeout = state.activities.get(ws.timeout_activity_sid or "")
    return _common(view, "workspaces", ws.sid, ws.date_created, ws.date_updated) | {
        "enterpriseSid": ws.enterprise_sid,
        "name": ws.friendly_name,
        "defaultActivitySid": ws.default_activity_sid,
        "defaultActivityName": default.friendly_name if default else None,
        "timeoutActivitySid": ws.timeout_activity_sid,
        "timeoutActivityName": timeout.friendly_name if timeout else None,
        "multiTaskEnabled": ws.multi_task_enabled,
        "priortizeQueueOrder": ws.prioritize_queue_order,
        "prioritizeQueueOrder": ws.prioritize_queue_order,
    }


def task_queue(view: View, state: WorkspaceState, q: TaskQueue) -> dict[str, Any]:
    return _common(view, "taskqueues", q.sid, q.date_created, q.date_updated) | {
        "enterpriseSid": state.workspace.enterprise_sid,
        "workspaceSid": q.workspace_sid,
        "name": q.friendly_name,
        "assignmentActivitySid": q.assignment_activity_sid,
        "reservationActivitySid": q.reservation_activity_sid,
        "targetWorkers": q.target_workers,
        "taskOrder": q.task_order,
        "maxReservedWorkers": q.max_reserved_workers,
    }


def worker(view: View, state: WorkspaceState, w: Worker) -> dict[str, Any]:
    activity = state.activities[w.activity_sid]
    return _common(view, "workers", w.sid, w.date_created, w.date_updated) | {
        "enterpriseSid": state.workspace.enterprise_sid,
        "workspaceSid": w.workspace_sid,
        "name": w.friendly_name,
        "activitySid": w.activity_sid,
        "activityName": activity.friendly_name,
        "attributes": w.attributes,
        "available": activity.available,
    }


def activity(view: View, state: WorkspaceState, a: Activity) -> dict[str, Any]:
    return _common(view, "activities", a.sid, a.date_created, a.date_updated) | {
        "enterpriseSid": state.workspace.enterprise_sid,
        "workspaceSid": a.workspace_sid,
        "name": a.friendly_name,
        "available": a.available,
    }


def workflow(view: View, state: WorkspaceState, w: Workflow) -> dict[str, Any]:
    return _common(view, "workflows", w.sid, w.date_created, w.date_updated) | {
        "enterpriseSid": state.workspace.enterprise_sid,
        "workspaceSid": w.workspace_sid,
        "name": w.friendly_name,
        "configuration": w.configuration,
        "assignmentCallbackUrl": w.assignment_callback_url,
        "fallbackAssignmentCallbackUrl": w.fallback_assignment_callback_url,
        "taskReservationTimeout": w.task_reservation_timeout,
    }


def task(
    view: View, state: WorkspaceState | None, t: Task, worker_sid: str | None, now_ms: int
) -> dict[str, Any]:
    """`state` is None for a task whose workspace was deleted: its details remain."""
    path = uri("tasks", t.sid)
    workflow_ = state.workflows.get(t.workflow_sid or "") if state else None
    queue = state.queues.get(t.task_queue_sid or "") if state else None
    channel = state.channels.get(t.task_channel_sid) if state else None
    status = TASK_STATE.get(t.assignment_status, t.assignment_status.upper())
    return {
        "sid": t.sid,
        "dateCreated": date_ms(t.date_created),
        "dateUpdated": date_ms(t.date_updated),
        "restcommAccount": {"accountSid": t.account_sid, "accountEmail": view.account_email},
        "accountEmail": view.account_email,
        "uri": path,
        "url": view.base + path,
        "enterpriseSid": state.workspace.enterprise_sid if state else None,
        # The document's provider has organisations above enterprises; taskrouter has none.
        "organizationSid": None,
        "workspaceSid": t.workspace_sid,
        "workflowSid": t.workflow_sid,
        "workflowFriendlyName": workflow_.friendly_name if workflow_ else None,
        "taskQueueSid": t.task_queue_sid,
        "taskQueueFriendlyName": queue.friendly_name if queue else None,
        "taskQueueEnteredDate": date(t.task_queue_entered_date),
        "workerSid": worker_sid,
        "timeout": t.timeout,
        "priority": t.priority,
        "taskChannel": channel.unique_name.upper() if channel else None,
        "assignmentState": status,
        "assignmentStatus": status.capitalize(),
        "age": max(((t.date_closed or now_ms) - t.date_created) // 1000, 0),
        "attributes": t.attributes,
        "reason": t.reason,
        "callerId": _caller_id(t),
        "bypassReservedState": t.bypass_reserved_state,
    }


def _caller_id(t: Task) -> str | None:
    # The document's calls carry the caller in the task; ours keep it in the attributes.
    value = t.parsed_attributes.get("callerId", t.parsed_attributes.get("caller_id"))
    return value if isinstance(value, str) else None
