"""Everything statistics keep in memory, for every workspace the process owns.

The runtime hands over, after each commit, the tasks the command changed and the event
bodies it stored; on a reload it hands over the engines' tasks again. Facts older than the
retention period are dropped at most once per `prune_every_ms` of the clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from taskrouter.domain.entities import Task
from taskrouter.engine.state import WorkspaceState
from taskrouter.stats.history import History
from taskrouter.stats.live import LiveTasks

PRUNE_EVERY_MS = 3_600_000


class StatsBook:
    def __init__(self, retention_ms: int) -> None:
        self.retention_ms = retention_ms
        self.histories: dict[str, History] = {}
        self.live: dict[str, LiveTasks] = {}
        self._next_prune: int | None = None

    def history(self, workspace_sid: str) -> History:
        history = self.histories.get(workspace_sid)
        if history is None:
            history = self.histories[workspace_sid] = History(workspace_sid)
        return history

    def live_tasks(self, workspace_sid: str) -> LiveTasks:
        live = self.live.get(workspace_sid)
        if live is None:
            live = self.live[workspace_sid] = LiveTasks()
        return live

    def reload(self, workspaces: Iterable[WorkspaceState]) -> None:
        self.live = {}
        for state in workspaces:
            self.live_tasks(state.sid).rebuild(state.engine.tasks.values())

    def committed(
        self,
        workspace_sid: str,
        tasks: Iterable[Task],
        events: Iterable[dict[str, Any]],
        now: int,
    ) -> None:
        live = self.live_tasks(workspace_sid)
        for task in tasks:
            live.update(task)
        history = self.history(workspace_sid)
        for body in events:
            history.observe(body)
        if self._next_prune is None:
            self._next_prune = now + PRUNE_EVERY_MS
        elif now >= self._next_prune:
            self._next_prune = now + PRUNE_EVERY_MS
            self.prune(now)

    def prune(self, now: int) -> None:
        cutoff = now - self.retention_ms
        for history in self.histories.values():
            history.prune(cutoff)

    def forget(self, workspace_sid: str) -> None:
        self.histories.pop(workspace_sid, None)
        self.live.pop(workspace_sid, None)
