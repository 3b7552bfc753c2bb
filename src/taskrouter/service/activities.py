"""Activities: a worker's presence. `available` is fixed at creation."""

from __future__ import annotations

from taskrouter.domain.entities import Activity
from taskrouter.domain.errors import Conflict, Invalid, NotFound
from taskrouter.domain.sids import Prefix, new_sid
from taskrouter.engine.state import WorkspaceState
from taskrouter.events.log import Emitted
from taskrouter.service import records, validation
from taskrouter.service.runtime import Runtime


class Activities:
    def __init__(self, runtime: Runtime) -> None:
        self._rt = runtime

    def list(
        self,
        account_sid: str,
        workspace_sid: str,
        friendly_name: str | None = None,
        available: bool | None = None,
    ) -> list[Activity]:
        state = self._rt.workspace(account_sid, workspace_sid)
        return [
            a
            for a in state.activities.values()
            if (friendly_name is None or a.friendly_name == friendly_name)
            and (available is None or a.available == available)
        ]

    def fetch(self, account_sid: str, workspace_sid: str, sid: str) -> Activity:
        return _activity(self._rt.workspace(account_sid, workspace_sid), sid)

    async def create(
        self,
        account_sid: str,
        workspace_sid: str,
        friendly_name: str,
        available: bool = False,
        *,
        unique_name: bool = False,
    ) -> Activity:
        state = self._rt.workspace(account_sid, workspace_sid)
        validation.friendly_name(friendly_name)
        if unique_name:
            _check_unique(state, friendly_name, None)
        now = self._rt.clock.now_ms()
        activity = Activity(
            new_sid(Prefix.ACTIVITY), account_sid, workspace_sid, friendly_name, available, now, now
        )
        # In memory before the commit's await, so a concurrent create sees the name taken
        # (a failed commit reloads memory from the store).
        state.activities[activity.sid] = activity
        await self._rt.commit_with_engine(
            state, [records.put(activity)], [Emitted("activity.created", activity)]
        )
        return activity

    async def update(
        self,
        account_sid: str,
        workspace_sid: str,
        sid: str,
        friendly_name: str | None,
        *,
        unique_name: bool = False,
    ) -> Activity:
        state = self._rt.workspace(account_sid, workspace_sid)
        activity = _activity(state, sid)
        if friendly_name is not None:
            if unique_name:
                _check_unique(state, friendly_name, sid)
            activity.friendly_name = validation.friendly_name(friendly_name)
            activity.date_updated = self._rt.clock.now_ms()
            await self._rt.commit_with_engine(
                state, [records.put(activity)], [Emitted("activity.updated", activity)]
            )
        return activity

    async def delete(self, account_sid: str, workspace_sid: str, sid: str) -> None:
        state = self._rt.workspace(account_sid, workspace_sid)
        activity = _activity(state, sid)
        ws = state.workspace
        if sid in (ws.default_activity_sid, ws.timeout_activity_sid):
            role = "default" if sid == ws.default_activity_sid else "timeout"
            raise Invalid(
                f"Activity {sid} ({activity.friendly_name}) is the workspace's {role} activity;"
                " choose another one on the workspace before deleting it"
            )
        occupied = sum(1 for w in state.workers.values() if w.activity_sid == sid)
        if occupied:
            raise Invalid(
                f"Activity {sid} ({activity.friendly_name}) is occupied by {occupied} worker(s);"
                " move them to another activity before deleting it"
            )
        for queue in state.queues.values():
            if sid in (queue.reservation_activity_sid, queue.assignment_activity_sid):
                raise Invalid(
                    f"Activity {sid} ({activity.friendly_name}) is used by TaskQueue {queue.sid}"
                )
        del state.activities[sid]
        await self._rt.commit_with_engine(
            state, [records.delete(activity)], [Emitted("activity.deleted", activity)]
        )


def _check_unique(state: WorkspaceState, name: str, own_sid: str | None) -> None:
    for other in state.activities.values():
        if other.friendly_name == name and other.sid != own_sid:
            raise Conflict(
                f"An Activity named {name!r} already exists ({other.sid})", param="FriendlyName"
            )


def _activity(state: WorkspaceState, sid: str) -> Activity:
    activity = state.activities.get(sid)
    if activity is None:
        raise NotFound(
            f"The requested resource /Workspaces/{state.sid}/Activities/{sid} was not found"
        )
    return activity
