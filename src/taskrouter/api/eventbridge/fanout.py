"""Which connected worker gets which committed event, rendered in the SDK's shape.

A worker receives its own `worker.*` events, its `reservation.*` events, and the `task.*`
events of tasks it holds: an open reservation now, or a reservation event of that task earlier
in the same commit (completing a task closes its reservation in the same command, and the SDK
still wants the task's `completed`). Only the event types the SDK handles are sent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import orjson

from taskrouter.api.eventbridge import shapes
from taskrouter.engine.state import WorkspaceState

WORKER_EVENTS = frozenset(("worker.activity.update", "worker.attributes.update"))
CHANNEL_EVENTS = frozenset(("worker.capacity.update", "worker.channel.availability.update"))
TASK_EVENTS = frozenset(("task.updated", "task.canceled", "task.completed", "task.wrapup"))
RESERVATION_EVENTS = frozenset(shapes.RESERVATION_STATUS_AT)
HOLDING = frozenset(("pending", "accepted", "wrapping"))


class Delivery(NamedTuple):
    worker_sid: str
    event_type: str
    text: str
    reservation_sid: str | None = None
    activity_sid: str | None = None


def frame(event_type: str, payload: dict[str, Any]) -> str:
    return orjson.dumps({"event_type": event_type, "payload": payload}).decode()


def deliveries(
    state: WorkspaceState, bodies: list[dict[str, Any]], connected: Callable[[str], bool]
) -> Iterator[Delivery]:
    """Every delivery owed for one committed batch."""
    touched: dict[str, set[str]] = {}
    for body in bodies:
        kind: str = body["event_type"]
        data: dict[str, str] = body["data"]
        worker_sid = data.get("WorkerSid")
        if kind in RESERVATION_EVENTS:
            task_sid = data.get("TaskSid")
            if worker_sid is None:
                continue
            if task_sid is not None:
                touched.setdefault(task_sid, set()).add(worker_sid)
            if connected(worker_sid):
                payload = shapes.reservation_from_event(state, body)
                yield Delivery(worker_sid, kind, frame(kind, payload), payload["sid"])
        elif kind in TASK_EVENTS:
            task_sid = data.get("TaskSid", body["resource_sid"])
            holders = _holders(state, task_sid) | touched.get(task_sid, set())
            listening = [w for w in holders if connected(w)]
            if listening:
                text = frame(kind, shapes.task_from_event(state, body))
                for sid in listening:
                    yield Delivery(sid, kind, text)
        elif kind in WORKER_EVENTS:
            if worker_sid is None or not connected(worker_sid):
                continue
            worker = state.workers.get(worker_sid)
            if worker is not None:
                payload = shapes.worker(state, worker, data)
                yield Delivery(
                    worker_sid, kind, frame(kind, payload), None, payload["activity_sid"]
                )
        elif kind in CHANNEL_EVENTS and worker_sid is not None and connected(worker_sid):
            payload = shapes.worker_channel_from_event(state, body)
            yield Delivery(worker_sid, kind, frame(kind, payload))


def _holders(state: WorkspaceState, task_sid: str) -> set[str]:
    engine = state.engine
    found: set[str] = set()
    for sid in engine.reservations_of_task.get(task_sid, ()):
        reservation = engine.reservations.get(sid)
        if reservation is not None and reservation.reservation_status in HOLDING:
            found.add(reservation.worker_sid)
    return found
