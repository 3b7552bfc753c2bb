"""Event callbacks, read from the event log behind a cursor: no row per delivery.

An event owed a callback is stored with its `callback_url` (log.py decides, in the commit that
makes the event). The courier reads those rows in SID order, but only below `below`, the bound
under which every commit has finished (the event system moves it after each commit), so a
commit that lands late is never skipped. It posts them in order, one lane per workspace: a lane
posts its oldest, and the next only once that one succeeded or was given up. A failure waits
`backoff_ms(attempts)` on the service clock; once `retry_period_ms` have passed since the
event it is recorded as failed in the outbox (listed, redeliverable) and the lane moves on. A
lane on a slow or dead receiver holds up only itself.

`delivery_cursors` keeps what is done: per workspace the last event delivered or given up, and
a floor below which every owed event is done, where reading resumes after a restart. They are
written lazily, every `CURSOR_FLUSH_S`: a crash repeats what came after the last write, so
delivery is at least once, and in order.

A lane holds at most `lane_memory` events; past that it spills, and reads its own events back
from the log as it drains, so a long outage at a high event rate never fills memory. A lane
held up by its receiver (a failure waiting to be retried, or no answer for `SLOW_ANSWER_S`)
spills at once, and while the reader finds only such events it reads less often.

Outbox rows join their lane in SID order and are deleted once delivered: failures an operator
asked for again, and event callbacks left pending by versions that wrote a row per delivery.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from taskrouter.domain.clock import Clock
from taskrouter.events import outbox
from taskrouter.events.archive import EventArchive, OwedEvent
from taskrouter.events.http import HttpError
from taskrouter.events.log import callback_params
from taskrouter.events.outbox import Delivery
from taskrouter.events.pacing import Pacer
from taskrouter.events.sender import Sender
from taskrouter.events.settings import EventSettings
from taskrouter.store import Change, Delete, Put, Store

log = logging.getLogger("taskrouter.events.courier")

CURSORS = "delivery_cursors"
FLOOR = "floor"
READ_BATCH = 1000
CURSOR_FLUSH_S = 0.2
# Real seconds between looks for outbox rows an operator marked for redelivery.
REDELIVER_CHECK_S = 1.0
# Real seconds at least between two reads of the log: a busy server commits every
# millisecond, and one query per commit cost the database more than the rows it returned.
READ_GAP_S = 0.005
# ... and at most, while what it reads goes only to lanes that are full or held up (see
# `_Lane.held_up`): those reads only count events. Reading every 5 ms for a receiver that
# never answers took 13-16% of a core at 1,000 tasks/s on a 2-core machine; with the gap
# doubling after each such read up to this, and held-up lanes spilling, 4-5%. Another
# workspace's callbacks may then leave this much later.
READ_GAP_MAX_S = 0.2
# A receiver that has not answered a post for this long counts as holding its lane up.
SLOW_ANSWER_S = 0.5
# Spilled lanes whose events a read leaves out and counts (see `EventArchive.owed`), at most.
MAX_LISTED_SPILLED = 500
# A lane holds what the pacer lets it post in this long, and spills the rest: reading an event
# with its body cost ~20 us of CPU (~6 us without), and at the pacer's floor it would wait in
# memory for seconds anyway. At 1,000 tasks/s on 2 cores, reading every event as it came took
# half of what the courier used while routing waited for CPU.
PACED_HOLD_S = 0.5


def just_above(sid: str) -> str:
    """The smallest bound above `sid` and below every later SID (SIDs are all one length)."""
    return sid + "0"


@dataclass(slots=True)
class _Lane:
    workspace_sid: str
    items: deque[Delivery] = field(default_factory=deque)
    busy: bool = False
    # Its owed events beyond `last` are in the log only; they are read back as it drains.
    spilled: bool = False
    # How many of them the reader passed over, so the backlog is known without counting rows.
    unread: int = 0
    # The last event delivered or given up, and the newest one taken from the log.
    cursor: str = ""
    last: str = ""
    dirty: bool = False
    # When the post now in flight began (loop time), or None.
    posting_since: float | None = None

    def held_up(self, now: float) -> bool:
        """Its head failed before and waits to retry, or its receiver has not answered for
        a while: what is read for it now only waits."""
        if self.items and self.items[0].attempts > 0:
            return True
        return self.posting_since is not None and now - self.posting_since > SLOW_ANSWER_S

    def first_undone(self) -> str | None:
        """The lowest owed event of the log not yet done, or None when all are."""
        for item in self.items:
            if item.from_log:
                return item.sid
        return just_above(self.last) if self.spilled else None

    def insert(self, delivery: Delivery) -> None:
        """An outbox row, in SID order (it may be older than what the lane holds)."""
        for i, existing in enumerate(self.items):
            if existing.sid == delivery.sid:
                return
            if existing.sid > delivery.sid and not (i == 0 and self.busy):
                self.items.insert(i, delivery)
                return
        self.items.append(delivery)


Commit = Callable[[Sequence[Change]], Awaitable[None]]


class EventCourier:
    """`commit`: where its writes go, `store.commit` unless told (the courier's process hands
    them to the server, so a database has one writer; see courier_process.py)."""

    def __init__(
        self,
        store: Store,
        archive: EventArchive,
        clock: Clock,
        settings: EventSettings,
        pacer: Pacer | None = None,
        commit: Commit | None = None,
    ) -> None:
        self._store = store
        self._commit: Commit = commit or store.commit
        self._pacer = pacer
        self._archive = archive
        self._clock = clock
        self._settings = settings
        self._lanes: dict[str, _Lane] = {}
        self._sender: Sender | None = None
        # Owed events are read from `_start` (inclusive) up to `_below` (exclusive).
        self._start = ""
        self._below = ""
        self._floor = ""
        self._wake = asyncio.Event()
        self._deletes: list[str] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._loop_task: asyncio.Task[None] | None = None
        self._cursor_lock = asyncio.Lock()
        self.read_gap = READ_GAP_S
        self._loop_time: Callable[[], float] = time.monotonic  # the loop's clock, once started

    # -- lifecycle -----------------------------------------------------------------------------

    async def start(self, below: str, make_sender: Callable[[], Sender]) -> None:
        self._sender = make_sender()
        self._loop_time = asyncio.get_running_loop().time
        for row in await self._store.load(CURSORS):
            event_sid = str(row["body"].get("event_sid", ""))
            if row["sid"] == FLOOR:
                self._floor = self._start = event_sid
            else:
                self._lanes[row["sid"]] = _Lane(row["sid"], cursor=event_sid, last=event_sid)
        self._below = max(self._below, below)
        where = {"status": outbox.PENDING, "kind": outbox.EVENT}
        for delivery in await self._outbox_rows(where):
            self._lane(delivery.workspace_sid).insert(delivery)
        await self._take_redeliveries()
        self._loop_task = asyncio.create_task(self._run(), name="taskrouter-event-courier")

    async def stop(self) -> None:
        tasks = [*self._tasks, *([self._loop_task] if self._loop_task else [])]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._loop_task = None
        self._tasks.clear()
        with contextlib.suppress(Exception):
            await self._save_cursors()
        if self._sender is not None:
            await self._sender.aclose()
            self._sender = None

    def committed_below(self, below: str) -> None:
        """Every commit of an event below `below` has finished: those may be read."""
        if below > self._below:
            self._below = below
            self._wake.set()

    async def redeliver(
        self, workspace_sid: str | None = None, sids: list[str] | None = None
    ) -> list[Delivery]:
        """Failed deliveries back into their lanes, with a fresh retry period."""
        chosen = await outbox.request_redelivery(
            self._store, workspace_sid=workspace_sid, sids=sids
        )
        if chosen:
            await self._take_redeliveries()
        return chosen

    async def backlog(self) -> int:
        """Event callbacks owed and not yet delivered (nor given up), as far as commits have
        finished. Only the part not read yet is counted in the log, between two bounds: an
        open-ended count walked every event since, owed or not, and grew with the log."""
        count = sum(len(lane.items) + lane.unread for lane in self._lanes.values())
        start, below = self._start, self._below
        if start < below:
            count += await self._archive.count_owed(start, below_sid=below, inclusive=True)
        return count

    # -- the loop ------------------------------------------------------------------------------

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        next_redeliver_check = loop.time() + REDELIVER_CHECK_S
        next_save = loop.time() + CURSOR_FLUSH_S
        last_read = -READ_GAP_S
        while True:
            waiting = False
            try:
                if self._start < self._below:
                    gap = last_read + self.read_gap - loop.time()
                    if gap > 0:
                        await asyncio.sleep(gap)
                    last_read = loop.time()
                    await self._read()
                waiting = self._dispatch()
                if loop.time() >= next_redeliver_check:
                    next_redeliver_check = loop.time() + REDELIVER_CHECK_S
                    await self._take_redeliveries()
                if loop.time() >= next_save:
                    next_save = loop.time() + CURSOR_FLUSH_S
                    await self._save_cursors()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("event courier failed a round; will retry")
                waiting = True
            if self._start < self._below and not waiting:
                continue  # more to read right away (a batch was full)
            # Retries wait on the service clock, which tests move by hand: look again soon.
            timeout = self._settings.poll_s if waiting else min(CURSOR_FLUSH_S, REDELIVER_CHECK_S)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)
            self._wake.clear()

    async def _read(self) -> None:
        """The next owed events of the log, into their lanes; a spilled lane's are counted."""
        start, below = self._start, self._below
        spilled = [lane.workspace_sid for lane in self._lanes.values() if lane.spilled]
        if len(spilled) > MAX_LISTED_SPILLED:
            spilled = []  # a statement has only so many parameters: read them all instead
        rows = await self._archive.owed(start, below, READ_BATCH, spilled)
        upper = below if len(rows) < READ_BATCH else just_above(rows[-1].sid)
        passed = (
            await self._archive.count_owed_by_workspace(start, upper, spilled) if spilled else {}
        )
        for workspace_sid, count in passed.items():
            # Still spilled: if the lane read back all it had meanwhile, these are not
            # among what it read (that stopped below `start`), so it must spill again.
            lane = self._lane(workspace_sid)
            lane.spilled = True
            lane.unread += count
        memory = self._lane_memory()
        postable = False
        now = self._loop_time()
        for row in rows:
            lane = self._lane(row.workspace_sid)
            if row.sid <= lane.last:
                continue  # done before a restart, or read back by the lane itself
            # A lane held up spills too: what it would hold could not be posted before the
            # log gives it back, and decoding it cost more than the rest of a dead receiver.
            if lane.spilled or len(lane.items) >= memory or lane.held_up(now):
                lane.spilled = True
                lane.unread += 1
                continue
            postable = True
            lane.items.append(_delivery(row, self._clock.now_ms()))
            lane.last = row.sid
        if postable or len(rows) == READ_BATCH or not (rows or passed):
            self.read_gap = READ_GAP_S  # a full batch: the log runs ahead, keep up with it
        else:
            self.read_gap = min(self.read_gap * 2, READ_GAP_MAX_S)
        self._start = upper
        if upper != below:
            self._wake.set()

    def _dispatch(self) -> bool:
        """Start a drain on each idle lane whose head is due; True if one waits on the clock."""
        now = self._clock.now_ms()
        waiting = False
        for workspace_sid, lane in list(self._lanes.items()):
            if lane.busy:
                continue
            if not lane.items and not lane.spilled:
                if not lane.dirty and lane.cursor <= self._floor:
                    del self._lanes[workspace_sid]  # nothing owed, and its cursor is saved
                continue
            if not lane.items or lane.items[0].next_attempt_ms <= now:
                lane.busy = True
                task = asyncio.create_task(self._drain(lane))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            else:
                waiting = True
        return waiting

    def _lane_memory(self) -> int:
        """How many events a lane may hold: what the pacer lets out in `PACED_HOLD_S`, at most
        `lane_memory` (all of that without a pacer, or one that cannot read the server)."""
        rate = self._pacer.rate if self._pacer is not None else None
        if rate is None:
            return self._settings.lane_memory
        return max(1, min(self._settings.lane_memory, int(rate * PACED_HOLD_S)))

    def _lane(self, workspace_sid: str) -> _Lane:
        lane = self._lanes.get(workspace_sid)
        if lane is None:
            lane = self._lanes[workspace_sid] = _Lane(workspace_sid)
        return lane

    # -- one lane ------------------------------------------------------------------------------

    async def _drain(self, lane: _Lane) -> None:
        """Post the lane's due deliveries in order until one fails or none is due."""
        try:
            while True:
                if not lane.items and lane.spilled:
                    await self._read_back(lane)
                if not lane.items:
                    break
                head = lane.items[0]
                if head.next_attempt_ms > self._clock.now_ms():
                    break
                lane.posting_since = self._loop_time()
                try:
                    error = await self._post(head)
                finally:
                    lane.posting_since = None
                if error is None:
                    self._done(lane, head)
                    continue
                now = self._clock.now_ms()
                head.attempts += 1
                head.body["last_error"] = error
                if now - head.created_ms < self._settings.retry_period_ms:
                    head.next_attempt_ms = now + self._settings.backoff_ms(head.attempts)
                    break
                log.warning(
                    "event callback %s to %s failed for good after %d attempts: %s",
                    head.sid,
                    head.body.get("url"),
                    head.attempts,
                    error,
                )
                head.status = outbox.FAILED
                try:
                    await self._commit([head.put()])
                except Exception:
                    log.exception("could not record the failed delivery %s", head.sid)
                    head.next_attempt_ms = now + self._settings.backoff_ms(head.attempts)
                    head.status = outbox.PENDING
                    break
                self._done(lane, head, kept=True)
        finally:
            lane.busy = False
            self._wake.set()

    def _done(self, lane: _Lane, delivery: Delivery, *, kept: bool = False) -> None:
        """Delivered, or given up (`kept`: its outbox row now records the failure)."""
        if lane.items and lane.items[0] is delivery:
            lane.items.popleft()
        else:
            with contextlib.suppress(ValueError):
                lane.items.remove(delivery)
        if not delivery.from_log:
            if not kept:
                self._deletes.append(delivery.sid)
        elif delivery.sid > lane.cursor:
            lane.cursor = delivery.sid
        lane.dirty = True

    async def _read_back(self, lane: _Lane) -> None:
        """The next owed events of a lane that spilled, from the log, in order."""
        upper = self._start  # later events reach the lane through `_read`
        memory = self._lane_memory()
        rows = await self._archive.owed_of(lane.workspace_sid, lane.last, upper, memory)
        for row in rows:
            lane.items.append(_delivery(row, self._clock.now_ms()))
            lane.last = row.sid
        lane.unread = max(lane.unread - len(rows), 0)
        # All of it below `upper` is held now, unless the reader moved on meanwhile (and
        # passed over more of this lane's events): then this runs again once these are sent.
        if len(rows) < memory and self._start == upper:
            lane.spilled = False
            lane.unread = 0

    async def _post(self, delivery: Delivery) -> str | None:
        """None when the receiver took it (2xx), else what went wrong."""
        assert self._sender is not None
        body = delivery.body
        event = delivery.event
        if event is None:  # an outbox row: the event itself is in the log
            try:
                row = await self._store.get("events", delivery.sid)
            except Exception as exc:
                return f"reading the event failed: {exc}"
            if row is None:
                return "the event is no longer in the log"
            event = delivery.event = row["body"]
        if self._pacer is not None:
            await self._pacer.turn()
        try:
            async with asyncio.timeout(self._settings.callback_timeout_s):
                response = await self._sender.post(
                    body["url"], callback_params(event), body["account_sid"], delivery.sid
                )
        except TimeoutError:
            return f"no answer within {self._settings.callback_timeout_s:g} s"
        except HttpError as exc:
            return str(exc)
        except Exception as exc:  # a bad URL or event: fails like a refusal, never spins
            log.exception("event callback %s could not be sent", delivery.sid)
            return f"{type(exc).__name__}: {exc}"
        if 200 <= response.status_code < 300:
            return None
        return f"HTTP {response.status_code}"

    # -- outbox rows ---------------------------------------------------------------------------

    async def _outbox_rows(self, where: dict[str, Any]) -> list[Delivery]:
        rows = await self._store.query(outbox.TABLE, where, order_by="sid", limit=10_000)
        return [Delivery.from_row(r) for r in rows]

    async def _take_redeliveries(self) -> None:
        taken = await self._outbox_rows({"status": outbox.REDELIVER})
        if not taken:
            return
        now = self._clock.now_ms()
        for d in taken:
            d.status = outbox.PENDING
            d.attempts = 0
            d.created_ms = now
            d.next_attempt_ms = now
            d.body.pop("last_error", None)
        await self._commit([d.put() for d in taken])
        for d in taken:
            self._lane(d.workspace_sid).insert(d)
        self._wake.set()

    # -- cursors -------------------------------------------------------------------------------

    async def _save_cursors(self) -> None:
        async with self._cursor_lock:
            changes: list[Change] = [Delete(outbox.TABLE, sid) for sid in self._deletes]
            dirty = [lane for lane in self._lanes.values() if lane.dirty]
            changes += [
                Put(CURSORS, lane.workspace_sid, {"body": {"event_sid": lane.cursor}})
                for lane in dirty
            ]
            floor = min(
                [self._start, *(u for lane in self._lanes.values() if (u := lane.first_undone()))]
            )
            if floor != self._floor:
                changes.append(Put(CURSORS, FLOOR, {"body": {"event_sid": floor}}))
            if not changes:
                return
            deletes, self._deletes = self._deletes, []
            for lane in dirty:
                lane.dirty = False
            try:
                await self._commit(changes)
            except Exception:
                # Not fatal: the next round writes them again; a crash first repeats some.
                self._deletes.extend(deletes)
                for lane in dirty:
                    lane.dirty = True
                log.exception("could not save the event callback cursors")
                return
            self._floor = floor


def _delivery(row: OwedEvent, now: int) -> Delivery:
    event = row.body
    return Delivery(
        row.sid,
        row.workspace_sid,
        outbox.EVENT,
        int(event.get("event_date_ms", now)),
        now,
        0,
        outbox.PENDING,
        {"url": row.callback_url, "account_sid": row.account_sid, "event_type": row.event_type},
        event,
        from_log=True,
    )
