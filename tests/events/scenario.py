"""Workspaces for the events tests, built through twilio-python, and the fields each event
type must carry (EVREF: the common fields plus its subject's groups)."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any

from events_harness import EventServer, Received

COMMON = (
    "Sid",
    "EventType",
    "AccountSid",
    "WorkspaceSid",
    "WorkspaceName",
    "EventDescription",
    "ResourceType",
    "ResourceSid",
    "Timestamp",
    "TimestampMs",
)
TASK = ("TaskSid", "TaskAttributes", "TaskAge", "TaskPriority", "TaskAssignmentStatus")
WORKER = ("WorkerSid", "WorkerName", "WorkerAttributes", "WorkerActivitySid", "WorkerActivityName")
QUEUE = ("TaskQueueSid", "TaskQueueName", "TaskQueueTargetExpression")
WORKFLOW = ("WorkflowSid", "WorkflowName")
RESERVATION = (*TASK, *WORKER, "ReservationSid", "TaskQueueSid", "WorkflowSid")


def required_fields(event_type: str) -> tuple[str, ...]:
    group, _, action = event_type.partition(".")
    if group == "activity":
        return ("ActivitySid", "ActivityName", "ActivityAvailable")
    if group == "reservation":
        return RESERVATION
    if group == "task":
        extra = {"canceled": ("TaskCanceledReason",), "completed": ("TaskCompletedReason",)}
        return (*TASK, "WorkflowSid", *extra.get(action, ()))
    if group == "task-channel":
        return (
            "TaskChannelSid",
            "TaskChannelName",
            "TaskChannelUniqueName",
            "TaskChannelOptimizedRouting",
        )
    if group == "task-queue":
        if action in ("entered", "timeout", "moved"):
            return (*TASK, *QUEUE, "WorkflowSid")
        return QUEUE
    if group == "worker":
        if action in ("capacity.update", "channel.availability.update"):
            return (
                *WORKER,
                "WorkerChannelAvailable",
                "WorkerChannelAvailableCapacity",
                "TaskChannelSid",
                "TaskChannelUniqueName",
                "WorkerChannelTaskCount",
                *(("WorkerChannelPreviousCapacity",) if action == "capacity.update" else ()),
            )
        return WORKER
    if group == "workflow":
        if action in ("created", "updated", "deleted"):
            return WORKFLOW
        return (*TASK, *WORKFLOW)
    if group == "workspace":
        return ("WorkspaceSid", "WorkspaceName")
    raise AssertionError(f"unknown event type {event_type}")


def missing_fields(received: Received) -> list[str]:
    form = received.form
    wanted = (*COMMON, *required_fields(form["EventType"]))
    return [name for name in wanted if not form.get(name)]


@dataclass
class Workspace:
    server: EventServer
    sid: str
    ctx: Any
    activities: dict[str, str]

    def activity(self, name: str) -> str:
        return self.activities[name]


def new_workspace(
    server: EventServer,
    *,
    callback: str | None = None,
    events_filter: str | None = None,
    multi_task: bool = True,
) -> Workspace:
    assert server.client is not None
    kwargs: dict[str, Any] = {"friendly_name": f"events-{secrets.token_hex(4)}"}
    if callback is not None:
        kwargs["event_callback_url"] = callback
    if events_filter is not None:
        kwargs["events_filter"] = events_filter
    if not multi_task:
        kwargs["multi_task_enabled"] = False
    created = server.client.taskrouter.v1.workspaces.create(**kwargs)
    ctx = server.client.taskrouter.v1.workspaces(created.sid)
    activities = {a.friendly_name: a.sid for a in ctx.activities.list()}
    return Workspace(server, created.sid, ctx, activities)


def add_queue(ws: Workspace, name: str, target: str = "1==1", **kwargs: Any) -> str:
    return str(ws.ctx.task_queues.create(friendly_name=name, target_workers=target, **kwargs).sid)


def add_workflow(
    ws: Workspace,
    configuration: dict[str, Any],
    *,
    name: str = "wf",
    callback: str | None = None,
    fallback: str | None = None,
) -> str:
    kwargs: dict[str, Any] = {
        "friendly_name": name,
        "configuration": json.dumps(configuration),
    }
    if callback is not None:
        kwargs["assignment_callback_url"] = callback
    if fallback is not None:
        kwargs["fallback_assignment_callback_url"] = fallback
    return str(ws.ctx.workflows.create(**kwargs).sid)


def to_queue(queue_sid: str) -> dict[str, Any]:
    return {"task_routing": {"filters": [], "default_filter": {"queue": queue_sid}}}


def add_worker(ws: Workspace, name: str, attributes: dict[str, Any], activity: str) -> str:
    return str(
        ws.ctx.workers.create(
            friendly_name=name,
            attributes=json.dumps(attributes),
            activity_sid=ws.activity(activity),
        ).sid
    )


def add_task(ws: Workspace, workflow_sid: str, attributes: dict[str, Any]) -> str:
    return str(
        ws.ctx.tasks.create(attributes=json.dumps(attributes), workflow_sid=workflow_sid).sid
    )


def reservations(ws: Workspace, task_sid: str) -> list[Any]:
    return list(ws.ctx.tasks(task_sid).reservations.list())
