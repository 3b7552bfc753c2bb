"""How fast the courier's child may post: freely while the server has the CPU it asks for,
slower while the server waits for one.

`nice` alone did not put routing first. On the reference 2-core machine, during a burst of
task creations with a callback for every event, the child still took ~55–60% of a core and
the server's event loop spent 16–23% of its time runnable but waiting for a CPU: the kernel
spreads runnable processes over both cores, and each PostgreSQL backend sits in a scheduling
group of its own that the child's niceness does not reach. So the child measures the cost it
imposes. Linux counts, per thread, the time it spent waiting on a run queue
(`/proc/PID/schedstat`); the pacer reads the server's main thread's every `WINDOW_S` and
adjusts the posts per second it allows: halved while the server waited more than `BUSY` of
the window, raised by a quarter while it waited less than `IDLE`, and free again once the
allowed rate is above what the child posts anyway. A floor keeps callbacks flowing whatever
else keeps the machine busy. Where the counters cannot be read (not Linux, the server gone)
posting is never slowed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

WINDOW_S = 0.1
# Shares of a window the server's main thread spent runnable but not running.
BUSY = 0.05
IDLE = 0.02
FLOOR_PER_S = 200.0


class RunQueueWait:
    """Seconds a thread has spent waiting on a run queue, read from `/proc/PID/schedstat`
    (cpu time ns, run-queue wait ns, time slices); None when it cannot be read."""

    def __init__(self, pid: int) -> None:
        self._path = Path(f"/proc/{pid}/schedstat")

    def __call__(self) -> float | None:
        try:
            fields = self._path.read_text().split()
            return int(fields[1]) / 1e9
        except (OSError, IndexError, ValueError):
            return None


class Pacer:
    """Spaces posts out while the server is short of CPU. `turn()` before each post."""

    def __init__(
        self,
        waited: Callable[[], float | None],
        *,
        now: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._waited = waited
        self._now = now
        self._sleep = sleep
        self.rate: float | None = None  # posts per second allowed; None: no limit
        self._window_start = now()
        self._waited_before = waited()
        self._posts = 0
        self._next_post = 0.0

    async def turn(self) -> None:
        now = self._now()
        if now - self._window_start >= WINDOW_S:
            self._adjust(now)
        self._posts += 1
        if self.rate is None:
            return
        # Posts are spaced evenly at the allowed rate; time not used is not saved up.
        slot = max(self._next_post, now)
        self._next_post = slot + 1 / self.rate
        if slot > now:
            await self._sleep(slot - now)

    def _adjust(self, now: float) -> None:
        elapsed = now - self._window_start
        waited = self._waited()
        posted = self._posts / elapsed
        if waited is not None and self._waited_before is not None:
            share = (waited - self._waited_before) / elapsed
            if share > BUSY:
                self.rate = max(FLOOR_PER_S, (self.rate or posted) / 2)
            elif share < IDLE and self.rate is not None:
                raised = self.rate * 1.25
                # Unbounded again once the bound no longer holds the child back.
                self.rate = None if raised > 2 * max(posted, FLOOR_PER_S) else raised
        self._waited_before = waited
        self._window_start = now
        self._posts = 0
