"""The live stream: Server-Sent Events at GET /v1/Workspaces/{WS}/Events/Stream, authenticated
like the rest, filterable, and resumable with Last-Event-ID from the stored log."""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx
from events_harness import EventServer, wait_until
from scenario import (
    Workspace,
    add_queue,
    add_task,
    add_worker,
    add_workflow,
    new_workspace,
    reservations,
    to_queue,
)

from support.spec import check_response


@dataclass
class Frame:
    id: str
    event: str
    data: dict[str, Any]


@dataclass
class StreamReader:
    """Reads one SSE response on a thread, collecting its frames."""

    response: http.client.HTTPResponse
    frames: list[Frame] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)

    def run(self) -> None:
        current: dict[str, str] = {}
        try:
            while True:
                raw = self.response.readline()
                if not raw:
                    return
                line = raw.decode().rstrip("\r\n")
                if line == "":
                    if "data" in current:
                        self.frames.append(
                            Frame(current["id"], current["event"], json.loads(current["data"]))
                        )
                    current = {}
                elif line.startswith(":"):
                    self.comments.append(line)
                else:
                    name, _, value = line.partition(": ")
                    current[name] = value
        except (OSError, ValueError, http.client.HTTPException):
            return

    def types(self) -> list[str]:
        return [f.event for f in self.frames]


@contextmanager
def open_stream(
    server: EventServer,
    ws_sid: str,
    params: dict[str, str] | list[tuple[str, str]] | None = None,
    last_event_id: str | None = None,
) -> Iterator[StreamReader]:
    credentials = f"{server.account.sid}:{server.account.secret}".encode()
    headers = {
        "Accept": "text/event-stream",
        "Authorization": "Basic " + base64.b64encode(credentials).decode(),
    }
    if last_event_id is not None:
        headers["Last-Event-ID"] = last_event_id
    query = f"?{urlencode(params)}" if params else ""
    assert server.port is not None
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("GET", f"/v1/Workspaces/{ws_sid}/Events/Stream{query}", headers=headers)
    response = conn.getresponse()
    assert response.status == 200, response.read()
    assert (response.getheader("content-type") or "").startswith("text/event-stream")
    assert conn.sock is not None
    conn.sock.settimeout(None)
    reader = StreamReader(response)
    thread = threading.Thread(target=reader.run, daemon=True)
    thread.start()
    try:
        wait_until(lambda: reader.comments, what="the stream to open")
        yield reader
    finally:
        # Hanging up at once: the reader's blocking read returns.
        with contextlib.suppress(OSError):
            conn.sock.shutdown(socket.SHUT_RDWR)
        thread.join(5)
        conn.close()


def _api_order(server: EventServer, ws: Workspace) -> list[str]:
    """The workspace's event SIDs as the log holds them, oldest first."""
    listed = list(ws.ctx.events.list(page_size=1000))
    return [e.sid for e in reversed(listed)]


def test_stream_delivers_a_scenario_live_in_order(server: EventServer) -> None:
    ws = new_workspace(server)
    with open_stream(server, ws.sid) as reader:
        queue = add_queue(ws, "Q")
        flow = add_workflow(ws, to_queue(queue))
        add_worker(ws, "w", {}, "Available")
        task = add_task(ws, flow, {"x": 1})
        r = reservations(ws, task)[0]
        ws.ctx.tasks(task).reservations(r.sid).update(reservation_status="accepted")
        log = _api_order(server, ws)
        wait_until(lambda: len(reader.frames) >= len(log) - 1, what="every live event")
    # Everything after the moment it connected (workspace.created came before).
    assert [f.id for f in reader.frames] == log[1:]
    assert reader.types()[-1] == "reservation.accepted"
    # Each frame is the REST rendering of the event, valid against the spec's schema.
    for f in reader.frames:
        url = f"{server.base_url}/v1/Workspaces/{ws.sid}/Events/{f.id}"
        assert check_response("GET", url, 200, "application/json", json.dumps(f.data)) == []
        assert f.data["sid"] == f.id and f.data["event_type"] == f.event


def test_stream_filters(server: EventServer) -> None:
    ws = new_workspace(server)
    queue = add_queue(ws, "Q")
    other = add_queue(ws, "Other", "nobody == 1")
    flow = add_workflow(ws, to_queue(queue))
    worker = add_worker(ws, "w", {}, "Available")
    with (
        open_stream(
            server, ws.sid, [("EventType", "task.created"), ("EventType", "reservation.created")]
        ) as by_type,
        open_stream(server, ws.sid, {"WorkerSid": worker}) as by_worker,
        open_stream(server, ws.sid, {"TaskQueueSid": other}) as by_other_queue,
    ):
        task = add_task(ws, flow, {})
        with open_stream(server, ws.sid, {"TaskSid": task}) as by_task:
            r = reservations(ws, task)[0]
            ws.ctx.tasks(task).reservations(r.sid).update(reservation_status="accepted")
            wait_until(lambda: "reservation.accepted" in by_task.types(), what="by task")
        wait_until(lambda: "reservation.accepted" in by_worker.types(), what="by worker")
        wait_until(lambda: len(by_type.frames) >= 2, what="by type")
    assert by_type.types() == ["task.created", "reservation.created"]
    assert by_task.types() == ["reservation.accepted"]
    assert all(f.data["event_data"]["worker_sid"] == worker for f in by_worker.frames)
    assert by_worker.types() == ["reservation.created", "reservation.accepted"]
    assert by_other_queue.frames == []


def test_reconnecting_with_last_event_id_gets_exactly_what_was_missed(
    server: EventServer,
) -> None:
    ws = new_workspace(server)
    with open_stream(server, ws.sid) as first:
        add_queue(ws, "a")
        add_queue(ws, "b")
        wait_until(lambda: len(first.frames) >= 2, what="two live events")
    seen = [f.id for f in first.frames]
    # While disconnected:
    queue = add_queue(ws, "c")
    flow = add_workflow(ws, to_queue(queue))
    add_task(ws, flow, {})
    missed = _api_order(server, ws)[3:]
    assert len(missed) == 6
    with open_stream(server, ws.sid, last_event_id=seen[-1]) as second:
        wait_until(lambda: len(second.frames) >= len(missed), what="the missed events")
        add_queue(ws, "d")  # and then live again
        wait_until(lambda: len(second.frames) >= len(missed) + 1, what="a live event")
    ids = [f.id for f in second.frames]
    assert ids[: len(missed)] == missed
    assert ids == _api_order(server, ws)[3:]
    assert len(set(ids)) == len(ids)
    # The query-parameter form, filtered, for clients that cannot set headers.
    with open_stream(
        server, ws.sid, {"LastEventId": seen[0], "EventType": "task-queue.created"}
    ) as third:
        wait_until(lambda: len(third.frames) >= 3, what="filtered resume")
    assert [f.data["event_data"]["task_queue_name"] for f in third.frames] == ["b", "c", "d"]


def test_stream_is_authenticated_like_the_rest(server: EventServer) -> None:
    ws = new_workspace(server)
    path = f"/v1/Workspaces/{ws.sid}/Events/Stream"
    anonymous = httpx.get(f"{server.base_url}{path}")
    assert anonymous.status_code == 401 and anonymous.json()["code"] == 20003
    assert server.http is not None
    missing = server.http.get(f"/v1/Workspaces/WS{'0' * 32}/Events/Stream")
    assert missing.status_code == 404
    bad = server.http.get(path, headers={"Last-Event-ID": "nope"})
    assert bad.status_code == 400
