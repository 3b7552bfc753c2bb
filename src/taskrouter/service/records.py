"""How entities map to store rows: the table, and the indexed columns beside the body."""

from __future__ import annotations

from typing import Any

from taskrouter.domain.entities import (
    Account,
    Activity,
    ApiKey,
    Reservation,
    Task,
    TaskChannel,
    TaskQueue,
    Worker,
    WorkerChannel,
    Workflow,
    Workspace,
)
from taskrouter.store import Delete, Put

Entity = (
    Account
    | ApiKey
    | Workspace
    | Activity
    | TaskChannel
    | TaskQueue
    | Worker
    | WorkerChannel
    | Workflow
    | Task
    | Reservation
)

TABLE: dict[type[Any], str] = {
    Account: "accounts",
    ApiKey: "api_keys",
    Workspace: "workspaces",
    Activity: "activities",
    TaskChannel: "task_channels",
    TaskQueue: "task_queues",
    Worker: "workers",
    WorkerChannel: "worker_channels",
    Workflow: "workflows",
    Task: "tasks",
    Reservation: "reservations",
}


def put(entity: Entity) -> Put:
    body = entity.to_record()
    row: dict[str, Any] = {"body": body}
    if isinstance(entity, Account):
        row |= {
            "friendly_name": entity.friendly_name,
            "auth_token": entity.auth_token,
            "email": entity.email,
            "status": entity.status,
            "date_created": str(entity.date_created),
        }
    elif isinstance(entity, ApiKey):
        row |= {
            "account_sid": entity.account_sid,
            "secret": entity.secret,
            "friendly_name": entity.friendly_name,
            "date_created": str(entity.date_created),
        }
    elif isinstance(entity, Workspace):
        row["account_sid"] = entity.account_sid
    elif isinstance(entity, Task):
        row |= {
            "account_sid": entity.account_sid,
            "workspace_sid": entity.workspace_sid,
            "assignment_status": entity.assignment_status,
            "date_created_ms": entity.date_created,
            "date_closed_ms": entity.date_closed,
        }
    elif isinstance(entity, Reservation):
        row |= {
            "account_sid": entity.account_sid,
            "workspace_sid": entity.workspace_sid,
            "task_sid": entity.task_sid,
            "worker_sid": entity.worker_sid,
            "reservation_status": entity.reservation_status,
            "date_created_ms": entity.date_created,
        }
    else:
        row |= {"account_sid": entity.account_sid, "workspace_sid": entity.workspace_sid}
        if isinstance(entity, WorkerChannel):
            row["worker_sid"] = entity.worker_sid
    return Put(TABLE[type(entity)], entity.sid, row)


def delete(entity: Entity) -> Delete:
    return Delete(TABLE[type(entity)], entity.sid)
