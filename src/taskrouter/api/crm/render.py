"""Entities in the CRM face's shapes: camelCase fields (as Twilio's Node library names
them), ISO-8601 dates, attributes as the JSON text the task was given."""

from __future__ import annotations

from typing import Any

from taskrouter.domain.clock import iso8601
from taskrouter.domain.entities import Reservation, Task, TaskQueue, Worker
from taskrouter.engine.state import WorkspaceState
from taskrouter.service.figures import QueueNow, WorkerDay


def task(state: WorkspaceState, t: Task, now_ms: int) -> dict[str, Any]:
    queue = state.queues.get(t.task_queue_sid or "")
    workflow = state.workflows.get(t.workflow_sid or "")
    channel = state.channels.get(t.task_channel_sid)
    return {
        "sid": t.sid,
        "accountSid": t.account_sid,
        "workspaceSid": t.workspace_sid,
        "assignmentStatus": t.assignment_status,
        "attributes": t.attributes,
        "addons": t.addons,
        "age": max((now_ms - t.date_created) // 1000, 0),
        "priority": t.priority,
        "reason": t.reason,
        "timeout": t.timeout,
        "taskQueueSid": t.task_queue_sid,
        "taskQueueFriendlyName": queue.friendly_name if queue else None,
        "taskQueueEnteredDate": iso8601(t.task_queue_entered_date),
        "taskChannelSid": t.task_channel_sid,
        "taskChannelUniqueName": channel.unique_name if channel else None,
        "workflowSid": t.workflow_sid,
        "workflowFriendlyName": workflow.friendly_name if workflow else None,
        "routingTarget": t.routing_target,
        "ignoreCapacity": t.ignore_capacity,
        "dateCreated": iso8601(t.date_created),
        "dateUpdated": iso8601(t.date_updated),
        "virtualStartTime": iso8601(t.virtual_start_time),
    }


def finished_task(state: WorkspaceState, t: Task) -> dict[str, Any]:
    """A history entry: the task as it closed; its id is its SID."""
    closed = t.date_closed if t.date_closed is not None else t.date_updated
    out = task(state, t, closed)
    out["id"] = t.sid
    out["dateClosed"] = iso8601(t.date_closed)
    out["deleted"] = t.deleted
    return out


def reservation(state: WorkspaceState, r: Reservation) -> dict[str, Any]:
    worker = state.workers.get(r.worker_sid)
    return {
        "sid": r.sid,
        "reservationStatus": r.reservation_status,
        "taskSid": r.task_sid,
        "workerSid": r.worker_sid,
        "workerName": worker.friendly_name if worker else None,
        "dateCreated": iso8601(r.date_created),
        "dateUpdated": iso8601(r.date_updated),
    }


def queue(q: TaskQueue, now: QueueNow) -> dict[str, Any]:
    return {
        "sid": q.sid,
        "friendlyName": q.friendly_name,
        "targetWorkers": q.target_workers,
        "taskOrder": q.task_order,
        "maxReservedWorkers": q.max_reserved_workers,
        "dateCreated": iso8601(q.date_created),
        "dateUpdated": iso8601(q.date_updated),
        "taskStatistics": {
            "tasksByStatus": now.tasks_by_status,
            "totalTasks": sum(now.tasks_by_status.values()),
            "longestTaskWaitingAge": now.longest_waiting_age_s,
            "longestTaskWaitingSid": now.longest_waiting_sid,
            "totalEligibleWorkers": now.eligible_workers,
            "totalAvailableWorkers": now.available_workers,
            "today": now.today,
        },
    }


def worker(state: WorkspaceState, w: Worker) -> dict[str, Any]:
    activity = state.activities[w.activity_sid]
    return {
        "sid": w.sid,
        "friendlyName": w.friendly_name,
        "activitySid": w.activity_sid,
        "activityName": activity.friendly_name,
        "available": activity.available,
        "attributes": w.attributes,
        "dateCreated": iso8601(w.date_created),
        "dateUpdated": iso8601(w.date_updated),
        "dateStatusChanged": iso8601(w.date_status_changed),
    }


def stats_today(state: WorkspaceState, day: WorkerDay, since_ms: int) -> dict[str, Any]:
    return {
        "since": iso8601(since_ms),
        "timeZone": state.workspace.time_zone,
        **day.counts,
        "activityDurations": [
            {
                "activitySid": sid,
                "activityName": a.friendly_name if (a := state.activities.get(sid)) else None,
                "seconds": ms // 1000,
            }
            for sid, ms in sorted(day.activity_ms.items())
        ],
    }
