"""Task channels, and the worker channels that give each worker a capacity per channel."""

from __future__ import annotations

from taskrouter.domain.entities import TaskChannel, Worker, WorkerChannel
from taskrouter.domain.errors import Conflict, Invalid, NotFound
from taskrouter.domain.sids import Prefix, new_sid
from taskrouter.engine.state import WorkspaceState
from taskrouter.events.log import Emitted
from taskrouter.service import records, validation
from taskrouter.service.runtime import Runtime
from taskrouter.store import Change

MAX_CAPACITY = 50


def new_worker_channel(worker: Worker, channel: TaskChannel, now: int) -> WorkerChannel:
    return WorkerChannel(
        sid=new_sid(Prefix.WORKER_CHANNEL),
        account_sid=worker.account_sid,
        workspace_sid=worker.workspace_sid,
        worker_sid=worker.sid,
        task_channel_sid=channel.sid,
        date_created=now,
        date_updated=now,
    )


class TaskChannels:
    def __init__(self, runtime: Runtime) -> None:
        self._rt = runtime

    def list(self, account_sid: str, workspace_sid: str) -> list[TaskChannel]:
        return list(self._rt.workspace(account_sid, workspace_sid).channels.values())

    def fetch(self, account_sid: str, workspace_sid: str, key: str) -> TaskChannel:
        return _channel(self._rt.workspace(account_sid, workspace_sid), key)

    async def create(
        self,
        account_sid: str,
        workspace_sid: str,
        friendly_name: str,
        unique_name: str,
        channel_optimized_routing: bool | None = None,
    ) -> TaskChannel:
        state = self._rt.workspace(account_sid, workspace_sid)
        validation.friendly_name(friendly_name)
        validation.identifier(unique_name, "UniqueName")
        if state.channel_by_sid_or_name(unique_name) is not None:
            raise Conflict(
                f"A TaskChannel with UniqueName {unique_name!r} already exists", param="UniqueName"
            )
        now = self._rt.clock.now_ms()
        channel = TaskChannel(
            new_sid(Prefix.TASK_CHANNEL),
            account_sid,
            workspace_sid,
            friendly_name,
            unique_name,
            now,
            now,
            bool(channel_optimized_routing),
        )
        worker_channels = [new_worker_channel(w, channel, now) for w in state.workers.values()]
        changes: list[Change] = [records.put(channel)]
        changes.extend(records.put(wc) for wc in worker_channels)
        state.channels[channel.sid] = channel
        for wc in worker_channels:
            state.worker_channels[wc.worker_sid][channel.sid] = wc
        state.engine.queue_changed()
        await self._rt.commit_with_engine(
            state, changes, [Emitted("task-channel.created", channel)]
        )
        return channel

    async def update(
        self,
        account_sid: str,
        workspace_sid: str,
        key: str,
        friendly_name: str | None = None,
        channel_optimized_routing: bool | None = None,
    ) -> TaskChannel:
        state = self._rt.workspace(account_sid, workspace_sid)
        channel = _channel(state, key)
        if friendly_name is not None:
            validation.friendly_name(friendly_name)
            channel.friendly_name = friendly_name
        if channel_optimized_routing is not None:
            channel.channel_optimized_routing = channel_optimized_routing
        channel.date_updated = self._rt.clock.now_ms()
        await self._rt.commit_with_engine(
            state, [records.put(channel)], [Emitted("task-channel.updated", channel)]
        )
        return channel

    async def delete(self, account_sid: str, workspace_sid: str, key: str) -> None:
        state = self._rt.workspace(account_sid, workspace_sid)
        channel = _channel(state, key)
        if any(t.task_channel_sid == channel.sid for t in state.engine.tasks.values()):
            raise Invalid(f"TaskChannel {channel.sid} is used by tasks; they must finish first")
        changes: list[Change] = [records.delete(channel)]
        for channels in state.worker_channels.values():
            wc = channels.pop(channel.sid, None)
            if wc is not None:
                changes.append(records.delete(wc))
        del state.channels[channel.sid]
        state.engine.queue_changed()
        await self._rt.commit_with_engine(
            state, changes, [Emitted("task-channel.deleted", channel)]
        )


class WorkerChannels:
    def __init__(self, runtime: Runtime) -> None:
        self._rt = runtime

    def list(self, account_sid: str, workspace_sid: str, worker_sid: str) -> list[WorkerChannel]:
        state = self._rt.workspace(account_sid, workspace_sid)
        return list(_worker_channels(state, worker_sid).values())

    def fetch(
        self, account_sid: str, workspace_sid: str, worker_sid: str, key: str
    ) -> WorkerChannel:
        state = self._rt.workspace(account_sid, workspace_sid)
        return _worker_channel(state, worker_sid, key)

    async def update(
        self,
        account_sid: str,
        workspace_sid: str,
        worker_sid: str,
        key: str,
        capacity: int | None = None,
        available: bool | None = None,
    ) -> WorkerChannel:
        state = self._rt.workspace(account_sid, workspace_sid)
        wc = _worker_channel(state, worker_sid, key)
        events: list[Emitted] = []
        if capacity is not None and capacity != wc.configured_capacity:
            previous = {"WorkerChannelPreviousCapacity": str(wc.configured_capacity)}
            events.append(Emitted("worker.capacity.update", wc, previous))
        if available is not None and available != wc.available:
            events.append(Emitted("worker.channel.availability.update", wc))
        if capacity is not None:
            validation.integer(capacity, "Capacity", 0, MAX_CAPACITY)
            wc.configured_capacity = capacity
        if available is not None:
            wc.available = available
        wc.date_updated = self._rt.clock.now_ms()
        state.engine.worker_changed(state.workers[worker_sid])
        await self._rt.commit_with_engine(state, [records.put(wc)], events)
        return wc


def _channel(state: WorkspaceState, key: str) -> TaskChannel:
    channel = state.channel_by_sid_or_name(key)
    if channel is None:
        raise NotFound(
            f"The requested resource /Workspaces/{state.sid}/TaskChannels/{key} was not found"
        )
    return channel


def _worker_channels(state: WorkspaceState, worker_sid: str) -> dict[str, WorkerChannel]:
    channels = state.worker_channels.get(worker_sid)
    if channels is None:
        raise NotFound(
            f"The requested resource /Workspaces/{state.sid}/Workers/{worker_sid} was not found"
        )
    return channels


def _worker_channel(state: WorkspaceState, worker_sid: str, key: str) -> WorkerChannel:
    channels = _worker_channels(state, worker_sid)
    channel = state.channel_by_sid_or_name(key)
    if channel is not None and channel.sid in channels:
        return channels[channel.sid]
    for wc in channels.values():
        if wc.sid == key:
            return wc
    raise NotFound(
        f"The requested resource /Workspaces/{state.sid}/Workers/{worker_sid}/Channels/{key}"
        " was not found"
    )
