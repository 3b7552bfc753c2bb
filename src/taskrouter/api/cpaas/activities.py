"""/taskrouter/activities: create, search, fetch, update, delete."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from taskrouter.api.cpaas import render
from taskrouter.api.cpaas import search as searching
from taskrouter.api.cpaas.call import Call, endpoint
from taskrouter.api.cpaas.errors import Kind, bad_request
from taskrouter.api.cpaas.wire import ok, query_bool
from taskrouter.domain.entities import Activity
from taskrouter.engine.state import WorkspaceState

KEYS = searching.entity_keys()


def show(call: Call, state: WorkspaceState, activity: Activity) -> Response:
    return ok(render.activity(call.view, state, activity))


@endpoint
async def create_activity(call: Call) -> Response:
    state = call.workspace(call.body.required("workspaceSid"))
    name = call.body.required("name")
    available = call.body.flag("available")
    if available is None:
        raise bad_request("available is mandatory: true or false", "available")
    call.about(Kind.ACTIVITY, name=name)
    activity = await call.service.activities.create(
        call.account_sid, state.sid, name, available, unique_name=True
    )
    return show(call, state, activity)


@endpoint
async def search_activities(call: Call) -> Response:
    want = searching.criteria(call, "activities")
    available = query_bool("available", call.query("available"))
    v = call.view
    found: list[tuple[WorkspaceState, Any]] = []
    for state in call.searched_workspaces():
        found.extend(
            (state, a)
            for a in call.service.activities.list(call.account_sid, state.sid, None, available)
            if want.keeps(a.date_created, a.friendly_name)
        )
    return ok(
        searching.result(call, "activities", found, lambda i: render.activity(v, *i), want, KEYS)
    )


@endpoint
async def fetch_activity(call: Call) -> Response:
    sid = call.path_sid()
    state = call.holder(Kind.ACTIVITY, sid)
    return show(call, state, call.service.activities.fetch(call.account_sid, state.sid, sid))


@endpoint
async def update_activity(call: Call) -> Response:
    sid = call.path_sid()
    state = call.holder(Kind.ACTIVITY, sid)
    activity = call.service.activities.fetch(call.account_sid, state.sid, sid)
    available = call.body.flag("available")
    if available is not None and available != activity.available:
        # Workers' eligibility hangs on it; as in Twilio, it is fixed when created.
        raise bad_request(
            "available cannot be changed on an existing Activity; create another one",
            "available",
        )
    name = call.body.text("name")
    call.about(Kind.ACTIVITY, sid, name)
    activity = await call.service.activities.update(
        call.account_sid, state.sid, sid, name, unique_name=True
    )
    return show(call, state, activity)


@endpoint
async def delete_activity(call: Call) -> Response:
    sid = call.path_sid()
    state = call.holder(Kind.ACTIVITY, sid)
    call.about(Kind.ACTIVITY, sid)
    activity = call.service.activities.fetch(call.account_sid, state.sid, sid)
    shown = render.activity(call.view, state, activity)
    await call.service.activities.delete(call.account_sid, state.sid, sid)
    return ok(shown)
