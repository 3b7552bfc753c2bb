"""/companies/{companyId}/twilio-unterminated-tasks: live tasks, filtered, sorted, paged,
deleted (one or many) and abandoned."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import orjson
from starlette.responses import Response

from taskrouter.api.crm import render
from taskrouter.api.crm.call import Call, answer, endpoint
from taskrouter.api.crm.paging import links, slice_sorted
from taskrouter.api.twilio.wire import json_response
from taskrouter.domain.entities import Task
from taskrouter.domain.errors import Invalid
from taskrouter.domain.sids import Prefix, require_sid
from taskrouter.engine.state import WorkspaceState
from taskrouter.service.live_tasks import LiveTaskFilter

# sortBy name -> the task's value it orders by
SORT_FIELDS: dict[str, Callable[[WorkspaceState, Task], Any]] = {
    "dateCreated": lambda s, t: t.date_created,
    "dateUpdated": lambda s, t: t.date_updated,
    "age": lambda s, t: -t.date_created,
    "priority": lambda s, t: t.priority,
    "virtualStartTime": lambda s, t: t.virtual_start_time,
    "timeout": lambda s, t: t.timeout,
    "assignmentStatus": lambda s, t: t.assignment_status,
    "taskQueueSid": lambda s, t: t.task_queue_sid,
    "taskQueueFriendlyName": lambda s, t: (
        q.friendly_name if (q := s.queues.get(t.task_queue_sid or "")) else None
    ),
    "taskChannelUniqueName": lambda s, t: (
        c.unique_name if (c := s.channels.get(t.task_channel_sid)) else None
    ),
    "workflowSid": lambda s, t: t.workflow_sid,
    "sid": lambda s, t: t.sid,
}
ATTRIBUTE_PREFIX = "attributes."


@functools.total_ordering
class _Descending:
    """Reverses the order of what it wraps."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Descending) and self.value == other.value

    def __lt__(self, other: _Descending) -> bool:
        return bool(other.value < self.value)

    def __hash__(self) -> int:
        return hash(self.value)


def _comparable(value: Any) -> tuple[int, Any]:
    """Any JSON value as a (rank, value) pair that compares across types: missing first,
    then numbers (and booleans), then strings, then anything else by its JSON text."""
    kind = type(value)
    if kind is int or kind is float or kind is bool:
        return (1, value)
    if kind is str:
        return (2, value)
    if value is None:
        return (0, 0)
    return (3, orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode())


def _field_key(
    state: WorkspaceState, read: Callable[[WorkspaceState, Task], Any], descending: bool
) -> Callable[[Task], Any]:
    if descending:
        return lambda task: _reversed(_comparable(read(state, task)))
    return lambda task: _comparable(read(state, task))


def _reversed(pair: tuple[int, Any]) -> tuple[int, Any]:
    """The pair's order turned around; numbers are negated, so only text pays for a
    Python-level comparison."""
    rank, value = pair
    if rank == 1:
        return (-1, -value)
    if rank == 0:
        return (0, 0)
    return (-rank, _Descending(value))


def _attribute(path: str) -> Callable[[WorkspaceState, Task], Any]:
    parts = path.split(".")

    def read(_state: WorkspaceState, task: Task) -> Any:
        value: Any = task.parsed_attributes
        for part in parts:
            value = value.get(part) if isinstance(value, dict) else None
        return value

    return read


def _sorting(names: list[str]) -> list[tuple[Callable[[WorkspaceState, Task], Any], bool]]:
    """`field`, `-field` or `field:desc`/`field:asc`; `attributes.<path>` for an attribute."""
    out: list[tuple[Callable[[WorkspaceState, Task], Any], bool]] = []
    for raw in names or ["dateCreated"]:
        name, descending = raw, False
        if name.startswith("-"):
            name, descending = name[1:], True
        elif ":" in name:
            name, _, direction = name.partition(":")
            if direction.lower() not in ("asc", "desc"):
                raise Invalid(f"sortBy direction must be asc or desc, got {raw!r}", param="sortBy")
            descending = direction.lower() == "desc"
        if name.startswith(ATTRIBUTE_PREFIX) and len(name) > len(ATTRIBUTE_PREFIX):
            out.append((_attribute(name[len(ATTRIBUTE_PREFIX) :]), descending))
        elif name in SORT_FIELDS:
            out.append((SORT_FIELDS[name], descending))
        else:
            raise Invalid(
                f"sortBy {raw!r}: sort by {', '.join(SORT_FIELDS)} or attributes.<name>",
                param="sortBy",
            )
    return out


def _filter(call: Call) -> LiveTaskFilter:
    q = call.query
    queue_sid = q.str("taskQueueSid")
    return LiveTaskFilter(
        task_queue_sid=None
        if queue_sid is None
        else require_sid(queue_sid, Prefix.TASK_QUEUE, "taskQueueSid"),
        assignment_status=q.list("assignmentStatus"),
        task_type=q.list("taskType"),
        case_type=q.list("caseType"),
        case_id=q.list("caseId"),
        supercase_id=q.list("supercaseId"),
        interaction_id=q.list("interactionId"),
        unable_to_complete=q.bool("unableToComplete"),
        expression=q.str("taskAttrMatchExpr"),
        has_case=q.bool("hasCase"),
        has_case_owner=q.bool("hasCaseOwner"),
    )


def _render(call: Call, state: WorkspaceState, task: Task, include: set[str]) -> dict[str, Any]:
    out = render.task(state, task, call.service.runtime.clock.now_ms())
    if "reservation" in include:
        current = call.service.live_tasks.reservation_of(state, task)
        out["reservation"] = None if current is None else render.reservation(state, current)
    return out


@endpoint
async def list_tasks(call: Call) -> Response:
    state = call.company()
    include = call.query.include(("reservation",))
    sorting = _sorting(call.query.list("sortBy"))
    tasks = call.service.live_tasks.list(state, _filter(call))

    readers = [read for read, _ in sorting]
    descending = [desc for _, desc in sorting]
    fields = [_field_key(state, read, desc) for read, desc in sorting]
    if len(fields) == 1:
        only = fields[0]

        def key(task: Task) -> tuple[Any, ...]:
            return (only(task), task.sid)
    else:

        def key(task: Task) -> tuple[Any, ...]:
            return (*[field(task) for field in fields], task.sid)

    def position(task: Task) -> list[Any]:
        return [*(list(_comparable(read(state, task))) for read in readers), task.sid]

    def key_of(position: list[Any]) -> tuple[Any, ...]:
        if len(position) != len(sorting) + 1 or not isinstance(position[-1], str):
            raise ValueError("token of another sorting")
        parts: list[Any] = []
        for desc, pair in zip(descending, position, strict=False):
            if not isinstance(pair, list) or len(pair) != 2:
                raise ValueError("malformed token")
            rank, value = pair
            parts.append(_reversed((rank, value)) if desc else (rank, value))
        return (*parts, position[-1])

    found = slice_sorted(tasks, key, position, key_of, call.query)
    return json_response(
        {
            "data": [_render(call, state, t, include) for t in found.items],
            **links(call.url, call.query, found.previous_before, found.next_after),
        }
    )


@endpoint
async def fetch_task(call: Call) -> Response:
    state = call.company()
    include = call.query.include(("reservation",))
    task = call.service.live_tasks.fetch(state, call.path("taskSid"))
    return json_response({"data": _render(call, state, task, include)})


@endpoint
async def delete_task(call: Call) -> Response:
    state = call.company()
    sid = call.path("taskSid")
    await call.service.live_tasks.delete(state, sid)
    return answer(message=f"Task {sid} deleted")


@endpoint
async def bulk_delete(call: Call) -> Response:
    state = call.company()
    body = await call.json()
    sids = body.get("taskSids")
    if not isinstance(sids, list) or not all(isinstance(s, str) for s in sids):
        raise Invalid("taskSids must be a list of task SIDs", param="taskSids")
    results = await call.service.live_tasks.bulk_delete(state, sids)
    deleted = sum(1 for r in results if r.outcome == "deleted")
    return answer(
        {"results": [{"sid": r.sid, "result": r.outcome} for r in results]},
        f"Deleted {deleted} of {len(results)} tasks",
    )


@endpoint
async def abandon_task(call: Call) -> Response:
    state = call.company()
    sid = call.path("taskSid")
    copy = await call.service.live_tasks.abandon(state, sid)
    now = call.service.runtime.clock.now_ms()
    return answer(render.task(state, copy, now), f"Task {sid} abandoned; {copy.sid} replaces it")
