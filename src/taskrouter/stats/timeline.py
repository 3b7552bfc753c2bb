"""One worker's activities over time (`History.activity_stints` reads them by window)."""

from __future__ import annotations

from array import array
from bisect import bisect_right


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

    def prune(self, cutoff: int) -> None:
        """Forget stints that ended before `cutoff`; the one running at it stays."""
        keep = bisect_right(self.times, cutoff) - 1
        if keep > 0:
            del self.times[:keep]
            del self.activities[:keep]
