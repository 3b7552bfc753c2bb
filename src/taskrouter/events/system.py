"""The events side of the service, in one place: log, callbacks, live streams, retention.

The runtime calls `record` while it builds a command's commit (event rows and assignment
outbox rows go into that same commit), then `committed` once the commit is durable (assignment
callbacks and live streams get the events, and the courier may read further in the log;
nothing there awaits) or `abandoned` if it failed. `open`/`close` bracket every use of the
service; `start_background`/`stop_background` run the callbacks and the retention sweep, which
only the serving process does (a CLI command opening the database does not deliver).

The courier reads owed events from the log below a bound under which no commit is still in
flight: the lowest first SID of the batches recorded but not yet committed or abandoned, or
just above the newest SID handed out when there are none. SIDs grow in the order batches are
recorded, so a batch that commits late is never passed over. The courier hears of a new bound
only while a committed owed event lies at or above the last bound it heard: every read costs a
query, and a server whose workspaces want no callbacks should cost it nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from taskrouter.domain.clock import Clock
from taskrouter.engine.state import WorkspaceState
from taskrouter.events.archive import EventArchive
from taskrouter.events.assignment import ReservationCommands
from taskrouter.events.courier import EventCourier, just_above
from taskrouter.events.courier_process import CourierProcess
from taskrouter.events.delivery import Deliverer
from taskrouter.events.finished_tasks import FinishedTasks
from taskrouter.events.http import HttpClient
from taskrouter.events.log import Batch, Emitted, EventLog
from taskrouter.events.retention import Retention
from taskrouter.events.sender import Sender, callback_sender
from taskrouter.events.settings import EventSettings
from taskrouter.events.stream import StreamHub
from taskrouter.store import Store

if TYPE_CHECKING:
    from taskrouter.engine.engine import Outcome

log = logging.getLogger("taskrouter.events")


class EventSystem:
    def __init__(self, store: Store, clock: Clock, settings: EventSettings | None = None) -> None:
        self.settings = settings or EventSettings.from_env()
        self.clock = clock
        self.log = EventLog(clock)
        self._store = store
        self.archive = EventArchive(store)
        self.finished_tasks = FinishedTasks(self.archive)
        self.streams = StreamHub()
        self.delivery = Deliverer(store, self.settings)
        # The courier's own reads, in key order (see `EventArchive`); no connection is made
        # unless callbacks are posted from this process.
        self._courier_archive = EventArchive(store, key_walks=True)
        self.courier: EventCourier | CourierProcess = EventCourier(
            store, self._courier_archive, clock, self.settings
        )
        # id(batch) -> its first event SID, for batches recorded and not yet settled.
        self._in_flight: dict[int, str] = {}
        # The newest SID of a committed batch with an owed event, and the last bound told.
        self._owed_upto = ""
        self._told = ""
        self.retention = Retention(store, self.archive, clock, self.settings)
        self._workspaces: Callable[[], Iterable[str]] = lambda: ()
        self._sweeper: asyncio.Task[None] | None = None

    # -- lifecycle -----------------------------------------------------------------------------

    def post_events_apart(self) -> None:
        """Event callbacks from a child process (see courier_process.py), not this one."""
        self.courier = CourierProcess(self._store, self.archive)

    async def open(self, workspaces: Iterable[WorkspaceState]) -> None:
        """After the runtime loaded: continue the SID sequence, know every worker's activity."""
        self.log.prime(workspaces)
        self.log.continue_after(await self.archive.newest_sid())

    async def start_background(
        self,
        *,
        workspaces: Callable[[], dict[str, WorkspaceState]],
        token_of: Callable[[str], str | None],
        reservations: ReservationCommands,
        client: HttpClient | None = None,
    ) -> None:
        def status_of(workspace_sid: str, reservation_sid: str) -> str | None:
            state = workspaces().get(workspace_sid)
            if state is None:
                return None
            reservation = state.engine.reservations.get(reservation_sid)
            return None if reservation is None else reservation.reservation_status

        self._workspaces = lambda: list(workspaces())

        def sender() -> Sender:
            return callback_sender(self.settings, token_of, client)

        await self.delivery.start(sender=sender(), status_of=status_of, reservations=reservations)
        self._told = self.committed_below()
        await self.courier.start(self._told, sender)
        self._sweeper = asyncio.create_task(self._sweep_loop(), name="taskrouter-event-retention")

    async def stop_background(self) -> None:
        self.streams.close()
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
            self._sweeper = None
        await self.delivery.stop()
        await self.courier.stop()

    async def close(self) -> None:
        await self.archive.close()
        await self._courier_archive.close()

    # -- per command ---------------------------------------------------------------------------

    def record(
        self, state: WorkspaceState, outcome: Outcome | None, emitted: Sequence[Emitted] = ()
    ) -> Batch | None:
        batch = self.log.record(state, outcome, emitted)
        if batch is not None and batch.events:
            self._in_flight[id(batch)] = min(body["sid"] for body in batch.events)
        return batch

    def committed(self, batch: Batch) -> None:
        self._in_flight.pop(id(batch), None)
        self.delivery.enqueue(batch.deliveries)
        self.streams.publish(batch.events)
        if batch.owed:
            self._owed_upto = max(self._owed_upto, *(body["sid"] for body in batch.events))
        self._tell_courier()

    def abandoned(self, batch: Batch) -> None:
        """Its commit failed: its events never exist, and no longer hold the courier back."""
        self._in_flight.pop(id(batch), None)
        self._tell_courier()

    def _tell_courier(self) -> None:
        if not self._owed_upto or self._owed_upto < self._told:
            return  # every owed event committed so far is below a bound it already has
        below = self.committed_below()
        if below > self._told:
            self._told = below
            self.courier.committed_below(below)

    def committed_below(self) -> str:
        """Every event below this SID is committed, or never will be."""
        if self._in_flight:
            return min(self._in_flight.values())
        return just_above(self.log.last_sid) if self.log.last_sid else ""

    # -- background ----------------------------------------------------------------------------

    async def _sweep_loop(self) -> None:
        while True:
            try:
                if self.retention.due():
                    await self.retention.sweep(self._workspaces())
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("event retention sweep failed; will retry")
            await asyncio.sleep(self.settings.poll_s * 5)
