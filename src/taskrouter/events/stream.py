"""Live event streams (Server-Sent Events): a hub fed after each commit, and one stream per client.

A client subscribes to one workspace, optionally filtered by event types, worker, task,
queue, reservation or workflow. Each frame is

    id: EV...            (ordered: resuming sends everything after it)
    event: task.created
    data: {... the event as the REST API renders it ...}

A client that reconnects with `Last-Event-ID` first gets what it missed from the stored log,
then the live events, with nothing lost in between and nothing sent twice: the stream
subscribes before it reads the log and skips live events at or below the last one it sent.
A client that cannot keep up (its queue fills) is disconnected, and resumes the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from typing import Any

import orjson

from taskrouter.events.archive import EventArchive

KEEPALIVE_S = 15.0
QUEUE_SIZE = 10_000
RESUME_BATCH = 500

# (filter attribute, data field) pairs that narrow a stream.
_DATA_FILTERS = (
    ("worker_sid", "WorkerSid"),
    ("task_sid", "TaskSid"),
    ("task_queue_sid", "TaskQueueSid"),
    ("reservation_sid", "ReservationSid"),
    ("workflow_sid", "WorkflowSid"),
)


@dataclass(frozen=True, slots=True)
class StreamFilter:
    event_types: frozenset[str] | None = None
    worker_sid: str | None = None
    task_sid: str | None = None
    task_queue_sid: str | None = None
    reservation_sid: str | None = None
    workflow_sid: str | None = None

    def matches(self, body: dict[str, Any]) -> bool:
        if self.event_types is not None and body["event_type"] not in self.event_types:
            return False
        data = body["data"]
        for attribute, key in _DATA_FILTERS:
            wanted = getattr(self, attribute)
            if wanted is not None and data.get(key) != wanted:
                return False
        return True


class Subscription:
    __slots__ = ("filter", "queue", "workspace_sid")

    def __init__(self, workspace_sid: str, where: StreamFilter) -> None:
        self.workspace_sid = workspace_sid
        self.filter = where
        # None: the stream must end (overflow, workspace deleted, server stopping).
        self.queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(QUEUE_SIZE + 1)

    def end(self) -> None:
        with contextlib.suppress(asyncio.QueueFull):
            self.queue.put_nowait(None)


Listener = Callable[[list[dict[str, Any]]], None]


class StreamHub:
    def __init__(self) -> None:
        self._subscribers: dict[str, set[Subscription]] = {}
        # Called with each committed batch, in the committing task, before any subscriber
        # queue: faces that keep their own routing (the Worker SDK's sockets). Must not block.
        self._listeners: list[Listener] = []

    def add_listener(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def subscribe(self, workspace_sid: str, where: StreamFilter) -> Subscription:
        subscription = Subscription(workspace_sid, where)
        self._subscribers.setdefault(workspace_sid, set()).add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        subscribers = self._subscribers.get(subscription.workspace_sid)
        if subscribers is not None:
            subscribers.discard(subscription)
            if not subscribers:
                del self._subscribers[subscription.workspace_sid]

    def publish(self, bodies: Iterable[dict[str, Any]]) -> None:
        """Hand committed events to their workspace's subscribers; never blocks."""
        if self._listeners:
            batch = list(bodies)
            bodies = batch
            for listener in self._listeners:
                listener(batch)
        if not self._subscribers:
            return
        for body in bodies:
            subscribers = self._subscribers.get(body["workspace_sid"])
            if not subscribers:
                continue
            for subscription in list(subscribers):
                if not subscription.filter.matches(body):
                    continue
                if subscription.queue.qsize() >= QUEUE_SIZE:
                    self.unsubscribe(subscription)
                    subscription.end()
                    continue
                subscription.queue.put_nowait(body)
            if body["event_type"] == "workspace.deleted":
                for subscription in list(subscribers):
                    self.unsubscribe(subscription)
                    subscription.end()

    def close(self) -> None:
        for subscribers in list(self._subscribers.values()):
            for subscription in list(subscribers):
                subscription.end()
        self._subscribers.clear()

    def __len__(self) -> int:
        return sum(len(s) for s in self._subscribers.values())

    def open_for(self, workspace_sids: Iterable[str]) -> int:
        """How many streams are open on these workspaces."""
        return sum(len(self._subscribers.get(sid, ())) for sid in workspace_sids)


def frame(body: dict[str, Any], rendered: dict[str, Any]) -> bytes:
    return (
        f"id: {body['sid']}\nevent: {body['event_type']}\ndata: ".encode()
        + orjson.dumps(rendered)
        + b"\n\n"
    )


async def stream(
    hub: StreamHub,
    archive: EventArchive,
    workspace_sid: str,
    where: StreamFilter,
    last_event_id: str | None,
    render: Callable[[dict[str, Any]], dict[str, Any]],
    keepalive_s: float = KEEPALIVE_S,
) -> AsyncIterator[bytes]:
    subscription = hub.subscribe(workspace_sid, where)
    try:
        yield b"retry: 1000\n: connected\n\n"
        last = last_event_id
        if last is not None:
            while True:
                missed = await archive.after(workspace_sid, last, RESUME_BATCH)
                for old in missed:
                    last = old["sid"]
                    if where.matches(old):
                        yield frame(old, render(old))
                if len(missed) < RESUME_BATCH:
                    break
        while True:
            try:
                body = await asyncio.wait_for(subscription.queue.get(), keepalive_s)
            except TimeoutError:
                yield b": keepalive\n\n"
                continue
            if body is None:
                return
            if last is not None and body["sid"] <= last:
                continue
            last = body["sid"]
            yield frame(body, render(body))
    finally:
        hub.unsubscribe(subscription)
