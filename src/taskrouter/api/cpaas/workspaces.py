"""/taskrouter/workspaces: create, search, fetch, update, delete."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from starlette.responses import Response

from taskrouter.api.cpaas import render
from taskrouter.api.cpaas import search as searching
from taskrouter.api.cpaas.call import Call, endpoint
from taskrouter.api.cpaas.errors import Kind, bad_request, not_found
from taskrouter.api.cpaas.wire import ok
from taskrouter.engine.state import WorkspaceState
from taskrouter.service.workspaces import WorkspaceChanges

# What the document says every new workspace gets: Offline (unavailable) and Online
# (available). Offline, first, is the default and the timeout activity.
CPAAS_ACTIVITIES = (("Offline", False), ("Online", True))
_ENTERPRISE = re.compile(r"^EN[0-9a-fA-F]{32}$")
QUEUE_ORDER_KEYS = ("priortizeQueueOrder", "prioritizeQueueOrder")


def show(call: Call, state: WorkspaceState) -> Response:
    return ok(render.workspace(call.view, state))


@endpoint
async def create_workspace(call: Call) -> Response:
    b = call.body
    enterprise = b.required("enterpriseSid")
    if not _ENTERPRISE.match(enterprise):
        raise bad_request(
            f"enterpriseSid must be EN followed by 32 hex digits, got {enterprise!r}", enterprise
        )
    name = b.required("name")
    call.about(Kind.WORKSPACE, name=name)
    multi_task = b.flag("multiTaskEnabled")
    state = await call.service.workspaces.create(
        call.account_sid,
        name,
        enterprise_sid=enterprise,
        prioritize_queue_order=b.text(*QUEUE_ORDER_KEYS),
        multi_task_enabled=bool(multi_task),
        unique_name=True,
        activities=CPAAS_ACTIVITIES,
    )
    return show(call, state)


KEYS: dict[str, Callable[[WorkspaceState], Any]] = {
    "sid": lambda s: s.workspace.sid,
    "name": lambda s: s.workspace.friendly_name,
    "dateCreated": lambda s: s.workspace.date_created // 1000,
    "dateUpdated": lambda s: s.workspace.date_updated // 1000,
    "enterpriseSid": lambda s: s.workspace.enterprise_sid,
}


@endpoint
async def search_workspaces(call: Call) -> Response:
    want = searching.criteria(call, "workspaces")
    found = [
        call.service.workspaces.fetch(call.account_sid, ws.sid)
        for ws in call.service.workspaces.list(call.account_sid)
        if want.keeps(ws.date_created, ws.friendly_name)
    ]
    v = call.view
    return ok(
        searching.result(call, "workspaces", found, lambda s: render.workspace(v, s), want, KEYS)
    )


@endpoint
async def fetch_workspace(call: Call) -> Response:
    return show(call, call.workspace(call.path_sid()))


def _activity_sid(call: Call, state: WorkspaceState, sid_key: str, name_key: str) -> str | None:
    """The SID wins when both are given; a name must name an activity of the workspace."""
    sid = call.body.text(sid_key)
    if sid is not None:
        return sid
    name = call.body.text(name_key)
    if name is None:
        return None
    for activity in state.activities.values():
        if activity.friendly_name == name:
            return activity.sid
    raise not_found(Kind.ACTIVITY, name)


@endpoint
async def update_workspace(call: Call) -> Response:
    state = call.workspace(call.path_sid())
    b = call.body
    name = b.text("name")
    subject = call.about(Kind.WORKSPACE, state.sid, name)
    default = _activity_sid(call, state, "defaultActivitySid", "defaultActivityName")
    timeout = _activity_sid(call, state, "timeoutActivitySid", "timeoutActivityName")
    if default is not None:
        subject.refs["DefaultActivitySid"] = (Kind.ACTIVITY, default)
    if timeout is not None:
        subject.refs["TimeoutActivitySid"] = (Kind.ACTIVITY, timeout)
    changes = WorkspaceChanges(
        friendly_name=name,
        multi_task_enabled=b.flag("multiTaskEnabled"),
        prioritize_queue_order=b.text(*QUEUE_ORDER_KEYS),
        default_activity_sid=default,
        timeout_activity_sid=timeout,
        unique_name=True,
    )
    return show(call, await call.service.workspaces.update(call.account_sid, state.sid, changes))


@endpoint
async def delete_workspace(call: Call) -> Response:
    state = call.workspace(call.path_sid())
    call.about(Kind.WORKSPACE, state.sid)
    shown = render.workspace(call.view, state)
    await call.service.workspaces.delete(call.account_sid, state.sid)
    return ok(shown)
