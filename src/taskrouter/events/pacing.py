"""How fast the courier's child may post: freely while the server has the CPU it asks for,
slower while the server wants a whole core and waits for it.

`nice` alone did not put routing first. On the reference 2-core machine, during a burst of
task creations with a callback for every event, the child still took ~55–60% of a core and
the server's event loop spent 16–23% of its time runnable but waiting for a CPU: the kernel
spreads runnable processes over both cores, and each PostgreSQL backend sits in a scheduling
group of its own that the child's niceness does not reach. So the child measures the cost it
imposes. Linux counts, per thread, the time it ran and the time it waited on a run queue
(`/proc/PID/schedstat`); the pacer reads the server's main thread's every `WINDOW_S`. When
the server asked for most of a core (ran and waited `SATURATED` of the window or more) and
waited more than `BUSY` of it, the posts allowed per second drop to the floor at once; once
it asks for less, or waits less than `IDLE`, they are raised by a quarter per window while the
child uses them, and come back to twice what it posted when it does not (a slow start, as
TCP's). A floor keeps callbacks flowing whatever else keeps the machine busy. Where the
counters cannot be read (not Linux, the server gone) posting is never slowed.

Why not pace on the wait alone: at 1,000 tasks/s on 2 cores the server ran ~62% of the time
and waited 4–8% even with callbacks slowed; pacing on the wait held the child at its floor,
~200 posts/s against ~5,000 events/s written, so callbacks fell further behind for as long as
the load lasted. A server with CPU to spare shares it with its callbacks.

Why three quarters of a core, not nine tenths: since SQLite commits moved to a writer process,
a server creating tasks as fast as it can spends part of each turn waiting for that process,
which competes for the same two cores. With callbacks on, its main thread ran 70-73% and asked
for ~80%, under a 0.9 gate, so the child took ~54% of a core and routing fell to 0.72-0.77 of
its rate without callbacks; at 0.75 the child took ~20% and routing kept 0.87-0.92 of it. At
1,000 tasks/s the main thread now asks for about a third of a core, far below either gate.

Why down to the floor at once, not by halves: load comes in bursts, and a burst that finds the
child unpaced (the server was idle) found it posting as fast as it could. Halving each window
took four windows to reach the floor from ~3,400 posts/s; in those 0.4 s of a burst of 1,000
tasks/s on 2 cores the child took 57%, 27%, 22% and 15% of a core while the server's main
thread waited for a CPU 27%, 6%, 19% and 7% of the time, which is where a p99 is made. Coming
back by a quarter per window, it posts 5,000 a second again 1.4 s after the burst.

Why a slow start rather than no limit while the server is idle: the child caught up after each
burst, found itself no longer held back and was unlimited again, so the next burst began with
it posting flat out for the first window, ~0.1 s in which a hundred creations at 1,000 tasks/s
met a busy machine: at a p99, a hundred of five thousand is what decides it. A steady load is
never held back by it: the child may post twice what it posted in the last window.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

WINDOW_S = 0.1
# Shares of a window the server's main thread spent running or waiting to run.
SATURATED = 0.75
# Shares of a window it spent runnable but not running.
BUSY = 0.05
IDLE = 0.02
FLOOR_PER_S = 200.0

Times = tuple[float, float]  # seconds a thread ran, and waited to run, since it started


class SchedulerTimes:
    """A thread's `Times`, read from `/proc/PID/schedstat` (run ns, run-queue wait ns, time
    slices); None when they cannot be read."""

    def __init__(self, pid: int) -> None:
        self._path = Path(f"/proc/{pid}/schedstat")

    def __call__(self) -> Times | None:
        try:
            fields = self._path.read_text().split()
            return int(fields[0]) / 1e9, int(fields[1]) / 1e9
        except (OSError, IndexError, ValueError):
            return None


class Pacer:
    """Spaces posts out while the server is short of CPU. `turn()` before each post."""

    def __init__(
        self,
        server_times: Callable[[], Times | None],
        *,
        now: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._server_times = server_times
        self._now = now
        self._sleep = sleep
        self._window_start = now()
        self._times_before = server_times()
        # Posts per second allowed; None: no limit (the counters cannot be read).
        self.rate: float | None = FLOOR_PER_S if self._times_before is not None else None
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
        times = self._server_times()
        posted = self._posts / elapsed
        before = self._times_before
        if times is not None and before is not None:
            waited = (times[1] - before[1]) / elapsed
            wanted = (times[0] - before[0]) / elapsed + waited
            if wanted >= SATURATED and waited > BUSY:
                self.rate = FLOOR_PER_S
            elif wanted < SATURATED or waited < IDLE:
                # A quarter more while the child uses what it may, back to twice what it used
                # when it does not: a burst after a quiet spell finds it paced.
                raised = (self.rate or FLOOR_PER_S) * 1.25
                self.rate = max(FLOOR_PER_S, min(raised, 2 * posted))
        else:
            self.rate = None
        self._times_before = times
        self._window_start = now
        self._posts = 0
