"""Time comes in through a clock, so tests, replays and the simulator can drive it."""

from __future__ import annotations

import functools
import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now_ms(self) -> int:
        """Milliseconds since the Unix epoch."""


class SystemClock:
    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000


def to_datetime(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def iso8601(ms: int | None) -> str | None:
    """The wire form of a timestamp: `2014-05-14T14:26:54Z` (whole seconds, UTC)."""
    if ms is None:
        return None
    return _iso8601_seconds(ms // 1000)


# strftime costs ~8 µs here and a rendered worker or task carries three to five timestamps,
# mostly the current second or one shown before; a hit costs ~0.4 µs.
@functools.lru_cache(maxsize=4096)
def _iso8601_seconds(seconds: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))
