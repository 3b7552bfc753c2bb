"""Every TaskRouter event type: what it is about, and how it describes itself.

The list is Twilio's (notes g.1, EVREF). `resource` is the kind of object the event is most
relevant to (REST `resource_type`); `subjects` are the field groups its `event_data` carries
beside the common workspace fields: task, worker, reservation, queue, workflow, channel,
activity, worker_channel.
"""

from __future__ import annotations

from dataclasses import dataclass

TASK = "task"
RESERVATION = "reservation"
WORKER = "worker"
ACTIVITY = "activity"
WORKFLOW = "workflow"
WORKSPACE = "workspace"
TASK_QUEUE = "task_queue"
TASK_CHANNEL = "task_channel"

# The callback's `ResourceType` spelling of each resource kind.
CALLBACK_RESOURCE_TYPE = {
    TASK: "Task",
    RESERVATION: "Reservation",
    WORKER: "Worker",
    ACTIVITY: "Activity",
    WORKFLOW: "Workflow",
    WORKSPACE: "Workspace",
    TASK_QUEUE: "TaskQueue",
    TASK_CHANNEL: "TaskChannel",
}


@dataclass(frozen=True, slots=True)
class EventKind:
    event_type: str
    resource: str
    subjects: frozenset[str]
    # str.format_map over the event's PascalCase fields; missing fields read as "".
    description: str


def _kinds() -> dict[str, EventKind]:
    task = frozenset(("task", "queue", "workflow"))
    reservation = frozenset(("task", "worker", "reservation", "queue", "workflow"))
    kinds: list[EventKind] = []

    def add(event_type: str, resource: str, subjects: frozenset[str], description: str) -> None:
        kinds.append(EventKind(event_type, resource, subjects, description))

    activity = frozenset(("activity",))
    add("activity.created", ACTIVITY, activity, "Activity {ActivityName} created")
    add("activity.updated", ACTIVITY, activity, "Activity {ActivityName} updated")
    add("activity.deleted", ACTIVITY, activity, "Activity {ActivityName} deleted")

    for status, text in (
        ("created", "created for Worker {WorkerName}"),
        ("accepted", "accepted by Worker {WorkerName}"),
        ("rejected", "rejected by Worker {WorkerName}"),
        ("timeout", "for Worker {WorkerName} timed out"),
        ("canceled", "for Worker {WorkerName} canceled"),
        ("rescinded", "for Worker {WorkerName} rescinded"),
        ("completed", "completed by Worker {WorkerName}"),
        ("wrapup", "for Worker {WorkerName} wrapping up"),
    ):
        add(
            f"reservation.{status}",
            RESERVATION,
            reservation,
            f"Reservation {{ReservationSid}} {text}",
        )
    add(
        "reservation.failed",
        RESERVATION,
        frozenset(("task", "reservation", "queue", "workflow")),
        "Reservation {ReservationSid} failed",
    )

    for status, text in (
        ("created", "created"),
        ("updated", "updated"),
        ("canceled", "canceled: {TaskCanceledReason}"),
        ("wrapup", "wrapping up"),
        ("completed", "completed: {TaskCompletedReason}"),
        ("deleted", "deleted"),
        ("system-deleted", "deleted by the system"),
        ("transfer-initiated", "transfer initiated"),
        ("transfer-attempt-failed", "transfer attempt failed"),
        ("transfer-failed", "transfer failed"),
        ("transfer-canceled", "transfer canceled"),
        ("transfer-completed", "transfer completed"),
    ):
        add(f"task.{status}", TASK, task, f"Task {{TaskSid}} {text}")

    channel = frozenset(("channel",))
    add(
        "task-channel.created", TASK_CHANNEL, channel, "TaskChannel {TaskChannelUniqueName} created"
    )
    add(
        "task-channel.updated", TASK_CHANNEL, channel, "TaskChannel {TaskChannelUniqueName} updated"
    )
    add(
        "task-channel.deleted", TASK_CHANNEL, channel, "TaskChannel {TaskChannelUniqueName} deleted"
    )

    queue = frozenset(("queue",))
    add("task-queue.created", TASK_QUEUE, queue, "TaskQueue {TaskQueueName} created")
    add("task-queue.deleted", TASK_QUEUE, queue, "TaskQueue {TaskQueueName} deleted")
    add(
        "task-queue.expression.updated",
        TASK_QUEUE,
        queue,
        "TaskQueue {TaskQueueName} target expression updated to {TaskQueueTargetExpression}",
    )
    add("task-queue.entered", TASK_QUEUE, task, "Task {TaskSid} entered TaskQueue {TaskQueueName}")
    add(
        "task-queue.timeout",
        TASK_QUEUE,
        task,
        "Task {TaskSid} timed out of TaskQueue {TaskQueueName}",
    )
    add("task-queue.moved", TASK_QUEUE, task, "Task {TaskSid} moved to TaskQueue {TaskQueueName}")

    worker = frozenset(("worker",))
    worker_channel = frozenset(("worker", "worker_channel"))
    add("worker.created", WORKER, worker, "Worker {WorkerName} created")
    add(
        "worker.activity.update",
        WORKER,
        worker,
        "Worker {WorkerName} updated to {WorkerActivityName} Activity",
    )
    add("worker.attributes.update", WORKER, worker, "Worker {WorkerName} attributes updated")
    add(
        "worker.capacity.update",
        WORKER,
        worker_channel,
        "Worker {WorkerName} capacity on {TaskChannelUniqueName} updated to"
        " {WorkerChannelAvailableCapacity}",
    )
    add(
        "worker.channel.availability.update",
        WORKER,
        worker_channel,
        "Worker {WorkerName} availability on {TaskChannelUniqueName} updated to"
        " {WorkerChannelAvailable}",
    )
    add("worker.deleted", WORKER, worker, "Worker {WorkerName} deleted")

    workflow = frozenset(("workflow",))
    add("workflow.created", WORKFLOW, workflow, "Workflow {WorkflowName} created")
    add("workflow.updated", WORKFLOW, workflow, "Workflow {WorkflowName} updated")
    add("workflow.deleted", WORKFLOW, workflow, "Workflow {WorkflowName} deleted")
    add(
        "workflow.target-matched",
        WORKFLOW,
        task,
        "Task {TaskSid} matched a target of Workflow {WorkflowName}",
    )
    add("workflow.entered", WORKFLOW, task, "Task {TaskSid} entered Workflow {WorkflowName}")
    add("workflow.timeout", WORKFLOW, task, "Task {TaskSid} timed out of Workflow {WorkflowName}")
    add("workflow.skipped", WORKFLOW, task, "Task {TaskSid} skipped out of Workflow {WorkflowName}")

    none: frozenset[str] = frozenset()
    add("workspace.created", WORKSPACE, none, "Workspace {WorkspaceName} created")
    add("workspace.updated", WORKSPACE, none, "Workspace {WorkspaceName} updated")
    add("workspace.deleted", WORKSPACE, none, "Workspace {WorkspaceName} deleted")
    return {k.event_type: k for k in kinds}


KINDS: dict[str, EventKind] = _kinds()
EVENT_TYPES: tuple[str, ...] = tuple(KINDS)

# Types no command of this engine can cause (no transfers, no telephony that can fail an
# assignment): they are known, filterable and documented, but never emitted.
NEVER_EMITTED = frozenset(
    (
        "reservation.failed",
        "task.transfer-initiated",
        "task.transfer-attempt-failed",
        "task.transfer-failed",
        "task.transfer-canceled",
        "task.transfer-completed",
    )
)


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


def describe(event_type: str, fields: dict[str, str]) -> str:
    kind = KINDS.get(event_type)
    if kind is None:
        return event_type
    return kind.description.format_map(_Blank(fields))
