"""The websocket at /v1/wschannels: one per connected Worker SDK, events only, server to client.

On connect the token (query string) is checked and `init` sent; the SDK then reads its worker,
activities, channels and open reservations over the action endpoint and listens. A frame of
whitespace goes to every quiet socket every `HEARTBEAT_S`: the SDK drops a socket that was
silent for 30 s. `closeExistingSessions=true` closes the worker's other sockets. When a
worker's last socket goes, unless it asked `setWorkerOfflineIfDisconnected=false`, the worker
moves to an unavailable activity; a server shutting down (close code 1012) does not count,
since the SDK reconnects to the restarted server and carries on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.responses import JSONResponse
from starlette.websockets import WebSocket, WebSocketDisconnect

from taskrouter.api.eventbridge import fanout
from taskrouter.auth.access_tokens import TaskRouterGrant
from taskrouter.domain import errors
from taskrouter.engine.state import WorkspaceState
from taskrouter.service.service import Service
from taskrouter.service.workers import WorkerFields

log = logging.getLogger("taskrouter.api.eventbridge")

HEARTBEAT_S = 10.0
HEARTBEAT = " "
# Each interval beats the sockets a slice at a time: thousands of sends woken in one turn of
# the loop would hold every request behind them (7,500 sockets: a 145 ms stall every beat).
HEARTBEAT_SLICES = 100
# Frames waiting for one socket; a client this far behind is closed and resyncs on reconnect.
MAX_BACKLOG = 2_000
SERVICE_RESTART = 1012
CLOSE_REPLACED = 4000
CLOSE_BACKLOG = 4001
CLOSE_RESYNC = 4002


class Connection:
    __slots__ = (
        "activities",
        "close_code",
        "closed_by_server",
        "grant",
        "known",
        "queue",
        "set_offline",
        "websocket",
    )

    def __init__(self, websocket: WebSocket, grant: TaskRouterGrant, set_offline: bool) -> None:
        self.websocket = websocket
        self.grant = grant
        self.set_offline = set_offline
        # Text frames to send; None closes the socket with `close_code`.
        self.queue: asyncio.Queue[str | None] = asyncio.Queue()
        self.close_code = 1000
        # Closed by us (replaced, too far behind, resync): the client reconnects at once.
        self.closed_by_server = False
        # Reservations this client can know: open ones at connect and those announced since.
        # The SDK throws on an `accepted`/`wrapup` of a reservation it never saw.
        self.known: set[str] = set()
        # The activities the client read when it connected: it throws on a move to another.
        self.activities: set[str] = set()

    def send(self, text: str) -> None:
        if self.queue.qsize() >= MAX_BACKLOG:
            self.close(CLOSE_BACKLOG)
            return
        self.queue.put_nowait(text)

    def close(self, code: int) -> None:
        self.close_code = code
        self.closed_by_server = True
        self.queue.put_nowait(None)


class Sockets:
    def __init__(
        self, service: Service, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    ) -> None:
        self.service = service
        self._sleep = sleep
        self.by_worker: dict[str, list[Connection]] = {}
        self._heartbeats: asyncio.Task[None] | None = None
        self._pending: set[asyncio.Task[None]] = set()

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> None:
        self.service.runtime.events.streams.add_listener(self.publish)
        self._heartbeats = asyncio.create_task(self._beat(), name="taskrouter-ws-heartbeats")

    async def stop(self) -> None:
        self.service.runtime.events.streams.remove_listener(self.publish)
        if self._heartbeats is not None:
            self._heartbeats.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeats
        for task in list(self._pending):
            with contextlib.suppress(Exception):
                await task

    def __len__(self) -> int:
        return sum(len(c) for c in self.by_worker.values())

    # -- one socket ----------------------------------------------------------------------------

    async def endpoint(self, websocket: WebSocket) -> None:
        query = websocket.query_params
        try:
            grant = await self.service.worker_tokens.verify(query.get("token") or "")
        except errors.Unauthenticated as exc:
            await _refuse(websocket, exc.message)
            return
        await websocket.accept()
        conn = Connection(
            websocket, grant, query.get("setWorkerOfflineIfDisconnected", "").lower() != "false"
        )
        state = self.service.runtime.workspaces[grant.workspace_sid]
        conn.known.update(_open_reservations(state, grant.worker_sid))
        conn.activities.update(state.activities)
        others = self.by_worker.setdefault(grant.worker_sid, [])
        if query.get("closeExistingSessions", "").lower() == "true":
            for other in others:
                other.close(CLOSE_REPLACED)
        others.append(conn)
        now_s = self.service.runtime.clock.now_ms() // 1000
        conn.send(
            fanout.frame(
                "init",
                {
                    "channel_id": grant.worker_sid,
                    "account_sid": grant.account_sid,
                    "workspace_sid": grant.workspace_sid,
                    "token_lifetime": max(grant.expires_at_s - now_s, 0) * 1000,
                },
            )
        )
        sender = asyncio.create_task(self._pump(conn))
        code = 1005
        try:
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    code = int(message.get("code") or 1005)
                    break
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await sender
            self._forget(conn)
        if (
            conn.set_offline
            and not conn.closed_by_server
            and code != SERVICE_RESTART
            and not self.by_worker.get(grant.worker_sid)
        ):
            task = asyncio.create_task(self._set_offline(grant))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)

    async def _pump(self, conn: Connection) -> None:
        websocket = conn.websocket
        while True:
            text = await conn.queue.get()
            if text is None:
                await websocket.close(conn.close_code)
                return
            await websocket.send_text(text)

    def _forget(self, conn: Connection) -> None:
        connections = self.by_worker.get(conn.grant.worker_sid)
        if connections is not None and conn in connections:
            connections.remove(conn)
            if not connections:
                del self.by_worker[conn.grant.worker_sid]

    async def _set_offline(self, grant: TaskRouterGrant) -> None:
        state = self.service.runtime.workspaces.get(grant.workspace_sid)
        if state is None or self.by_worker.get(grant.worker_sid):
            return
        worker = state.workers.get(grant.worker_sid)
        if worker is None or not state.activities[worker.activity_sid].available:
            return
        offline = offline_activity(state)
        if offline is None:
            return
        try:
            await self.service.workers.update(
                grant.account_sid,
                grant.workspace_sid,
                grant.worker_sid,
                WorkerFields(activity_sid=offline),
            )
        except Exception:
            log.exception("could not set disconnected worker %s offline", grant.worker_sid)

    async def _beat(self) -> None:
        while True:
            connections = [conn for group in self.by_worker.values() for conn in group]
            if not connections:
                await self._sleep(HEARTBEAT_S)
                continue
            # A socket that connects during a round joins the next one: at most two intervals
            # of silence, well inside the SDK's 30 s.
            slices = min(HEARTBEAT_SLICES, len(connections))
            for index in range(slices):
                await self._sleep(HEARTBEAT_S / slices)
                for conn in connections[index::slices]:
                    if conn.queue.empty():
                        conn.queue.put_nowait(HEARTBEAT)

    # -- events --------------------------------------------------------------------------------

    def publish(self, bodies: list[dict[str, Any]]) -> None:
        """A committed batch (the stream hub calls this): route it to connected workers."""
        if not self.by_worker or not bodies:
            return
        try:
            state = self.service.runtime.workspaces.get(bodies[0]["workspace_sid"])
            if state is None:
                return
            by_worker = self.by_worker
            for delivery in fanout.deliveries(state, bodies, by_worker.__contains__):
                for conn in by_worker.get(delivery.worker_sid, ()):
                    if conn.grant.workspace_sid == state.sid and _wants(conn, delivery):
                        conn.send(delivery.text)
        except Exception:
            log.exception("routing events to worker sockets failed")


def _wants(conn: Connection, delivery: fanout.Delivery) -> bool:
    """Whether to send: the SDK throws on events about things it never read."""
    sid = delivery.reservation_sid
    if sid is not None:
        if delivery.event_type == "reservation.created":
            conn.known.add(sid)
        elif sid not in conn.known:
            return False
        elif delivery.event_type not in ("reservation.accepted", "reservation.wrapup"):
            conn.known.discard(sid)
    activity = delivery.activity_sid
    if activity is not None and activity not in conn.activities:
        # An activity made after the client connected: it reconnects and reads them again.
        conn.close(CLOSE_RESYNC)
        return False
    return True


def offline_activity(state: WorkspaceState) -> str | None:
    """Where a disconnected worker goes: an unavailable activity named Offline, else the
    workspace's default activity if it is unavailable, else the first unavailable one."""
    unavailable = [a for a in state.activities.values() if not a.available]
    for activity in unavailable:
        if activity.friendly_name.lower() == "offline":
            return activity.sid
    default = state.activities.get(state.workspace.default_activity_sid or "")
    if default is not None and not default.available:
        return default.sid
    return unavailable[0].sid if unavailable else None


def _open_reservations(state: WorkspaceState, worker_sid: str) -> list[str]:
    engine = state.engine
    return [
        sid
        for sid in engine.reservations_of_worker.get(worker_sid, ())
        if engine.reservations[sid].reservation_status in fanout.HOLDING
    ]


async def _refuse(websocket: WebSocket, message: str) -> None:
    """Answer the handshake 401 where the server can, else close before accepting (403)."""
    body = {"code": 20003, "message": message, "status": 401}
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        await websocket.send_denial_response(JSONResponse(body, 401))
    else:
        await websocket.close(1008, orjson.dumps(body).decode()[:120])
