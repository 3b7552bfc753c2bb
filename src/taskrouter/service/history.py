"""Finished tasks: read back from the store for the retention period, and cloned.

A task is in history once it is closed: completed, canceled, or deleted (by the API or by the
system). Its entry is the task's last stored record; the entry's id is the task's SID.
"""

from __future__ import annotations

from dataclasses import dataclass

from taskrouter.domain.entities import Task
from taskrouter.domain.errors import NotFound
from taskrouter.domain.sids import Prefix, is_sid
from taskrouter.engine.state import WorkspaceState
from taskrouter.events.finished_tasks import Cursor
from taskrouter.service.runtime import Runtime
from taskrouter.service.tasks import NewTask, Tasks


@dataclass(frozen=True, slots=True)
class HistoryPage:
    tasks: list[Task]
    more_before: bool
    more_after: bool


class TaskHistory:
    def __init__(self, runtime: Runtime, tasks: Tasks) -> None:
        self._rt = runtime
        self._tasks = tasks

    def _since(self) -> int:
        return self._rt.clock.now_ms() - self._rt.events.settings.retention_ms

    async def page(
        self,
        state: WorkspaceState,
        *,
        after: Cursor | None = None,
        before: Cursor | None = None,
        limit: int,
    ) -> HistoryPage:
        """Newest closed first; `after`/`before` continue from a task shown."""
        found = await self._rt.events.finished_tasks.page(
            state.sid, self._since(), after=after, before=before, limit=limit
        )
        return HistoryPage(
            [Task.from_record(body) for body in found.tasks], found.more_before, found.more_after
        )

    async def fetch(self, state: WorkspaceState, task_id: str) -> Task:
        missing = NotFound(f"No terminated task {task_id!r} in workspace {state.sid}")
        if not is_sid(task_id, Prefix.TASK):
            raise missing
        row = await self._rt.store.get("tasks", task_id)
        if row is None or row["body"].get("workspace_sid") != state.sid:
            raise missing
        task = Task.from_record(row["body"])
        if task.date_closed is None or task.date_closed < self._since():
            raise missing
        return task

    async def clone(self, state: WorkspaceState, task_id: str) -> Task:
        """A new pending task with the same attributes, channel, priority and timeout, routed
        again by the same workflow (or the workspace's only one, if that is gone)."""
        old = await self.fetch(state, task_id)
        workflow_sid = old.workflow_sid if old.workflow_sid in state.workflows else None
        # A worker or queue it was sent straight to still takes it; otherwise the workflow.
        target = old.routing_target
        if target is not None and target not in state.workers and target not in state.queues:
            target = None
        channel = old.task_channel_sid if old.task_channel_sid in state.channels else None
        new = NewTask(
            attributes=old.attributes,
            priority=old.priority,
            timeout=old.timeout,
            task_channel=channel,
            workflow_sid=workflow_sid,
            routing_target=target,
            ignore_capacity=old.ignore_capacity,
        )
        return await self._tasks.create(state.workspace.account_sid, state.sid, new)
