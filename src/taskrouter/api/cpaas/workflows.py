"""/taskrouter/workflows: create, search, fetch, update, delete."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from taskrouter.api.cpaas import render
from taskrouter.api.cpaas import search as searching
from taskrouter.api.cpaas.call import Call, endpoint
from taskrouter.api.cpaas.errors import Kind
from taskrouter.api.cpaas.wire import ok
from taskrouter.domain.entities import Workflow
from taskrouter.engine.state import WorkspaceState
from taskrouter.service.workflows import WorkflowFields

# The document spells it both ways.
RESERVATION_TIMEOUT_KEYS = ("taskReservationTimeout", "taskReservationnTimeout")


KEYS = searching.entity_keys()


def show(call: Call, state: WorkspaceState, workflow: Workflow) -> Response:
    return ok(render.workflow(call.view, state, workflow))


def _fields(call: Call, name: str | None) -> WorkflowFields:
    b = call.body
    return WorkflowFields(
        friendly_name=name,
        configuration=b.json_text("configuration"),
        assignment_callback_url=b.text("assignmentCallbackUrl"),
        fallback_assignment_callback_url=b.text("fallbackAssignmentCallbackUrl"),
        task_reservation_timeout=b.number(*RESERVATION_TIMEOUT_KEYS),
        unique_name=True,
    )


@endpoint
async def create_workflow(call: Call) -> Response:
    state = call.workspace(call.body.required("workspaceSid"))
    name = call.body.required("name")
    fields = _fields(call, name)
    if fields.configuration is None:
        call.body.required("configuration")
    call.about(Kind.WORKFLOW, name=name)
    workflow = await call.service.workflows.create(call.account_sid, state.sid, fields)
    return show(call, state, workflow)


@endpoint
async def search_workflows(call: Call) -> Response:
    want = searching.criteria(call, "workflows")
    v = call.view
    found: list[tuple[WorkspaceState, Any]] = []
    for state in call.searched_workspaces():
        found.extend(
            (state, w)
            for w in call.service.workflows.list(call.account_sid, state.sid)
            if want.keeps(w.date_created, w.friendly_name)
        )
    return ok(
        searching.result(call, "workflows", found, lambda i: render.workflow(v, *i), want, KEYS)
    )


@endpoint
async def fetch_workflow(call: Call) -> Response:
    sid = call.path_sid()
    state = call.holder(Kind.WORKFLOW, sid)
    return show(call, state, call.service.workflows.fetch(call.account_sid, state.sid, sid))


@endpoint
async def update_workflow(call: Call) -> Response:
    sid = call.path_sid()
    state = call.holder(Kind.WORKFLOW, sid)
    name = call.body.text("name")
    call.about(Kind.WORKFLOW, sid, name)
    workflow = await call.service.workflows.update(
        call.account_sid, state.sid, sid, _fields(call, name)
    )
    return show(call, state, workflow)


@endpoint
async def delete_workflow(call: Call) -> Response:
    sid = call.path_sid()
    state = call.holder(Kind.WORKFLOW, sid)
    call.about(Kind.WORKFLOW, sid)
    shown = render.workflow(
        call.view, state, call.service.workflows.fetch(call.account_sid, state.sid, sid)
    )
    await call.service.workflows.delete(call.account_sid, state.sid, sid)
    return ok(shown)
