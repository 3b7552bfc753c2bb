"""Which live tasks each queue and workflow holds, kept as tasks change.

The engine keeps tasks by sid; real-time statistics need them by queue and by workflow
without walking every task of the workspace. The index is fed the tasks each command
changed (after its commit) and rebuilt whenever the runtime reloads from the store.
"""

from __future__ import annotations

from collections.abc import Iterable

from taskrouter.domain.entities import Task
from taskrouter.domain.lifecycles import TASK_LIVE


class LiveTasks:
    __slots__ = ("by_queue", "by_workflow", "filed")

    def __init__(self) -> None:
        # task sid -> (queue sid, workflow sid) it is filed under
        self.filed: dict[str, tuple[str | None, str | None]] = {}
        self.by_queue: dict[str, set[str]] = {}
        self.by_workflow: dict[str, set[str]] = {}

    def rebuild(self, tasks: Iterable[Task]) -> None:
        self.filed.clear()
        self.by_queue.clear()
        self.by_workflow.clear()
        for task in tasks:
            self.update(task)

    def update(self, task: Task) -> None:
        sid = task.sid
        live = task.assignment_status in TASK_LIVE and not task.deleted
        place = (task.task_queue_sid, task.workflow_sid) if live else None
        before = self.filed.get(sid)
        if before == place:
            return
        if before is not None:
            _remove(self.by_queue, before[0], sid)
            _remove(self.by_workflow, before[1], sid)
            del self.filed[sid]
        if place is not None:
            self.filed[sid] = place
            if place[0] is not None:
                self.by_queue.setdefault(place[0], set()).add(sid)
            if place[1] is not None:
                self.by_workflow.setdefault(place[1], set()).add(sid)

    def in_queue(self, queue_sid: str) -> set[str]:
        return self.by_queue.get(queue_sid, _EMPTY)

    def in_workflow(self, workflow_sid: str) -> set[str]:
        return self.by_workflow.get(workflow_sid, _EMPTY)


_EMPTY: set[str] = set()


def _remove(index: dict[str, set[str]], key: str | None, sid: str) -> None:
    if key is None:
        return
    members = index.get(key)
    if members is not None:
        members.discard(sid)
        if not members:
            del index[key]
