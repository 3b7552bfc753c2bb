"""One worker's activities over time, and the stints it spent in each inside a window."""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections.abc import Iterator


class Timeline:
    """Activity changes of one worker: from `times[k]` on it was in `activities[k]`."""

    __slots__ = ("activities", "times")

    def __init__(self) -> None:
        self.times = array("q")
        self.activities: list[str] = []

    def change(self, at: int, activity_sid: str) -> None:
        times = self.times
        if not times or at >= times[-1]:
            if self.activities and self.activities[-1] == activity_sid:
                return
            times.append(at)
            self.activities.append(activity_sid)
            return
        index = bisect_right(times, at)
        times.insert(index, at)
        self.activities.insert(index, activity_sid)

    def stints(self, start: int, end: int) -> Iterator[tuple[str, int]]:
        """(activity sid, ms) of every stint overlapping [start, end], clipped to it; the
        current stint runs until `end`. Time before the first known change is unknown."""
        times = self.times
        count = len(times)
        k = max(bisect_right(times, start) - 1, 0)
        while k < count:
            began = times[k]
            if began >= end:
                break
            ended = times[k + 1] if k + 1 < count else end
            length = min(ended, end) - max(began, start)
            if length > 0:
                yield self.activities[k], length
            k += 1

    def prune(self, cutoff: int) -> None:
        """Forget stints that ended before `cutoff`; the one running at it stays."""
        keep = bisect_right(self.times, cutoff) - 1
        if keep > 0:
            del self.times[:keep]
            del self.activities[:keep]
