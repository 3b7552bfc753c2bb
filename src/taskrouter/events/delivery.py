"""Assignment callbacks: posted at once after the commit, never in a request's way.

They go out concurrently, each within its budget; an answer that does not come (error,
non-2xx, timeout) sends the same request to the fallback URL. They are not retried beyond that
(Twilio does not either). Each is an outbox row, written in the reservation's commit and
deleted (in batches) once answered or given up: a crash before that delete asks again after
the restart, unless the reservation was answered meanwhile.

Event callbacks are the courier's (`courier.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from taskrouter.events import assignment, outbox
from taskrouter.events.http import HttpError
from taskrouter.events.outbox import Delivery
from taskrouter.events.sender import Sender
from taskrouter.events.settings import EventSettings
from taskrouter.store import Delete, Store

log = logging.getLogger("taskrouter.events.delivery")

StatusOf = Callable[[str, str], str | None]  # (workspace sid, reservation sid) -> status


class Deliverer:
    def __init__(self, store: Store, settings: EventSettings) -> None:
        self._store = store
        self._settings = settings
        self._acks: list[str] = []
        self._acked = asyncio.Event()
        self._ack_lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._flusher: asyncio.Task[None] | None = None
        self._sender: Sender | None = None
        self._status_of: StatusOf = lambda _ws, _sid: None
        self._reservations: assignment.ReservationCommands | None = None
        self._slots = asyncio.Semaphore(settings.assignment_concurrency)
        self._running = False
        # Deliveries committed before start() (the start's own commit of matches made loading).
        self._early: list[Delivery] = []

    # -- lifecycle -----------------------------------------------------------------------------

    async def start(
        self,
        *,
        sender: Sender,
        status_of: StatusOf,
        reservations: assignment.ReservationCommands,
    ) -> None:
        self._sender = sender
        self._status_of = status_of
        self._reservations = reservations
        early, self._early = self._early, []
        known = {d.sid for d in early}
        where = {"status": outbox.PENDING, "kind": outbox.ASSIGNMENT}
        rows = await self._store.query(outbox.TABLE, where)
        pending = [Delivery.from_row(r) for r in rows if r["sid"] not in known]
        self._running = True
        self.enqueue(sorted([*pending, *early], key=lambda d: d.sid))
        self._flusher = asyncio.create_task(self._flush_acks(), name="taskrouter-assign-acks")

    async def stop(self) -> None:
        self._running = False
        tasks = [*self._tasks, *([self._flusher] if self._flusher else [])]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._flusher = None
        self._tasks.clear()
        await self._commit_acks()

    # -- intake --------------------------------------------------------------------------------

    def enqueue(self, deliveries: list[Delivery]) -> None:
        """Take assignment callbacks whose rows are committed; never blocks, never awaits."""
        if not deliveries:
            return
        if not self._running:
            self._early.extend(deliveries)
            return
        for delivery in deliveries:
            task = asyncio.create_task(self._assign(delivery))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    # -- one callback --------------------------------------------------------------------------

    async def _assign(self, delivery: Delivery) -> None:
        body = delivery.body
        done = True
        try:
            async with self._slots:
                status = self._status_of(delivery.workspace_sid, body["reservation_sid"])
                if status != "pending":
                    return  # answered, timed out or gone meanwhile (or before a restart)
                document = await self._ask(delivery)
                if document is None or self._reservations is None:
                    return
                await assignment.carry_out(
                    self._reservations,
                    account_sid=body["account_sid"],
                    workspace_sid=delivery.workspace_sid,
                    task_sid=body["task_sid"],
                    reservation_sid=body["reservation_sid"],
                    document=document,
                )
        except asyncio.CancelledError:
            done = False  # stopping: the row stays, and is tried again after the restart
            raise
        except Exception as exc:
            log.warning(
                "assignment instruction for reservation %s not carried out: %s",
                body.get("reservation_sid"),
                getattr(exc, "message", None) or exc,
            )
        finally:
            if done:
                self._acks.append(delivery.sid)
                self._acked.set()

    async def _ask(self, delivery: Delivery) -> dict[str, Any] | None:
        """The instruction from the callback URL, else from the fallback URL."""
        assert self._sender is not None
        body = delivery.body
        budget = self._settings.assignment_timeout_s
        for url in (body["url"], body.get("fallback_url")):
            if not url:
                continue
            try:
                async with asyncio.timeout(budget):
                    response = await self._sender.post(
                        url, body["params"], body["account_sid"], delivery.sid
                    )
                return assignment.read_answer(
                    response.status_code, response.headers.get("content-type"), response.content
                )
            except (TimeoutError, HttpError, assignment.Unanswered) as exc:
                log.info("assignment callback %s unanswered: %s", url, exc or type(exc).__name__)
        return None

    # -- acknowledgements ----------------------------------------------------------------------

    async def _flush_acks(self) -> None:
        while True:
            await self._acked.wait()
            self._acked.clear()
            await self._commit_acks()

    async def _commit_acks(self) -> None:
        async with self._ack_lock:  # returns once every ack so far is committed
            if not self._acks:
                return
            batch, self._acks = self._acks, []
            try:
                await self._store.commit([Delete(outbox.TABLE, sid) for sid in batch])
            except Exception:
                # Not fatal: the rows stay pending and are asked again after a restart.
                log.exception("could not clear %d answered assignment rows", len(batch))
