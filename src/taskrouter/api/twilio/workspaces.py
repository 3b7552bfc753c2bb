"""/v1/Workspaces, and the activities and task channels under them."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from taskrouter.api.twilio import render
from taskrouter.api.twilio.call import Call, endpoint
from taskrouter.api.twilio.wire import json_response, page
from taskrouter.domain.entities import Activity, TaskChannel
from taskrouter.domain.sids import Prefix
from taskrouter.engine.state import WorkspaceState
from taskrouter.service.workspaces import WorkspaceChanges


def _position(item: Any) -> tuple[int, str]:
    return item.date_created, item.sid


def workspace_sid(call: Call) -> str:
    return call.path_sid("WorkspaceSid", Prefix.WORKSPACE)


@endpoint
async def list_workspaces(call: Call) -> Response:
    items = call.service.workspaces.list(call.account_sid, call.query.str("FriendlyName"))
    states = [call.service.runtime.workspaces[ws.sid] for ws in items]

    def position(state: WorkspaceState) -> tuple[int, str]:
        return state.workspace.date_created, state.workspace.sid

    return json_response(
        page(
            states,
            key="workspaces",
            query=call.query,
            url=call.url,
            render=lambda s: render.workspace(call.base, s),
            position=position,
        )
    )


@endpoint
async def create_workspace(call: Call) -> Response:
    f = call.form
    state = await call.service.workspaces.create(
        call.account_sid,
        f.required("FriendlyName"),
        event_callback_url=f.str("EventCallbackUrl"),
        events_filter=f.str("EventsFilter"),
        multi_task_enabled=f.bool("MultiTaskEnabled") is not False,
        template=f.str("Template"),
        prioritize_queue_order=f.str("PrioritizeQueueOrder"),
    )
    return json_response(render.workspace(call.base, state), 201)


@endpoint
async def fetch_workspace(call: Call) -> Response:
    sid = call.path_sid("Sid", Prefix.WORKSPACE)
    return json_response(
        render.workspace(call.base, call.service.workspaces.fetch(call.account_sid, sid))
    )


@endpoint
async def update_workspace(call: Call) -> Response:
    sid = call.path_sid("Sid", Prefix.WORKSPACE)
    f = call.form
    changes = WorkspaceChanges(
        friendly_name=f.str("FriendlyName"),
        event_callback_url=f.str("EventCallbackUrl"),
        events_filter=f.str("EventsFilter"),
        multi_task_enabled=f.bool("MultiTaskEnabled"),
        prioritize_queue_order=f.str("PrioritizeQueueOrder"),
        default_activity_sid=f.sid("DefaultActivitySid", Prefix.ACTIVITY),
        timeout_activity_sid=f.sid("TimeoutActivitySid", Prefix.ACTIVITY),
    )
    state = await call.service.workspaces.update(call.account_sid, sid, changes)
    return json_response(render.workspace(call.base, state))


@endpoint
async def delete_workspace(call: Call) -> Response:
    await call.service.workspaces.delete(call.account_sid, call.path_sid("Sid", Prefix.WORKSPACE))
    return Response(status_code=204)


# Activities


@endpoint
async def list_activities(call: Call) -> Response:
    items = call.service.activities.list(
        call.account_sid,
        workspace_sid(call),
        call.query.str("FriendlyName"),
        call.query.bool("Available"),
    )
    return json_response(
        page(
            items,
            key="activities",
            query=call.query,
            url=call.url,
            render=lambda a: render.activity(call.base, a),
            position=_position,
        )
    )


@endpoint
async def create_activity(call: Call) -> Response:
    activity = await call.service.activities.create(
        call.account_sid,
        workspace_sid(call),
        call.form.required("FriendlyName"),
        bool(call.form.bool("Available")),
    )
    return json_response(render.activity(call.base, activity), 201)


@endpoint
async def fetch_activity(call: Call) -> Response:
    activity: Activity = call.service.activities.fetch(
        call.account_sid, workspace_sid(call), call.path_sid("Sid", Prefix.ACTIVITY)
    )
    return json_response(render.activity(call.base, activity))


@endpoint
async def update_activity(call: Call) -> Response:
    activity = await call.service.activities.update(
        call.account_sid,
        workspace_sid(call),
        call.path_sid("Sid", Prefix.ACTIVITY),
        call.form.str("FriendlyName"),
    )
    return json_response(render.activity(call.base, activity))


@endpoint
async def delete_activity(call: Call) -> Response:
    await call.service.activities.delete(
        call.account_sid, workspace_sid(call), call.path_sid("Sid", Prefix.ACTIVITY)
    )
    return Response(status_code=204)


# Task channels: `{Sid}` may also be the channel's unique name.


@endpoint
async def list_task_channels(call: Call) -> Response:
    items = call.service.task_channels.list(call.account_sid, workspace_sid(call))
    return json_response(
        page(
            items,
            key="channels",
            query=call.query,
            url=call.url,
            render=lambda c: render.task_channel(call.base, c),
            position=_position,
        )
    )


@endpoint
async def create_task_channel(call: Call) -> Response:
    f = call.form
    channel: TaskChannel = await call.service.task_channels.create(
        call.account_sid,
        workspace_sid(call),
        f.required("FriendlyName"),
        f.required("UniqueName"),
        f.bool("ChannelOptimizedRouting"),
    )
    return json_response(render.task_channel(call.base, channel), 201)


@endpoint
async def fetch_task_channel(call: Call) -> Response:
    channel = call.service.task_channels.fetch(
        call.account_sid, workspace_sid(call), call.path("Sid")
    )
    return json_response(render.task_channel(call.base, channel))


@endpoint
async def update_task_channel(call: Call) -> Response:
    channel = await call.service.task_channels.update(
        call.account_sid,
        workspace_sid(call),
        call.path("Sid"),
        call.form.str("FriendlyName"),
        call.form.bool("ChannelOptimizedRouting"),
    )
    return json_response(render.task_channel(call.base, channel))


@endpoint
async def delete_task_channel(call: Call) -> Response:
    await call.service.task_channels.delete(call.account_sid, workspace_sid(call), call.path("Sid"))
    return Response(status_code=204)
