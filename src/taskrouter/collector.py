"""When the server's garbage collector runs: young collections as objects pile up, full
collections while no request is being served.

CPython's collector stops the whole process while it walks a generation, so every request in
flight waits out the walk. A server holds what routing needs in memory (tasks, reservations,
workers), several tracked objects per task, and those survive the young collections and reach
the old generations. With the thresholds the server used before, (10,000, 10, 10), a
collection of the middle generation walked the survivors of ten young ones: 57-64 ms at
1,000 tasks/s on 2 cores, once every ~11 s, and the ~150 creates that queued behind each such
stall decided the p99 of a 15-s phase on their own. A full collection walks everything alive.

So the automatic collector runs the young generations only, the middle one after every third
young collection (9-19 ms measured under the same load), and never the full one. The server
runs that itself (`collect_when_idle`): once a quarter second has passed with no request
started, when it delays nobody, and at the latest every `FULL_AT_LATEST_S` under a load that
never pauses. Reference counting frees all but cyclic garbage at once, so what waits for a
full collection is only the cycles made since the last one. Between the bench's phases, with
its workspaces deleted, those idle collections took 1-7 ms.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

# Objects allocated (net) before a young collection. CPython's 700 tripped many times a second
# from the objects of requests in flight alone, and each trip moved survivors toward the older
# generations; requests leave almost no cyclic garbage, so collecting less often costs little.
YOUNG_THRESHOLD = 10_000
# Young collections before one of the middle generation, which then walks about three young
# ones' worth.
MIDDLE_THRESHOLD = 2
# Middle collections before an automatic full one: never, in practice (see `configure`).
_NEVER = 1 << 30
# How long no request may start for the server to count as idle.
IDLE_S = 0.25
FULL_AT_LATEST_S = 300.0


def configure() -> None:
    """Automatic collections of the young and middle generations only."""
    gc.set_threshold(YOUNG_THRESHOLD, MIDDLE_THRESHOLD, _NEVER)


@dataclass(slots=True)
class FullCollections:
    """Decides, at each look, whether a full collection runs now: while the server is idle
    (no request started since the last look), or when `at_latest_s` have passed since the
    last one; never when no middle collection has promoted anything to the old generation
    since."""

    last_full: float
    last_requests: int
    at_latest_s: float = FULL_AT_LATEST_S

    def due(self, now: float, requests: int, promotions: int) -> bool:
        idle = requests == self.last_requests
        self.last_requests = requests
        if promotions == 0:
            return False
        if idle or now - self.last_full >= self.at_latest_s:
            self.last_full = now
            return True
        return False


async def collect_when_idle(
    requests: Callable[[], int],
    *,
    look_every_s: float = IDLE_S,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    promotions: Callable[[], int] = lambda: gc.get_count()[2],
    collect: Callable[[], object] = gc.collect,
) -> None:
    """Runs until cancelled. `requests`: how many requests the server has started so far;
    `promotions`: middle collections since the last full one (CPython's own count)."""
    decide = FullCollections(clock(), requests())
    while True:
        await sleep(look_every_s)
        if decide.due(clock(), requests(), promotions()):
            collect()
