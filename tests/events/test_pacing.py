"""The courier's child slows its posting while the server wants a whole core and waits for
it, and only then: routing comes first on a busy machine, and callbacks share one with CPU to
spare."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Coroutine
from typing import Any

import pytest
from events_harness import Receiver, wait_until
from test_courier_backlog import FixedClock, _commit, _workspace

from taskrouter.events import pacing
from taskrouter.events.archive import EventArchive
from taskrouter.events.courier import EventCourier
from taskrouter.events.pacing import FLOOR_PER_S, WINDOW_S, Pacer, SchedulerTimes
from taskrouter.events.sender import callback_sender
from taskrouter.events.settings import EventSettings
from taskrouter.events.system import EventSystem
from taskrouter.store import open_store


def take(turn: Coroutine[Any, Any, None]) -> None:
    """Run one `Pacer.turn()` to its end. The machine's sleep returns at once, so a turn never
    suspends, and thousands of them need no event loop each."""
    try:
        turn.send(None)
    except StopIteration:
        return
    turn.close()
    raise AssertionError("a turn suspended")


class Machine:
    """A clock, the server's main thread (running `running` and waiting `waiting` of the
    time that passes), and the sleeps the pacer asked for."""

    def __init__(self) -> None:
        self.now = 100.0
        self.running = 0.0
        self.waiting = 0.0
        self.times: tuple[float, float] | None = (0.0, 0.0)
        self.slept: list[float] = []

    def advance(self, seconds: float) -> None:
        self.now += seconds
        if self.times is not None:
            ran, waited = self.times
            self.times = (ran + self.running * seconds, waited + self.waiting * seconds)

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.advance(seconds)

    def pacer(self) -> Pacer:
        return Pacer(lambda: self.times, now=lambda: self.now, sleep=self.sleep)

    def window(self, pacer: Pacer, posts: int, ran: float, waited: float) -> None:
        """`posts` turns spread over one window in which the server ran `ran` and waited
        `waited` of the time, then the turn that closes it."""
        self.running, self.waiting = ran, waited
        start = self.now
        for _ in range(posts):
            take(pacer.turn())
            self.advance(WINDOW_S / posts)
        self.advance(max(0.0, start + WINDOW_S + 1e-9 - self.now))
        take(pacer.turn())


@pytest.mark.parametrize(
    ("ran", "waited"),
    [
        pytest.param(0.95, 0.01, id="runs-when-it-wants"),
        # 1,000 tasks/s on 2 cores: the server waited now and then, but never wanted a core.
        pytest.param(0.62, 0.08, id="cpu-to-spare-though-it-waits"),
    ],
)
def test_a_steady_load_is_not_held_back_unless_the_server_wants_a_core_and_waits(
    ran: float, waited: float
) -> None:
    machine = Machine()
    pacer = machine.pacer()
    assert pacer.rate == FLOOR_PER_S, "it starts slow"
    for _ in range(20):
        machine.window(pacer, posts=500, ran=ran, waited=waited)
    machine.slept.clear()
    for _ in range(10):
        machine.window(pacer, posts=500, ran=ran, waited=waited)
    # Only a post right behind another (at a window's edge) waits, a tenth of a millisecond.
    assert sum(machine.slept) < 0.01 * 10 * WINDOW_S, "5,000 posts/s go out as they come"
    assert pacer.rate == pytest.approx(10_000, rel=0.05), "twice what it posts"


def test_a_server_that_waits_on_its_writer_and_the_cpu_still_counts_as_saturated() -> None:
    """Creating tasks flat out on SQLite with callbacks on, the main thread ran ~72% and waited
    ~8%: the rest of its time it waited for the writer process, which wanted the same cores."""
    machine = Machine()
    pacer = machine.pacer()
    machine.window(pacer, posts=1000, ran=0.72, waited=0.08)
    assert pacer.rate == FLOOR_PER_S


def test_a_burst_drops_the_rate_to_the_floor_in_one_window_and_it_comes_back_slowly() -> None:
    """A burst that finds the child posting flat out: halving took four windows to get there,
    and routing's p99 was made in them."""
    machine = Machine()
    pacer = machine.pacer()
    machine.window(pacer, posts=1000, ran=0.80, waited=0.20)  # 10,000 posts/s in that window
    assert pacer.rate == FLOOR_PER_S, "callbacks keep flowing whatever keeps the machine busy"
    for _ in range(10):
        machine.window(pacer, posts=10, ran=0.80, waited=0.20)
        assert pacer.rate == FLOOR_PER_S
    # The burst is over, 5,000 posts/s wait: a quarter more per window while it uses them.
    start = machine.now
    rates = []
    while (pacer.rate or 0) < 5000:
        machine.window(pacer, posts=500, ran=0.3, waited=0.0)
        rates.append(pacer.rate)
    assert rates == sorted(rates)
    assert 1.2 < machine.now - start < 2.0, "25 times the floor in ~14 windows of 0.1 s"


def test_paced_posts_are_spaced_at_the_allowed_rate() -> None:
    machine = Machine()
    pacer = machine.pacer()
    machine.window(pacer, posts=100, ran=0.5, waited=0.5)  # 1,000 posts/s seen, 200/s allowed
    assert pacer.rate == FLOOR_PER_S
    machine.slept.clear()
    start = machine.now
    for _ in range(50):
        take(pacer.turn())  # back to back: each waits for its slot
    assert machine.now - start == pytest.approx(50 / FLOOR_PER_S, rel=0.01)


def test_a_quiet_child_is_allowed_twice_what_it_posts_and_never_less_than_the_floor() -> None:
    """After a burst the child catches up and goes quiet; the next burst must find it paced,
    not posting flat out (the first window of a burst is where routing's p99 was made)."""
    machine = Machine()
    pacer = machine.pacer()
    for _ in range(20):
        machine.window(pacer, posts=500, ran=0.5, waited=0.0)
    assert pacer.rate is not None and pacer.rate > 5000
    for _ in range(3):
        machine.window(pacer, posts=60, ran=0.5, waited=0.0)  # 600 posts/s
    assert pacer.rate == pytest.approx(1200, rel=0.05)
    for _ in range(3):
        machine.window(pacer, posts=1, ran=0.5, waited=0.0)
    assert pacer.rate == FLOOR_PER_S
    machine.slept.clear()
    for _ in range(5):
        machine.window(pacer, posts=5, ran=0.5, waited=0.0)
    # Only the post right behind a window's closing turn waits, one slot at the floor.
    assert max(machine.slept) <= 1 / FLOOR_PER_S + 1e-9, "a trickle goes out as it comes"


def test_a_wait_between_the_thresholds_keeps_the_rate() -> None:
    machine = Machine()
    pacer = machine.pacer()
    machine.window(pacer, posts=100, ran=0.5, waited=0.5)
    allowed = pacer.rate
    for _ in range(5):
        machine.window(pacer, posts=50, ran=0.9, waited=(pacing.IDLE + pacing.BUSY) / 2)
    assert pacer.rate == allowed


def test_without_counters_posting_is_never_slowed() -> None:
    machine = Machine()
    machine.times = None
    pacer = machine.pacer()
    for _ in range(10):
        machine.window(pacer, posts=1000, ran=0.5, waited=0.5)
    assert pacer.rate is None
    assert machine.slept == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_scheduler_times_read_a_live_thread_and_not_a_gone_one() -> None:
    before = SchedulerTimes(os.getpid())()
    sum(range(2_000_000))  # run a little
    after = SchedulerTimes(os.getpid())()
    assert before is not None and after is not None
    assert after[0] > before[0] and after[1] >= before[1] >= 0
    assert SchedulerTimes(2**22 + 7)() is None  # above Linux's largest pid


class CountingPacer(Pacer):
    def __init__(self) -> None:
        super().__init__(lambda: None)
        self.turns = 0

    async def turn(self) -> None:
        self.turns += 1
        await super().turn()


def test_the_courier_takes_a_turn_before_every_post(database_url: str) -> None:
    receiver = Receiver().start()
    pacer = CountingPacer()

    async def scenario() -> None:
        store = open_store(database_url)
        await store.open()
        archive = EventArchive(store)
        settings = EventSettings()
        courier = EventCourier(store, archive, FixedClock(), settings, pacer=pacer)
        try:
            system = EventSystem(store, FixedClock())
            await _commit(store, system, _workspace("3", receiver.url()), 4)
            await courier.start(
                system.committed_below(), lambda: callback_sender(settings, lambda _: None)
            )
            await asyncio.to_thread(wait_until, lambda: len(receiver.events()) == 4)
        finally:
            await courier.stop()
            await archive.close()
            await store.close()

    try:
        asyncio.run(scenario())
    finally:
        receiver.stop()
    assert pacer.turns == 4
