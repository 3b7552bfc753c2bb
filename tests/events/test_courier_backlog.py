"""The courier's backlog (event callbacks owed, not yet delivered nor given up) is what the
metrics report as pending deliveries. It must stay right while a lane spills to the log, and
must not count events above the committed bound, nor events owed nothing. A spilled lane's
events are only counted by the reader, and read back by the lane; none of them may be lost."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any
from unittest.mock import patch

from taskrouter.domain.entities import Workspace
from taskrouter.engine.state import WorkspaceState
from taskrouter.events.archive import EventArchive
from taskrouter.events.courier import (
    PACED_HOLD_S,
    READ_GAP_MAX_S,
    READ_GAP_S,
    SLOW_ANSWER_S,
    EventCourier,
)
from taskrouter.events.log import Batch, Emitted
from taskrouter.events.pacing import Pacer
from taskrouter.events.settings import EventSettings
from taskrouter.events.system import EventSystem
from taskrouter.store import Store, open_store


class FixedClock:
    def now_ms(self) -> int:
        return 1_700_000_000_000


def _workspace(digit: str, url: str | None) -> WorkspaceState:
    sid = "WS" + digit * 32
    return WorkspaceState(Workspace(sid, "AC" + "0" * 32, sid, 0, 0, event_callback_url=url))


async def _commit(store: Store, system: EventSystem, state: WorkspaceState, count: int) -> None:
    for _ in range(count):
        batch: Batch | None = system.record(
            state, None, [Emitted("workspace.updated", state.workspace)]
        )
        assert batch is not None
        await store.commit(batch.changes)
        system.committed(batch)


@contextlib.asynccontextmanager
async def _courier(
    database_url: str, lane_memory: int
) -> AsyncIterator[tuple[Store, EventSystem, EventCourier]]:
    store = open_store(database_url)
    await store.open()
    clock = FixedClock()
    archive = EventArchive(store)
    try:
        settings = EventSettings(lane_memory=lane_memory)
        yield store, EventSystem(store, clock), EventCourier(store, archive, clock, settings)
    finally:
        await archive.close()
        await store.close()


def test_backlog_counts_unread_held_and_spilled_events(database_url: str) -> None:
    async def scenario() -> None:
        async with _courier(database_url, lane_memory=3) as (store, system, courier):
            loud, quiet = _workspace("1", "http://127.0.0.1:9/"), _workspace("2", None)

            await _commit(store, system, loud, 5)
            await _commit(store, system, quiet, 4)  # owed nothing: never part of the backlog
            courier.committed_below(system.committed_below())
            assert await courier.backlog() == 5, "all five are committed and still unread"

            await courier._read()
            lane = courier._lanes[loud.sid]
            assert (len(lane.items), lane.spilled, lane.unread) == (3, True, 2)
            assert await courier.backlog() == 5, "three held in the lane, two left in the log"

            # Committed, but the courier has not been told yet: not counted until it is.
            await _commit(store, system, loud, 2)
            assert await courier.backlog() == 5
            courier.committed_below(system.committed_below())
            assert await courier.backlog() == 7

            await courier._read()  # the lane is spilled: both are passed over, and counted
            assert lane.unread == 4
            assert await courier.backlog() == 7

            for delivery in list(lane.items):  # delivered
                courier._done(lane, delivery)
            assert await courier.backlog() == 4
            await courier._read_back(lane)
            assert (len(lane.items), lane.unread) == (3, 1)
            assert await courier.backlog() == 4
            for delivery in list(lane.items):
                courier._done(lane, delivery)
            await courier._read_back(lane)
            assert (len(lane.items), lane.spilled, lane.unread) == (1, False, 0)
            assert await courier.backlog() == 1
            courier._done(lane, lane.items[0])
            assert await courier.backlog() == 0

    asyncio.run(scenario())


def test_a_spilled_lanes_events_are_counted_not_read_and_are_read_back(
    database_url: str,
) -> None:
    async def scenario() -> None:
        async with _courier(database_url, lane_memory=2) as (store, system, courier):
            archive = courier._archive
            full, other = _workspace("1", "http://127.0.0.1:9/"), _workspace("3", "http://h/")
            await _commit(store, system, full, 3)
            await _commit(store, system, other, 1)
            courier.committed_below(system.committed_below())
            await courier._read()
            lane = courier._lanes[full.sid]
            assert lane.spilled and lane.unread == 1

            await _commit(store, system, full, 2)
            await _commit(store, system, other, 1)
            courier.committed_below(system.committed_below())
            read = archive.owed

            async def read_then_lane_catches_up(*args: Any) -> Any:
                rows = await read(*args)
                assert [r.workspace_sid for r in rows] == [other.sid], "the spilled lane's: no"
                # Meanwhile the lane read back all it had passed over, and stopped spilling.
                lane.spilled, lane.unread = False, 0
                return rows

            archive.owed = read_then_lane_catches_up  # type: ignore[method-assign]
            await courier._read()
            assert lane.spilled and lane.unread == 2, "what was counted is read back later"
            assert len(courier._lanes[other.sid].items) == 2
            assert await courier.backlog() == 2 + 2 + 2

            delivered = []
            while lane.items or lane.spilled:
                if not lane.items:
                    await courier._read_back(lane)
                    assert all(d.event is not None for d in lane.items)
                head = lane.items[0]
                delivered.append(head.sid)
                courier._done(lane, head)
            assert len(delivered) == 5 and delivered == sorted(delivered), "all, in order"

    asyncio.run(scenario())


def test_a_full_batch_counts_spilled_lanes_only_up_to_its_last_event(database_url: str) -> None:
    """The reader takes READ_BATCH events at a time: a spilled lane's events past the last one
    it took are counted by the next read, not by this one too."""

    async def scenario() -> None:
        async with _courier(database_url, lane_memory=1) as (store, system, courier):
            dead, alive = _workspace("1", "http://127.0.0.1:9/"), _workspace("3", "http://h/")
            await _commit(store, system, dead, 2)
            courier.committed_below(system.committed_below())
            await courier._read()
            lane = courier._lanes[dead.sid]
            assert (len(lane.items), lane.spilled, lane.unread) == (1, True, 1)
            for state in (dead, alive, dead, alive, dead, dead):
                await _commit(store, system, state, 1)
            courier.committed_below(system.committed_below())
            with patch("taskrouter.events.courier.READ_BATCH", 1):
                await courier._read()  # up to `alive`'s first: one of `dead`'s before it
                assert lane.unread == 2
                await courier._read()
                assert lane.unread == 3
                await courier._read()  # the rest of the log: none of `alive`'s, two of `dead`
                assert lane.unread == 5
            assert await courier.backlog() == 6 + 2, "every owed event, each once"

    asyncio.run(scenario())


def test_reading_slows_down_while_its_events_go_only_to_lanes_that_cannot_post(
    database_url: str,
) -> None:
    """A receiver that fails, or does not answer: its lane spills, every read only counts
    what it passes over, so reads back off, up to `READ_GAP_MAX_S`; an event another lane can
    post brings them back to full speed."""

    async def scenario() -> None:
        async with _courier(database_url, lane_memory=100) as (store, system, courier):
            dead, alive = _workspace("1", "http://127.0.0.1:9/"), _workspace("3", "http://h/")

            async def read(state: WorkspaceState) -> float:
                await _commit(store, system, state, 1)
                courier.committed_below(system.committed_below())
                await courier._read()
                return courier.read_gap

            assert await read(dead) == READ_GAP_S, "a fresh lane posts at once"
            lane = courier._lanes[dead.sid]
            lane.items[0].attempts = 1  # its receiver failed: the lane waits to retry
            gaps = [await read(dead) for _ in range(8)]
            assert gaps[:3] == [READ_GAP_S * 2, READ_GAP_S * 4, READ_GAP_S * 8]
            assert gaps[-1] == READ_GAP_MAX_S
            # What it could not post yet stays in the log, to be read back once it can.
            assert (len(lane.items), lane.spilled, lane.unread) == (1, True, 8)
            assert await courier.backlog() == 9
            assert await read(alive) == READ_GAP_S
            # A post to `alive` is in flight: not held up until it goes unanswered for longer
            # than SLOW_ANSWER_S.
            slow = courier._lanes[alive.sid]
            slow.posting_since = time.monotonic()
            assert await read(alive) == READ_GAP_S and not slow.spilled
            slow.posting_since = time.monotonic() - SLOW_ANSWER_S - 0.1
            assert await read(alive) == READ_GAP_S * 2 and slow.spilled

    asyncio.run(scenario())


def test_while_the_pacer_holds_posts_back_a_lane_holds_only_what_it_may_post_soon(
    database_url: str,
) -> None:
    """Reading an event with its body costs the courier CPU that routing wants while the pacer
    holds posts back: a lane then keeps what the allowed rate lets out in PACED_HOLD_S and
    leaves the rest in the log, to be read back as it drains. None is lost, in order."""

    async def scenario() -> None:
        async with _courier(database_url, lane_memory=100) as (store, system, courier):
            pacer = Pacer(lambda: None)
            courier._pacer = pacer
            pacer.rate = 4 / PACED_HOLD_S  # four events' worth
            loud = _workspace("1", "http://127.0.0.1:9/")
            await _commit(store, system, loud, 10)
            courier.committed_below(system.committed_below())
            await courier._read()
            lane = courier._lanes[loud.sid]
            assert (len(lane.items), lane.spilled, lane.unread) == (4, True, 6)
            assert await courier.backlog() == 10

            delivered = []
            while lane.items or lane.spilled:
                if not lane.items:
                    await courier._read_back(lane)
                    assert len(lane.items) <= 4
                    pacer.rate = None  # the server has CPU to spare again: all the rest
                head = lane.items[0]
                delivered.append(head.sid)
                courier._done(lane, head)
            assert len(delivered) == 10 and delivered == sorted(delivered)
            assert await courier.backlog() == 0

    asyncio.run(scenario())
