"""The company's queues and workers with their figures, its settings, and its task-type
availability."""

from __future__ import annotations

from starlette.responses import Response

from taskrouter.api.crm import render
from taskrouter.api.crm.call import Call, answer, endpoint
from taskrouter.api.twilio.wire import json_response
from taskrouter.domain.errors import Invalid
from taskrouter.engine.state import WorkspaceState
from taskrouter.service.companies import CompanySettings
from taskrouter.service.task_type_availability import PARAM

# The seed: every worker up to this many, in one answer without paging.
MAX_WORKERS = 10_000


@endpoint
async def list_queues(call: Call) -> Response:
    state = call.company()
    figures = await call.service.figures.queues(state)
    # A bare array, as the seed's sample shows for this path.
    return json_response([render.queue(q, figures[q.sid]) for q in state.queues.values()])


@endpoint
async def list_workers(call: Call) -> Response:
    state = call.company()
    include = call.query.include(("statsToday",))
    workers = list(state.workers.values())[:MAX_WORKERS]
    data = [render.worker(state, w) for w in workers]
    if "statsToday" in include:
        days = await call.service.figures.workers_today(state)
        since = call.service.figures.today_starts(state)
        for out, w in zip(data, workers, strict=True):
            out["statsToday"] = render.stats_today(state, days[w.sid], since)
    return json_response({"data": data})


def _settings(state: WorkspaceState) -> dict[str, str | None]:
    ws = state.workspace
    return {"workspaceSid": ws.sid, "companyId": ws.company_id, "timeZone": ws.time_zone}


@endpoint
async def fetch_settings(call: Call) -> Response:
    return answer(_settings(call.company()))


@endpoint
async def update_settings(call: Call) -> Response:
    body = await call.json()
    company_id, time_zone = body.get("companyId"), body.get("timeZone")
    for name, value in (("companyId", company_id), ("timeZone", time_zone)):
        if value is not None and not isinstance(value, str):
            raise Invalid(f"{name} must be a string", param=name)
    state = await call.service.companies.update(
        call.account_sid, call.path("companyId"), CompanySettings(company_id, time_zone)
    )
    return answer(_settings(state))


def _availability_company(call: Call) -> WorkspaceState:
    company_id = call.query.str("companyId")
    if company_id:
        return call.service.companies.workspace(call.account_sid, company_id)
    return call.service.companies.only_workspace(call.account_sid)


@endpoint
async def fetch_availability(call: Call) -> Response:
    state = _availability_company(call)
    return answer({PARAM: call.service.task_type_availability.get(state)})


@endpoint
async def update_availability(call: Call) -> Response:
    state = _availability_company(call)
    body = await call.json()
    if PARAM not in body:
        raise Invalid(f"{PARAM} is required", param=PARAM)
    config = await call.service.task_type_availability.replace(state, body[PARAM])
    return answer({PARAM: config})
