"""Deadlines: one heap, stale entries skipped when they come due.

An entry carries a `stamp` that must still match its subject when it fires; a deadline that
moved or no longer applies is simply left in the heap and ignored, which keeps every update
O(log n) with no removals.
"""

from __future__ import annotations

import heapq
import itertools
from enum import IntEnum
from typing import Any


class Deadline(IntEnum):
    RESERVATION_TIMEOUT = 1
    TARGET_TIMEOUT = 2
    TASK_TTL = 3
    ASSIGNED_LIMIT = 4
    FORGET_CLOSED = 5


Entry = tuple[int, int, Deadline, str, Any]


class Timers:
    __slots__ = ("_heap", "_seq")

    def __init__(self) -> None:
        self._heap: list[Entry] = []
        self._seq = itertools.count()

    def at(self, due_ms: int, kind: Deadline, sid: str, stamp: Any = None) -> None:
        heapq.heappush(self._heap, (due_ms, next(self._seq), kind, sid, stamp))

    def next_due(self) -> int | None:
        return self._heap[0][0] if self._heap else None

    def pop_due(self, now_ms: int) -> Entry | None:
        if self._heap and self._heap[0][0] <= now_ms:
            return heapq.heappop(self._heap)
        return None

    def __len__(self) -> int:
        return len(self._heap)
