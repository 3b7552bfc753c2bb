"""The events side of the service, in one place: log, outbox delivery, live streams, retention.

The runtime calls `record` while it builds a command's commit (event rows and outbox rows go
into that same commit) and `committed` once the commit is durable (deliveries and live streams
get the events; nothing there awaits). `open`/`close` bracket every use of the service;
`start_background`/`stop_background` run the delivery loop and the retention sweep, which only
the serving process does (a CLI command opening the database does not deliver).
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
from taskrouter.events.delivery import Deliverer
from taskrouter.events.finished_tasks import FinishedTasks
from taskrouter.events.http import HttpClient
from taskrouter.events.log import Batch, Emitted, EventLog
from taskrouter.events.retention import Retention
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
        self.archive = EventArchive(store)
        self.finished_tasks = FinishedTasks(self.archive)
        self.streams = StreamHub()
        self.delivery = Deliverer(store, clock, self.settings)
        self.retention = Retention(store, self.archive, clock, self.settings)
        self._workspaces: Callable[[], Iterable[str]] = lambda: ()
        self._sweeper: asyncio.Task[None] | None = None

    # -- lifecycle -----------------------------------------------------------------------------

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
        await self.delivery.start(
            token_of=token_of, status_of=status_of, reservations=reservations, client=client
        )
        self._sweeper = asyncio.create_task(self._sweep_loop(), name="taskrouter-event-retention")

    async def stop_background(self) -> None:
        self.streams.close()
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
            self._sweeper = None
        await self.delivery.stop()

    async def close(self) -> None:
        await self.archive.close()

    # -- per command ---------------------------------------------------------------------------

    def record(
        self, state: WorkspaceState, outcome: Outcome | None, emitted: Sequence[Emitted] = ()
    ) -> Batch | None:
        return self.log.record(state, outcome, emitted)

    def committed(self, batch: Batch) -> None:
        self.delivery.enqueue(batch.deliveries)
        self.streams.publish(batch.events)

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
