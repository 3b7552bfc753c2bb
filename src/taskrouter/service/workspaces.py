"""Workspaces: create with their default activities and channels, update, delete."""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from taskrouter.domain.entities import Activity, TaskChannel, TaskQueue, Workflow, Workspace
from taskrouter.domain.errors import Conflict, Invalid
from taskrouter.domain.sids import Prefix, new_sid
from taskrouter.domain.workflow_config import parse_configuration
from taskrouter.engine.state import WorkspaceState
from taskrouter.events.log import Emitted
from taskrouter.service import records, validation
from taskrouter.service.runtime import Runtime
from taskrouter.store import Change

# (friendly name, available); the first is every new worker's and every timeout's activity.
DEFAULT_ACTIVITIES = (("Offline", False), ("Available", True), ("Unavailable", False))
DEFAULT_CHANNELS = (
    ("Default", "default"),
    ("Voice", "voice"),
    ("SMS", "sms"),
    ("Chat", "chat"),
    ("Video", "video"),
)
TEMPLATES = ("NONE", "FIFO")
QUEUE_ORDERS = ("FIFO", "LIFO")


@dataclass(slots=True)
class WorkspaceChanges:
    friendly_name: str | None = None
    event_callback_url: str | None = None
    events_filter: str | None = None
    multi_task_enabled: bool | None = None
    prioritize_queue_order: str | None = None
    default_activity_sid: str | None = None
    timeout_activity_sid: str | None = None
    # Refuse a name another workspace of the same account and enterprise already has.
    unique_name: bool = False


class Workspaces:
    def __init__(self, runtime: Runtime) -> None:
        self._rt = runtime

    def list(self, account_sid: str, friendly_name: str | None = None) -> list[Workspace]:
        return [
            s.workspace
            for s in self._rt.workspaces.values()
            if s.workspace.account_sid == account_sid
            and (friendly_name is None or s.workspace.friendly_name == friendly_name)
        ]

    def fetch(self, account_sid: str, sid: str) -> WorkspaceState:
        return self._rt.workspace(account_sid, sid)

    async def create(
        self,
        account_sid: str,
        friendly_name: str,
        *,
        event_callback_url: str | None = None,
        events_filter: str | None = None,
        multi_task_enabled: bool = True,
        template: str | None = None,
        prioritize_queue_order: str | None = None,
        enterprise_sid: str | None = None,
        unique_name: bool = False,
        activities: tuple[tuple[str, bool], ...] = DEFAULT_ACTIVITIES,
    ) -> WorkspaceState:
        """`activities`: the (name, available) pairs a new workspace starts with; the first is
        its default and timeout activity."""
        validation.friendly_name(friendly_name)
        if unique_name:
            self._check_unique(account_sid, enterprise_sid, friendly_name, None)
        if not activities:
            raise Invalid("A workspace needs at least one activity")
        template = validation.choice(template or "NONE", "Template", TEMPLATES)
        order = validation.choice(
            prioritize_queue_order or "FIFO", "PrioritizeQueueOrder", QUEUE_ORDERS
        )
        now = self._rt.clock.now_ms()
        ws = Workspace(
            sid=new_sid(Prefix.WORKSPACE),
            account_sid=account_sid,
            friendly_name=friendly_name,
            date_created=now,
            date_updated=now,
            event_callback_url=validation.http_url(event_callback_url, "EventCallbackUrl"),
            events_filter=_events_filter(events_filter),
            multi_task_enabled=multi_task_enabled,
            prioritize_queue_order=order,
            enterprise_sid=enterprise_sid,
        )
        state = WorkspaceState(ws)
        self._rt.attach_engine(state)
        for activity_name, available in activities:
            activity = Activity(
                new_sid(Prefix.ACTIVITY), account_sid, ws.sid, activity_name, available, now, now
            )
            state.activities[activity.sid] = activity
        offline = next(iter(state.activities))
        ws.default_activity_sid = ws.timeout_activity_sid = offline
        for channel_name, channel_unique_name in DEFAULT_CHANNELS:
            channel = TaskChannel(
                new_sid(Prefix.TASK_CHANNEL),
                account_sid,
                ws.sid,
                channel_name,
                channel_unique_name,
                now,
                now,
            )
            state.channels[channel.sid] = channel
        if template == "FIFO":
            queue = TaskQueue(
                new_sid(Prefix.TASK_QUEUE), account_sid, ws.sid, "Sample Queue", now, now
            )
            state.queues[queue.sid] = queue
            state.index_queue(queue)
            configuration = orjson.dumps(
                {"task_routing": {"filters": [], "default_filter": {"queue": queue.sid}}}
            ).decode()
            workflow = Workflow(
                new_sid(Prefix.WORKFLOW),
                account_sid,
                ws.sid,
                "Default Fifo Workflow",
                configuration,
                now,
                now,
            )
            state.workflows[workflow.sid] = workflow
            state.configurations[workflow.sid] = parse_configuration(
                configuration, state.queues.__contains__
            )
        changes: list[Change] = [records.put(ws)]
        for group in (state.activities, state.channels, state.queues, state.workflows):
            changes.extend(records.put(entity) for entity in group.values())
        # In memory before the commit's await, so a concurrent create sees the name taken
        # (a failed commit reloads memory from the store).
        self._rt.workspaces[ws.sid] = state
        await self._rt.commit_with_engine(state, changes, [Emitted("workspace.created", ws)])
        return state

    async def update(self, account_sid: str, sid: str, changes: WorkspaceChanges) -> WorkspaceState:
        state = self._rt.workspace(account_sid, sid)
        ws = state.workspace
        # Check everything before changing anything, so a bad request changes nothing.
        if changes.friendly_name is not None:
            validation.friendly_name(changes.friendly_name)
            if changes.unique_name:
                self._check_unique(account_sid, ws.enterprise_sid, changes.friendly_name, ws.sid)
        order = None
        if changes.prioritize_queue_order is not None:
            order = validation.choice(
                changes.prioritize_queue_order, "PrioritizeQueueOrder", QUEUE_ORDERS
            )
        for param, value in (
            ("DefaultActivitySid", changes.default_activity_sid),
            ("TimeoutActivitySid", changes.timeout_activity_sid),
        ):
            if value is not None and value not in state.activities:
                raise Invalid(f"{param} {value} is not an Activity of this workspace", param=param)
        callback = validation.http_url(changes.event_callback_url, "EventCallbackUrl")
        events_filter = _events_filter(changes.events_filter)

        if changes.friendly_name is not None:
            ws.friendly_name = changes.friendly_name
        if changes.event_callback_url is not None:
            ws.event_callback_url = callback
        if changes.events_filter is not None:
            ws.events_filter = events_filter
        if changes.multi_task_enabled is not None:
            ws.multi_task_enabled = changes.multi_task_enabled
        if order is not None:
            ws.prioritize_queue_order = order
        if changes.default_activity_sid is not None:
            ws.default_activity_sid = changes.default_activity_sid
        if changes.timeout_activity_sid is not None:
            ws.timeout_activity_sid = changes.timeout_activity_sid
        ws.date_updated = self._rt.clock.now_ms()
        state.engine.queue_changed()
        await self._rt.commit_with_engine(
            state, [records.put(ws)], [Emitted("workspace.updated", ws)]
        )
        return state

    def _check_unique(
        self, account_sid: str, enterprise_sid: str | None, name: str, own_sid: str | None
    ) -> None:
        for state in self._rt.workspaces.values():
            ws = state.workspace
            if (
                ws.account_sid == account_sid
                and ws.enterprise_sid == enterprise_sid
                and ws.friendly_name == name
                and ws.sid != own_sid
            ):
                raise Conflict(
                    f"A Workspace named {name!r} already exists ({ws.sid})", param="FriendlyName"
                )

    async def delete(self, account_sid: str, sid: str) -> None:
        state = self._rt.workspace(account_sid, sid)
        changes: list[Change] = [records.delete(state.workspace)]
        for group in (
            state.activities,
            state.channels,
            state.queues,
            state.workers,
            state.workflows,
        ):
            changes.extend(records.delete(entity) for entity in group.values())
        for channels in state.worker_channels.values():
            changes.extend(records.delete(wc) for wc in channels.values())
        del self._rt.workspaces[sid]
        await self._rt.commit_with_engine(
            state, changes, [Emitted("workspace.deleted", state.workspace)]
        )
        state.engine.release()
        self._rt.stats.forget(sid)


def _events_filter(value: str | None) -> str | None:
    if value is None or value == "":
        return None if value is None else ""
    types = [part.strip() for part in value.split(",")]
    if any(not t for t in types):
        raise Invalid(f"EventsFilter has an empty event type: {value!r}", param="EventsFilter")
    return ",".join(types)
