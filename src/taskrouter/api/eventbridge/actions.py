"""The action endpoint: POST /v1/wschannels with `{url, method, params, token}` as JSON.

The body is JSON whatever its Content-Type says (2.x labels it a form, 3.x text/plain).
`url` is a TaskRouter path without `/v1` (`Workspaces/WS…/Workers/WK…`); `params` hold
native JSON values, `Attributes` an object. Each action runs on the same service as the REST
faces, through the Twilio face's own parameter parsing; answers are `{"payload": …}` and lists
`{"payload": {"contents": […], "after_sid": …}}`; errors are the Twilio error body, which
carries the `message` the SDK shows.

A worker token reaches its own worker, its reservations, the tasks it holds, and its
workspace's activities and task channels. Anything else is 403.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from taskrouter.api.eventbridge import shapes
from taskrouter.api.twilio import tasks as twilio_tasks
from taskrouter.api.twilio.wire import (
    Params,
    error_response,
    json_response,
    server_error_response,
)
from taskrouter.api.twilio.workers import worker_fields
from taskrouter.auth.access_tokens import TaskRouterGrant
from taskrouter.domain import errors
from taskrouter.domain.entities import Reservation
from taskrouter.domain.request_limits import REQUEST_LIMITS
from taskrouter.domain.sids import Prefix
from taskrouter.engine.state import WorkspaceState
from taskrouter.service.service import Service

log = logging.getLogger("taskrouter.api.eventbridge")

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "POST, OPTIONS",
    "Access-Control-Allow-Headers": "apiVersion, clientVersion, If-Match, Content-Type",
    "Access-Control-Max-Age": "86400",
}
# A reservation in one of these lets its worker read and change the task.
HOLDING = frozenset(("pending", "accepted", "wrapping"))
# ... and in one of these, read it (a finished task stays readable for a while).
HELD = HOLDING | {"completed"}


@dataclass(slots=True)
class Action:
    service: Service
    grant: TaskRouterGrant
    state: WorkspaceState
    params: Params
    values: dict[str, str]
    if_match: str | None

    @property
    def account(self) -> str:
        return self.grant.account_sid

    @property
    def workspace(self) -> str:
        return self.grant.workspace_sid

    def now_ms(self) -> int:
        return self.service.runtime.clock.now_ms()

    def own_worker(self) -> str:
        sid = self.values["worker"]
        if sid != self.grant.worker_sid:
            raise errors.Forbidden(f"This token acts for worker {self.grant.worker_sid}, not {sid}")
        return sid

    def own_reservation(self) -> Reservation:
        worker_sid = self.own_worker()
        sid = self.values["reservation"]
        reservation = self.state.engine.reservations.get(sid)
        if reservation is not None and reservation.worker_sid != worker_sid:
            raise errors.Forbidden(f"Reservation {sid} belongs to another worker")
        return self.service.reservations.fetch(
            self.account, self.workspace, sid, worker_sid=worker_sid
        )

    def held_task(self, statuses: frozenset[str]) -> str:
        sid = self.values["task"]
        engine = self.state.engine
        for rsid in engine.reservations_of_task.get(sid, ()):
            reservation = engine.reservations[rsid]
            if (
                reservation.worker_sid == self.grant.worker_sid
                and reservation.reservation_status in statuses
            ):
                return sid
        raise errors.Forbidden(f"Worker {self.grant.worker_sid} holds no reservation of task {sid}")


Handler = Callable[[Action], Awaitable[Any]]


def _page(items: list[Any], params: Params, render: Callable[[Any], dict[str, Any]]) -> Any:
    """The SDK's list shape: `contents`, and `after_sid` to ask for the next page with."""
    largest = REQUEST_LIMITS.max_page_size
    size = params.int("PageSize") or largest
    if not 1 <= size <= largest:
        raise errors.Invalid(f"PageSize must be between 1 and {largest}", param="PageSize")
    items = sorted(items, key=lambda item: (item.date_created, item.sid))
    after = params.str("AfterSid")
    start = 0
    if after:
        start = next((i + 1 for i, item in enumerate(items) if item.sid == after), len(items))
    chunk = items[start : start + size]
    more = start + size < len(items)
    return {
        "contents": [render(item) for item in chunk],
        "after_sid": chunk[-1].sid if more and chunk else None,
    }


async def fetch_worker(a: Action) -> Any:
    worker = a.service.workers.fetch(a.account, a.workspace, a.own_worker())
    return shapes.worker(a.state, worker)


async def update_worker(a: Action) -> Any:
    # The SDK's worker version counts differently from ours (it bumps on every reservation),
    # so If-Match is not applied to workers.
    worker = await a.service.workers.update(
        a.account, a.workspace, a.own_worker(), worker_fields(a.params)
    )
    return shapes.worker(a.state, worker)


async def list_activities(a: Action) -> Any:
    found = a.service.activities.list(a.account, a.workspace)
    return _page(found, a.params, shapes.activity)


async def fetch_activity(a: Action) -> Any:
    found = a.service.activities.fetch(a.account, a.workspace, a.values["activity"])
    return shapes.activity(found)


async def list_task_channels(a: Action) -> Any:
    return _page(
        a.service.task_channels.list(a.account, a.workspace), a.params, shapes.task_channel
    )


async def list_worker_channels(a: Action) -> Any:
    found = a.service.worker_channels.list(a.account, a.workspace, a.own_worker())
    return _page(found, a.params, lambda wc: shapes.worker_channel(a.state, wc))


async def list_reservations(a: Action) -> Any:
    worker_sid = a.own_worker()
    found = a.service.reservations.list_for_worker(a.account, a.workspace, worker_sid, None)
    wanted = set(a.params.list("ReservationStatus"))
    if a.params.bool("Active"):
        wanted |= HOLDING
    if wanted:
        found = [r for r in found if r.reservation_status in wanted]
    now = a.now_ms()
    return _page(found, a.params, lambda r: shapes.reservation(a.state, r, now))


async def fetch_reservation(a: Action) -> Any:
    return shapes.reservation(a.state, a.own_reservation(), a.now_ms())


async def update_reservation(a: Action) -> Any:
    current = a.own_reservation()
    f = a.params
    reservation = await a.service.reservations.update(
        a.account,
        a.workspace,
        current.sid,
        worker_sid=current.worker_sid,
        status=f.str("ReservationStatus"),
        worker_activity_sid=f.sid("WorkerActivitySid", Prefix.ACTIVITY),
        instruction=f.str("Instruction"),
        instruction_params=twilio_tasks.instruction_params(f),
        if_match=a.if_match,
    )
    return shapes.reservation(a.state, reservation, a.now_ms())


async def fetch_task(a: Action) -> Any:
    task = a.service.tasks.fetch(a.account, a.workspace, a.held_task(HELD))
    return shapes.task(a.state, task, a.now_ms())


async def update_task(a: Action) -> Any:
    task = await a.service.tasks.update(
        a.account,
        a.workspace,
        a.held_task(HOLDING),
        twilio_tasks.task_changes(a.params),
        a.if_match,
    )
    return shapes.task(a.state, task, a.now_ms())


async def create_task(a: Action) -> Any:
    """`worker.createTask`: an outbound task routed straight to this worker, and only it."""
    new = twilio_tasks.new_task(a.params)
    if new.routing_target != a.grant.worker_sid:
        raise errors.Forbidden("A worker token may only create tasks routed to its own worker")
    task = await a.service.tasks.create(a.account, a.workspace, new)
    return shapes.task(a.state, task, a.now_ms())


# (method, path under the workspace with {name} placeholders) -> handler
ROUTES: list[tuple[str, str, Handler]] = [
    ("GET", "Workers/{worker}", fetch_worker),
    ("POST", "Workers/{worker}", update_worker),
    ("GET", "Activities", list_activities),
    ("GET", "Activities/{activity}", fetch_activity),
    ("GET", "TaskChannels", list_task_channels),
    ("GET", "Workers/{worker}/WorkerChannels", list_worker_channels),
    ("GET", "Workers/{worker}/Channels", list_worker_channels),
    ("GET", "Workers/{worker}/Reservations", list_reservations),
    ("GET", "Workers/{worker}/Reservations/{reservation}", fetch_reservation),
    ("POST", "Workers/{worker}/Reservations/{reservation}", update_reservation),
    ("GET", "Tasks/{task}", fetch_task),
    ("POST", "Tasks/{task}", update_task),
    ("POST", "Tasks", create_task),
]
_TABLE = [(m, tuple(p.split("/")), h) for m, p, h in ROUTES]


def match(method: str, segments: list[str]) -> tuple[Handler, dict[str, str]] | None:
    for route_method, pattern, handler in _TABLE:
        if route_method != method or len(pattern) != len(segments):
            continue
        values: dict[str, str] = {}
        for part, segment in zip(pattern, segments, strict=True):
            if part.startswith("{"):
                if not segment:
                    break
                values[part[1:-1]] = segment
            elif part != segment:
                break
        else:
            return handler, values
    return None


def form_pairs(params: dict[str, Any]) -> list[tuple[str, str]]:
    """JSON-typed parameters as the form strings the Twilio face parses: objects (Attributes)
    become JSON text, booleans `true`/`false`, lists repeated keys."""
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        for item in value if isinstance(value, list) else [value]:
            if item is None:
                continue
            if isinstance(item, bool):
                pairs.append((key, "true" if item else "false"))
            elif isinstance(item, str):
                pairs.append((key, item))
            elif isinstance(item, int | float):
                pairs.append((key, str(item)))
            else:
                pairs.append((key, orjson.dumps(item).decode()))
    return pairs


def _envelope(raw: bytes) -> dict[str, Any]:
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise errors.Invalid(
            "The body must be a JSON object {url, method, params, token}"
        ) from None
    if not isinstance(body, dict):
        raise errors.Invalid("The body must be a JSON object {url, method, params, token}")
    return body


async def handle(request: Request) -> Response:
    service: Service = request.app.state.service
    try:
        body = _envelope(await request.body())
        token = body.get("token")
        if not isinstance(token, str) or not token:
            raise errors.Unauthenticated("The body carries no token")
        grant = await service.worker_tokens.verify(token)
        url, method, params = body.get("url"), body.get("method"), body.get("params") or {}
        if not isinstance(url, str) or method not in ("GET", "POST", "DELETE"):
            raise errors.Invalid("url must be a TaskRouter path and method GET or POST")
        if not isinstance(params, dict):
            raise errors.Invalid("params must be a JSON object")
        segments = url.strip("/").split("/")
        if segments[:1] == ["v1"]:
            segments = segments[1:]
        if len(segments) < 2 or segments[0] != "Workspaces":
            raise errors.Forbidden(f"A worker token cannot reach {url}")
        if segments[1] != grant.workspace_sid:
            raise errors.Forbidden(f"This token is for workspace {grant.workspace_sid}")
        found = match(method, segments[2:])
        if found is None:
            if segments[2:4] == ["Workers", grant.worker_sid]:
                raise errors.NotFound(f"The Worker SDK face does not serve {method} {url}")
            raise errors.Forbidden(f"A worker token cannot {method} {url}")
        handler, values = found
        action = Action(
            service,
            grant,
            service.runtime.workspace(grant.account_sid, grant.workspace_sid),
            Params(form_pairs(params)),
            values,
            request.headers.get("if-match"),
        )
        payload = await handler(action)
        return json_response({"payload": payload}, 200, CORS_HEADERS)
    except errors.DomainError as exc:
        response = error_response(exc)
    except Exception:
        log.exception("unhandled error in a Worker SDK action")
        response = server_error_response()
    response.headers.update(CORS_HEADERS)
    return response


async def preflight(request: Request) -> Response:
    return Response(status_code=204, headers=CORS_HEADERS)
