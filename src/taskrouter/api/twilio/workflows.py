"""/v1/Workspaces/{WorkspaceSid}/Workflows."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from taskrouter.api.twilio import render
from taskrouter.api.twilio.call import Call, endpoint
from taskrouter.api.twilio.wire import json_response, page
from taskrouter.api.twilio.workspaces import workspace_sid
from taskrouter.domain.sids import Prefix
from taskrouter.service.workflows import WorkflowFields


def _position(item: Any) -> tuple[int, str]:
    return item.date_created, item.sid


def _fields(call: Call) -> WorkflowFields:
    f = call.form
    return WorkflowFields(
        friendly_name=f.str("FriendlyName"),
        configuration=f.str("Configuration"),
        assignment_callback_url=f.str("AssignmentCallbackUrl"),
        fallback_assignment_callback_url=f.str("FallbackAssignmentCallbackUrl"),
        task_reservation_timeout=f.int("TaskReservationTimeout"),
        re_evaluate_tasks=f.bool("ReEvaluateTasks"),
    )


@endpoint
async def list_workflows(call: Call) -> Response:
    items = call.service.workflows.list(
        call.account_sid, workspace_sid(call), call.query.str("FriendlyName")
    )
    return json_response(
        page(
            items,
            key="workflows",
            query=call.query,
            url=call.url,
            render=lambda w: render.workflow(call.base, w),
            position=_position,
        )
    )


@endpoint
async def create_workflow(call: Call) -> Response:
    fields = _fields(call)
    fields.friendly_name = call.form.required("FriendlyName")
    fields.configuration = call.form.required("Configuration")
    workflow = await call.service.workflows.create(call.account_sid, workspace_sid(call), fields)
    return json_response(render.workflow(call.base, workflow), 201)


@endpoint
async def fetch_workflow(call: Call) -> Response:
    workflow = call.service.workflows.fetch(
        call.account_sid, workspace_sid(call), call.path_sid("Sid", Prefix.WORKFLOW)
    )
    return json_response(render.workflow(call.base, workflow))


@endpoint
async def update_workflow(call: Call) -> Response:
    workflow = await call.service.workflows.update(
        call.account_sid, workspace_sid(call), call.path_sid("Sid", Prefix.WORKFLOW), _fields(call)
    )
    return json_response(render.workflow(call.base, workflow))


@endpoint
async def delete_workflow(call: Call) -> Response:
    await call.service.workflows.delete(
        call.account_sid, workspace_sid(call), call.path_sid("Sid", Prefix.WORKFLOW)
    )
    return Response(status_code=204)
