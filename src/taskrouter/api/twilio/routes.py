"""Every route of the Twilio v1 face, in one table."""

from __future__ import annotations

from taskrouter.api.dispatch import Endpoint
from taskrouter.api.twilio import (
    events,
    queues,
    statistics,
    tasks,
    workers,
    workflows,
    workspaces,
)

WS = "/v1/Workspaces/{WorkspaceSid}"


table: list[tuple[str, str, Endpoint]] = [
    ("GET", "/v1/Workspaces", workspaces.list_workspaces),
    ("POST", "/v1/Workspaces", workspaces.create_workspace),
    ("GET", "/v1/Workspaces/{Sid}", workspaces.fetch_workspace),
    ("POST", "/v1/Workspaces/{Sid}", workspaces.update_workspace),
    ("DELETE", "/v1/Workspaces/{Sid}", workspaces.delete_workspace),
    ("GET", f"{WS}/Activities", workspaces.list_activities),
    ("POST", f"{WS}/Activities", workspaces.create_activity),
    ("GET", f"{WS}/Activities/{{Sid}}", workspaces.fetch_activity),
    ("POST", f"{WS}/Activities/{{Sid}}", workspaces.update_activity),
    ("DELETE", f"{WS}/Activities/{{Sid}}", workspaces.delete_activity),
    # Events: Stream (ours, SSE) is a literal segment, matched before {Sid}.
    ("GET", f"{WS}/Events", events.list_events),
    ("GET", f"{WS}/Events/Stream", events.stream_events),
    ("GET", f"{WS}/Events/{{Sid}}", events.fetch_event),
    ("GET", "/admin/v1/Workspaces/{WorkspaceSid}/Deliveries", events.list_failed_deliveries),
    ("POST", "/admin/v1/Workspaces/{WorkspaceSid}/Deliveries/Redeliver", events.redeliver),
    ("GET", f"{WS}/TaskChannels", workspaces.list_task_channels),
    ("POST", f"{WS}/TaskChannels", workspaces.create_task_channel),
    ("GET", f"{WS}/TaskChannels/{{Sid}}", workspaces.fetch_task_channel),
    ("POST", f"{WS}/TaskChannels/{{Sid}}", workspaces.update_task_channel),
    ("DELETE", f"{WS}/TaskChannels/{{Sid}}", workspaces.delete_task_channel),
    ("GET", f"{WS}/TaskQueues", queues.list_task_queues),
    ("POST", f"{WS}/TaskQueues", queues.create_task_queue),
    ("GET", f"{WS}/TaskQueues/{{Sid}}", queues.fetch_task_queue),
    ("POST", f"{WS}/TaskQueues/{{Sid}}", queues.update_task_queue),
    ("DELETE", f"{WS}/TaskQueues/{{Sid}}", queues.delete_task_queue),
    ("GET", f"{WS}/Workers", workers.list_workers),
    ("POST", f"{WS}/Workers", workers.create_worker),
    ("GET", f"{WS}/Workers/{{Sid}}", workers.fetch_worker),
    ("POST", f"{WS}/Workers/{{Sid}}", workers.update_worker),
    ("DELETE", f"{WS}/Workers/{{Sid}}", workers.delete_worker),
    ("GET", f"{WS}/Workers/{{WorkerSid}}/Channels", workers.list_worker_channels),
    ("GET", f"{WS}/Workers/{{WorkerSid}}/Channels/{{Sid}}", workers.fetch_worker_channel),
    ("POST", f"{WS}/Workers/{{WorkerSid}}/Channels/{{Sid}}", workers.update_worker_channel),
    ("GET", f"{WS}/Workflows", workflows.list_workflows),
    ("POST", f"{WS}/Workflows", workflows.create_workflow),
    ("GET", f"{WS}/Workflows/{{Sid}}", workflows.fetch_workflow),
    ("POST", f"{WS}/Workflows/{{Sid}}", workflows.update_workflow),
    ("DELETE", f"{WS}/Workflows/{{Sid}}", workflows.delete_workflow),
    # Statistics: literal segments (TaskQueues/Statistics, Workers/Statistics, ...) are
    # matched before {Sid}.
    ("GET", f"{WS}/Statistics", statistics.workspace_statistics),
    ("GET", f"{WS}/RealTimeStatistics", statistics.workspace_real_time_statistics),
    ("GET", f"{WS}/CumulativeStatistics", statistics.workspace_cumulative_statistics),
    ("GET", f"{WS}/TaskQueues/Statistics", statistics.list_task_queues_statistics),
    (
        "POST",
        f"{WS}/TaskQueues/RealTimeStatistics",
        statistics.bulk_task_queue_real_time_statistics,
    ),
    ("GET", f"{WS}/TaskQueues/{{TaskQueueSid}}/Statistics", statistics.task_queue_statistics),
    (
        "GET",
        f"{WS}/TaskQueues/{{TaskQueueSid}}/RealTimeStatistics",
        statistics.task_queue_real_time_statistics,
    ),
    (
        "GET",
        f"{WS}/TaskQueues/{{TaskQueueSid}}/CumulativeStatistics",
        statistics.task_queue_cumulative_statistics,
    ),
    ("GET", f"{WS}/Workflows/{{WorkflowSid}}/Statistics", statistics.workflow_statistics),
    (
        "GET",
        f"{WS}/Workflows/{{WorkflowSid}}/RealTimeStatistics",
        statistics.workflow_real_time_statistics,
    ),
    (
        "GET",
        f"{WS}/Workflows/{{WorkflowSid}}/CumulativeStatistics",
        statistics.workflow_cumulative_statistics,
    ),
    ("GET", f"{WS}/Workers/Statistics", statistics.workers_statistics),
    ("GET", f"{WS}/Workers/RealTimeStatistics", statistics.workers_real_time_statistics),
    ("GET", f"{WS}/Workers/CumulativeStatistics", statistics.workers_cumulative_statistics),
    ("GET", f"{WS}/Workers/{{WorkerSid}}/Statistics", statistics.worker_statistics),
    ("GET", f"{WS}/Tasks", tasks.list_tasks),
    ("POST", f"{WS}/Tasks", tasks.create_task),
    ("GET", f"{WS}/Tasks/{{Sid}}", tasks.fetch_task),
    ("POST", f"{WS}/Tasks/{{Sid}}", tasks.update_task),
    ("DELETE", f"{WS}/Tasks/{{Sid}}", tasks.delete_task),
    ("GET", f"{WS}/Tasks/{{TaskSid}}/Reservations", tasks.list_task_reservations),
    ("GET", f"{WS}/Tasks/{{TaskSid}}/Reservations/{{Sid}}", tasks.fetch_task_reservation),
    ("POST", f"{WS}/Tasks/{{TaskSid}}/Reservations/{{Sid}}", tasks.update_task_reservation),
    ("GET", f"{WS}/Workers/{{WorkerSid}}/Reservations", tasks.list_worker_reservations),
    ("GET", f"{WS}/Workers/{{WorkerSid}}/Reservations/{{Sid}}", tasks.fetch_worker_reservation),
    ("POST", f"{WS}/Workers/{{WorkerSid}}/Reservations/{{Sid}}", tasks.update_worker_reservation),
]
