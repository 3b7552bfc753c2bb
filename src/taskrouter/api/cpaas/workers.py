"""/taskrouter/workers: create, search, fetch, update, delete."""

from __future__ import annotations

import orjson
from starlette.responses import Response

from taskrouter.api.cpaas import render
from taskrouter.api.cpaas import search as searching
from taskrouter.api.cpaas.call import Call, endpoint
from taskrouter.api.cpaas.errors import (
    ATTRIBUTES_INVALID,
    CONTACT_URI_MISSING,
    Kind,
    Subject,
    seed_fault,
)
from taskrouter.api.cpaas.wire import ok, query_bool
from taskrouter.domain.entities import Worker
from taskrouter.engine.state import WorkspaceState
from taskrouter.service import search
from taskrouter.service.workers import WorkerFields, WorkerFilter

KEYS = searching.entity_keys()


def show(call: Call, state: WorkspaceState, worker: Worker) -> Response:
    return ok(render.worker(call.view, state, worker))


def _attributes(call: Call, required: bool) -> str | None:
    """The dialect's rule: attributes are a JSON object naming the worker's `contact_uri`."""
    text = call.body.json_text("attributes")
    if text is None and not required:
        return None
    if text is None or not text.strip():
        raise seed_fault(ATTRIBUTES_INVALID, text)
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise seed_fault(ATTRIBUTES_INVALID, text) from None
    if not isinstance(value, dict) or not value:
        raise seed_fault(ATTRIBUTES_INVALID, text)
    if value.get("contact_uri") in (None, ""):
        raise seed_fault(CONTACT_URI_MISSING, text)
    return text


def _fields(call: Call, subject: Subject, *, creating: bool) -> WorkerFields:
    activity_sid = call.body.text("activitySid")
    if activity_sid is not None:
        subject.refs["ActivitySid"] = (Kind.ACTIVITY, activity_sid)
    return WorkerFields(
        friendly_name=subject.name,
        activity_sid=activity_sid,
        attributes=_attributes(call, creating),
    )


@endpoint
async def create_worker(call: Call) -> Response:
    state = call.workspace(call.body.required("workspaceSid"))
    subject = call.about(Kind.WORKER, name=call.body.required("name"))
    fields = _fields(call, subject, creating=True)
    worker = await call.service.workers.create(call.account_sid, state.sid, fields)
    return show(call, state, worker)


@endpoint
async def search_workers(call: Call) -> Response:
    want = searching.criteria(call, "workers")
    where = WorkerFilter(
        activity_sid=call.query("activitySid"),
        available=query_bool("available", call.query("available")),
        target_workers_expression=call.query("targetWorkerExpression"),
        task_queue_sid=call.query("taskQueueSid"),
        task_queue_name=call.query("taskQueueName"),
    )
    activity_name = call.query("activityName")
    v = call.view
    found: list[tuple[WorkspaceState, Worker]] = []
    for state in call.searched_workspaces():
        for w in call.service.workers.list(call.account_sid, state.sid, where):
            if not want.keeps(w.date_created, w.friendly_name):
                continue
            current = state.activities[w.activity_sid].friendly_name
            if activity_name is None or search.contains(current, activity_name):
                found.append((state, w))
    return ok(searching.result(call, "workers", found, lambda i: render.worker(v, *i), want, KEYS))


@endpoint
async def fetch_worker(call: Call) -> Response:
    sid = call.path_sid()
    state = call.holder(Kind.WORKER, sid)
    return show(call, state, call.service.workers.fetch(call.account_sid, state.sid, sid))


@endpoint
async def update_worker(call: Call) -> Response:
    sid = call.path_sid()
    state = call.holder(Kind.WORKER, sid)
    subject = call.about(Kind.WORKER, sid, call.body.text("name"))
    fields = _fields(call, subject, creating=False)
    worker = await call.service.workers.update(call.account_sid, state.sid, sid, fields)
    return show(call, state, worker)


@endpoint
async def delete_worker(call: Call) -> Response:
    sid = call.path_sid()
    state = call.holder(Kind.WORKER, sid)
    call.about(Kind.WORKER, sid)
    shown = render.worker(
        call.view, state, call.service.workers.fetch(call.account_sid, state.sid, sid)
    )
    await call.service.workers.delete(call.account_sid, state.sid, sid)
    return ok(shown)
