"""Finding which workspace holds an object when a face names it by SID alone."""

from __future__ import annotations

from taskrouter.domain.sids import Prefix
from taskrouter.engine.state import WorkspaceState
from taskrouter.service.runtime import Runtime


class Lookup:
    def __init__(self, runtime: Runtime) -> None:
        self._rt = runtime

    def workspace_of(self, account_sid: str, sid: str) -> str | None:
        """The SID of the account's workspace that holds `sid` (a workspace, activity, task
        queue, worker, workflow or live task), or None."""
        for state in self._rt.workspaces.values():
            if state.workspace.account_sid == account_sid and _holds(state, sid):
                return state.sid
        return None


def _holds(state: WorkspaceState, sid: str) -> bool:
    prefix = sid[:2]
    if prefix == Prefix.WORKSPACE:
        return state.sid == sid
    if prefix == Prefix.ACTIVITY:
        return sid in state.activities
    if prefix == Prefix.TASK_QUEUE:
        return sid in state.queues
    if prefix == Prefix.WORKER:
        return sid in state.workers
    if prefix == Prefix.WORKFLOW:
        return sid in state.workflows
    if prefix == Prefix.TASK:
        return sid in state.engine.tasks
    return False
