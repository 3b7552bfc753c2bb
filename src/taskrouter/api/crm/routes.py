"""Every route of the CRM face (seed 002), in one table."""

from __future__ import annotations

from taskrouter.api.crm import company, history, tasks
from taskrouter.api.dispatch import Endpoint

CO = "/companies/{companyId}"

table: list[tuple[str, str, Endpoint]] = [
    ("GET", f"{CO}/twilio-terminated-tasks", history.list_finished),
    ("GET", f"{CO}/twilio-terminated-tasks/{{taskHistoryId}}", history.fetch_finished),
    ("POST", f"{CO}/twilio-terminated-tasks/{{taskHistoryId}}/clone", history.clone_finished),
    ("GET", f"{CO}/twilio-queues", company.list_queues),
    ("GET", f"{CO}/twilio-workers", company.list_workers),
    ("GET", f"{CO}/twilio-unterminated-tasks", tasks.list_tasks),
    ("DELETE", f"{CO}/twilio-unterminated-tasks", tasks.bulk_delete),
    ("GET", f"{CO}/twilio-unterminated-tasks/{{taskSid}}", tasks.fetch_task),
    ("DELETE", f"{CO}/twilio-unterminated-tasks/{{taskSid}}", tasks.delete_task),
    ("POST", f"{CO}/twilio-unterminated-tasks/{{taskSid}}/abandon", tasks.abandon_task),
    ("GET", "/twilio/tasktype-availability", company.fetch_availability),
    ("PUT", "/twilio/tasktype-availability", company.update_availability),
    # Ours, not the seed's: the company id and time zone the paths above rely on.
    ("GET", f"{CO}/settings", company.fetch_settings),
    ("PUT", f"{CO}/settings", company.update_settings),
]
