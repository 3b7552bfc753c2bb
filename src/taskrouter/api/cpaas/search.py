"""The search endpoints' shared rules: paging from page 0, `SortBy=<field>:<asc|desc>`,
creation-time windows, partial names, and the `result`/`total`/... page envelope."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlencode

from taskrouter.api.cpaas.call import Call
from taskrouter.api.cpaas.errors import bad_request
from taskrouter.api.cpaas.wire import query_time
from taskrouter.domain.request_limits import REQUEST_LIMITS
from taskrouter.engine.state import WorkspaceState
from taskrouter.service import search

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 10
# Keeps `start` (page × pageSize) an integer every JSON reader holds exactly (under 2^53).
MAX_PAGE = 1_000_000_000
# The examples list the most recently changed first; SortBy overrides it.
DEFAULT_SORT = ("dateUpdated", True)
PAGING = ("page", "pageSize")

_COMMON = ("sid", "dateCreated", "dateUpdated", "accountEmail", "uri", "url")
SORTABLE: dict[str, frozenset[str]] = {
    "workspaces": frozenset(
        (
            *_COMMON,
            "enterpriseSid",
            "name",
            "defaultActivitySid",
            "defaultActivityName",
            "timeoutActivitySid",
            "timeoutActivityName",
            "multiTaskEnabled",
            "priortizeQueueOrder",
            "prioritizeQueueOrder",
        )
    ),
    "taskqueues": frozenset(
        (
            *_COMMON,
            "enterpriseSid",
            "workspaceSid",
            "name",
            "assignmentActivitySid",
            "reservationActivitySid",
            "targetWorkers",
            "taskOrder",
            "maxReservedWorkers",
        )
    ),
    "workers": frozenset(
        (
            *_COMMON,
            "enterpriseSid",
            "workspaceSid",
            "name",
            "activitySid",
            "activityName",
            "attributes",
            "available",
        )
    ),
    "activities": frozenset((*_COMMON, "enterpriseSid", "workspaceSid", "name", "available")),
    "workflows": frozenset(
        (
            *_COMMON,
            "enterpriseSid",
            "workspaceSid",
            "name",
            "configuration",
            "assignmentCallbackUrl",
            "fallbackAssignmentCallbackUrl",
            "taskReservationTimeout",
        )
    ),
    "tasks": frozenset(
        (
            *_COMMON,
            "enterpriseSid",
            "organizationSid",
            "workspaceSid",
            "workflowSid",
            "workflowFriendlyName",
            "taskQueueSid",
            "taskQueueFriendlyName",
            "taskQueueEnteredDate",
            "workerSid",
            "timeout",
            "priority",
            "taskChannel",
            "assignmentState",
            "assignmentStatus",
            "age",
            "attributes",
            "reason",
            "callerId",
            "bypassReservedState",
        )
    ),
}


@dataclass(frozen=True, slots=True)
class Criteria:
    """The query parameters every search shares."""

    page: int
    size: int
    sort_field: str
    descending: bool
    start_ms: int | None
    end_ms: int | None
    name: str | None

    def keeps(self, created_ms: int, name: str | None = None) -> bool:
        """Created within [startTime, endTime] and, when `name` was asked, matching it."""
        if not search.within(created_ms, self.start_ms, self.end_ms):
            return False
        return self.name is None or search.contains(name, self.name)


def criteria(call: Call, collection: str) -> Criteria:
    page = _non_negative(call, "page", 0)
    if page > MAX_PAGE:
        raise bad_request(f"page must be at most {MAX_PAGE:,}, got {page}", "page")
    size = _non_negative(call, "pageSize", REQUEST_LIMITS.page_size(DEFAULT_PAGE_SIZE))
    largest = REQUEST_LIMITS.max_page_size
    if not 1 <= size <= largest:
        raise bad_request(f"pageSize must be between 1 and {largest}, got {size}", size)
    field, descending = DEFAULT_SORT
    sort_by = call.query("SortBy")
    if sort_by is not None:
        field, _, direction = sort_by.partition(":")
        field = field.strip()
        direction = direction.strip().lower() or "asc"
        if direction not in ("asc", "desc"):
            raise bad_request(f"SortBy direction must be asc or desc, got {direction!r}", "SortBy")
        if field not in SORTABLE[collection]:
            allowed = ", ".join(sorted(SORTABLE[collection]))
            raise bad_request(
                f"SortBy cannot sort {collection} by {field!r}; it can sort by {allowed}",
                "SortBy",
            )
        descending = direction == "desc"
    start_ms = query_time("startTime", call.query("startTime"))
    end_ms = query_time("endTime", call.query("endTime"))
    name = call.query("name")
    return Criteria(page, size, field, descending, start_ms, end_ms, name or None)


def _non_negative(call: Call, name: str, default: int) -> int:
    value = call.query(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise bad_request(f"{name} must be a whole number, got {value!r}", name) from None
    if number < 0:
        raise bad_request(f"{name} must not be negative, got {number}", name)
    return number


def result(
    call: Call,
    collection: str,
    found: Sequence[T],
    render: Callable[[T], dict[str, Any]],
    want: Criteria,
    keys: Mapping[str, Callable[[T], Any]],
) -> dict[str, Any]:
    """The page `want` asks for of `found`, in the search envelope.

    `keys` give the sort value of a field straight from an item, so only the page shown is
    rendered; fields without one are sorted on the rendered records. `keys["sid"]` is needed.
    """
    field = want.sort_field
    if field in keys:
        items = search.ordered(found, keys[field], keys["sid"], descending=want.descending)
        page = search.Page(want.page, want.size, len(items))
        shown = [render(item) for item in page.slice(items)]
    else:
        records = search.ordered(
            [render(item) for item in found],
            lambda r: r.get(field),
            lambda r: str(r["sid"]),
            descending=want.descending,
        )
        page = search.Page(want.page, want.size, len(records))
        shown = page.slice(records)
    path = f"/taskrouter/{collection}/search/"
    filters = [(k, v) for k, v in call.request.query_params.multi_items() if k not in PAGING]

    def link(number: int) -> str:
        params = [*filters, ("pageSize", str(want.size)), ("page", str(number))]
        return f"{path}?{urlencode(params)}"

    data: dict[str, Any] = {
        "result": shown,
        "pageSize": want.size,
        "total": page.total,
        "page": want.page,
        "numPages": page.pages,
        "start": page.start,
        "end": page.start + max(len(shown) - 1, 0),
        "firstPageUri": link(0),
        "uri": link(want.page),
    }
    if page.has_next:
        data["nextPageUri"] = link(want.page + 1)
    return data


def entity_keys() -> dict[str, Callable[[tuple[WorkspaceState, Any]], Any]]:
    """Sort values of the fields every configuration object has, for (workspace, object)
    items. Dates compare by the whole second they are printed with."""
    return {
        "sid": lambda item: item[1].sid,
        "name": lambda item: item[1].friendly_name,
        "dateCreated": lambda item: item[1].date_created // 1000,
        "dateUpdated": lambda item: item[1].date_updated // 1000,
        "workspaceSid": lambda item: item[0].sid,
    }
