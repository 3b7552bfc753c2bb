"""An event's fields, built from the entities of the workspace at the moment it happened.

Fields use the callbacks' PascalCase names and string values, as Twilio posts them; the REST
`event_data` shows the same fields with snake_case keys (`snake`). Groups follow EVREF:
task, worker (plus activity-change and channel extras), reservation, queue, workflow,
channel, activity; every event also carries the workspace's sid and name.
"""

from __future__ import annotations

import re
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
from taskrouter.events.catalog import describe

Fields = dict[str, str]


def flag(value: bool) -> str:
    return "true" if value else "false"


def workspace_fields(out: Fields, ws: Workspace) -> None:
    out["WorkspaceSid"] = ws.sid
    out["WorkspaceName"] = ws.friendly_name


def task_fields(
    out: Fields, state: WorkspaceState, task: Task, now: int, status: str | None = None
) -> None:
    out["TaskSid"] = task.sid
    out["TaskAttributes"] = task.attributes
    out["TaskAge"] = str(max(now - task.date_created, 0) // 1000)
    out["TaskPriority"] = str(task.priority)
    out["TaskAssignmentStatus"] = status or task.assignment_status
    out["TaskVersion"] = str(task.version)
    out["TaskDateCreated"] = iso8601(task.date_created) or ""
    out["TaskChannelSid"] = task.task_channel_sid
    channel = state.channels.get(task.task_channel_sid)
    if channel is not None:
        out["TaskChannelUniqueName"] = channel.unique_name
    if task.task_queue_entered_date is not None:
        out["TaskQueueEnteredDate"] = iso8601(task.task_queue_entered_date) or ""
    if task.reason:
        if task.assignment_status == "canceled":
            out["TaskCanceledReason"] = task.reason
        elif task.assignment_status == "completed":
            out["TaskCompletedReason"] = task.reason
    if task.routing_target is not None:
        out["TaskRoutingTarget"] = task.routing_target


def worker_fields(
    out: Fields, state: WorkspaceState, worker: Worker, activity_sid: str | None = None
) -> None:
    activity_sid = activity_sid or worker.activity_sid
    out["WorkerSid"] = worker.sid
    out["WorkerName"] = worker.friendly_name
    out["WorkerAttributes"] = worker.attributes
    out["WorkerActivitySid"] = activity_sid
    activity = state.activities.get(activity_sid)
    if activity is not None:
        out["WorkerActivityName"] = activity.friendly_name
    out["WorkerVersion"] = str(worker.version)


def previous_activity_fields(
    out: Fields, state: WorkspaceState, previous_sid: str, since_ms: int, now: int
) -> None:
    out["WorkerPreviousActivitySid"] = previous_sid
    previous = state.activities.get(previous_sid)
    if previous is not None:
        out["WorkerPreviousActivityName"] = previous.friendly_name
    spent = max(now - since_ms, 0)
    out["WorkerTimeInPreviousActivity"] = str(spent // 1000)
    out["WorkerTimeInPreviousActivityMs"] = str(spent)


def worker_channel_fields(out: Fields, state: WorkspaceState, wc: WorkerChannel) -> None:
    out["WorkerChannelSid"] = wc.sid
    out["WorkerChannelAvailable"] = flag(wc.available)
    out["WorkerChannelAvailableCapacity"] = str(wc.configured_capacity)
    out["WorkerChannelTaskCount"] = str(wc.assigned_tasks)
    out["TaskChannelSid"] = wc.task_channel_sid
    channel = state.channels.get(wc.task_channel_sid)
    if channel is not None:
        out["TaskChannelUniqueName"] = channel.unique_name


def reservation_fields(out: Fields, reservation: Reservation) -> None:
    out["ReservationSid"] = reservation.sid
    out["ReservationVersion"] = str(reservation.version)


def queue_fields(out: Fields, queue: TaskQueue) -> None:
    out["TaskQueueSid"] = queue.sid
    out["TaskQueueName"] = queue.friendly_name
    out["TaskQueueTargetExpression"] = queue.target_workers


def workflow_fields(out: Fields, workflow: Workflow) -> None:
    out["WorkflowSid"] = workflow.sid
    out["WorkflowName"] = workflow.friendly_name


def channel_fields(out: Fields, channel: TaskChannel) -> None:
    out["TaskChannelSid"] = channel.sid
    out["TaskChannelName"] = channel.friendly_name
    out["TaskChannelUniqueName"] = channel.unique_name
    out["TaskChannelOptimizedRouting"] = flag(channel.channel_optimized_routing)


def activity_fields(out: Fields, activity: Activity) -> None:
    out["ActivitySid"] = activity.sid
    out["ActivityName"] = activity.friendly_name
    out["ActivityAvailable"] = flag(activity.available)


def task_context(out: Fields, state: WorkspaceState, task: Task) -> None:
    """The queue and workflow a task-related event names beside the task."""
    queue = state.queues.get(task.task_queue_sid or "")
    if queue is not None:
        queue_fields(out, queue)
    elif task.task_queue_sid is not None:
        out["TaskQueueSid"] = task.task_queue_sid
    workflow = state.workflows.get(task.workflow_sid or "")
    if workflow is not None:
        workflow_fields(out, workflow)
    elif task.workflow_sid is not None:
        out["WorkflowSid"] = task.workflow_sid


def filter_fields(out: Fields, state: WorkspaceState, task: Task) -> None:
    """Which filter of its workflow a task matched (workflow.target-matched)."""
    configuration = state.configurations.get(task.workflow_sid or "")
    index = task.filter_index
    if configuration is None or index is None:
        return
    if index == -1:
        out["WorkflowFilterName"] = "default_filter"
    elif 0 <= index < len(configuration.filters):
        name = configuration.filters[index].friendly_name
        if name:
            out["WorkflowFilterName"] = name
    if task.target_index is not None:
        out["WorkflowFilterTargetIndex"] = str(task.target_index)


# -- the two wire shapes ---------------------------------------------------------------------

_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SNAKE: dict[str, str] = {}


def snake(name: str) -> str:
    """`WorkerTimeInPreviousActivityMs` -> `worker_time_in_previous_activity_ms`."""
    key = _SNAKE.get(name)
    if key is None:
        key = _SNAKE[name] = _CAMEL_BOUNDARY.sub("_", name).lower()
    return key


def event_data(data: dict[str, Any]) -> dict[str, Any]:
    return {snake(k): v for k, v in data.items()}


def callback_params(body: dict[str, Any], resource_type: str) -> dict[str, str]:
    """The form fields of an event callback, from a stored event body."""
    params: dict[str, str] = {
        "Sid": body["sid"],
        "EventType": body["event_type"],
        "AccountSid": body["account_sid"],
        "WorkspaceSid": body["workspace_sid"],
        "WorkspaceName": body["data"].get("WorkspaceName", ""),
        "EventDescription": describe(body["event_type"], body["data"]),
        "ResourceType": resource_type,
        "ResourceSid": body["resource_sid"],
        "Timestamp": str(body["event_date_ms"] // 1000),
        "TimestampMs": str(body["event_date_ms"]),
    }
    for key, value in body["data"].items():
        params.setdefault(key, value)
    return params
